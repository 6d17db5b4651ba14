"""Interop with a real BIND 9 (``named``) serving the repository's zone files.

This file owns the ``running_named`` fixture and every test that talks to BIND:
named-checkzone on ``zones/*.zone``; ``craft dns-ask`` getting the same output from BIND and
from ``craft dns-serve`` on the same files (and the same AXFR); BIND's raw responses
re-encoded byte for byte by a layout-keeping decode, with Scapy agreeing on each; and
``craft dns-probe`` run against BIND. All traffic stays on 127.0.0.1; one named and one
craft process serve the whole module and are stopped when it ends.

What BIND does differently from craft, and the tests pin: it rotates the records of an RRset
from one answer to the next (so answer lines are compared as sets); it writes owner names in
the zone's case where craft echoes the question's; it adds the zone's NS records and their
addresses to answers craft sends bare (checked below as "glue"); it answers a client COOKIE;
and, as named does by default for primary zones, it refuses owner names that are not host
names unless ``check-names`` is relaxed, which example.test.zone needs for ``escaped\\.dot``
and ``sp\\032ace``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import craft_process, daemon_path, free_port, running_daemon, wait_until
from test_interop import craft_ask
from test_send import _same_bytes

from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode, RRClass, RRType, type_number, type_text
from craft.dns.edns import Cookie
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import OPT, Opaque
from craft.dns.rdtypes.dnssec import TSIG
from craft.dns.wire import Writer
from craft.dns.zone import LAB_TABLE
from craft.dns.zonefile import parse_record
from craft.dns_client import axfr
from craft.oracle import check
from craft.probe import build_probes
from craft.transport import send_bytes

REPO = Path(__file__).resolve().parent.parent
ZONE_FILES = sorted((REPO / "zones").glob("*.zone"))
EDGE_ZONE = REPO / "tests" / "data" / "edge.test.zone"
SIGNED_ZONE = REPO / "tests" / "data" / "signed.edge.test.zone"  # a child of edge.test. served too
SERVED_FILES = [*ZONE_FILES, EDGE_ZONE, SIGNED_ZONE]  # what BIND and craft both serve below
# Owner names BIND's check-names (RFC 952 host names) flags, per zone file; named's default
# for a primary zone is `check-names fail`, so these zones get `check-names warn` below.
CHECK_NAMES_FLAGGED = {
    "example.test.": ["escaped\\.dot.example.test", "sp\\032ace.example.test"],
}
# Probes BIND 9.18 is known to fail (none): a change here is a finding, not noise.
BIND_PROBE_FAILURES: frozenset[str] = frozenset()


def origin_of(path: Path) -> str:
    return path.name.removesuffix(".zone") + "."


def _soa_answered(port: int, origin: str) -> bool:
    query = encode(Message(Header(id=secrets.randbits(16)),
                           (Question(Name.from_text(origin), RRType.SOA),)))
    try:
        reply = send_bytes(query, ("127.0.0.1", port), timeout=0.5).reply
    except OSError:
        return False
    if reply is None:
        return False
    message = decode(reply)
    return message.rcode == Rcode.NOERROR and message.header.aa and bool(message.answer)


@contextlib.contextmanager
def running_named(workdir: Path, zones_conf: str, origins: Sequence[str],
                  options: str = "") -> Iterator[int]:
    """A real BIND on 127.0.0.1 with ``zones_conf`` (``zone`` clauses), authoritative only,
    in the foreground as the current user; yields its port once every zone in ``origins``
    answers its SOA; SIGTERM (then SIGKILL) to its process group on exit. ``options``: more
    statements for the ``options`` block (e.g. ``server-id "ns1";``)."""
    named = daemon_path("named", "bind9")
    port = free_port()
    conf = workdir / "named.conf"
    conf.write_text(
        "options {\n"
        f'  directory "{workdir}";\n  pid-file "{workdir}/named.pid";\n'
        f'  session-keyfile "{workdir}/session.key";\n'
        f'  managed-keys-directory "{workdir}";\n'
        f"  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n"
        "  recursion no;\n  dnssec-validation no;\n  notify no;\n"
        "  allow-transfer { 127.0.0.1; };\n"
        f"{options}"
        "};\n"
        "controls { };\n" + zones_conf
    )
    log = workdir / "named.log"
    with running_daemon([named, "-g", "-n", "1", "-c", str(conf)], log, settle=0.0) as proc:
        def ready() -> bool:
            # A zone named will not load is logged at once: stop waiting then, not at timeout.
            return (proc.poll() is not None or "not loaded due to errors" in log.read_text()
                    or all(_soa_answered(port, origin) for origin in origins))

        wait_until(ready, f"named did not answer within 10 s; log in {log}", timeout=10)
        if proc.poll() is not None or "not loaded due to errors" in log.read_text():
            raise AssertionError(f"named (exit {proc.returncode}) did not load every zone:\n"
                                 f"{log.read_text()[-3000:]}")
        yield port


def zone_clause(path: Path) -> str:
    relaxed = " check-names warn;" if origin_of(path) in CHECK_NAMES_FLAGGED else ""
    return f'zone "{origin_of(path)}" {{ type primary; file "{path}";{relaxed} }};\n'


@pytest.fixture(scope="module")
def bind_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """BIND serving every zone file in zones/ and the edge-case zone."""
    workdir = tmp_path_factory.mktemp("bind")
    with running_named(workdir, "".join(zone_clause(p) for p in SERVED_FILES),
                       [origin_of(p) for p in SERVED_FILES]) as port:
        yield port


@pytest.fixture(scope="module")
def craft_port() -> Iterator[int]:
    """``craft dns-serve`` serving the same zone files as ``bind_port``."""
    files = [arg for path in SERVED_FILES for arg in ("--zone", str(path))]
    with craft_process(["dns-serve", "--port", "0", "--quiet", *files]) as (_, port):
        yield port


# ---- zone files ----


@pytest.mark.parametrize("path", ZONE_FILES, ids=lambda p: p.name)
def test_named_checkzone_reads_every_zone_file(path: Path) -> None:
    checkzone = shutil.which("named-checkzone")
    if checkzone is None:
        pytest.skip("named-checkzone missing: `make test` installs bind9")

    def run(check_names: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([checkzone, "-k", check_names, origin_of(path), str(path)],
                              capture_output=True, text=True, timeout=30, check=False)

    warned = run("warn")
    assert warned.returncode == 0, warned.stdout + warned.stderr
    flagged = re.findall(r": (\S+): bad owner name \(check-names\)", warned.stdout)
    assert flagged == CHECK_NAMES_FLAGGED.get(origin_of(path), []), warned.stdout
    # named itself uses `fail` for primary zones: only a zone with flagged names is refused.
    strict = run("fail")
    assert (strict.returncode == 0) == (not flagged), strict.stdout + strict.stderr


# ---- the same answers from BIND and from craft ----

# Names to ask, by type: the lab names, then example.test's types, chains and odd names.
LAB_NAMES = [domain for domain, _, _ in LAB_TABLE] + ["google.ca"]
# Names that exist only through a wildcard (RFC 4592): one label, several, the `*` itself.
WILDCARD_NAMES = ["x.wild.example.test", "a.b.wild.example.test", "*.wild.example.test"]
QUESTIONS: dict[str, list[str]] = {
    "A": [*LAB_NAMES, "nope.google.com", "example.org", "mail2.example.test",
          "ns2.example.test", "www.example.test", "www.sub.example.test", "generic.example.test",
          "escaped\\.dot.example.test", "sp\\032ace.example.test", "nope.example.test",
          *WILDCARD_NAMES, "real.wild.example.test", "wild.example.test", "ent.wild.example.test",
          "x.ent.wild.example.test", "x.*.wild.example.test", "any.cn.example.test"],
    "NS": ["google.com", "youtube.com", "example.test", "www.example.test"],
    "SOA": ["amazon.ca", "example.test", "nope.uwaterloo.ca"],
    "MX": ["google.com", "example.test", "mx.sub.example.test", "host.example.test",
           "www.example.test", "x.wild.example.test"],
    "TXT": ["example.test", "txt.example.test", "sub.example.test", "nope.sub.example.test",
            *WILDCARD_NAMES, "real.wild.example.test"],
    "AAAA": ["wikipedia.org", "mail.example.test", "www.example.test"],
    "CNAME": ["www.example.test", "host.example.test", "x.cn.example.test"],
    "ANY": ["youtube.com", "google.com", "example.test", "x.wild.example.test"],
    "SRV": ["_sip._udp.example.test"],
    "PTR": ["80.2.0.192.in-addr.example.test"],
    "TYPE65280": ["private.example.test"],
    "TYPE65281": ["empty.example.test"],
}
PROMPT = "Enter Domain Name: "


def ask_session(port: int, rtype: str, names: Sequence[str]) -> list[list[str]]:
    """The lab's interactive ``craft dns-ask`` (one process for many names): per name, its
    output lines sorted (BIND rotates the records of an RRset), the port masked."""
    result = subprocess.run(
        [sys.executable, "-m", "craft", "dns-ask", "-t", rtype, "-p", str(port)],  # -p as in dig
        input="".join(f"{name}\n" for name in names) + "end\n",
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    blocks = result.stdout.replace(f"127.0.0.1:{port}", "127.0.0.1:P").split(PROMPT)
    assert blocks[0] == "" and blocks[-1] == "Session ended\n", result.stdout
    return [sorted(block.splitlines()) for block in blocks[1:-1]]


def test_craft_ask_gets_the_same_output_from_bind_and_craft(
    bind_port: int, craft_port: int
) -> None:
    jobs = [(port, rtype, names) for rtype, names in QUESTIONS.items()
            for port in (bind_port, craft_port)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda job: ask_session(*job), jobs))
    for (_, rtype, names), from_bind, from_craft in zip(jobs[::2], sessions[::2], sessions[1::2],
                                                        strict=True):
        assert len(from_bind) == len(from_craft) == len(names), rtype
        for name, bind_lines, craft_lines in zip(names, from_bind, from_craft, strict=True):
            assert bind_lines == craft_lines, (name, rtype)
            assert any(line.startswith(f"{name}: ") for line in bind_lines), (name, rtype)
    text = "\n".join(line for session in sessions for block in session for line in block)
    for outcome in ("type A,", "type SRV,", "(NXDOMAIN)", "(NODATA)", "(REFUSED"):
        assert outcome in text


def ask_both(bind: int, craft: int, questions: Sequence[tuple[str, str]]
             ) -> list[tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]]:
    """``craft dns-ask NAME -t TYPE`` at BIND and at craft, a few processes at a time."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        from_bind = pool.map(lambda q: craft_ask(bind, *q), questions)
        from_craft = pool.map(lambda q: craft_ask(craft, *q), questions)
        return list(zip(from_bind, from_craft, strict=True))


