"""craft web-serve through real sockets, checked by parsers we did not write (h11, curl)
and by a real browser (headless Chromium)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import h11
import pytest
from conftest import craft_process, serving

from craft.http.protocol import Request, Response
from craft.web import WebServer

SITE = Path(__file__).resolve().parent.parent / "site"
LAB_HEADERS = ("connection", "date", "server", "last-modified", "content-length", "content-type")
SECRET = b"TOP-SECRET-OUTSIDE-ROOT"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A served folder inside tmp_path, with a secret file and links just outside it."""
    served = tmp_path / "www"
    shutil.copytree(SITE, served)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (served / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (served / "escape-dir").symlink_to(tmp_path)
    (served / "inside-link.html").symlink_to(served / "HelloWorld.html")
    # Larger than loopback socket buffers, so a client that stops reading really stalls.
    (served / "big.bin").write_bytes(os.urandom(24 * 1024 * 1024))
    (served / "with index").mkdir()
    (served / "with index" / "index.html").write_text("<p>index page</p>")
    (served / "<script>").mkdir()
    (served / "<script>" / "x&y.txt").write_text("escaped?")
    return served


@pytest.fixture
def web(root: Path) -> Iterator[tuple[str, int]]:
    with serving(WebServer(root, "127.0.0.1", 0, idle_timeout=2.0, head_timeout=1.0)) as (_, address):
        yield address


def raw(address: tuple[str, int], data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data``, read until the server closes or goes quiet."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def h11_exchange(address: tuple[str, int], method: str, target: str,
                 headers: list[tuple[str, str]] | None = None) -> tuple[h11.Response, bytes]:
    """One request through h11's client state machine: our framing, judged by h11."""
    conn = h11.Connection(h11.CLIENT)
    with socket.create_connection(address, timeout=5) as sock:
        request = h11.Request(method=method, target=target,
                              headers=[("Host", "127.0.0.1"), *(headers or [])])
        sock.sendall(conn.send(request) + conn.send(h11.EndOfMessage()))
        response: h11.Response | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
    assert response is not None
    return response, body


def headers_of(response: h11.Response) -> dict[str, str]:
    return {k.decode().lower(): v.decode() for k, v in response.headers}


def test_get_and_head_carry_the_six_lab_headers(web: tuple[str, int], root: Path) -> None:
    response, body = h11_exchange(web, "GET", "/HelloWorld.html")
    headers = headers_of(response)
    assert response.status_code == 200 and body == (root / "HelloWorld.html").read_bytes()
    assert all(h in headers for h in LAB_HEADERS)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["date"].endswith("GMT") and headers["server"].startswith("craft/")
    head, head_body = h11_exchange(web, "HEAD", "/HelloWorld.html")
    assert head_body == b"" and head.status_code == 200
    same = {k: v for k, v in headers_of(head).items() if k != "date"}
    assert same == {k: v for k, v in headers.items() if k != "date"}
    assert headers_of(head)["content-length"] == str(len(body))


def test_curl_sees_the_six_headers(web: tuple[str, int]) -> None:
    out = subprocess.run(["curl", "-sI", "--http1.1", f"http://127.0.0.1:{web[1]}/HelloWorld.html"],
                         capture_output=True, timeout=30, check=True).stdout.decode()
    assert out.startswith("HTTP/1.1 200 OK\r\n") and out.endswith("\r\n\r\n")
    names = {line.split(":")[0].lower() for line in out.splitlines()[1:] if ":" in line}
    assert set(LAB_HEADERS) <= names
    body = subprocess.run(["curl", "-sf", "--http1.1", f"http://127.0.0.1:{web[1]}/files/notes.txt"],
                          capture_output=True, timeout=30, check=True).stdout
    assert body.startswith(b"A plain text file")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /nope.html HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (b"GET /files HTTP/1.1\r\nHost: x\r\n\r\n", 301),
        (b"POST /HelloWorld.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        (b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 20000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(150)) + b"\r\n", 431),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-5\r\n\r\n", 206),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=9999-\r\n\r\n", 416),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n", 404),  # file names are octets
        (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n", 400),  # "²".isdigit()
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=\xb2-\r\n\r\n", 200),
        # found by a review against nginx
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"nope\"\r\n\r\n", 412),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\n\r\n", 200),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\n"
         b"If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n", 412),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-" + b"9" * 5000 + b"\r\n\r\n", 206),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=" + b"9" * 5000 + b"-\r\n\r\n", 416),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 413),
        (b"GET /files/notes.txt/ HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (b"GET HTTP://x/files/notes.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: Bytes=0-1\r\n\r\n", 206),
        # a bare LF in the target would reach the Location of a redirect (response splitting)
        (b"GET /files?\nSet-Cookie:session=attacker HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-" + b"0" * 22 + b"1\r\n\r\n", 206),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"0" * 22 + b"5\r\n\r\nhello", 200),
    ],
)
def test_status_codes(web: tuple[str, int], request_bytes: bytes, status: int) -> None:
    reply = raw(web, request_bytes)
    assert reply.startswith(f"HTTP/1.1 {status} ".encode()), reply[:80]
    assert b"\r\nDate: " in reply and b"\r\nServer: craft/" in reply


