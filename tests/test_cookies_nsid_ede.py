"""DNS cookies (RFC 7873, RFC 9018), NSID (RFC 5001) and Extended DNS Errors (RFC 8914) in
craft's server.

In memory, table-driven: the server cookie arithmetic against RFC 9018 appendix A's test
vectors and the clock rules of its section 4.3; the answer to a query carrying each option,
through ``Authority.respond`` (fast path and full codec); the OPT finder the octet-level
replies use. Against real peers on loopback: dig and kdig take craft's cookies (dig's second
query brings the server cookie back and hears no complaint), BIND's resolver forwards
through craft with cookies and gets answers, ``--require-cookie`` sends dig through
BADCOOKIE and its retry, ``dig +nsid`` reads NSID and several workers show several ids, and
dig prints the EDE of each of the four cases.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    craft_process,
    daemon_path,
    free_port,
    pseudosection,
    running_daemon,
    serving,
    wait_until,
)

from craft.dns.answer_cache import Authority
from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode, RRClass, RRType
from craft.dns.cookies import CookieSecret, Judgement, address_octets
from craft.dns.edns import NSID, Cookie, EdnsOption, ExtendedError, RawOption
from craft.dns.message import Edns, Header, Message, Question
from craft.dns.names import Name
from craft.dns.server_edns import ServerEdns, parse_nsid, query_opt_ttl
from craft.dns.zone import default_zones
from craft.dns_server import DnsServer, Exchange

NEEDS_DIG = pytest.mark.skipif(shutil.which("dig") is None, reason="dig not installed")
NEEDS_KDIG = pytest.mark.skipif(shutil.which("kdig") is None, reason="kdig not installed")

# ---- the cookie arithmetic: RFC 9018 appendix A ----

A_SECRET = "e5e973e5a6b2a43f48e7dc849e37bfcf"
A4_OLD_SECRET = "dd3bdf9344b678b185a6f5cb60fca715"
A4_NEW_SECRET = "445536bcd2513298075a5d379663c962"


@dataclass(frozen=True)
class Vector:
    name: str
    secret: str
    address: str
    client: str
    query_server: str  # the server cookie the query brings ('' for none)
    now: int
    valid: bool
    reply_server: str


VECTORS = [
    Vector("A.1 learning a new server cookie", A_SECRET, "198.51.100.100", "2464c4abcf10c957",
           "", 1559731985, False, "010000005cf79f111f8130c3eee29480"),
    Vector("A.2 the same client 40 minutes later: valid, renewed (over half an hour)",
           A_SECRET, "198.51.100.100", "2464c4abcf10c957",
           "010000005cf79f111f8130c3eee29480", 1559734385, True,
           "010000005cf7a871d4a564a1442aca77"),
    Vector("A.3 another client's cookie, reserved octets set, 1h52m old: fresh one",
           A_SECRET, "203.0.113.203", "fc93fc62807ddb86",
           "01abcdef5cf78f71a314227b6679ebf5", 1559734700, False,
           "010000005cf7a9acf73a7810aca2381e"),
    Vector("A.4 IPv6 client after the secret rolled over: fresh one under the new secret",
           A4_NEW_SECRET, "2001:db8:220:1:59de:d0f4:8769:82b8", "22681ab97d52c298",
           "010000005cf7c57926556bd0934c72f8", 1559741961, False,
           "010000005cf7c609a6bb79d16625507a"),
]


@pytest.mark.parametrize("v", VECTORS, ids=[v.name for v in VECTORS])
def test_rfc9018_vectors(v: Vector) -> None:
    secret = CookieSecret.from_hex(v.secret)
    address = ipaddress.ip_address(v.address).packed
    client = bytes.fromhex(v.client)
    judged = secret.judge(client, bytes.fromhex(v.query_server), address, v.now)
    assert judged == Judgement(v.valid, bytes.fromhex(v.reply_server))
    # The reply's cookie is valid when it comes back a second later, and kept as it is.
    again = secret.judge(client, judged.reply, address, v.now + 1)
    assert again == Judgement(True, judged.reply)


@pytest.mark.parametrize("secret,address,cookie,ours", [
    (A_SECRET, "203.0.113.203", "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", True),
    (A4_OLD_SECRET, "2001:db8:220:1:59de:d0f4:8769:82b8",
     "22681ab97d52c298010000005cf7c57926556bd0934c72f8", True),
    (A4_NEW_SECRET, "2001:db8:220:1:59de:d0f4:8769:82b8",
     "22681ab97d52c298010000005cf7c57926556bd0934c72f8", False),
    (A_SECRET, "203.0.113.204", "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", False),
    (A_SECRET, "203.0.113.203", "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf6", False),
    (A_SECRET, "203.0.113.203", "fc93fc62807ddb8602abcdef5cf78f71a314227b6679ebf5", False),
    (A_SECRET, "203.0.113.203", "fc93fc62807ddb8601abcdef5cf78f71a314227b", False),
], ids=["A.3 reserved octets hashed as received", "A.4 made by the old secret",
        "A.4 not the new secret's", "another address", "one bit of the hash",
        "version 2", "12-octet server cookie"])
def test_is_ours(secret: str, address: str, cookie: str, ours: bool) -> None:
    raw = bytes.fromhex(cookie)
    assert CookieSecret.from_hex(secret).is_ours(
        raw[:8], raw[8:], ipaddress.ip_address(address).packed) is ours


NOW = 1559731985
CLIENT = bytes.fromhex("2464c4abcf10c957")
HERE = ipaddress.ip_address("198.51.100.100").packed


@pytest.mark.parametrize("stamped,now,valid,kept", [
    (NOW, NOW, True, True),
    (NOW - 1799, NOW, True, True),
    (NOW - 1800, NOW, True, False),  # half an hour: still valid, renewed
    (NOW - 3600, NOW, True, False),  # an hour: the last second it holds
    (NOW - 3601, NOW, False, False),
    (NOW + 300, NOW, True, True),  # five minutes ahead: another server's clock
    (NOW + 301, NOW, False, False),
    (2**32 - 1000, 600, True, True),  # RFC 1982: 1600 s old across the 32-bit wrap
    (2**32 - 3000, 601, False, False),
], ids=["this second", "29:59 old", "30:00 old", "an hour old", "an hour and a second",
        "5 min ahead", "5:01 ahead", "across the wrap", "over an hour across the wrap"])
def test_clock_rules(stamped: int, now: int, valid: bool, kept: bool) -> None:
    secret = CookieSecret.from_hex(A_SECRET)
    server = secret.server_cookie(CLIENT, HERE, stamped)
    judged = secret.judge(CLIENT, server, HERE, now)
    assert judged.valid is valid
    assert (judged.reply == server) is kept
    if not kept:
        assert judged.reply == secret.server_cookie(CLIENT, HERE, now)


@pytest.mark.parametrize("text,octets", [
    ("127.0.0.1", b"\x7f\0\0\1"),
    ("::ffff:127.0.0.1", b"\x7f\0\0\1"),  # a dual-stack socket's IPv4 client keeps its cookie
    ("::1", bytes(15) + b"\1"),
    ("fe80::1%eth0", b"\xfe\x80" + bytes(13) + b"\1"),
])
def test_address_octets(text: str, octets: bytes) -> None:
    assert address_octets(text) == octets


@pytest.mark.parametrize("text,message", [
    ("00" * 15, "16 octets (32 hex digits), not 15"),
    ("zz" * 16, "is not hex"),
])
def test_bad_secrets(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        CookieSecret.from_hex(text)


@pytest.mark.parametrize("text,octets", [
    ("ns1.example", b"ns1.example"), ("0x6e7331", b"ns1"), ("0X00ff", b"\0\xff"),
    ("h\u00e9", "h\u00e9".encode()),
])
def test_parse_nsid(text: str, octets: bytes) -> None:
    assert parse_nsid(text) == octets


@pytest.mark.parametrize("text", ["", "0x", "0xzz"])
def test_parse_nsid_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_nsid(text)


# ---- answering a query with each option, in memory ----

SECRET = CookieSecret(bytes(range(16)))
ME = "127.0.0.1"
SERVED = default_zones()


def ask(name: str = "google.com.", options: tuple[EdnsOption, ...] | None = (),
        rtype: int = RRType.A, version: int = 0) -> bytes:
    message = Message(Header(id=0x4242, rd=True), (Question(Name.from_text(name), rtype),))
    if options is not None:
        message = message.with_edns(Edns(version=version, options=options))
    return encode(message)


def ours(client: bytes, stamp: int = NOW) -> Cookie:
    return Cookie(client, SECRET.server_cookie(client, address_octets(ME), stamp))


def server(explain: ServerEdns | None = None) -> Authority:
    return Authority(SERVED, clock=lambda: NOW + 0.5,
                     explain=explain if explain is not None else ServerEdns(SECRET))


PLAIN = ServerEdns(SECRET)


@dataclass(frozen=True)
class Case:
    name: str
    query: bytes
    rcode: int
    options: tuple[EdnsOption, ...] | None  # the reply's OPT options (None: no OPT)
    answers: int = 0
    explain: ServerEdns = PLAIN
    tcp: bool = False
    client: str | None = ME


OTHER_SECRET = CookieSecret(bytes(16))
OTHER = ServerEdns(OTHER_SECRET)
REQUIRE = ServerEdns(SECRET, require_cookie=True)
WITH_NSID = ServerEdns(SECRET, nsid=b"ns-lab")
C = bytes.fromhex("0011223344556677")

CASES = [
    Case("no EDNS: no OPT", ask(options=None), Rcode.NOERROR, None, 2),
    Case("plain EDNS: our OPT, nothing in it", ask(), Rcode.NOERROR, (), 2),
    Case("client cookie: a server cookie back", ask(options=(Cookie(C),)), Rcode.NOERROR,
         (ours(C),), 2),
    Case("our young cookie: kept", ask(options=(ours(C, NOW - 60),)), Rcode.NOERROR,
         (ours(C, NOW - 60),), 2),
    Case("our 40-minute-old cookie: renewed", ask(options=(ours(C, NOW - 2400),)),
         Rcode.NOERROR, (ours(C),), 2),
    Case("another server's cookie: a fresh one, answered", ask(options=(ours(C),)),
         Rcode.NOERROR, (Cookie(C, OTHER_SECRET.server_cookie(C, address_octets(ME), NOW)),),
         2, explain=OTHER),
    Case("an expired cookie: a fresh one, answered", ask(options=(ours(C, NOW - 7200),)),
         Rcode.NOERROR, (ours(C),), 2),
    Case("no client address known: no cookie", ask(options=(Cookie(C),)), Rcode.NOERROR, (),
         2, client=None),
    Case("cookies off (no secret)", ask(options=(Cookie(C),)), Rcode.NOERROR, (), 2,
         explain=ServerEdns(None)),
    Case("required, client cookie only, UDP: BADCOOKIE with a fresh cookie",
         ask(options=(Cookie(C),)), Rcode.BADCOOKIE, (ours(C),), 0, explain=REQUIRE),
    Case("required, wrong server cookie, UDP: BADCOOKIE", ask(options=(ours(C, NOW - 7200),)),
         Rcode.BADCOOKIE, (ours(C),), 0, explain=REQUIRE),
    Case("required, out of zone, UDP: BADCOOKIE too", ask("nothere.example.", (Cookie(C),)),
         Rcode.BADCOOKIE, (ours(C),), 0, explain=REQUIRE),
    Case("required, over TCP: never BADCOOKIE", ask(options=(Cookie(C),)), Rcode.NOERROR,
         (ours(C),), 2, explain=REQUIRE, tcp=True),
    Case("required, valid cookie: answered", ask(options=(ours(C, NOW - 60),)), Rcode.NOERROR,
         (ours(C, NOW - 60),), 2, explain=REQUIRE),
    Case("required, no cookie at all: answered", ask(), Rcode.NOERROR, (), 2, explain=REQUIRE),
    Case("required, EDNS version 1: BADVERS first", ask(options=(Cookie(C),), version=1),
         Rcode.BADVERS, (ours(C),), 0, explain=REQUIRE),
    Case("NSID asked and set", ask(options=(NSID(),)), Rcode.NOERROR, (NSID(b"ns-lab"),), 2,
         explain=WITH_NSID),
    Case("NSID asked, none set", ask(options=(NSID(),)), Rcode.NOERROR, (), 2),
    Case("NSID of worker 2", ask(options=(NSID(),)), Rcode.NOERROR, (NSID(b"ns-lab/2"),), 2,
         explain=WITH_NSID.for_worker(2)),
    Case("NSID set, not asked", ask(options=(Cookie(C),)), Rcode.NOERROR, (ours(C),), 2,
         explain=WITH_NSID),
    Case("NSID and a cookie", ask(options=(NSID(), Cookie(C))), Rcode.NOERROR,
         (ours(C), NSID(b"ns-lab")), 2, explain=WITH_NSID),
    Case("REFUSED with EDNS: EDE 20", ask("nothere.example."), Rcode.REFUSED,
         (ExtendedError(20),)),
    Case("REFUSED, class CH: EDE 20", encode(Message(Header(id=1), (
        Question(Name.from_text("google.com."), RRType.A, RRClass.CH),)).with_edns(Edns())),
        Rcode.REFUSED, (ExtendedError(20),)),
    Case("REFUSED with a cookie: EDE 20 and the cookie", ask("nothere.example.", (Cookie(C),)),
         Rcode.REFUSED, (ExtendedError(20), ours(C))),
    Case("REFUSED without EDNS: no OPT, no EDE", ask("nothere.example.", None),
         Rcode.REFUSED, None),
    Case("COOKIE of 12 octets: FORMERR saying so",
         ask(options=(RawOption(10, bytes(12)),)), Rcode.FORMERR,
         (ExtendedError(0, "COOKIE option of 12 octets (8, or 16 to 40) at offset 43"),)),
    Case("COOKIE of 41 octets: FORMERR", ask(options=(RawOption(10, bytes(41)),)),
         Rcode.FORMERR,
         (ExtendedError(0, "COOKIE option of 41 octets (8, or 16 to 40) at offset 43"),)),
    Case("a self pointer as the question name, with EDNS: FORMERR saying where",
         bytes.fromhex("123401000001000000000001c00c00010001") + bytes.fromhex(
             "0000291000000080000000"), Rcode.FORMERR,
         (ExtendedError(0, "self compression pointer to 12 at offset 12"),)),
    Case("no question, with EDNS: FORMERR saying so",
         encode(Message(Header(id=7)).with_edns(Edns())), Rcode.FORMERR,
         (ExtendedError(0, "0 questions (a QUERY has one)"),)),
    Case("two OPT records: FORMERR saying so", encode(Message(
        Header(id=7), (Question(Name.from_text("google.com.")),),
        additional=(Edns().to_record(), Edns().to_record()))), Rcode.FORMERR,
        (ExtendedError(0, "OPT or TSIG out of place (RFC 6891 6.1.1, RFC 8945 5.1)"),)),
    Case("IXFR without the client's SOA: FORMERR saying so",
         ask("google.com.", rtype=RRType.IXFR), Rcode.FORMERR,
         (ExtendedError(0, "IXFR without the client's SOA in authority (RFC 1995 3)"),)),
    Case("the same without EDNS: FORMERR, header only",
         bytes.fromhex("123401000001000000000000c00c00010001"), Rcode.FORMERR, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answering_with_options(case: Case) -> None:
    authority = server(case.explain)
    limit = 0xFFFF if case.tcp else 512
    response = authority.respond(case.query, limit, case.client, case.tcp)
    # The fast path and the full codec agree, octet for octet
    assert response == authority.answerer.respond(case.query, limit, case.client, case.tcp)
    assert response is not None and response[:2] == case.query[:2]
    message = decode(response)
    assert message.rcode == case.rcode
    assert len(message.answer) == case.answers
    edns = message.edns
    assert (edns.options if edns is not None else None) == case.options
    if case.rcode == Rcode.BADCOOKIE:  # the answer withheld: the question and the OPT alone
        assert message.question == decode(case.query).question
        assert not message.header.aa and message.authority == ()
        assert [r.rtype for r in message.additional] == [RRType.OPT]
    if edns is not None and case.rcode == Rcode.FORMERR and case.query[12] == 0xC0:
        assert edns.do  # the query's DO bit, found without decoding the query


def test_the_fast_path_serves_refused_with_its_ede() -> None:
    """A plain EDNS query out of zone is answered from a precomputed body and the exact-
    response cache, with the EDE the full codec gives it."""
    authority = server()
    query = ask("nothere.example.")
    assert authority._fast(query, 0x4242, 0x0100, 1, 512) is not None
    first = authority.respond(query)
    assert first == authority.respond(query) == authority.answerer.respond(query)
    assert first is not None
    assert decode(first).edns == Edns(options=(ExtendedError(20),))


def test_refused_transfer_says_prohibited() -> None:
    authority = Authority(SERVED, allow_transfer=[], explain=ServerEdns(SECRET))
    with_edns = [decode(m) for m in authority.respond_stream(
        ask("google.com.", rtype=RRType.AXFR), "192.0.2.9")]
    assert [m.rcode for m in with_edns] == [Rcode.REFUSED]
    assert with_edns[0].edns == Edns(options=(ExtendedError(18),))
    plain = [decode(m) for m in authority.respond_stream(
        ask("google.com.", None, rtype=RRType.AXFR), "192.0.2.9")]
    assert [m.rcode for m in plain] == [Rcode.REFUSED] and plain[0].edns is None


def test_a_reload_keeps_the_secret_and_nsid() -> None:
    explain = ServerEdns(SECRET, True, b"ns-lab/3")
    assert server(explain).with_zones(SERVED).answerer.explain is explain


HEAD = bytes.fromhex("1234010000010000000000")


@pytest.mark.parametrize("data,ttl", [
    (ask(options=None), None),
    (ask(), 0),
    (encode(Message(Header(), (Question(Name.from_text("a."), 1),)).with_edns(Edns(do=True))),
     0x8000),
    (HEAD + b"\x01" + b"\xc0\x0c\0\1\0\1" + b"\0\0\x29\x10\0\x01\x02\x80\0\0\0", 0x01028000),
    (HEAD + b"\x01" + b"\xc0\x0c\0\1\0\1" + b"\0\0\x29\x10\0", None),  # cut short
    (HEAD + b"\x01" + b"\x41\0\1\0\1" + b"\0\0\x29\x10\0\0\0\0\0\0\0", None),  # label type 01
    # an OPT in the answer section is not the query's OPT
    (bytes.fromhex("123401000001000100000000") + b"\0\0\1\0\1" + b"\0\0\x29\x10\0\0\0\0\0\0\0",
     None),
    (b"\x12\x34\x01", None),
], ids=["no OPT", "plain OPT", "DO", "after a pointer", "cut short", "extended label",
        "OPT in answer", "no header"])
def test_query_opt_ttl(data: bytes, ttl: int | None) -> None:
    assert query_opt_ttl(data) == ttl


# ---- real peers on loopback ----

def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          check=False)


def dig(port: int, *args: str) -> str:
    result = run("dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=3", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def cookie_of(text: str) -> str:
    match = re.search(r"^;; ?COOKIE: ([0-9a-fA-F]+)", text, re.MULTILINE) or re.search(
        r"^; COOKIE: ([0-9a-f]+)", text, re.MULTILINE)
    assert match, text
    return match.group(1).lower()


def status(text: str) -> str:
    match = re.search(r"status: (\w+)", text)
    assert match, text
    return match.group(1)


@pytest.fixture(scope="module")
def craft_port() -> Iterator[int]:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--nsid", "craft-lab"]) as (_, port):
        yield port


@NEEDS_DIG
def test_dig_takes_craft_cookies(craft_port: int) -> None:
    first = dig(craft_port, "+cookie", "google.com")
    cookie = cookie_of(first)
    assert len(cookie) == 48 and cookie[16:24] == "01000000"  # version 1, reserved zero
    assert re.search(r"; COOKIE: [0-9a-f]{48} \(good\)", first)
    # The second query brings the server cookie back; a young one is kept as it is.
    second = dig(craft_port, f"+cookie={cookie}", "google.com")
    assert cookie_of(second) == cookie and status(second) == "NOERROR"
    for text in (first, second):  # dig says "(bad)", "BADCOOKIE" or "mismatch" when unhappy
        assert "BADCOOKIE" not in text and "(bad)" not in text
        assert "mismatch" not in text.lower()
        assert "google.com.\t\t260\tIN\tA\t192.165.1.1" in text


@NEEDS_KDIG
def test_kdig_takes_craft_cookies(craft_port: int) -> None:
    first = run("kdig", "@127.0.0.1", "-p", str(craft_port), "+cookie", "google.com")
    assert first.returncode == 0, first.stdout + first.stderr
    cookie = cookie_of(first.stdout)
    assert len(cookie) == 48
    second = run("kdig", "@127.0.0.1", "-p", str(craft_port), f"+cookie={cookie}", "google.com")
    assert second.returncode == 0
    assert cookie_of(second.stdout) == cookie and "NOERROR" in second.stdout
    for result in (first, second):
        assert "warning" not in (result.stdout + result.stderr).lower()
        assert "192.165.1.1" in result.stdout


@NEEDS_DIG
def test_dig_nsid(craft_port: int) -> None:
    text = dig(craft_port, "+nsid", "google.com")
    assert '; NSID: 63 72 61 66 74 2d 6c 61 62 ("craft-lab")' in text
    asked = run(sys.executable, "-m", "craft", "dns-ask", "--port", str(craft_port), "--nsid",
                "google.com")
    assert '; NSID: 63 72 61 66 74 2d 6c 61 62 ("craft-lab")' in asked.stdout


@NEEDS_DIG
def test_require_cookie_sends_dig_through_badcookie_and_its_retry() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--require-cookie"]) as (_, port):
        retried = dig(port, "+cookie", "google.com")  # dig retries on BADCOOKIE by default
        assert "BADCOOKIE, retrying" in retried
        assert status(retried) == "NOERROR" and "192.165.1.1" in retried
        refused = dig(port, "+cookie", "+nobadcookie", "google.com")
        assert status(refused) == "BADCOOKIE" and "ANSWER: 0" in refused
        assert re.search(r"; COOKIE: [0-9a-f]{48} \(good\)", refused)
        # TCP is never BADCOOKIE'd; a query without any cookie is answered as usual
        assert status(dig(port, "+cookie", "+nobadcookie", "+tcp", "google.com")) == "NOERROR"
        assert status(dig(port, "+nocookie", "google.com")) == "NOERROR"
        # craft's own client retries as dig does, and says so; or, told not to, stops there
        asked = run(sys.executable, "-m", "craft", "dns-ask", "--port", str(port), "--cookie",
                    "google.com")
        assert asked.returncode == 0, asked.stdout + asked.stderr
        assert asked.stdout.startswith(";; BADCOOKIE, retrying.\n")
        assert "addr (4) 192.165.1.1" in asked.stdout and "(good)" in asked.stdout
        once = run(sys.executable, "-m", "craft", "dns-ask", "--port", str(port), "--cookie",
                   "--no-badcookie", "google.com")
        assert once.returncode == 6 and "answered BADCOOKIE" in once.stdout
        assert "retrying" not in once.stdout
        # over TCP there is nothing to retry
        tcp = run(sys.executable, "-m", "craft", "dns-ask", "--port", str(port), "--cookie",
                  "--tcp", "google.com")
        assert tcp.returncode == 0 and "retrying" not in tcp.stdout


def ask_over_udp(port: int, options: tuple[EdnsOption, ...]) -> Message:
    """One query from a fresh socket (a new source port each time)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(ask(options=options), ("127.0.0.1", port))
        return decode(sock.recv(4096))