def test_craft_ask_exits_the_same_for_bind_and_craft(bind_port: int, craft_port: int) -> None:
    questions = {("google.com", "A"): 0, ("nope.google.com", "A"): 3, ("google.com", "MX"): 4,
                 ("example.org", "A"): 5, ("nope.sub.example.test", "TXT"): 3,
                 ("host.example.test", "MX"): 4}
    for ((name, rtype), code), (bind, craft) in zip(
        questions.items(), ask_both(bind_port, craft_port, list(questions)), strict=True
    ):
        seen = [(r.returncode, sorted(r.stdout.replace(f"127.0.0.1:{p}", "P").splitlines()))
                for r, p in ((bind, bind_port), (craft, craft_port))]
        assert seen[0] == seen[1], (name, rtype)
        assert bind.returncode == code, (name, rtype, bind.stdout)


def test_upper_case_question_bind_answers_in_zone_case_craft_echoes(
    bind_port: int, craft_port: int
) -> None:
    asked = [("GOOGLE.COM", "A"), ("MiXeD.wild.example.test", "A")]  # the second by a wildcard
    for (name, _), (bind, craft) in zip(asked, ask_both(bind_port, craft_port, asked), strict=True):
        assert bind.returncode == craft.returncode == 0
        assert all(line.startswith(f"{name.lower()}: ") for line in bind.stdout.splitlines())
        assert all(line.startswith(f"{name}: ") for line in craft.stdout.splitlines())
        assert sorted(bind.stdout.lower().splitlines()) == sorted(craft.stdout.lower().splitlines())


