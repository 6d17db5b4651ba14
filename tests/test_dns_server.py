"""craft's authoritative server through real sockets on 127.0.0.1: every answer path."""

from __future__ import annotations

import secrets
import socket
import struct
import subprocess
import sys
import time

import pytest
from conftest import craft_process, running_server, serving, wait_until

from craft.dns.codec import decode, encode
from craft.dns.constants import Opcode, Rcode, RRType
from craft.dns.edns import ExtendedError, RawOption
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import CNAME, MX, NS, SOA, TXT, A
from craft.dns.zone import LAB_TABLE, Zone
from craft.dns_client import ask, build_query, tcp_exchange, udp_exchange
from craft.transport import send_bytes

LAB_REQUEST = bytes.fromhex("1a2b04000001000000000000" "06676f6f676c6503636f6d00" "00010001")
LAB_RESPONSE = bytes.fromhex(
    "1a2b84000001000200000000" "06676f6f676c6503636f6d0000010001"
    "c00c00010001000001040004c0a50101" "c00c00010001000001040004c0a5010a"
)


def raw_udp(address: tuple[str, int], data: bytes, timeout: float = 1.0) -> bytes | None:
    """dns-send's raw exchange: these octets out, whatever the server sends back (or None)."""
    return send_bytes(data, address, timeout=timeout).reply


def q(name: str, rtype: int = RRType.A, **header: object) -> Message:
    return Message(Header(id=0x4242, **header), (Question(Name.from_text(name), rtype),))  # type: ignore[arg-type]


def test_lab_request_gets_the_manuals_response_bytes(dns_server: tuple[str, int]) -> None:
    assert raw_udp(dns_server, LAB_REQUEST) == LAB_RESPONSE


@pytest.mark.parametrize(("domain", "ttl", "addresses"), LAB_TABLE)
def test_every_lab_name_answers(dns_server: tuple[str, int], domain: str, ttl: int,
                                addresses: tuple[str, ...]) -> None:
    reply = udp_exchange(build_query(Name.from_text(domain + ".")), dns_server, 2)
    m = reply.message
    assert m.header.qr and m.header.aa and m.rcode == Rcode.NOERROR
    assert [(r.ttl, r.rdata) for r in m.answer] == [(ttl, A(a)) for a in addresses]
    assert m.header.id == decode(reply.query).header.id


def test_case_of_the_question_is_echoed(dns_server: tuple[str, int]) -> None:
    response = raw_udp(dns_server, encode(q("GoOgLe.CoM.")))
    assert response is not None
    m = decode(response)
    assert m.question[0].name.labels == (b"GoOgLe", b"CoM")
    assert len(m.answer) == 2


def test_nxdomain_carries_soa_with_negative_ttl(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(q("nope.google.com."))) or b"")
    assert m.rcode == Rcode.NXDOMAIN and m.header.aa and not m.answer
    (soa,) = m.authority
    assert isinstance(soa.rdata, SOA) and soa.name == Name.from_text("google.com.")
    assert soa.ttl == min(3600, soa.rdata.minimum) == 300


def test_nodata_is_noerror_with_soa(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(q("google.com.", RRType.MX))) or b"")
    assert m.rcode == Rcode.NOERROR and m.header.aa and not m.answer
    assert [r.rtype for r in m.authority] == [RRType.SOA]


def test_out_of_zone_is_refused_without_aa(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(q("example.org."))) or b"")
    assert m.rcode == Rcode.REFUSED and not m.header.aa and not m.answer


def test_ns_query_gets_glue(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(q("youtube.com.", RRType.NS))) or b"")
    assert [r.rdata for r in m.answer] == [NS(Name.from_text("ns1.youtube.com."))]
    assert [r.rdata for r in m.additional] == [A("127.0.0.1")]


def test_any_returns_everything_the_name_has(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(q("google.com.", RRType.ANY))) or b"")
    assert sorted(r.rtype for r in m.answer) == [RRType.A, RRType.A, RRType.NS, RRType.SOA]