def nsid_over_udp(port: int) -> bytes:
    edns = ask_over_udp(port, (NSID(),)).edns
    assert edns is not None
    option = edns.option(NSID)
    assert isinstance(option, NSID)
    return option.nsid


@NEEDS_DIG
def test_workers_answer_with_their_own_nsid() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--nsid", "lab", "--workers",
                        "2"]) as (_, port):
        seen: set[bytes] = set()
        # Both workers read the one socket: queries spread over them (once both are
        # forked, which may take a moment after the start-up line)
        deadline = time.monotonic() + 15
        while len(seen) < 2 and time.monotonic() < deadline:
            seen.add(nsid_over_udp(port))
        assert seen == {b"lab/1", b"lab/2"}
        assert re.search(r'; NSID: .* \("lab/[12]"\)', dig(port, "+nsid", "google.com"))


def test_workers_share_the_cookie_secret() -> None:
    """A server cookie one worker made is valid at the other: with --require-cookie, every
    query bringing it back is answered (never BADCOOKIE) by both workers."""
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--nsid", "lab", "--workers",
                        "2", "--require-cookie"]) as (_, port):
        first = ask_over_udp(port, (Cookie(C),))
        assert first.rcode == Rcode.BADCOOKIE
        assert first.edns is not None
        cookie = first.edns.option(Cookie)
        assert isinstance(cookie, Cookie) and len(cookie.server) == 16
        workers: set[bytes] = set()
        deadline = time.monotonic() + 15
        while len(workers) < 2 and time.monotonic() < deadline:
            reply = ask_over_udp(port, (NSID(), cookie))
            assert reply.rcode == Rcode.NOERROR and len(reply.answer) == 2
            assert reply.edns is not None and reply.edns.option(Cookie) == cookie
            nsid = reply.edns.option(NSID)
            assert isinstance(nsid, NSID)
            workers.add(nsid.nsid)
        assert workers == {b"lab/1", b"lab/2"}