def test_axfr_from_bind_and_craft_carries_the_same_records(bind_port: int, craft_port: int) -> None:
    for path in SERVED_FILES:
        origin = Name.from_text(origin_of(path))
        from_bind = sorted(r.to_text() for r in axfr(origin, ("127.0.0.1", bind_port)))
        from_craft = sorted(r.to_text() for r in axfr(origin, ("127.0.0.1", craft_port)))
        assert from_bind == from_craft, path.name
        assert len(from_bind) >= 4  # SOA, NS, the A (or more), the glue


# ---- the edges of the answer logic (tests/data/edge.test.zone) ----

# (name, type): CNAME chains ending in NXDOMAIN, NODATA, a referral, data after 12 links;
# DS at a cut (the parent's data) and below it; referrals for names at, below and glue of a
# cut; an MX whose exchange is glue below a cut (no additional data); an RRset over 1232.
# DNAME (RFC 6672): the DNAME and the synthesized CNAME, into data, into nothing, at the owner,
# asked as DNAME and CNAME, out of the zone, DNAME into DNAME, CNAME into DNAME, YXDOMAIN.
# DS at the apex of a child we serve too (the parent answers), and below it (the child).
# Truncation by whole RRsets: a CNAME before an RRset that does not fit.
EDGE_QUESTIONS = [
    ("dangle", "A"), ("tohost", "MX"), ("tochild", "A"), ("c1", "A"), ("dschild", "DS"),
    ("child", "DS"), ("x.child", "DS"), ("www.child", "A"), ("child", "NS"), ("ns.child", "A"),
    ("mxglue", "MX"), ("bigger", "TXT"),
    ("www.dn", "A"), ("nope.dn", "A"), ("a.b.dn", "AAAA"), ("dn", "A"), ("dn", "DNAME"),
    ("www.dn", "DNAME"), ("www.dn", "CNAME"), ("x.dnout", "A"), ("www.dn2", "A"), ("todn", "A"),
    ("x" * 63 + ".dnlong", "A"), ("signed", "DS"), ("x.signed", "DS"), ("signed", "SOA"),
    ("tobigger", "TXT"), ("bigglue", "MX"), ("host", "A"), ("nope", "A"),
]