def test_rd_and_cd_copied_z_and_ad_cleared(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(q("google.com.", rd=True, cd=True, z=True, ad=True))) or b"")
    assert m.header.rd and m.header.cd
    assert not m.header.z and not m.header.ad and not m.header.ra


def test_other_opcodes_are_notimp(dns_server: tuple[str, int]) -> None:
    for opcode in (Opcode.IQUERY, Opcode.STATUS, 3, Opcode.UPDATE, 15):
        m = decode(raw_udp(dns_server, encode(q("google.com.", opcode=opcode))) or b"")
        assert m.rcode == Rcode.NOTIMP and m.header.opcode == opcode


def test_responses_are_never_answered(dns_server: tuple[str, int]) -> None:
    assert raw_udp(dns_server, LAB_RESPONSE, timeout=0.3) is None


def test_too_short_for_a_header_is_dropped(dns_server: tuple[str, int]) -> None:
    assert raw_udp(dns_server, b"\x12\x34\x00", timeout=0.3) is None


def test_undecodable_query_with_readable_header_is_formerr(dns_server: tuple[str, int]) -> None:
    broken = LAB_REQUEST[:-3]  # question cut short
    m = decode(raw_udp(dns_server, broken) or b"")
    assert m.header.id == 0x1A2B and m.rcode == Rcode.FORMERR and m.header.qr
    pointer_loop = bytes.fromhex("beef00000001000000000000c00c00010001")
    m = decode(raw_udp(dns_server, pointer_loop) or b"")
    assert m.header.id == 0xBEEF and m.rcode == Rcode.FORMERR


def test_no_question_is_formerr(dns_server: tuple[str, int]) -> None:
    m = decode(raw_udp(dns_server, encode(Message(Header(id=9)))) or b"")
    assert m.rcode == Rcode.FORMERR


def test_edns_is_echoed_with_our_payload_and_do(dns_server: tuple[str, int]) -> None:
    query = q("google.com.").with_edns(Edns(payload=4096, do=True))
    m = decode(raw_udp(dns_server, encode(query)) or b"")
    assert m.edns == Edns(payload=1232, do=True)
    no_edns = decode(raw_udp(dns_server, encode(q("google.com."))) or b"")
    assert no_edns.edns is None


def test_edns_version_1_is_badvers(dns_server: tuple[str, int]) -> None:
    query = q("google.com.").with_edns(Edns(version=1))
    m = decode(raw_udp(dns_server, encode(query)) or b"")
    assert m.rcode == Rcode.BADVERS and m.header.rcode == 0
    assert m.edns is not None and m.edns.version == 0 and m.edns.ext_rcode == 1
    assert not m.answer


def test_unknown_edns_options_and_flags_ignored_not_echoed(dns_server: tuple[str, int]) -> None:
    query = q("google.com.").with_edns(Edns(flags=0x4000, options=(RawOption(65001, b"\x01\x02"),)))
    m = decode(raw_udp(dns_server, encode(query)) or b"")
    assert m.rcode == Rcode.NOERROR and len(m.answer) == 2
    assert m.edns == Edns(payload=1232)


def test_two_opt_records_are_formerr(dns_server: tuple[str, int]) -> None:
    opt = Edns().to_record()
    query = Message(q("google.com.").header, q("google.com.").question, additional=(opt, opt))
    m = decode(raw_udp(dns_server, encode(query)) or b"")
    assert m.rcode == Rcode.FORMERR


def big_zone() -> Zone:
    origin = Name.from_text("big.test.")
    ns = Name.from_text("ns1.big.test.")
    records = [
        Record.make(origin, 3600, SOA(ns, Name.from_text("hostmaster.big.test."), 1, 3600, 600, 86400, 300)),
        Record.make(origin, 3600, NS(ns)),
        Record.make(ns, 3600, A("127.0.0.1")),
        *(Record.make(Name.from_text("many.big.test."), 60, A(f"10.0.{i // 250}.{i % 250}"))
          for i in range(100)),
        Record.make(Name.from_text("www.big.test."), 60, CNAME(Name.from_text("alias.big.test."))),
        Record.make(Name.from_text("alias.big.test."), 60, CNAME(Name.from_text("host.big.test."))),
        Record.make(Name.from_text("host.big.test."), 60, A("10.9.9.9")),
        Record.make(Name.from_text("out.big.test."), 60, CNAME(Name.from_text("elsewhere.example."))),
        Record.make(origin, 60, MX(10, Name.from_text("host.big.test."))),
        Record.make(Name.from_text("a.b.c.big.test."), 60, TXT((b"deep",))),
    ]
    return Zone(origin, tuple(records))