def test_after_a_reload_workers_keep_their_numbers_and_the_secret(tmp_path: Path) -> None:
    zone = tmp_path / "google.com.zone"
    zone.write_text((Path(__file__).resolve().parent.parent / "zones" / "google.com.zone")
                    .read_text())
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--nsid", "lab", "--workers",
                        "2", "--require-cookie", "--zone", str(zone)]) as (proc, port):
        edns = ask_over_udp(port, (Cookie(C),)).edns
        assert edns is not None
        cookie = edns.option(Cookie)
        assert isinstance(cookie, Cookie)
        zone.write_text(zone.read_text().replace("192.165.1.10", "192.165.1.99"))
        proc.send_signal(signal.SIGHUP)  # every worker builds a new authority and swaps it in

        def reloaded_everywhere() -> bool:
            workers = set()
            for _ in range(60):
                reply = ask_over_udp(port, (NSID(), cookie))
                if reply.rcode != Rcode.NOERROR or "192.165.1.99" not in str(reply.answer):
                    return False
                nsid = reply.edns.option(NSID) if reply.edns is not None else None
                assert isinstance(nsid, NSID)
                workers.add(nsid.nsid)
            return workers == {b"lab/1", b"lab/2"}

        wait_until(reloaded_everywhere, "both workers did not answer the reloaded zone with "
                   "their NSID and the cookie made before the reload")