def _udp(port: int, message: Message) -> Message:
    reply = send_bytes(encode(message), ("127.0.0.1", port), timeout=2).reply
    assert reply is not None
    return decode(reply)


def _texts(section: Sequence[Record]) -> list[str]:
    return sorted(r.to_text().lower() for r in section if r.rtype != RRType.OPT)


def _settles_outside_the_answer(message: Message) -> bool:
    """Negative answers, referrals and chains that end without data: their authority and
    additional sections are the point (BIND adds NS and glue to positive ones, see above)."""
    qtype = message.question[0].rtype
    return (not message.answer or not message.header.aa
            or (message.answer[-1].rtype == RRType.CNAME and qtype != RRType.CNAME))


def _whole_rrsets(part: Sequence[Record], whole: Sequence[Record]) -> bool:
    """Whether every RRset in ``part`` is in ``whole`` with all its records."""
    def rrsets(records: Sequence[Record]) -> dict[tuple[bytes, int], list[str]]:
        found: dict[tuple[bytes, int], list[str]] = {}
        for r in records:
            if r.rtype != RRType.OPT:
                found.setdefault((r.name.key, r.rtype), []).append(r.to_text().lower())
        return {key: sorted(texts) for key, texts in found.items()}

    complete = rrsets(whole)
    return all(complete.get(key) == texts for key, texts in rrsets(part).items())