@pytest.fixture
def big_server() -> tuple[str, int]:
    with running_server([big_zone()]) as server:
        yield server.address


def test_large_answer_is_truncated_over_udp_and_whole_over_tcp(big_server: tuple[str, int]) -> None:
    data = raw_udp(big_server, encode(q("many.big.test.")))
    assert data is not None and len(data) <= 512
    m = decode(data)
    # An RRset that does not fit is left out whole, never cut (as BIND and NSD): TC, no answer.
    assert m.header.tc and m.answer == ()
    # The client's EDNS size counts up to ours (1232, as BIND's and NSD's): 4096 gets 1232,
    # which the 100 addresses (1600 octets) still do not fit.
    edns_data = raw_udp(big_server, encode(q("many.big.test.").with_edns(Edns(payload=4096))))
    assert edns_data is not None and len(edns_data) <= 1232
    assert decode(edns_data).header.tc and decode(edns_data).answer == ()
    assert decode(edns_data).edns is not None
    edns_1000 = raw_udp(big_server, encode(q("many.big.test.").with_edns(Edns(payload=1000))))
    assert edns_1000 is not None and len(edns_1000) <= 1000 and decode(edns_1000).header.tc
    whole = tcp_exchange(q("many.big.test."), big_server, 2)
    assert not whole.message.header.tc and len(whole.message.answer) == 100
    retried = ask(build_query(Name.from_text("many.big.test.")), big_server, timeout=2)
    assert retried.transport == "tcp" and len(retried.message.answer) == 100


def test_edns_512_keeps_replies_within_512(big_server: tuple[str, int]) -> None:
    data = raw_udp(big_server, encode(q("many.big.test.").with_edns(Edns(payload=512))))
    assert data is not None and len(data) <= 512 and decode(data).header.tc
    assert decode(data).edns is not None


def test_cname_chain_is_followed_inside_the_zone(big_server: tuple[str, int]) -> None:
    m = decode(raw_udp(big_server, encode(q("www.big.test."))) or b"")
    assert [r.rtype for r in m.answer] == [RRType.CNAME, RRType.CNAME, RRType.A]
    assert m.answer[-1].rdata == A("10.9.9.9")
    out = decode(raw_udp(big_server, encode(q("out.big.test."))) or b"")
    assert [r.rtype for r in out.answer] == [RRType.CNAME] and out.rcode == Rcode.NOERROR
    asked_cname = decode(raw_udp(big_server, encode(q("www.big.test.", RRType.CNAME))) or b"")
    assert [r.rtype for r in asked_cname.answer] == [RRType.CNAME]


def test_empty_non_terminal_is_nodata_and_mx_gets_glue(big_server: tuple[str, int]) -> None:
    m = decode(raw_udp(big_server, encode(q("b.c.big.test."))) or b"")
    assert m.rcode == Rcode.NOERROR and not m.answer and m.authority[0].rtype == RRType.SOA
    mx = decode(raw_udp(big_server, encode(q("big.test.", RRType.MX))) or b"")
    assert [r.rdata for r in mx.additional] == [A("10.9.9.9")]


def test_tcp_several_queries_pipelined_on_one_connection(dns_server: tuple[str, int]) -> None:
    names = ["google.com.", "youtube.com.", "nope.amazon.ca."]
    wires = [encode(q(n)) for n in names]
    with socket.create_connection(dns_server, timeout=2) as sock:
        sock.sendall(b"".join(struct.pack("!H", len(w)) + w for w in wires))
        answers = []
        stream = sock.makefile("rb")
        for _ in names:
            (length,) = struct.unpack("!H", stream.read(2))
            answers.append(decode(stream.read(length)))
    assert [str(a.question[0].name) for a in answers] == names
    assert [a.rcode for a in answers] == [Rcode.NOERROR, Rcode.NOERROR, Rcode.NXDOMAIN]