def test_a_given_secret_is_shared_by_separate_servers() -> None:
    secret = "000102030405060708090a0b0c0d0e0f"
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--cookie-secret", secret]) as (
            _, one), craft_process(["dns-serve", "--port", "0", "--quiet", "--cookie-secret",
                                    secret, "--require-cookie"]) as (_, two):
        made = ask_over_udp(one, (Cookie(C),)).edns
        assert made is not None
        cookie = made.option(Cookie)
        assert isinstance(cookie, Cookie)
        assert SECRET.is_ours(C, cookie.server, address_octets(ME))  # the secret given
        again = ask_over_udp(two, (cookie,))
        assert again.rcode == Rcode.NOERROR and again.edns is not None
        assert again.edns.option(Cookie) == cookie


@pytest.mark.parametrize("args,message", [
    (["--cookie-secret", "00ff"], "Invalid value for --cookie-secret: a cookie secret is 16"),
    (["--cookie-secret", "xyz"], "Invalid value for --cookie-secret: cookie secret 'xyz' is not hex"),
    (["--nsid", "0xzz"], "Invalid value for --nsid: NSID '0xzz': not hex after 0x"),
    (["--nsid", ""], "Invalid value for --nsid: an empty NSID identifies nothing"),
])
def test_bad_server_switches_are_one_line_errors(args: list[str], message: str) -> None:
    result = run(sys.executable, "-m", "craft", "dns-serve", "--port", "0", *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


@NEEDS_DIG
def test_dig_sees_each_extended_error() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--allow-transfer", "none"]) as (
            _, port):
        refused = dig(port, "nothere.example")
        assert status(refused) == "REFUSED" and "; EDE: 20 (Not Authoritative)" in refused
        transfer = dig(port, "google.com", "AXFR", "+comments")
        assert "status: REFUSED" in transfer and "; EDE: 18 (Prohibited)" in transfer
        formerr = dig(port, "+ednsopt=10:0011", "google.com")
        assert status(formerr) == "FORMERR"
        assert "; EDE: 0 (Other): (COOKIE option of 2 octets (8, or 16 to 40) at offset" in formerr
        plain = dig(port, "+noedns", "nothere.example")
        assert status(plain) == "REFUSED" and "EDE" not in plain  # only when asked with EDNS
    # A fault: SERVFAIL, EDE 0
    authority = Authority(SERVED)

    def failing(data: bytes, limit: int = 512, client: str | None = None,
                tcp: bool = False) -> bytes | None:
        raise RuntimeError("injected fault")

    authority.respond = failing  # type: ignore[method-assign]
    with serving(DnsServer(authority, "127.0.0.1", 0)) as (_, (_, fault_port)):
        fault = dig(fault_port, "google.com")
    assert status(fault) == "SERVFAIL"
    assert "; EDE: 0 (Other): (internal error answering this query)" in fault


