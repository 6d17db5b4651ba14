"""craft's own side of DNSSEC serving, without other servers: the answer cache keeps DO=1
and DO=0 answers apart and its fast path gives the full codec's octets; NSEC3 owner names
are not names of the zone; the checks a signed zone gets at load (each finding, none for
what real signers make, nothing for an unsigned zone); and ``dns-serve`` warning of them
with file and owner name, or refusing the zone with ``--strict``, at start and on reload.
(BIND, delv and Unbound judge the answers in test_dnssec_judges.py.)"""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import craft_process, wait_until
from dnssec_zones import KINDS, ORIGIN, SignedZone, signed_zone

from craft.dns.answer_cache import Authority
from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode, RRType
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import NSEC, NSEC3, RRSIG
from craft.dns.zone import Zone
from craft.dns.zone_signatures import zone_problems
from craft.dns.zonefile import zone_to_text
from craft.transport import send_bytes
from craft.zone_loader import load_zone


@pytest.fixture(scope="module", params=KINDS)
def signed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SignedZone:
    return signed_zone(tmp_path_factory.mktemp(request.param), request.param)


def query(name: str, rtype: int, do: bool | None, ident: int = 7) -> bytes:
    edns = None if do is None else Edns(payload=1232, do=do)
    message = Message(Header(id=ident), (Question(Name.from_text(name), rtype),))
    return encode(message.with_edns(edns))


def types_in(wire: bytes) -> set[int]:
    message = decode(wire)
    return {r.rtype for r in (*message.answer, *message.authority, *message.additional)}


@pytest.mark.parametrize("precompute", [True, False])
def test_do_answers_are_cached_apart_and_match_the_full_codec(signed: SignedZone,
                                                            precompute: bool) -> None:
    zone = load_zone(signed.path)
    authority = Authority([zone], precompute=precompute)
    for name, rtype in [("www.example.test.", RRType.A), ("nope.example.test.", RRType.A),
                        ("Host.Wild.example.test.", RRType.TXT), ("ent.example.test.", RRType.A),
                        ("www.insecure.example.test.", RRType.A)]:
        for do in (None, False, True):
            for _ in range(2):  # built, then from the cache
                data = query(name, rtype, do)
                fast = authority.respond(data, 65535)
                assert fast == authority.answerer.respond(data, 65535), (name, do)
                dnssec = types_in(fast or b"") & {RRType.RRSIG, RRType.NSEC, RRType.NSEC3}
                assert bool(dnssec) == bool(do), (name, do)


def test_nsec3_owner_names_are_not_in_the_zone(tmp_path: Path) -> None:
    zone = load_zone(signed_zone(tmp_path, "nsec3-optout").path)
    owner = next(r.name for r in zone.records if r.rtype == RRType.NSEC3)
    authority = Authority([zone])
    for rtype in (RRType.NSEC3, RRType.A):
        reply = decode(authority.respond(query(owner.to_text(), rtype, True), 65535) or b"")
        assert reply.rcode == Rcode.NXDOMAIN  # RFC 5155 7.2.9
        assert not any(r.name.equals(owner) for r in reply.answer)


def test_an_unsigned_zone_has_no_problems_and_no_dnssec_answers() -> None:
    zone = load_zone(Path(__file__).parent / "data" / "edge.test.zone")
    assert zone_problems(zone, int(time.time())) == []
    authority = Authority([zone])
    assert not authority.signed
    assert not types_in(authority.respond(query("nope.edge.test.", RRType.A, True)) or b"") \
        & {RRType.RRSIG, RRType.NSEC, RRType.NSEC3}


# ---- checks at load ----

def _without(zone: Zone, keep: Callable[[Record], bool]) -> Zone:
    return Zone(zone.origin, tuple(r for r in zone.records if keep(r)))


def _www_unsigned(zone: Zone) -> Zone:
    www = Name.from_text("www." + ORIGIN)
    return _without(zone, lambda r: not (r.name.equals(www) and isinstance(r.rdata, RRSIG)
                                          and r.rdata.type_covered == RRType.AAAA))