def test_tcp_idle_connection_is_closed() -> None:
    from craft.dns.answer_cache import Authority
    from craft.dns.zone import default_zones
    from craft.dns_server import DnsServer

    server = DnsServer(Authority(default_zones()), "127.0.0.1", 0, tcp_idle=0.3)
    with serving(server) as (_, address), socket.create_connection(address, timeout=5) as sock:
        start = time.monotonic()
        assert sock.recv(10) == b""  # the server hung up on us
        assert time.monotonic() - start < 4.5


def test_cli_server_prints_lab_layout_and_stops_on_sigterm() -> None:
    with craft_process(["dns-serve", "--port", "0", "--no-oracle"]) as (proc, port):
        assert raw_udp(("127.0.0.1", port), LAB_REQUEST) == LAB_RESPONSE
        time.sleep(0.2)
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Request:\n1a 2b 04 00 00 01 00 00 00 00 00 00 06 67 6f 6f\n67 6c 65 03 63 6f 6d 00 00 01 00 01\n" in out
    assert "Response:\n1a 2b 84 00 00 01 00 02 00 00 00 00 06 67 6f 6f\n" in out
    assert "Traceback" not in err


def test_two_workers_share_the_port_and_stop_together() -> None:
    def workers() -> list[str]:
        return subprocess.run(["ps", "--ppid", str(proc.pid), "-o", "pid="], capture_output=True,
                              text=True, check=False).stdout.split()

    with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2"]) as (proc, port):
        # The parent serves nothing: it keeps the two workers (forked after its start-up line).
        wait_until(lambda: len(workers()) == 2, "not two workers")
        children = workers()
        for i in range(40):
            reply = udp_exchange(build_query(Name.from_text("google.com."), ident=i),
                                 ("127.0.0.1", port), 2)
            assert len(reply.message.answer) == 2
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0
    alive = subprocess.run(["ps", "-p", ",".join(children)], capture_output=True, check=False)
    assert alive.returncode != 0, "a worker outlived its parent"


