"""EDNS options against real peers: dig's printing, dig's queries, BIND, craft's own server.

- dig and ``craft dns-ask`` read the same crafted reply (every option craft types, sent by a
  loopback responder in this file) and must print the same OPT PSEUDOSECTION lines, apart
  from the EDE names dig 9.18 does not know.
- dig's ``+nsid +cookie +subnet +padding +dnssec`` and craft's switches of the same names
  must put the same OPT record on the wire.
- BIND (named, with ``server-id``) answers NSID, COOKIE and an EDE; dig and craft print them
  alike, and ``dns-send`` shows them too.
- craft's ``dns-serve`` takes queries carrying all of them (it answers COOKIE; NSID, BADCOOKIE
  and EDE are tested in test_cookies_nsid_ede.py), and answers a query with a malformed
  option FORMERR, as BIND does.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import craft_process, pseudosection
from test_bind import running_named

from craft.dns import edns as eo
from craft.dns.codec import decode, decode_header, encode
from craft.dns.constants import rcode_text
from craft.dns.message import Edns, Header, Message, Question
from craft.dns.names import Name
from craft.transport import send_bytes

ZONES = Path(__file__).resolve().parent.parent / "zones"
NODATA = 4  # dns-ask's exit code for the responder's answer, which has no records
NEEDS_DIG = pytest.mark.skipif(shutil.which("dig") is None, reason="dig not installed")

# One of each option craft types, with values dig 9.18 prints (and some it only dumps).
REPLY_OPTIONS: tuple[eo.EdnsOption, ...] = (
    eo.NSID(b"ns1.example"), eo.NSID(b'a\x00"\\b\xe9'),
    eo.DAU((8, 13, 15)), eo.DHU((1, 2)), eo.N3U((1,)),
    eo.ClientSubnet(1, 24, 0, "192.0.2.0"), eo.ClientSubnet(2, 56, 32, "2001:db8::"),
    eo.ClientSubnet(1, 20, 20, "10.0.16.0"), eo.ClientSubnet(0, 0, 0, "0"),
    eo.Expire(1209600), eo.Expire(86401), eo.Expire(),
    eo.Cookie(bytes(range(8)), bytes(range(8, 24))),
    eo.TcpKeepalive(300), eo.TcpKeepalive(5), eo.TcpKeepalive(),
    eo.Padding(bytes(5)), eo.Padding(),
    eo.Chain(Name.from_text("example.com.")),
    eo.KeyTag((12345, 20326)),
    *(eo.ExtendedError(code) for code in range(0, 31)),
    eo.ExtendedError(20, "not here"), eo.ExtendedError(6, "é\n"), eo.ExtendedError(99, "x"),
    eo.ZoneVersion(2, 0, struct.pack("!I", 2024010101)), eo.ZoneVersion(),
    eo.RawOption(65001, b"hi"),
)


@contextmanager
def responder(options: tuple[eo.EdnsOption, ...]) -> Iterator[tuple[int, list[bytes]]]:
    """A loopback UDP peer that answers every query with its own ID and question, AA set and
    an OPT record carrying ``options``; yields its port and the queries it got."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            seen.append(query)
            asked = decode(query)
            reply = Message(Header(id=asked.header.id, qr=True, aa=True),
                            asked.question).with_edns(Edns(do=True, options=options))
            sock.sendto(encode(reply), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(5)
        sock.close()
        assert not thread.is_alive()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=False)


def craft(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "craft", *args)