def test_a_fault_costs_one_connection_not_the_server(root: Path, capfd: pytest.CaptureFixture[str]) -> None:
    server = WebServer(root, "127.0.0.1", 0)
    plan = server.files.plan

    def failing_plan(request: Request) -> Response:
        if request.target == "/boom":
            raise RuntimeError("injected fault")
        return plan(request)

    server.files.plan = failing_plan  # type: ignore[method-assign]
    with serving(server) as (_, address):
        reply = raw(address, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 500 ") and reply.count(b"HTTP/1.1 ") == 1
        assert raw(address, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(
            b"HTTP/1.1 200 ")
    err = capfd.readouterr().err
    assert "internal error serving 127.0.0.1: RuntimeError: injected fault; connection closed" in err


def test_redirects_listings_and_head_errors(web: tuple[str, int], root: Path) -> None:
    def location(target: bytes) -> bytes:
        reply = raw(web, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 301 ")
        return reply.split(b"\r\nLocation: ")[1].split(b"\r\n")[0]

    assert location(b"//files") == b"/files/"  # never "//files/": another host to a browser
    assert location(b"/files?q=1") == b"/files/?q=1"
    (root / "files" / "a\u2013b.txt").write_text("dash")
    _, listing = h11_exchange(web, "GET", "/files/")
    assert b'href="a%E2%80%93b.txt"' in listing  # UTF-8 octets, percent-encoded
    response, body = h11_exchange(web, "GET", "/files/a%E2%80%93b.txt")
    assert response.status_code == 200 and body == b"dash"
    head = raw(web, b"HEAD /files/notes.txt HTTP/1.1\r\n\r\n")  # no Host: 400, and no body
    assert head.startswith(b"HTTP/1.1 400 ") and head.endswith(b"\r\n\r\n")
    (root / "files" / "empty.txt").write_bytes(b"")
    response, body = h11_exchange(web, "GET", "/files/empty.txt", [("Range", "bytes=-5")])
    assert response.status_code == 200 and body == b""


def test_list_fields_dates_types_and_odd_names(web: tuple[str, int], root: Path) -> None:
    from craft.http import files
    from craft.http import protocol as http

    reply = raw(web, b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
                     b"Connection: close\r\n\r\n")  # one list over two lines (RFC 9110 5.3)
    assert b"\r\nConnection: close\r\n" in reply
    full = raw(web, b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    etag = full.split(b"\r\nETag: ")[1].split(b"\r\n")[0]
    reply = raw(web, b"GET /files/notes.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\"\r\n"
                     b"If-None-Match: " + etag + b"\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 304 ")
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:  # an asctime date is UTC whatever the server's zone (RFC 9110 5.6.7)
        assert http._http_time("Wed Nov 25 07:39:44 2026") == 1795592384.0
    finally:
        if zone is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = zone
        time.tzset()
    assert files.content_type("notes.txt.gz") == "application/octet-stream"
    (root / "files" / os.fsdecode(b"bad\xff.txt")).write_text("odd")
    response, listing = h11_exchange(web, "GET", "/files/")
    assert response.status_code == 200 and b'href="bad%FF.txt"' in listing


def test_405_says_allow_and_404_is_a_small_page(web: tuple[str, int]) -> None:
    reply = raw(web, b"PUT /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"\r\nAllow: GET, HEAD\r\n" in reply
    response, body = h11_exchange(web, "GET", "/missing")
    assert response.status_code == 404 and b"<h1>404 Not Found</h1>" in body
    head, head_body = h11_exchange(web, "HEAD", "/missing")
    assert head.status_code == 404 and head_body == b""


def test_403_for_what_is_not_a_readable_file(web: tuple[str, int], root: Path) -> None:
    os.mkfifo(root / "pipe")  # never served: reading it would hang the server
    assert h11_exchange(web, "GET", "/pipe")[0].status_code == 403
    if os.geteuid() != 0:  # root reads every file, so this half needs a normal user
        (root / "locked.txt").write_text("x")
        (root / "locked.txt").chmod(0)
        assert h11_exchange(web, "GET", "/locked.txt")[0].status_code == 403


def test_range_bodies(web: tuple[str, int], root: Path) -> None:
    text = (root / "files" / "notes.txt").read_bytes()
    for spec, expected in (("bytes=2-5", text[2:6]), ("bytes=-4", text[-4:]), ("bytes=10-", text[10:])):
        response, body = h11_exchange(web, "GET", "/files/notes.txt", [("Range", spec)])
        assert response.status_code == 206 and body == expected
        assert headers_of(response)["content-range"].endswith(f"/{len(text)}")
    response, body = h11_exchange(web, "GET", "/files/notes.txt", [("Range", "bytes=0-1,4-5")])
    assert response.status_code == 206  # several ranges: multipart/byteranges
    assert body.count(text[0:2] + b"\r\n") == 1 and body.count(text[4:6] + b"\r\n") == 1
    response, body = h11_exchange(web, "GET", "/files/notes.txt", [("Range", "bytes=0-,1-")])
    assert response.status_code == 200 and body == text  # overlapping past the file's size
    response, _ = h11_exchange(web, "GET", "/files/notes.txt", [("Range", "bytes=500-")])
    assert headers_of(response)["content-range"] == f"bytes */{len(text)}"


def test_conditional_requests_give_304(web: tuple[str, int]) -> None:
    first, _ = h11_exchange(web, "GET", "/HelloWorld.html")
    headers = headers_of(first)
    again, body = h11_exchange(web, "GET", "/HelloWorld.html", [("If-None-Match", headers["etag"])])
    assert again.status_code == 304 and body == b""
    since, _ = h11_exchange(web, "GET", "/HelloWorld.html",
                            [("If-Modified-Since", headers["last-modified"])])
    assert since.status_code == 304
    old, _ = h11_exchange(web, "GET", "/HelloWorld.html",
                          [("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")])
    assert old.status_code == 200


def test_index_listing_and_escaping(web: tuple[str, int]) -> None:
    response, body = h11_exchange(web, "GET", "/with%20index/")
    assert response.status_code == 200 and body == b"<p>index page</p>"
    response, body = h11_exchange(web, "GET", "/%3Cscript%3E/")
    assert response.status_code == 200 and b"<script>" not in body.split(b"<body>")[1]
    assert b"x&amp;y.txt" in body and b"Index of /&lt;script&gt;" in body


def test_keep_alive_and_pipelining_in_order(web: tuple[str, int]) -> None:
    conn = h11.Connection(h11.CLIENT)
    targets = ["/HelloWorld.html", "/files/notes.txt", "/nope", "/style.css"]
    wire = b"".join(
        conn.send(h11.Request(method="GET", target=t, headers=[("Host", "x")]))
        + conn.send(h11.EndOfMessage())
        for t in targets[:1]
    )
    # h11 sends one request at a time; the rest are pipelined by hand behind it.
    wire += b"".join(f"GET {t} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for t in targets[1:])
    with socket.create_connection(web, timeout=5) as sock:
        sock.sendall(wire)
        statuses = []
        client = h11.Connection(h11.CLIENT)
        for t in targets:
            client.send(h11.Request(method="GET", target=t, headers=[("Host", "x")]))
            client.send(h11.EndOfMessage())
            while True:
                event = client.next_event()
                if event is h11.NEED_DATA:
                    client.receive_data(sock.recv(65536))
                elif isinstance(event, h11.Response):
                    statuses.append(event.status_code)
                    assert headers_of(event)["connection"] == "keep-alive"
                elif isinstance(event, h11.EndOfMessage):
                    break
            client.start_next_cycle()
    assert statuses == [200, 200, 404, 200]


def test_connection_close_and_http10(web: tuple[str, int]) -> None:
    reply = raw(web, b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                     b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.count(b"HTTP/1.1 200") == 1 and b"Connection: close" in reply
    old = raw(web, b"GET /style.css HTTP/1.0\r\n\r\n")
    assert b"Connection: close" in old
    kept = raw(web, b"GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", timeout=3)
    assert b"Connection: keep-alive" in kept


TRAVERSALS = [
    "/../secret.txt", "/../../etc/passwd", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
    "/..%2fsecret.txt", "/..%2Fsecret.txt", "/files/../../secret.txt", "/files/%2e%2e/%2e%2e/secret.txt",
    "/..\\secret.txt", "/%5c..%5csecret.txt", "/files/..%5c..%5csecret.txt", "/escape.txt",
    "/escape-dir/secret.txt", "/%00/../secret.txt", "/HelloWorld.html%00.txt",
    "http://127.0.0.1/../secret.txt", "http://evil.example/%2e%2e/secret.txt", "//../secret.txt",
    "/./../secret.txt", "/files/./../../secret.txt", "/%252e%252e/secret.txt", "/.%2e/secret.txt",
    "/escape-dir/", "/%c0%ae%c0%ae/secret.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_leaks(web: tuple[str, int], target: str) -> None:
    reply = raw(web, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert SECRET not in reply
    status = int(reply.split(b" ")[1])
    assert status in (400, 403, 404), (target, reply[:60])


def test_inside_symlink_is_served(web: tuple[str, int]) -> None:
    assert h11_exchange(web, "GET", "/inside-link.html")[0].status_code == 200


def test_slow_client_does_not_block_a_fast_one(web: tuple[str, int], root: Path) -> None:
    size = (root / "big.bin").stat().st_size
    slow = socket.create_connection(web, timeout=5)
    try:
        slow.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        slow.recv(100)  # the download has begun; this client now stops reading
        for _ in range(5):
            response, body = h11_exchange(web, "GET", "/HelloWorld.html")
            assert response.status_code == 200 and body
        received = 100
        while received < size:  # the slow client can still finish its download
            chunk = slow.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
        assert received >= size
    finally:
        slow.close()


def test_large_file_arrives_whole(web: tuple[str, int], root: Path) -> None:
    response, body = h11_exchange(web, "GET", "/big.bin")
    assert response.status_code == 200 and body == (root / "big.bin").read_bytes()


def test_idle_and_slow_header_connections_are_closed(web: tuple[str, int]) -> None:
    for opening in (b"", b"GET / HTTP/1.1\r\nHost"):
        with socket.create_connection(web, timeout=6) as sock:
            sock.sendall(opening)
            start = time.monotonic()
            assert sock.recv(100) == b""  # closed by the server
            assert time.monotonic() - start < 5.5


def test_cli_serves_logs_and_stops(root: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "craft", "web-serve", "--port", "0", "--root",
                             str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        line = proc.stderr.readline()
        port = int(line.rsplit(":", 1)[1].strip("/\n"))
        h11_exchange(("127.0.0.1", port), "GET", "/HelloWorld.html")
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0
    assert '"GET /HelloWorld.html HTTP/1.1" 200 ' in out and "Traceback" not in err


chromium = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium is None, reason="make test installs Debian's chromium")
def test_headless_chromium_renders_the_page(web: tuple[str, int]) -> None:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--dump-dom",
             f"http://127.0.0.1:{web[1]}/HelloWorld.html"],
            capture_output=True, text=True, timeout=90, check=False,
        )
    assert "<h1>Hello World</h1>" in result.stdout, result.stderr[-500:]
    assert "served by <strong>craft web-serve</strong>" in result.stdout


def test_a_closed_stdout_stops_the_log_not_the_server(root: Path) -> None:
    with craft_process(["web-serve", "--port", "0", "--root", str(root)]) as (proc, port):
        assert proc.stdout is not None
        proc.stdout.close()  # like `craft web-serve | head -3` once head has exited
        for _ in range(3):
            reply = raw(("127.0.0.1", port), b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert reply.startswith(b"HTTP/1.1 200 ")
        proc.terminate()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.wait(10)
    assert proc.returncode == 0, err
    assert err.count("access log stopped: BrokenPipeError") == 1 and "Traceback" not in err


def test_a_client_that_pipelines_and_never_reads_holds_little(root: Path) -> None:
    (root / "60k.bin").write_bytes(b"z" * 60000)
    server = WebServer(root, "127.0.0.1", 0)
    with serving(server) as (_, address), socket.create_connection(address, timeout=5) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        before = len(os.listdir("/proc/self/fd"))
        sock.setblocking(False)
        request = b"GET /60k.bin HTTP/1.1\r\nHost: x\r\n\r\n"
        sent = 0
        with contextlib.suppress(BlockingIOError):
            for _ in range(5000):
                sent += sock.send(request)
        time.sleep(0.5)
        # Files open for queued responses stay few (nginx: one request at a time).
        assert len(os.listdir("/proc/self/fd")) - before <= 10
        assert sent >= 10 * len(request)


def test_half_closed_client_gets_its_file_and_a_stalled_one_is_dropped(root: Path) -> None:
    size = 24 << 20  # far more than the socket buffers on both sides hold
    (root / "big.bin").write_bytes(os.urandom(size))
    server = WebServer(root, "127.0.0.1", 0, send_timeout=1.0)
    with serving(server) as (_, address):
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)  # the response still comes whole
            got = b""
            while chunk := sock.recv(1 << 16):
                got += chunk
            assert got.endswith((root / "big.bin").read_bytes())
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before the handshake
            sock.settimeout(10)
            sock.connect(address)
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(3)  # takes nothing for longer than the send timeout
            total = 0
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(1 << 16):
                    total += len(chunk)
            assert total < size  # dropped before the end
