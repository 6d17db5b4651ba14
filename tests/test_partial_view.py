"""An undecodable message is shown annotated up to its fault: partial spans from the
decoder, the view's remainder row and marker, and ``dns-ask --hex`` against a server that
sends the issue's reply (QDCOUNT 1, no question, a self pointer at offset 12)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from craft.dns.codec import decode
from craft.dns.wire import Span, WireError
from craft.view.exchange import annotated

# The student reply: QDCOUNT 1 but no question, so the answer's pointer is to itself.
SELF_POINTER = bytes.fromhex(
    "1a2b84000001000200000000c00c00010001000001040004c0a50101"
    "c00c00010001000001040004c0a5010a"
)
CUT_NAME = bytes.fromhex("1a2b8400000100020000000006676f6f676c6503636f6dc020")


@pytest.mark.parametrize(
    ("data", "offset", "last_field", "last_value"),
    [
        (SELF_POINTER, 12, "ARCOUNT", "0"),
        (CUT_NAME, 23, "QNAME", "google.com… (cut)"),
    ],
)
def test_decode_records_spans_until_the_fault(
    data: bytes, offset: int, last_field: str, last_value: str
) -> None:
    spans: list[Span] = []
    with pytest.raises(WireError) as info:
        decode(data, spans)
    assert info.value.offset == offset
    top = [s for s in spans if s.level == 0]
    assert (top[-1].field, top[-1].value) == (last_field, last_value)
    assert max(s.end for s in spans) == offset


def test_view_shows_fields_rest_and_fault() -> None:
    text = annotated(SELF_POINTER, color=False)
    lines = text.splitlines()
    assert lines[1] == " " * 36 + "^^ fault"
    assert "NOT DECODED  32 octets  c0 0c 00 01" in text
    assert text.endswith("!! craft cannot decode at offset 12 (octet c0): "
                         "self compression pointer to 12")
    coloured = annotated(SELF_POINTER, color=True)
    assert "\x1b[41mc0\x1b[0m" in coloured  # the faulty octet is marked in the dump


@pytest.fixture
def broken_server() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                query, client = sock.recvfrom(512)
            except TimeoutError:
                continue
            sock.sendto(query[:2] + SELF_POINTER[2:], client)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        done.set()
        thread.join()
        sock.close()


def test_dns_ask_hex_annotates_an_undecodable_reply(broken_server: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "craft", "dns-ask", "google.com", "--port", str(broken_server),
         "--hex", "--retries", "0"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 8
    assert "NOT DECODED  32 octets" in result.stdout
    assert ";; response (44 octets, undecodable)" in result.stdout  # the reply it got, not a second
    assert "!! craft cannot decode at offset 12 (octet c0)" in result.stdout
    assert "scapy: craft rejects at offset 12" in result.stdout
    assert result.stdout.rstrip().endswith(
        "google.com: undecodable reply: offset 12: self compression pointer to 12")