def pseudo(text: str) -> list[str]:
    """The OPT PSEUDOSECTION's lines, the server cookie's timestamp and hash blanked."""
    return [re.sub(r"^(; COOKIE: [0-9a-f]{16})[0-9a-f]+", r"\1<server>", line)
            for line in pseudosection(text)]


@NEEDS_DIG
@pytest.mark.parametrize("name", ["google.com", "nothere.example"])
def test_dns_ask_prints_craft_options_as_dig(craft_port: int, name: str) -> None:
    theirs = pseudo(dig(craft_port, "+nsid", "+cookie=0011223344556677", name))
    result = run(sys.executable, "-m", "craft", "dns-ask", "--port", str(craft_port), "--nsid",
                 "--cookie=0011223344556677", name)
    assert pseudo(result.stdout) == theirs
    assert "; COOKIE: 0011223344556677<server> (good)" in theirs
    assert '; NSID: 63 72 61 66 74 2d 6c 61 62 ("craft-lab")' in theirs
    assert ("; EDE: 20 (Not Authoritative)" in theirs) is (name == "nothere.example")


def test_dns_ask_prints_ede_as_dig(craft_port: int) -> None:
    result = run(sys.executable, "-m", "craft", "dns-ask", "--port", str(craft_port),
                 "--cookie", "nothere.example")
    assert result.returncode == 5
    assert "; EDE: 20 (Not Authoritative)" in result.stdout
    assert re.search(r"; COOKIE: [0-9a-f]{48} \(good\)", result.stdout)