def test_edge_cases_answered_as_bind_answers(bind_port: int, craft_port: int) -> None:
    for name, rtype in EDGE_QUESTIONS:
        query = Message(Header(id=secrets.randbits(16)),
                        (Question(Name.from_text(f"{name}.edge.test."), type_number(rtype)),)
                        ).with_edns(Edns(payload=4096))
        from_bind, from_craft = _udp(bind_port, query), _udp(craft_port, query)
        where = (name, rtype)
        assert (from_bind.rcode, from_bind.header.aa, from_bind.header.tc) == (
            from_craft.rcode, from_craft.header.aa, from_craft.header.tc), where
        if from_bind.header.tc:
            # Both cut at 1232 octets for a 4096 client and neither sends part of an RRset:
            # BIND sends no answer record at all, craft (as NSD) the whole RRsets before the
            # one that does not fit. Both are whole against BIND's full answer over TCP.
            assert len(encode(from_craft)) <= 1232, where
            reply = send_bytes(encode(query), ("127.0.0.1", bind_port), tcp=True, timeout=2).reply
            assert reply is not None, where
            full = decode(reply)
            assert not full.header.tc and full.answer, where
            for truncated in (from_bind, from_craft):
                assert _whole_rrsets(truncated.answer, full.answer), (where, truncated.to_text())
            assert len(from_craft.answer) >= len(from_bind.answer), where
            continue
        assert _texts(from_bind.answer) == _texts(from_craft.answer), where
        if _settles_outside_the_answer(from_bind):
            assert _texts(from_bind.authority) == _texts(from_craft.authority), where
            assert _texts(from_bind.additional) == _texts(from_craft.additional), where
    assert from_craft.rcode == Rcode.NXDOMAIN  # the last question, as a check of the loop


def _tcp_messages(port: int, message: Message) -> list[Message]:
    """Every message a TCP query gets back, until the transfer ends or the server stops."""
    wire = encode(message)
    replies: list[Message] = []
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(len(wire).to_bytes(2, "big") + wire)
        stream = sock.makefile("rb")
        while len(head := stream.read(2)) == 2:
            replies.append(decode(stream.read(int.from_bytes(head, "big"))))
            soas = sum(r.rtype == RRType.SOA for m in replies for r in m.answer)
            if replies[-1].rcode or soas >= 2 or (message.question[0].rtype == RRType.IXFR
                                                  and soas == 1 and len(replies[-1].answer) == 1):
                break
    return replies


def test_transfers_answer_as_bind_answers(bind_port: int, craft_port: int) -> None:
    origin = Name.from_text("edge.test.")
    serial = 2026112501

    def soa_at(number: int) -> Record:
        return parse_record(f"edge.test. 0 IN SOA ns1.edge.test. h.edge.test. {number} 1 1 1 1")

    def xfr(rtype: RRType, *, authority: Sequence[Record] = (), rd: bool = False,
            edns: bool = False) -> Message:
        message = Message(Header(id=secrets.randbits(16), rd=rd), (Question(origin, rtype),),
                          (), tuple(authority))
        return message.with_edns(Edns(payload=1232) if edns else None)

    cases = {
        "IXFR at our serial: our SOA alone (RFC 1995 2)": xfr(RRType.IXFR, authority=[soa_at(serial)]),
        "IXFR from a newer serial: our SOA alone": xfr(RRType.IXFR, authority=[soa_at(serial + 9)]),
        "IXFR without the client's SOA: FORMERR (RFC 1995 3)": xfr(RRType.IXFR),
        "AXFR with RD": xfr(RRType.AXFR, rd=True),
        "AXFR with EDNS: an OPT back (RFC 6891 7)": xfr(RRType.AXFR, edns=True),
    }
    for what, query in cases.items():
        from_bind, from_craft = _tcp_messages(bind_port, query), _tcp_messages(craft_port, query)
        first_bind, first_craft = from_bind[0], from_craft[0]
        assert (first_bind.rcode, first_bind.edns is not None) == (
            first_craft.rcode, first_craft.edns is not None), what
        # RFC 5936 2.2.1 recommends copying RD and allows 0: craft copies (as NSD), BIND not.
        assert all(m.header.rd == query.header.rd for m in from_craft), what
        assert ([_texts(m.answer) for m in from_bind] == [_texts(m.answer) for m in from_craft]
                or len(from_bind) != len(from_craft)), what  # split differently: same records
        assert sorted(t for m in from_bind for t in _texts(m.answer)) == sorted(
            t for m in from_craft for t in _texts(m.answer)), what
    ixfr_now = _tcp_messages(craft_port, cases["IXFR at our serial: our SOA alone (RFC 1995 2)"])
    assert len(ixfr_now) == 1 and [r.rtype for r in ixfr_now[0].answer] == [RRType.SOA]
    chaos = Message(Header(id=7), (Question(origin, RRType.AXFR, RRClass.CH),))
    assert _tcp_messages(craft_port, chaos)[0].rcode == Rcode.REFUSED  # BIND: NOTAUTH, NSD: REFUSED