def dig(port: int, *args: str) -> str:
    result = run("dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=3", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# dig 9.18 calls INFO-CODE 0 "Other" and knows no name past 24; craft names them as
# RFC 8914 and the IANA registry do.
DIG_918_EDE = {"; EDE: 0 (Other Error)": "; EDE: 0 (Other)",
               **{f"; EDE: {c} ({eo.EDE_NAMES[c]})": f"; EDE: {c}" for c in range(25, 31)}}


@NEEDS_DIG
def test_dig_and_craft_print_the_same_options() -> None:
    with responder(REPLY_OPTIONS) as (port, _):
        theirs = pseudosection(dig(port, "+nocookie", "+edns=0", "example.com"))
        result = craft("dns-ask", "--port", str(port), "--edns", "example.com")
    assert result.returncode == NODATA, result.stdout + result.stderr
    ours = pseudosection(result.stdout)
    assert len(ours) == len(REPLY_OPTIONS) + 1
    assert [DIG_918_EDE.get(line, line) for line in ours] == theirs


@NEEDS_DIG
def test_dig_switches_and_craft_switches_send_the_same_opt() -> None:
    with responder(()) as (port, seen):
        dig(port, "+nsid", "+cookie=0011223344556677", "+subnet=192.0.2.0/24", "+padding=128",
            "+dnssec", "example.com")
        result = craft("dns-ask", "--port", str(port), "--nsid", "--cookie=0011223344556677",
                       "--subnet", "192.0.2.0/24", "--padding", "128", "--dnssec", "example.com")
        assert result.returncode == NODATA, result.stdout + result.stderr
        dig_query, craft_query = seen
    assert len(dig_query) % 128 == 0 and len(craft_query) == len(dig_query)
    theirs, ours = decode(dig_query).edns, decode(craft_query).edns
    assert theirs is not None and ours is not None
    assert (ours.payload, ours.do, ours.version) == (theirs.payload, theirs.do, theirs.version)

    def by_code(e: Edns) -> list[eo.EdnsOption]:
        return sorted(e.options, key=lambda o: o.code)

    assert by_code(ours) == by_code(theirs)
    assert {type(o) for o in ours.options} == {eo.NSID, eo.Cookie, eo.ClientSubnet, eo.Padding}


@NEEDS_DIG
@pytest.mark.parametrize("prefix,option", [
    ("2001:db8::/56", eo.ClientSubnet(2, 56, 0, "2001:db8::")),
    ("0.0.0.0/0", eo.ClientSubnet(1, 0, 0, "0.0.0.0")),
    ("198.51.100.77/20", eo.ClientSubnet(1, 20, 0, "198.51.96.0")),
])
def test_subnet_prefixes_as_dig_sends_them(prefix: str, option: eo.ClientSubnet) -> None:
    with responder(()) as (port, seen):
        dig(port, "+nocookie", f"+subnet={prefix}", "example.com")
        result = craft("dns-ask", "--port", str(port), "--subnet", prefix, "example.com")
        assert result.returncode == NODATA, result.stdout + result.stderr
    theirs, ours = (decode(q).edns for q in seen)
    assert theirs is not None and ours is not None
    assert ours.options == theirs.options == (option,)


def _normal_cookie(line: str) -> str:
    """A COOKIE line with the server part (a fresh timestamp and hash per reply) blanked."""
    return re.sub(r"^; COOKIE: ([0-9a-f]{16})[0-9a-f]+", r"; COOKIE: \1<server>", line)


@pytest.fixture(scope="module")
def named_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """BIND with a server-id (NSID), cookies (its default), youtube.com served and
    google.com refused by ACL (EDE 18, Prohibited)."""
    workdir = tmp_path_factory.mktemp("bind-edns")
    zones = (f'zone "youtube.com." {{ type primary; file "{ZONES / "youtube.com.zone"}"; }};\n'
             f'zone "google.com." {{ type primary; file "{ZONES / "google.com.zone"}"; '
             "allow-query { none; }; };\n")
    with running_named(workdir, zones, ["youtube.com."],
                       options='  server-id "craft-test";\n') as port:
        yield port


@NEEDS_DIG
@pytest.mark.parametrize("name,switches", [
    ("youtube.com", ()),
    ("youtube.com", ("subnet",)),
    ("google.com", ()),
])
def test_bind_options_printed_as_dig_prints_them(named_port: int, name: str,
                                                 switches: tuple[str, ...]) -> None:
    cookie = "0011223344556677"
    dig_args = ["+nsid", f"+cookie={cookie}", "+dnssec", "+norecurse"]
    craft_args = ["--nsid", f"--cookie={cookie}", "--dnssec"]
    if "subnet" in switches:
        dig_args.append("+subnet=192.0.2.0/24")
        craft_args += ["--subnet", "192.0.2.0/24"]
    theirs = pseudosection(dig(named_port, *dig_args, name))
    result = craft("dns-ask", "--port", str(named_port), *craft_args, name)
    ours = pseudosection(result.stdout)
    assert [_normal_cookie(line) for line in ours] == [_normal_cookie(line) for line in theirs]
    assert '; NSID: 63 72 61 66 74 2d 74 65 73 74 ("craft-test")' in ours
    assert any(line.startswith(f"; COOKIE: {cookie}") and line.endswith(" (good)") for line in ours)
    if name == "google.com":
        assert "; EDE: 18 (Prohibited)" in ours and result.returncode == 5
    else:
        assert result.returncode == 0 and "youtube.com: type A" in result.stdout


def test_bind_options_in_json(named_port: int) -> None:
    result = craft("dns-ask", "--port", str(named_port), "--nsid", "--cookie", "--json",
                   "google.com")
    document = json.loads(result.stdout)
    (opt,) = [r for r in document["additional"] if r["type"] == "OPT"]
    by_name = {o["name"]: o for o in opt["options"]}
    assert by_name["NSID"]["text"] == "craft-test"
    assert len(by_name["COOKIE"]["client"]) == 16 and 16 <= len(by_name["COOKIE"]["server"]) <= 64
    assert by_name["EDE"] == {"code": 15, "name": "EDE", "data": "0012", "info_code": 18,
                              "text": "", "purpose": "Prohibited"}


def test_dns_send_switches_at_bind(named_port: int) -> None:
    result = craft("dns-send", "--port", str(named_port), "--no-color", "--question",
                   "youtube.com", "A", "--nsid", "--cookie", "--padding", "64", "--dnssec")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ";; sent 64 octets" in result.stdout
    assert "NSID" in result.stdout and "COOKIE client" in result.stdout
    assert '; NSID: 63 72 61 66 74 2d 74 65 73 74 ("craft-test")' in result.stdout
    assert re.search(r"; COOKIE: [0-9a-f]{48} \(good\)", result.stdout)
    assert "; EDNS: version: 0, flags: do; udp: 1232" in result.stdout


def test_dns_send_malformed_cookie_gets_formerr_from_bind(named_port: int) -> None:
    result = craft("dns-send", "-p", str(named_port), "--no-color", "--question",
                   "youtube.com", "A", "--edns-option", "10:0011")
    assert "COOKIE option of 2 octets" in result.stdout  # craft's own reading of what it sent
    assert "rcode FORMERR" in result.stdout


@pytest.fixture(scope="module")
def craft_server() -> Iterator[int]:
    with craft_process(["dns-serve", "--port", "0", "--quiet"]) as (_, port):
        yield port


def test_switches_against_craft_server(craft_server: int) -> None:
    plain = craft("dns-ask", "--port", str(craft_server), "google.com")
    result = craft("dns-ask", "--port", str(craft_server), "--nsid", "--cookie", "--subnet",
                   "192.0.2.0/24", "--padding", "128", "--dnssec", "google.com")
    assert result.returncode == plain.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # craft's server answers the query, echoes DO and returns a server cookie (RFC 7873);
    # it has no --nsid here, so it sends no NSID
    assert lines[:2] == [";; OPT PSEUDOSECTION:", "; EDNS: version: 0, flags: do; udp: 1232"]
    assert re.fullmatch(r"; COOKIE: [0-9a-f]{16}01000000[0-9a-f]{24} \(good\)", lines[2])
    assert lines[3:] == plain.stdout.splitlines()
    document = json.loads(craft("dns-ask", "--port", str(craft_server), "--nsid", "--padding",
                                "128", "--json", "google.com").stdout)
    assert len(bytes.fromhex(document["query"])) == 128


def test_hex_view_labels_option_fields(craft_server: int) -> None:
    result = craft("dns-ask", "--port", str(craft_server), "--no-color", "--hex", "--nsid",
                   "--cookie=0011223344556677", "--subnet", "2001:db8::/56", "--padding", "64",
                   "google.com")
    assert result.returncode == 0
    for label, value in [("OPTION-CODE", "3 (NSID)"), ("OPTION-CODE", "10 (COOKIE)"),
                         ("COOKIE client", "00 11 22 33 44 55 66 77"),
                         ("ECS family", "2 (IPv6)"), ("ECS source", "56"),
                         ("ECS address", "2001:db8::/56"), ("OPTION-CODE", "12 (PADDING)")]:
        assert re.search(rf"^\s*{re.escape(label)}\s.*\s{re.escape(value)}$", result.stdout,
                         re.MULTILINE), label


@pytest.mark.parametrize("args,message", [
    (["--subnet", "10.0.0.0/40"], "Invalid value for --subnet"),
    (["--cookie=0011"], "Invalid value for --cookie: client cookie of 2 octets"),
    (["--cookie=zz"], "is not hex"),
])
def test_bad_switches_are_one_line_errors(args: list[str], message: str) -> None:
    result = craft("dns-ask", "--port", "9", *args, "example.com")
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_bare_cookie_does_not_swallow_the_name() -> None:
    with responder(()) as (port, seen):
        result = craft("dns-ask", "--port", str(port), "--cookie", "example.com")
    assert result.returncode == NODATA, result.stderr
    (query,) = seen
    edns = decode(query).edns
    assert edns is not None and isinstance(edns.options[0], eo.Cookie)
    assert decode(query).question[0].name.to_text() == "example.com."


def _rcode_for(port: int, name: str, code: int, data: bytes) -> str:
    """The RCODE a server gives a query for ``name`` whose OPT carries one option, as is."""
    query = Message(Header(id=0x4242), (Question(Name.from_text(name)),)).with_edns(
        Edns(options=(eo.RawOption(code, data),)))
    reply = send_bytes(encode(query), ("127.0.0.1", port), timeout=3).reply
    assert reply is not None
    return rcode_text(decode_header(reply)[0].rcode)


# (option code, malformed data, what BIND 9.18 answers)
MALFORMED_IN_QUERIES = [
    (10, b"\x00\x11", "FORMERR"),
    (10, bytes(12), "FORMERR"),
    (10, bytes(41), "FORMERR"),
    (8, bytes.fromhex("000114000a0001"), "FORMERR"),
    (8, bytes.fromhex("000118000a00"), "FORMERR"),
    (8, bytes.fromhex("0003000000"), "FORMERR"),
    (9, b"\x01", "FORMERR"),
    (14, b"\x01\x02\x03", "FORMERR"),
]


@pytest.mark.parametrize("code,data,bind", MALFORMED_IN_QUERIES,
                         ids=[f"{c}:{d.hex()}" for c, d, _ in MALFORMED_IN_QUERIES])
def test_malformed_options_in_queries_are_formerr_like_bind(
        named_port: int, craft_server: int, code: int, data: bytes, bind: str) -> None:
    """RFC 7873 5.2.2 (COOKIE) and RFC 7871 7.1.2 (ECS): a malformed option is FORMERR.
    craft's server cannot read such a query, so it answers FORMERR as BIND does."""
    assert _rcode_for(named_port, "youtube.com.", code, data) == bind
    assert _rcode_for(craft_server, "google.com.", code, data) == "FORMERR"