# ---- BIND's resolver through craft ----

def named_forwarding_to(workdir: Path, craft: int) -> tuple[list[str], int]:
    """A recursive BIND (IPv4 only) forwarding everything to craft, with cookies sent (its
    default, said outright); its root hints name 127.0.0.1 alone, so nothing it does leaves
    the machine."""
    named = daemon_path("named", "bind9")
    port = free_port()
    (workdir / "root.hint").write_text(". 3600000 NS a.root.test.\n"
                                       "a.root.test. 3600000 A 127.0.0.1\n")
    (workdir / "named.conf").write_text(
        "options {\n"
        f'  directory "{workdir}";\n  pid-file "{workdir}/named.pid";\n'
        f'  session-keyfile "{workdir}/session.key";\n'
        f'  managed-keys-directory "{workdir}";\n'
        f"  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n"
        "  recursion yes;\n  allow-recursion { 127.0.0.1; };\n  dnssec-validation no;\n"
        "  notify no;\n  send-cookie yes;\n  qname-minimization off;\n"
        f"  forward only;\n  forwarders {{ 127.0.0.1 port {craft}; }};\n"
        "};\n"
        "controls { };\n"
        "server 127.0.0.1 { send-cookie yes; };\n"
        'zone "." { type hint; file "root.hint"; };\n'
    )
    return [named, "-4", "-g", "-n", "1", "-c", str(workdir / "named.conf")], port