def test_malformed_edges_are_formerr_as_with_bind(bind_port: int, craft_port: int) -> None:
    host = Name.from_text("host.edge.test.")
    opt = Record(Name(()), RRType.OPT, 1232, 0, OPT(()))
    long_name = Name((b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 52, b"edge", b"test"))
    assert long_name.wire_length() == 256
    cases = {
        "OPT in the answer section (RFC 6891 6.1.1)": encode(
            Message(Header(id=1), (Question(host, RRType.A),), (opt,))),
        "OPT in answer and in additional": encode(
            Message(Header(id=2), (Question(host, RRType.A),), (opt,), (), (opt,))),
        "a 256-octet QNAME (RFC 1035 3.1)": bytes.fromhex("000301000001000000000000")
        + b"".join(bytes([len(label)]) + label for label in long_name.labels) + b"\0\0\1\0\1",
    }
    for what, wire in cases.items():
        for port in (bind_port, craft_port):
            reply = send_bytes(wire, ("127.0.0.1", port), timeout=2).reply
            assert reply is not None and decode(reply).rcode == Rcode.FORMERR, (what, port)


def _tsig(mac: bytes = b"\x11" * 32, original_id: int = 0x1234) -> Record:
    """A TSIG (RFC 8945 4.2) signed with a key neither server has."""
    rdata = (b"\x0bhmac-sha256\x00" + (1795593459).to_bytes(6, "big") + (300).to_bytes(2, "big")
             + len(mac).to_bytes(2, "big") + mac + original_id.to_bytes(2, "big") + bytes(4))
    return Record(Name.from_text("nokey."), RRType.TSIG, RRClass.ANY, 0, Opaque(rdata))


def test_tsig_with_an_unknown_key_is_badkey_as_with_bind(bind_port: int, craft_port: int) -> None:
    question = (Question(Name.from_text("example.test."), RRType.SOA),)
    with_opt = Message(Header(id=0x1234), question).with_edns(Edns(payload=1232))
    signed = replace(with_opt, additional=(*with_opt.additional, _tsig()))  # OPT, then TSIG
    misplaced = {
        "TSIG not last": Message(Header(id=1), question, (), (), (_tsig(), parse_record(". 0 IN A 1.2.3.4"))),
        "two TSIGs": Message(Header(id=2), question, (), (), (_tsig(), _tsig())),
        "TSIG in the answer section": Message(Header(id=3), question, (_tsig(),)),
    }

    def badkey(message: Message) -> tuple[int, list[str], bytes]:
        tsig = message.additional[-1]
        assert tsig.rtype == RRType.TSIG and isinstance(tsig.rdata, TSIG)
        writer = Writer()
        tsig.rdata.encode(writer, compress=False)
        data = writer.getvalue()
        # the time signed (after the 13-octet algorithm name) is each server's own clock
        order = [type_text(r.rtype) for r in message.additional]  # OPT, then TSIG last
        return message.rcode, order, data[:13] + data[19:]

    for port in (bind_port, craft_port):  # over UDP, and an AXFR over TCP
        assert badkey(_udp(port, signed)) == badkey(_udp(bind_port, signed))
        transfer = Message(Header(id=0x1234), (Question(Name.from_text("example.test."), RRType.AXFR),),
                           (), (), (_tsig(),))
        [refused] = _tcp_messages(port, transfer)
        assert refused.rcode == Rcode.NOTAUTH and not refused.answer, port  # nothing leaks
        for what, message in misplaced.items():
            assert _udp(port, message).rcode == Rcode.FORMERR, (what, port)
    assert badkey(_udp(craft_port, signed))[0] == Rcode.NOTAUTH