def _chain_broken(zone: Zone) -> Zone:
    """The first NSEC or NSEC3 after the apex's in the file points one link too far."""
    records = list(zone.records)
    links = [i for i, r in enumerate(records) if isinstance(r.rdata, NSEC | NSEC3)]
    i, j = links[0], links[2]
    first, third = records[i].rdata, records[j].rdata
    assert isinstance(first, NSEC | NSEC3) and isinstance(third, NSEC | NSEC3)
    records[i] = dataclasses.replace(records[i], rdata=dataclasses.replace(first, next=third.next))
    return Zone(zone.origin, tuple(records))


MUTATIONS: dict[str, tuple[Callable[[Zone], Zone], int, str]] = {
    # name: (change, seconds from now, what the finding says)
    "as signed": (lambda z: z, 0, ""),
    "expired": (lambda z: z, 60 * 86400, "expired at"),
    "not yet valid": (lambda z: z, -2 * 86400, "not valid before"),
    "an RRset without RRSIG": (_www_unsigned, 0, "www.example.test.: AAAA RRset has no RRSIG"),
    "a broken chain": (_chain_broken, 0, "broken NSEC"),
    "no NSEC3PARAM": (lambda z: _without(z, lambda r: r.rtype != RRType.NSEC3PARAM), 0,
                      "example.test.: NSEC3 records but no NSEC3PARAM at the apex"),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_load_checks_find_each_problem(signed: SignedZone, case: str) -> None:
    change, shift, finding = MUTATIONS[case]
    zone = change(load_zone(signed.path))
    nsec3 = any(r.rtype == RRType.NSEC3 for r in zone.records)
    problems = [p.to_text() for p in zone_problems(zone, int(time.time()) + shift)]
    if case == "no NSEC3PARAM" and not nsec3:
        assert problems == []  # an NSEC zone needs none
    elif not finding:
        assert problems == []
    else:
        assert problems and all(finding in p for p in problems), problems
        if case == "a broken chain":
            assert len(problems) == 1


def _start(args: list[str]) -> tuple[subprocess.Popen[str], list[str], int | None]:
    """``dns-serve ARGS``: its stderr lines up to the start-up line, and its port (None when
    it exited instead)."""
    proc = subprocess.Popen([sys.executable, "-m", "craft", "dns-serve", "--port", "0",
                             "--quiet", *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            proc.wait(10)
            return proc, lines, None
        lines.append(line.rstrip("\n"))
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if match:
            return proc, lines, int(match.group(1))
    proc.kill()
    proc.wait(10)
    raise AssertionError(f"no start-up line: {lines}")


def _serial(port: int) -> int:
    reply = send_bytes(query(ORIGIN, RRType.SOA, None), ("127.0.0.1", port), timeout=2).reply
    message = decode(reply or b"")
    return message.answer[0].rdata.serial  # type: ignore[attr-defined, no-any-return]


def test_serve_warns_and_strict_refuses(signed: SignedZone, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zone"
    broken.write_text(zone_to_text(_www_unsigned(load_zone(signed.path))))
    proc, lines, port = _start(["--zone", str(broken)])
    try:
        assert port is not None
        warned = [line for line in lines if "no RRSIG" in line]
        assert warned == [f"craft dns-serve: {broken}: www.example.test.: AAAA RRset has no RRSIG"]
        assert _serial(port) == 2024010101  # served all the same
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    proc, lines, port = _start(["--strict", "--zone", str(broken)])
    assert port is None and proc.returncode != 0
    assert any(str(broken) in line and "--strict" in line for line in lines), lines
    assert not any("Traceback" in line for line in lines), lines


def test_strict_reload_of_a_broken_zone_keeps_the_old_one(signed: SignedZone,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "zone"
    good = load_zone(signed.path)
    path.write_text(zone_to_text(good))
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--strict", "--zone",
                        str(path)]) as (proc, port):
        assert proc.stderr is not None
        stream = proc.stderr
        lines: list[str] = []
        import threading
        threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")),
                         daemon=True).start()
        soa = good.soa
        bumped = dataclasses.replace(soa, rdata=dataclasses.replace(soa.rdata, serial=2024010102))
        path.write_text(zone_to_text(_www_unsigned(Zone(good.origin, tuple(
            bumped if r is soa else r for r in good.records)))))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: any("reload failed" in line for line in lines), "no reload error")
        assert _serial(port) == 2024010101
        assert any("--strict" in line and "no RRSIG" in line for line in lines), lines
