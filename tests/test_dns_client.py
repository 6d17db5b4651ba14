"""craft dns-ask against real sockets: the lab's lines, exit codes, ID and question matching."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from conftest import running_server

from craft.dns.codec import decode, encode
from craft.dns.message import Header, Message
from craft.dns.names import Name
from craft.dns.zone import default_zones
from craft.dns_client import ask, build_query


def run_ask(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "craft", "dns-ask", *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_interactive_session_prints_the_lab_lines(dns_server: tuple[str, int]) -> None:
    result = run_ask("--port", str(dns_server[1]), stdin="google.com\ngoogle.ca\nend\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Enter Domain Name: google.com: type A, class IN, TTL 260, addr (4) 192.165.1.1\n"
        "google.com: type A, class IN, TTL 260, addr (4) 192.165.1.10\n"
        "Enter Domain Name: google.ca: type A, class IN, TTL 260, addr (4) 192.165.1.6\n"
        "Enter Domain Name: Session ended\n"
    )


def test_interactive_session_ends_at_eof_and_survives_bad_names(dns_server: tuple[str, int]) -> None:
    result = run_ask("--port", str(dns_server[1]), stdin="nope.google.com\n" + "x" * 70 + "\n")
    assert result.returncode == 0
    assert "nope.google.com: no such name (NXDOMAIN)" in result.stdout
    assert "label of 70 octets" in result.stdout
    assert result.stdout.endswith("Session ended\n")


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["google.com"], 0, "google.com: type A, class IN, TTL 260, addr (4) 192.165.1.10"),
        (["nope.google.com"], 3, "no such name (NXDOMAIN)"),
        (["google.com", "-t", "MX"], 4, "no MX records (NODATA)"),
        (["example.org"], 5, "REFUSED"),
        (["youtube.com", "-t", "NS"], 0, "type NS, class IN, TTL 3600, ns ns1.youtube.com"),
        (["amazon.ca", "-t", "SOA", "--tcp"], 0, "mname ns1.amazon.ca, rname hostmaster.amazon.ca"),
    ],
)
def test_one_shot_lines_and_exit_codes(dns_server: tuple[str, int], args: list[str], code: int,
                                       text: str) -> None:
    result = run_ask(*args, "--port", str(dns_server[1]))
    assert result.returncode == code, result.stdout + result.stderr
    assert text in result.stdout


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A UDP port that receives and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_timeout_is_one_line_and_exit_7(silent_port: int) -> None:
    result = run_ask("google.com", "--port", str(silent_port), "--timeout", "0.2", "--retries", "1")
    assert result.returncode == 7
    assert result.stdout.strip() == f"google.com: no reply from 127.0.0.1:{silent_port} in 0.2s"


def test_unknown_type_is_a_usage_error() -> None:
    result = run_ask("google.com", "-t", "BOGUS")
    assert result.returncode == 2 and "unknown type" in result.stderr


def test_json_output(dns_server: tuple[str, int]) -> None:
    result = run_ask("google.com", "--json", "--port", str(dns_server[1]))
    data = json.loads(result.stdout)
    assert data["header"]["rcode"] == "NOERROR" and "aa" in data["header"]["flags"]
    assert [a["rdata"] for a in data["answer"]] == ["192.165.1.1", "192.165.1.10"]
    assert data["transport"] == "udp" and data["elapsed_ms"] >= 0


def test_hex_view_shows_the_lab_field_table(dns_server: tuple[str, int]) -> None:
    result = run_ask("google.ca", "--hex", "--port", str(dns_server[1]))
    assert result.returncode == 0, result.stderr
    assert "QNAME    06 67 6f 6f 67 6c 65 02 63 61 00" in result.stdout
    assert "pointer to offset 12 (google.ca.)" in result.stdout
    assert result.stdout.rstrip().endswith("addr (4) 192.165.1.6")


def test_replies_with_wrong_id_or_question_are_ignored() -> None:
    """A spoofer answers first with a wrong ID and a wrong question; only the real reply counts."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)

        def serve() -> None:
            data, client = sock.recvfrom(512)
            query = decode(data)
            wrong_id = Message(Header(id=query.header.id ^ 1, qr=True), query.question)
            wrong_q = Message(Header(id=query.header.id, qr=True),
                              build_query(Name.from_text("evil.test.")).question)
            real = Message(Header(id=query.header.id, qr=True, aa=True), query.question)
            for message in (wrong_id, wrong_q, real):
                sock.sendto(encode(message), client)

        thread = threading.Thread(target=serve)
        thread.start()
        reply = ask(build_query(Name.from_text("google.com.")), sock.getsockname(), timeout=3)
        thread.join(5)
    assert reply.message.header.aa and str(reply.message.question[0].name) == "google.com."


@pytest.mark.parametrize("closes", [False, True])
def test_tcp_skips_a_wrong_id_and_says_a_closed_connection(closes: bool) -> None:
    """Over TCP a reply with another ID is skipped; a connection the server closes before
    the answer is a reply failure, not a timeout."""
    from craft.dns_client import ClientError, Failure, tcp_exchange
    from craft.transport import framed, recv_framed

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                query = decode(recv_framed(conn) or b"")
                wrong = Message(Header(id=query.header.id ^ 1, qr=True), query.question)
                real = Message(Header(id=query.header.id, qr=True, aa=True), query.question)
                conn.sendall(framed(encode(wrong)) + (b"" if closes else framed(encode(real))))

        thread = threading.Thread(target=serve)
        thread.start()
        query = build_query(Name.from_text("google.com."))
        try:
            if closes:
                with pytest.raises(ClientError) as failed:
                    tcp_exchange(query, listener.getsockname(), 3)
                assert failed.value.kind is Failure.REPLY
                assert failed.value.reason == "connection closed before a whole reply arrived"
            else:
                reply = tcp_exchange(query, listener.getsockname(), 3)
                assert reply.message.header.aa and reply.message.header.id == query.header.id
        finally:
            thread.join(5)


def test_client_random_ids_differ() -> None:
    ids = {build_query(Name.from_text("a.")).header.id for _ in range(20)}
    assert len(ids) > 10


def test_against_in_process_server_over_tcp() -> None:
    with running_server(default_zones()) as server:
        reply = ask(build_query(Name.from_text("wikipedia.org.")), server.address, tcp=True)
    assert reply.transport == "tcp" and str(reply.message.answer[0].rdata.to_text()) == "192.165.1.4"
