"""A battery of standard behaviour probes for any authoritative server (RFC 1034/1035,
2308, 6891, 7766, 8906): each probe is a message to send and a pure judgement of the
reply; ``run_probes`` is the only part that touches the network.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode, RRType, rcode_text
from craft.dns.edns import RawOption
from craft.dns.message import Edns, Header, Message, Question
from craft.dns.mutate import mutate
from craft.dns.names import Name
from craft.dns.wire import WireError
from craft.transport import send_bytes

Judge = Callable[[Message | None, bytes | None], tuple[bool, str]]


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    expected: str
    wire: bytes
    judge: Judge
    tcp: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    expected: str
    observed: str
    ok: bool


def _summary(m: Message) -> str:
    flags = " ".join(m.header.flag_names())
    edns = m.edns
    opt = f", OPT v{edns.version}{' do' if edns.do else ''}" if edns else ""
    return (f"{rcode_text(m.rcode)} [{flags}] an={len(m.answer)} ns={len(m.authority)}{opt}")


def _expect(check: Callable[[Message], bool]) -> Judge:
    def judge(m: Message | None, raw: bytes | None) -> tuple[bool, str]:
        if m is None:
            return False, "no reply" if raw is None else "undecodable reply"
        return check(m), _summary(m)
    return judge


def _has_soa(section: tuple[object, ...]) -> bool:
    return any(getattr(r, "rtype", None) == RRType.SOA for r in section)


def build_probes(zone: Name) -> list[Probe]:
    def q(name: Name = zone, rtype: int = RRType.SOA, edns: Edns | None = None, **flags: object) -> bytes:
        header = Header(id=secrets.randbits(16), **flags)  # type: ignore[arg-type]
        return encode(Message(header, (Question(name, rtype),)).with_edns(edns))

    missing = Name((b"craft-probe-" + secrets.token_hex(4).encode(), *zone.labels))
    outside = Name.from_text("craft-probe.invalid.")
    ok_soa = _expect(lambda m: m.rcode == 0 and m.header.aa and _has_soa(m.answer))
    return [
        Probe("plain query", "NOERROR, SOA answered", q(), ok_soa),
        Probe("AA on answers", "AA set", q(rtype=RRType.NS),
              _expect(lambda m: m.header.aa and m.rcode == 0)),
        Probe("RD copied", "RD copied, RA clear", q(rd=True),
              _expect(lambda m: m.header.rd and not m.header.ra)),
        Probe("CD copied", "CD copied", q(cd=True), _expect(lambda m: m.header.cd and m.rcode == 0)),
        Probe("AD in query", "AD clear (nothing validated)", q(ad=True),
              _expect(lambda m: not m.header.ad and m.rcode == 0)),
        Probe("unknown type", "NOERROR, no answer, SOA in authority", q(rtype=65280),
              _expect(lambda m: m.rcode == 0 and not m.answer and _has_soa(m.authority))),
        Probe("unknown opcode", "NOTIMP", q(opcode=15), _expect(lambda m: m.rcode == Rcode.NOTIMP)),
        Probe("header Z bit", "Z clear in the reply, NOERROR", q(z=True),
              _expect(lambda m: not m.header.z and m.rcode == 0)),
        Probe("TCP", "same answer over TCP, no TC", q(), _expect(
            lambda m: m.rcode == 0 and not m.header.tc and _has_soa(m.answer)), tcp=True),
        Probe("UDP size without EDNS", "reply within 512 octets or TC set", q(rtype=RRType.ANY),
              lambda m, raw: (m is not None and raw is not None and (len(raw) <= 512 or m.header.tc),
                              f"{len(raw)} octets" + (", TC" if m and m.header.tc else "")
                              if raw else "no reply")),
        Probe("EDNS version 0", "NOERROR with OPT version 0", q(edns=Edns()),
              _expect(lambda m: m.rcode == 0 and m.edns is not None and m.edns.version == 0)),
        Probe("EDNS version 1", "BADVERS with OPT version 0", q(edns=Edns(version=1)),
              _expect(lambda m: m.rcode == Rcode.BADVERS and m.edns is not None
                      and m.edns.version == 0 and not m.answer)),
        Probe("unknown EDNS option", "NOERROR, option not echoed",
              q(edns=Edns(options=(RawOption(65001, b"craft"),))),
              _expect(lambda m: m.rcode == 0 and m.edns is not None
                      and all(o.code != 65001 for o in m.edns.options))),
        Probe("unknown EDNS flag", "NOERROR, flag not echoed", q(edns=Edns(flags=0x4000)),
              _expect(lambda m: m.rcode == 0 and m.edns is not None and m.edns.flags == 0)),
        Probe("DO bit", "NOERROR, DO echoed", q(edns=Edns(do=True)),
              _expect(lambda m: m.rcode == 0 and m.edns is not None and m.edns.do)),
        Probe("EDNS payload 512", "reply within 512 octets", q(rtype=RRType.ANY, edns=Edns(payload=512)),
              lambda m, raw: (raw is not None and len(raw) <= 512,
                              f"{len(raw)} octets" if raw else "no reply")),
        Probe("SOA at apex", "SOA for the zone, AA", q(), _expect(
            lambda m: m.header.aa and any(r.rtype == RRType.SOA and r.name.equals(zone)
                                          for r in m.answer))),
        Probe("NXDOMAIN", "NXDOMAIN, AA, SOA in authority", q(missing, RRType.A),
              _expect(lambda m: m.rcode == Rcode.NXDOMAIN and m.header.aa and _has_soa(m.authority))),
        Probe("NODATA", "NOERROR, no answer, SOA in authority", q(rtype=RRType.HINFO),
              _expect(lambda m: m.rcode == 0 and not m.answer and _has_soa(m.authority))),
        Probe("out of zone", "REFUSED", q(outside, RRType.A),
              _expect(lambda m: m.rcode == Rcode.REFUSED and not m.answer)),
        Probe("malformed query", "FORMERR or no answer", mutate(q(), "pointer-loop"),
              lambda m, raw: (raw is None or (m is not None and m.rcode == Rcode.FORMERR),
                              "dropped" if raw is None else _summary(m) if m else "undecodable")),
    ]


def run_probes(server: tuple[str, int], zone: Name, timeout: float = 2.0) -> list[Result]:
    results = []
    for probe in build_probes(zone):
        try:
            sent = send_bytes(probe.wire, server, tcp=probe.tcp, timeout=timeout)
            raw = sent.reply
        except OSError as exc:
            results.append(Result(probe.name, probe.expected, f"network error: {exc}", False))
            continue
        try:
            message = decode(raw) if raw is not None else None
        except WireError:
            message = None
        ok, observed = probe.judge(message, raw)
        results.append(Result(probe.name, probe.expected, observed, ok))
    return results