# ---- BIND's own bytes, read by craft and by Scapy ----


def types_of(section: Sequence[Record]) -> list[str]:
    return [type_text(r.rtype) for r in section if r.rtype != RRType.OPT]


def has(section: Sequence[Record], owner: str, rtype: str) -> bool:
    name = Name.from_text(owner)
    return any(r.rtype == type_number(rtype) and r.name.equals(name) for r in section)


Expect = Callable[[Message], bool]

# (label, qname, qtype, EDNS, opcode, what BIND's reply must show)
CASES: list[tuple[str, str, str, Edns | None, int, Expect]] = [
    ("A with glue", "google.com.", "A", None, 0,
     lambda m: types_of(m.answer) == ["A", "A"] and has(m.additional, "ns1.google.com.", "A")),
    ("EDNS", "google.com.", "A", Edns(), 0,
     lambda m: m.edns is not None and m.edns.version == 0 and len(m.answer) == 2),
    ("upper case", "GOOGLE.COM.", "A", None, 0, lambda m: len(m.answer) == 2),
    ("mixed case ANY, EDNS", "GoOgLe.CoM.", "ANY", Edns(), 0,
     lambda m: sorted(types_of(m.answer)) == ["A", "A", "NS", "SOA"]),
    ("ANY", "google.com.", "ANY", None, 0,
     lambda m: sorted(types_of(m.answer)) == ["A", "A", "NS", "SOA"]),
    ("ANY at example.test", "example.test.", "ANY", Edns(), 0, lambda m: len(m.answer) == 6),
    ("CNAME chain", "www.example.test.", "A", None, 0,
     lambda m: types_of(m.answer) == ["CNAME", "CNAME", "A"]),
    ("CNAME chain, upper case, DO", "WWW.Example.Test.", "AAAA", Edns(do=True), 0,
     lambda m: types_of(m.answer) == ["CNAME", "CNAME", "AAAA"]
     and m.edns is not None and m.edns.do),
    ("CNAME in a subdomain", "www.sub.example.test.", "A", None, 0,
     lambda m: types_of(m.answer) == ["CNAME", "A"]),
    ("NXDOMAIN with SOA, EDNS", "nope.example.test.", "A", Edns(), 0,
     lambda m: m.rcode == Rcode.NXDOMAIN and has(m.authority, "example.test.", "SOA")),
    ("NXDOMAIN with SOA", "nope.google.com.", "A", None, 0,
     lambda m: m.rcode == Rcode.NXDOMAIN and has(m.authority, "google.com.", "SOA")),
    ("NODATA", "host.example.test.", "MX", None, 0,
     lambda m: m.rcode == 0 and not m.answer and has(m.authority, "example.test.", "SOA")),
    ("MX with glue", "example.test.", "MX", None, 0,
     lambda m: has(m.additional, "mail.example.test.", "AAAA")
     and has(m.additional, "mail2.example.test.", "A")),
    ("NS with glue", "example.test.", "NS", Edns(), 0,
     lambda m: has(m.additional, "ns2.example.test.", "A")),
    ("SRV with glue", "_sip._udp.example.test.", "SRV", None, 0,
     lambda m: has(m.additional, "sip.example.test.", "A")),
    ("TXT strings", "txt.example.test.", "TXT", Edns(), 0, lambda m: len(m.answer) == 4),
    ("unknown type", "private.example.test.", "TYPE65280", None, 0, lambda m: len(m.answer) == 1),
    ("empty rdata", "empty.example.test.", "TYPE65281", None, 0, lambda m: len(m.answer) == 1),
    ("dot inside a label", "escaped\\.dot.example.test.", "A", None, 0,
     lambda m: len(m.answer) == 1),
    ("PTR", "80.2.0.192.in-addr.example.test.", "PTR", None, 0, lambda m: len(m.answer) == 1),
    ("MX at a subdomain", "mx.sub.example.test.", "MX", None, 0,
     lambda m: has(m.additional, "sub.example.test.", "A")),
    ("REFUSED", "example.org.", "A", None, 0, lambda m: m.rcode == Rcode.REFUSED),
    ("BADVERS", "google.com.", "A", Edns(version=1), 0, lambda m: m.rcode == Rcode.BADVERS),
    ("COOKIE", "google.com.", "SOA", Edns(options=(Cookie(bytes(range(8))),)), 0,
     lambda m: m.edns is not None and any(isinstance(o, Cookie) and o.server for o in m.edns.options)),
    ("NOTIMP", "google.com.", "A", None, 15, lambda m: m.rcode == Rcode.NOTIMP),
]