def udp_cookies(exchanges: list[Exchange]) -> list[tuple[Cookie, int]]:
    """The COOKIE each UDP query carried, with the RCODE it was answered."""
    out = []
    for exchange in exchanges:
        if exchange.transport != "udp" or exchange.response is None:
            continue
        edns = decode(exchange.query).edns
        cookie = edns.option(Cookie) if edns is not None else None
        if isinstance(cookie, Cookie):
            out.append((cookie, decode(exchange.response).rcode))
    return out


@NEEDS_DIG
@pytest.mark.parametrize("require", [False, True], ids=["cookies", "cookies required"])
def test_bind_resolver_resolves_through_craft_with_cookies(tmp_path: Path, require: bool) -> None:
    explain = ServerEdns(SECRET, require_cookie=require)
    seen: list[Exchange] = []
    craft = DnsServer(Authority(SERVED, explain=explain), "127.0.0.1", 0,
                      [lambda e: seen.append(e) if isinstance(e, Exchange) else None])
    with serving(craft) as (_, (_, craft_port)):
        cmd, port = named_forwarding_to(tmp_path, craft_port)
        with running_daemon(cmd, tmp_path / "named.log", settle=0.0):
            answers: list[str] = []

            def resolved() -> bool:
                result = run("dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2",
                             "+short", "google.com")
                answers[:] = result.stdout.split()
                return result.returncode == 0 and bool(answers)

            wait_until(resolved, f"BIND did not resolve through craft; {tmp_path}/named.log")
            assert sorted(answers) == ["192.165.1.1", "192.165.1.10"]
            # A name BIND has not cached: its query to craft brings the server cookie back.
            again = run("dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=5", "+short",
                        "youtube.com")
            assert again.stdout.split() == ["192.165.1.2"]
    cookies = udp_cookies(seen)
    assert cookies, "BIND sent craft no cookie"
    # BIND came back with a server cookie of ours, valid, and was answered over UDP.
    here = address_octets("127.0.0.1")
    returned = [(c, rcode) for c, rcode in cookies
                if c.server and SECRET.is_ours(c.client, c.server, here)]
    assert returned and all(rcode == Rcode.NOERROR for _, rcode in returned)
    if require:  # its first query had no server cookie: BADCOOKIE, then the retry
        assert cookies[0][0].server == b"" and cookies[0][1] == Rcode.BADCOOKIE
    else:
        assert all(rcode == Rcode.NOERROR for _, rcode in cookies)