def test_bad_zone_file_is_a_clear_error(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "bad.zone"
    path.write_text("$ORIGIN bad.test.\n@ 3600 IN SOA ns1 hostmaster 1 2 3 4 5\n@ IN A 999.1.1.1\n")
    result = subprocess.run(
        ["python3", "-m", "craft", "dns-serve", "--port", "0", "--zone", str(path)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode != 0
    assert "bad.zone:3" in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_is_a_clear_error(dns_server: tuple[str, int]) -> None:
    result = subprocess.run(
        ["python3", "-m", "craft", "dns-serve", "--port", str(dns_server[1])],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


def test_a_fault_answers_servfail_and_serving_goes_on(capfd: pytest.CaptureFixture[str]) -> None:
    from craft.dns.answer_cache import Authority
    from craft.dns.zone import default_zones
    from craft.dns_server import DnsServer, Exchange

    authority = Authority(default_zones())
    respond = authority.respond

    def failing(data: bytes, limit: int = 512, client: str | None = None,
                tcp: bool = False) -> bytes | None:
        if b"\x04boom" in data:
            raise RuntimeError("injected fault")
        return respond(data, limit, client, tcp)

    authority.respond = failing  # type: ignore[method-assign]
    seen: list[Exchange] = []

    def broken_observer(event: object) -> None:
        raise ValueError("observer bug")

    server = DnsServer(authority, "127.0.0.1", 0, [broken_observer, seen.append])  # type: ignore[list-item]
    with serving(server) as (_, address):
        boom = q("boom.google.com.", rd=True)
        udp = raw_udp(address, encode(boom))
        tcp = tcp_exchange(boom, address, 2)
        after = raw_udp(address, encode(q("google.com.")))
        explained = raw_udp(address, encode(boom.with_edns(Edns(do=True))))
    assert udp is not None and decode(udp).rcode == Rcode.SERVFAIL
    assert decode(udp).edns is None  # no EDNS in the query, none in the reply
    # RFC 8914: with EDNS, the SERVFAIL says why, INFO-CODE 0 (Other) with a text
    assert explained is not None
    edns = decode(explained).edns
    assert decode(explained).rcode == Rcode.SERVFAIL and edns is not None and edns.do
    assert edns.options == (ExtendedError(0, "internal error answering this query"),)
    assert decode(udp).header.id == 0x4242 and decode(udp).header.rd
    assert tcp.message.rcode == Rcode.SERVFAIL
    assert after is not None and len(decode(after).answer) == 2
    assert len([e for e in seen if isinstance(e, Exchange)]) == 4  # the good observer kept going
    err = capfd.readouterr().err
    assert "internal error answering 127.0.0.1#" in err and "RuntimeError: injected fault" in err
    assert err.count("broken_observer stopped: ValueError: observer bug") == 1


def test_a_closed_stdout_does_not_stop_the_server() -> None:
    with craft_process(["dns-serve", "--port", "0", "--no-oracle"]) as (proc, port):
        assert proc.stdout is not None
        proc.stdout.close()  # like `craft dns-serve | head -3` once head has exited
        for _ in range(3):
            reply = raw_udp(("127.0.0.1", port), LAB_REQUEST)
            assert reply == LAB_RESPONSE
        proc.terminate()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.wait(10)
    assert proc.returncode == 0, err
    assert "Broken pipe" in err and "Traceback" not in err


def test_wildcards_synthesize_as_rfc4592_says() -> None:
    from pathlib import Path

    from craft.zone_loader import load_zone

    zone = load_zone(Path(__file__).parent.parent / "zones" / "example.test.zone")
    with running_server([zone]) as server:
        def ask_udp(name: str, rtype: int = RRType.A) -> Message:
            reply = raw_udp(server.address, encode(q(name, rtype)))
            assert reply is not None
            return decode(reply)

        synthesized = ask_udp("Some.Thing.wild.example.test.")
        assert synthesized.rcode == Rcode.NOERROR and synthesized.header.aa
        assert [r.to_text() for r in synthesized.answer] == [
            "Some.Thing.wild.example.test. 3600 IN A 192.0.2.100"]  # owner: the name asked
        assert [r.rdata.to_text() for r in ask_udp("x.wild.example.test.", RRType.ANY).answer] == [
            "192.0.2.100", '"synthesized for any name under wild"']
        nodata = ask_udp("x.wild.example.test.", RRType.MX)
        assert nodata.rcode == Rcode.NOERROR and not nodata.answer and nodata.authority[0].rtype == RRType.SOA
        assert [r.rdata.to_text() for r in ask_udp("real.wild.example.test.").answer] == ["192.0.2.101"]
        assert ask_udp("ent.wild.example.test.").rcode == Rcode.NOERROR  # exists: no wildcard
        assert ask_udp("x.ent.wild.example.test.").rcode == Rcode.NXDOMAIN  # no *.ent.wild
        assert ask_udp("x.*.wild.example.test.").rcode == Rcode.NXDOMAIN
        chain = ask_udp("any.cn.example.test.")
        assert [r.to_text() for r in chain.answer] == [
            "any.cn.example.test. 3600 IN CNAME host.example.test.",
            "host.example.test. 3600 IN A 192.0.2.80"]


def test_cname_loops_end_at_the_first_repeat() -> None:
    from pathlib import Path

    from craft.zone_loader import load_zone

    zone = load_zone(Path(__file__).parent / "data" / "edge.test.zone")
    with running_server([zone]) as server:
        for name, chain in {"loop1": ["loop1", "loop2"], "selfloop": ["selfloop"]}.items():
            reply = raw_udp(server.address, encode(q(f"{name}.edge.test.")))
            assert reply is not None
            m = decode(reply)
            # Each CNAME once, NOERROR, as NSD answers (BIND says SERVFAIL; RFC 1034 3.6.2
            # only asks that loops be noticed).
            assert m.rcode == Rcode.NOERROR and m.header.aa
            assert [r.name.to_text() for r in m.answer] == [f"{n}.edge.test." for n in chain]


def test_stop_before_the_loop_starts_or_after_it_ended_is_safe() -> None:
    """stop() may come before serve_forever runs (it must then not serve at all) or while
    the loop ends by itself and closes its sockets (it once read the address from the
    closed socket: EBADF); the address stays known after the stop."""
    import threading

    from craft.dns.answer_cache import Authority
    from craft.dns.zone import default_zones
    from craft.dns_server import DnsServer

    server = DnsServer(Authority(default_zones()), "127.0.0.1", 0)
    address = server.bind()
    server.stop()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "serve_forever ran on after an earlier stop()"
    assert server.udp is not None and server.udp.fileno() == -1  # the loop closed its sockets
    assert server.address == address
    server.stop()  # the sockets are closed: nothing to wake, and no error


def test_stop_while_an_exchange_is_being_observed_keeps_it() -> None:
    """The loop can be between receives (here: in a slow observer) when stop() comes; it
    ends after that exchange, which the observers still see whole."""
    import threading

    from craft.dns.answer_cache import Authority
    from craft.dns.zone import default_zones
    from craft.dns_server import DnsServer, Exchange

    entered, release = threading.Event(), threading.Event()
    seen: list[Exchange] = []

    def slow(event: object) -> None:
        entered.set()
        release.wait(5)
        if isinstance(event, Exchange):
            seen.append(event)

    server = DnsServer(Authority(default_zones()), "127.0.0.1", 0, [slow])
    address = server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    replies: list[bytes | None] = []
    # The exchange is recorded before the response goes out: the client waits meanwhile.
    client = threading.Thread(target=lambda: replies.append(raw_udp(address, LAB_REQUEST, 10)))
    client.start()
    assert entered.wait(5)
    server.stop()
    release.set()
    thread.join(5)
    client.join(10)
    assert not thread.is_alive()
    assert [e.response for e in seen] == [LAB_RESPONSE]
    assert replies == [LAB_RESPONSE]  # and it is still sent after the stop


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


def _answered(host: str, port: int, tcp: bool = False) -> bool:
    query = encode(build_query(Name.from_text("google.com."), ident=secrets.randbits(16)))
    reply = send_bytes(query, (host, port), tcp=tcp, timeout=2).reply
    return reply is not None and len(decode(reply).answer) == 2


@needs_ipv6
def test_several_hosts_ipv4_and_ipv6_at_once() -> None:
    args = ["dns-serve", "--port", "0", "--quiet", "--host", "127.0.0.1", "--host", "::1"]
    with craft_process(args, ready=r"127\.0\.0\.1:(\d+), \[::1\]:\d+") as (proc, port):
        for host in ("127.0.0.1", "::1"):
            assert _answered(host, port) and _answered(host, port, tcp=True), host
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


@needs_ipv6
def test_several_hosts_with_workers_stop_together() -> None:
    args = ["dns-serve", "--port", "0", "--quiet", "--workers", "2", "--host", "127.0.0.1",
            "--host", "::1"]
    with craft_process(args) as (proc, port):
        for _ in range(20):
            assert _answered("::1", port) and _answered("127.0.0.1", port)
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


@needs_ipv6
def test_unspecified_ipv6_is_dual_stack() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--host", "::"],
                       ready=r"\[::\]:(\d+)") as (proc, port):
        for host in ("::1", "127.0.0.1"):  # IPv4 arrives as ::ffff:127.0.0.1 on the one socket
            assert _answered(host, port) and _answered(host, port, tcp=True), host
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


@needs_ipv6
def test_unspecified_ipv6_beside_the_ipv4_wildcard_is_ipv6_only() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--host", "::", "--host", "0.0.0.0"],
                       ready=r"\[::\]:(\d+), 0\.0\.0\.0:\d+") as (proc, port):
        for host in ("::1", "127.0.0.1"):
            assert _answered(host, port), host
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_an_address_that_cannot_be_had_is_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "craft", "dns-serve", "--port", "0", "--host", "127.0.0.1",
         "--host", "192.0.2.1"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert "192.0.2.1" in result.stderr and "Traceback" not in result.stderr