def query_bytes(qname: str, qtype: str, edns: Edns | None, opcode: int) -> bytes:
    question = Question(Name.from_text(qname), type_number(qtype))
    header = Header(id=secrets.randbits(16), opcode=opcode)
    return encode(Message(header, (question,)).with_edns(edns))


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize(("label", "qname", "qtype", "edns", "opcode", "expect"), CASES,
                         ids=[c[0] for c in CASES])
def test_bind_replies_keep_their_bytes_and_scapy_agrees(
    bind_port: int, transport: str, label: str, qname: str, qtype: str, edns: Edns | None,
    opcode: int, expect: Expect,
) -> None:
    query = query_bytes(qname, qtype, edns, opcode)
    reply = send_bytes(query, ("127.0.0.1", bind_port), tcp=transport == "tcp", timeout=2).reply
    assert reply is not None, f"BIND sent nothing for {label}"
    message = decode(reply)
    assert message.header.qr and reply[:2] == query[:2]
    assert expect(message), message.to_text()
    assert _same_bytes(reply), reply.hex()
    verdict = check(reply)
    assert verdict.agrees, verdict.describe()


def test_bind_compresses_where_craft_would_not_and_the_layout_keeps_it(bind_port: int) -> None:
    # BIND writes the answer's owner in the zone's case, so it cannot point at an upper-case
    # question; craft's encoder would point there. Only the kept layout gives BIND's bytes.
    reply = send_bytes(query_bytes("GOOGLE.COM.", "A", None, 0), ("127.0.0.1", bind_port),
                       timeout=2).reply
    assert reply is not None
    message = decode(reply)
    assert message.question[0].name == Name.from_text("GOOGLE.COM.")
    assert message.answer[0].name == Name.from_text("google.com.")
    assert encode(message) != reply
    assert _same_bytes(reply)


# ---- craft dns-probe ----


def test_probes_run_against_bind(bind_port: int) -> None:
    def probe(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "craft", "dns-probe", f"127.0.0.1:{bind_port}", "google.com",
             *extra], capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )

    table = probe()
    print(table.stdout)  # the table, for `pytest -rP` and for failures
    result = probe("--json")
    rows = json.loads(result.stdout)
    expected_names = [p.name for p in build_probes(Name.from_text("google.com."))]
    assert isinstance(rows, list) and [row["probe"] for row in rows] == expected_names
    for row in rows:
        assert set(row) == {"probe", "expected", "observed", "ok"}, row
        assert isinstance(row["ok"], bool) and row["observed"] and row["expected"]
        assert row["observed"] != "no reply", row
    failed = {row["probe"] for row in rows if not row["ok"]}
    assert failed == BIND_PROBE_FAILURES, table.stdout
    assert result.returncode == (1 if failed else 0), result.stderr
    assert table.returncode == result.returncode
    assert f"{len(rows) - len(failed)}/{len(rows)} probes match" in table.stdout
