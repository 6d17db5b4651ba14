"""The web server's HTTP/1.1 logic in memory, as h11 tests its readers: no sockets.

Three tables. Request octets in, a parsed request or the ``HttpError`` status out
(``parse_request``). A request for a file described by a ``FileInfo`` value in, a response
out (``file_response``: 200, 206, 304, 412, 416), with no file system at all. And a request
against a temporary served folder in, a response out (``craft.http.files.plan``: 200, 301,
400, 403, 404, 405, 501 and listings). Every status the server sends is built here; the
socket suite (test_web.py) checks the same server from the outside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from craft.http import files
from craft.http.protocol import (
    MAX_DISCARDED_BODY,
    MAX_HEAD,
    MAX_REQUEST_LINE,
    FileBody,
    FileInfo,
    HttpError,
    Request,
    Response,
    encode_headers,
    error_response,
    file_response,
    parse_request,
)

# ---- request octets in, a request or an error status out ----


@dataclass(frozen=True)
class Parse:
    description: str
    octets: bytes
    expect: int | str | None  # a status, the request's line, or None: wait for more octets
    used: int | None = None  # octets taken (the whole input when None)
    close: bool = True  # for an error: the connection cannot go on


GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

PARSES = [
    Parse("a whole request", GET, "GET / HTTP/1.1"),
    Parse("HTTP/1.0 needs no Host", b"GET /a HTTP/1.0\r\n\r\n", "GET /a HTTP/1.0"),
    Parse("empty lines before a request are skipped", b"\r\n\r\n" + GET, "GET / HTTP/1.1"),
    Parse("a pipelined request is left for later", GET + GET, "GET / HTTP/1.1", used=len(GET)),
    Parse("a head cut short: wait", b"GET / HTTP/1.1\r\nHost: x\r\n", None),
    Parse("a body is read and discarded", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET",
          "POST / HTTP/1.1", used=50),
    Parse("a body not all here yet: wait", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc", None),
    Parse("Content-Length with leading zeros is a number", b"POST / HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 0003\r\n\r\nabc", "POST / HTTP/1.1"),
    Parse("absolute-form target", b"GET http://x/a?b HTTP/1.1\r\nHost: x\r\n\r\n", "GET http://x/a?b HTTP/1.1"),
    Parse("400: request line of two parts", b"GET /\r\nHost: x\r\n\r\n", 400),
    Parse("400: two spaces in the request line", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    Parse("400: malformed version", b"GET / HTTP/x\r\nHost: x\r\n\r\n", 400),
    Parse("400: malformed method", b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    Parse("400: header line without a colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400),
    Parse("400: obsolete line folding", b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
    Parse("400: HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400, close=False),
    Parse("400: two Host headers", b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    Parse("400: an invalid Host", b"GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", 400),
    Parse("400: a control character in the target", b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    Parse("400: a non-ASCII target", b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    Parse("400: NUL in a header", b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400),
    Parse("400: a Content-Length that is not digits", b"POST / HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: \xc2\xb2\r\n\r\n", 400),
    Parse("400: Content-Length headers that disagree", b"POST / HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    Parse("413: a body over the discard limit", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "
          + str(MAX_DISCARDED_BODY + 1).encode() + b"\r\n\r\n", 413),
    Parse("414: a request line over the limit", b"GET /" + b"a" * MAX_REQUEST_LINE + b" HTTP/1.1\r\n"
          b"Host: x\r\n\r\n", 414),
    Parse("414: a request line over the limit, before its end arrives",
          b"GET /" + b"a" * MAX_REQUEST_LINE, 414),
    Parse("431: a head over the limit", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * MAX_HEAD
          + b"\r\n\r\n", 431),
    Parse("431: too many header lines", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: a\r\n" * 100 + b"\r\n", 431),
    Parse("431: a head over the limit, before its end arrives",
          b"GET / HTTP/1.1\r\n" + b"X: aaaaaaaa\r\n" * (MAX_HEAD // 12 + 1), 431),
    Parse("a chunked body not all here yet: wait", b"POST / HTTP/1.1\r\nHost: x\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n", None),
    Parse("501: a transfer coding other than chunked", b"POST / HTTP/1.1\r\nHost: x\r\n"
          b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
    Parse("505: HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
]


@pytest.mark.parametrize("row", PARSES, ids=[row.description for row in PARSES])
def test_parse_request(row: Parse) -> None:
    parsed = parse_request(row.octets)
    if row.expect is None:
        assert parsed is None
        return
    assert parsed is not None
    result, used = parsed
    assert used == (len(row.octets) if row.used is None else row.used)
    if isinstance(row.expect, int):
        assert isinstance(result, HttpError)
        assert (result.status, result.close) == (row.expect, row.close)
    else:
        assert isinstance(result, Request) and result.line == row.expect


def test_parsed_headers_are_lower_case_names_and_list_fields_join() -> None:
    parsed = parse_request(b"GET / HTTP/1.1\r\nHOST: x\r\nConnection: keep-alive\r\n"
                           b"Connection: close\r\nIf-None-Match: \"a\"\r\n\r\n")
    assert parsed is not None and isinstance(parsed[0], Request)
    request = parsed[0]
    assert request.header("host") == "x"
    assert request.header_list("connection") == "keep-alive, close"
    assert not request.keep_alive  # RFC 9110 5.3: one list over two lines
    assert Request("GET", "/", (1, 0), (("connection", "Keep-Alive"),)).keep_alive


# ---- error pages: every error status the server sends ----


@pytest.mark.parametrize("status, reason", [
    (400, "Bad Request"), (403, "Forbidden"), (404, "Not Found"), (405, "Method Not Allowed"),
    (412, "Precondition Failed"), (413, "Content Too Large"), (414, "URI Too Long"),
    (416, "Range Not Satisfiable"), (431, "Request Header Fields Too Large"),
    (500, "Internal Server Error"), (501, "Not Implemented"), (505, "HTTP Version Not Supported"),
])
def test_error_page(status: int, reason: str) -> None:
    response = error_response(status, "<detail>", close=True)
    assert isinstance(response.body, bytes)
    head = response.head_bytes("Sun, 29 Nov 2026 00:00:00 GMT").decode("latin-1")
    assert head.startswith(f"HTTP/1.1 {status} {reason}\r\nDate: Sun, 29 Nov 2026 00:00:00 GMT\r\n")
    assert "\r\nConnection: close\r\n" in head and head.endswith("\r\n\r\n")
    assert f"\r\nContent-Length: {len(response.body)}\r\n" in head
    assert b"&lt;detail&gt;" in response.body  # the detail is escaped, never markup
    head_only = error_response(status, "x", head=True)
    assert not head_only.send_body and not head_only.close


# ---- a file described by a value in, a response out (no file system) ----

CONTENT = b"0123456789"
ETAG = '"5f-a"'
MODIFIED = "Wed, 25 Nov 2026 07:39:44 GMT"
MTIME = 1795592384
BASE = (("Content-Type", "text/plain; charset=utf-8"), ("Last-Modified", MODIFIED),
        ("ETag", ETAG), ("Accept-Ranges", "bytes"))
FILE = FileInfo("/nowhere/a.txt", len(CONTENT), ETAG, MODIFIED, MTIME, BASE,
                encode_headers((*BASE, ("Content-Length", "10"))), (1, 10, 0, 0), CONTENT)
ON_DISK = FileInfo("/nowhere/a.txt", len(CONTENT), ETAG, MODIFIED, MTIME, BASE, b"",
                   (1, 10, 0, 0), None)


@dataclass(frozen=True)
class Serve:
    description: str
    headers: tuple[tuple[str, str], ...]
    status: int
    body: bytes  # what GET sends (HEAD sends the same headers and no body)
    extra: tuple[tuple[str, str], ...] = ()  # headers beyond BASE


SERVES = [
    Serve("200: the whole file", (), 200, CONTENT, (("Content-Length", "10"),)),
    Serve("206: one byte range", (("range", "bytes=2-4"),), 206, b"234",
          (("Content-Length", "3"), ("Content-Range", "bytes 2-4/10"))),
    Serve("206: a suffix range", (("range", "bytes=-3"),), 206, b"789",
          (("Content-Length", "3"), ("Content-Range", "bytes 7-9/10"))),
    Serve("206: an open range past the end is cut", (("range", "bytes=8-99"),), 206, b"89",
          (("Content-Length", "2"), ("Content-Range", "bytes 8-9/10"))),
    Serve("206: the unit in any case", (("range", "BYTES=0-0"),), 206, b"0",
          (("Content-Length", "1"), ("Content-Range", "bytes 0-0/10"))),
    Serve("200: several ranges adding up to more than the file", (("range", "bytes=0-5,3-9"),),
          200, CONTENT, (("Content-Length", "10"),)),
    Serve("200: a range ending before it starts is ignored", (("range", "bytes=5-2"),), 200,
          CONTENT, (("Content-Length", "10"),)),
    Serve("200: If-Range with another validator sends the whole file",
          (("range", "bytes=0-1"), ("if-range", '"other"')), 200, CONTENT, (("Content-Length", "10"),)),
    Serve("206: If-Range with our ETag", (("range", "bytes=0-1"), ("if-range", ETAG)), 206, b"01",
          (("Content-Length", "2"), ("Content-Range", "bytes 0-1/10"))),
    Serve("416: a range starting past the end", (("range", "bytes=10-"),), 416, b"",
          (("Content-Range", "bytes */10"),)),
    Serve("416: an empty suffix", (("range", "bytes=-0"),), 416, b"", (("Content-Range", "bytes */10"),)),
    Serve("304: If-None-Match with our ETag", (("if-none-match", f'"x", W/{ETAG}'),), 304, b""),
    Serve("304: If-None-Match *", (("if-none-match", "*"),), 304, b""),
    Serve("304: not modified since", (("if-modified-since", MODIFIED),), 304, b""),
    Serve("200: modified since", (("if-modified-since", "Wed, 25 Nov 2026 07:39:43 GMT"),), 200,
          CONTENT, (("Content-Length", "10"),)),
    Serve("200: If-None-Match wins over If-Modified-Since",
          (("if-none-match", '"x"'), ("if-modified-since", MODIFIED)), 200, CONTENT,
          (("Content-Length", "10"),)),
    Serve("412: If-Match without our ETag", (("if-match", '"x"'),), 412, b""),
    Serve("200: If-Match with our ETag", (("if-match", ETAG),), 200, CONTENT, (("Content-Length", "10"),)),
    Serve("412: modified after If-Unmodified-Since",
          (("if-unmodified-since", "Wed, 25 Nov 2026 07:39:43 GMT"),), 412, b""),
    Serve("200: an unreadable date is ignored", (("if-modified-since", "yesterday"),), 200, CONTENT,
          (("Content-Length", "10"),)),
]


def request(target: str, *headers: tuple[str, str], method: str = "GET",
            version: tuple[int, int] = (1, 1)) -> Request:
    return Request(method, target, version, (("host", "x"), *headers))


@pytest.mark.parametrize("row", SERVES, ids=[row.description for row in SERVES])
def test_file_response(row: Serve) -> None:
    response = file_response(request("/a.txt", *row.headers), FILE)
    assert response.status == row.status and not response.close
    if row.status >= 400:
        assert isinstance(response.body, bytes) and response.body.startswith(b"<!DOCTYPE html>")
        assert dict(response.headers).items() >= dict(row.extra).items()
        return
    assert response.headers == (*BASE, *row.extra)
    assert response.body == row.body and response.send_body == (row.status != 304)
    head = file_response(request("/a.txt", *row.headers, method="HEAD"), FILE)
    assert head.status == row.status and head.headers == response.headers and not head.send_body


def test_a_file_not_in_memory_is_sent_as_a_slice() -> None:
    whole = file_response(request("/a.txt"), ON_DISK)
    assert whole.body == FileBody("/nowhere/a.txt", 0, 10) and whole.length == 10
    part = file_response(request("/a.txt", ("range", "bytes=3-")), ON_DISK)
    assert part.body == FileBody("/nowhere/a.txt", 3, 7) and part.length == 7
    assert file_response(request("/a.txt", ("connection", "close")), ON_DISK).close


# ---- a request against a served folder in, a response out (craft.http.files) ----


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("http")
    served = top / "www"
    (served / "sub" / "deeper").mkdir(parents=True)
    (served / "site").mkdir()
    (served / "a.txt").write_bytes(CONTENT)
    (served / "sub" / "b.json").write_text("{}")
    (served / "site" / "index.html").write_text("<p>index</p>")
    (top / "secret.txt").write_text("outside")
    (served / "escape.txt").symlink_to(top / "secret.txt")
    (served / "inside.txt").symlink_to(served / "a.txt")
    os.mkfifo(served / "pipe")
    return served.resolve()


@dataclass(frozen=True)
class Plan:
    description: str
    request: Request
    status: int
    headers: tuple[tuple[str, str], ...] = ()  # some of the response's headers
    body: bytes | None = None  # part of the body, when it matters


PLANS = [
    Plan("200: a file", request("/a.txt"), 200, (("Content-Type", "text/plain; charset=utf-8"),
                                                  ("Content-Length", "10"))),
    Plan("200: a percent-encoded name, a query and a fragment", request("/%61.txt?x=1#f"), 200,
         (("Content-Length", "10"),)),
    Plan("200: an absolute-form target", request("HTTP://x/a.txt"), 200, (("Content-Length", "10"),)),
    Plan("200: a symlink inside the root", request("/inside.txt"), 200, (("Content-Length", "10"),)),
    Plan("200: a folder's index.html", request("/site/"), 200,
         (("Content-Type", "text/html; charset=utf-8"),), b"<p>index</p>"),
    Plan("200: a folder without an index is listed, folders first", request("/sub/"), 200,
         (("Content-Type", "text/html; charset=utf-8"),),
         b'<li><a href="deeper/">deeper/</a></li>\n<li><a href="b.json">b.json</a></li>'),
    Plan("200: a JSON file's type", request("/sub/b.json"), 200,
         (("Content-Type", "application/json; charset=utf-8"),)),
    Plan("206: a range of a file", request("/a.txt", ("range", "bytes=0-0")), 206,
         (("Content-Range", "bytes 0-0/10"),)),
    Plan("301: a folder without its slash, the query kept", request("/sub?q=1"), 301,
         (("Location", "/sub/?q=1"),)),
    Plan("301: never to another host", request("//sub"), 301, (("Location", "/sub/"),)),
    Plan("400: a target that is not a path", request("*"), 400),
    Plan("404: a path that is not UTF-8 names no file here", request("/%ff"), 404),
    Plan("400: NUL in the path", request("/a%00.txt"), 400),
    Plan("403: .. in the path", request("/sub/../../secret.txt"), 403),
    Plan("403: an encoded .. in the path", request("/%2e%2e/secret.txt"), 403),
    Plan("403: a backslash", request("/sub%5cb.json"), 403),
    Plan("403: a symlink out of the root", request("/escape.txt"), 403),
    Plan("403: not a regular file", request("/pipe"), 403),
    Plan("404: no such file", request("/missing.txt"), 404),
    Plan("404: a file named as a folder", request("/a.txt/"), 404),
    Plan("405: a known method we do not allow, with Allow", request("/a.txt", method="POST"), 405,
         (("Allow", "GET, HEAD"),)),
    Plan("405: DELETE", request("/a.txt", method="DELETE"), 405, (("Allow", "GET, HEAD"),)),
    Plan("501: a method nobody knows", request("/a.txt", method="BREW"), 501),
]


def body_bytes(response: Response) -> bytes:
    body = response.body
    if isinstance(body, FileBody):
        with open(body.path, "rb") as handle:
            handle.seek(body.offset)
            return handle.read(body.length)
    return body


@pytest.mark.parametrize("row", PLANS, ids=[row.description for row in PLANS])
def test_plan(row: Plan, root: Path) -> None:
    response = files.plan(row.request, root)
    assert response.status == row.status
    assert dict(response.headers).items() >= dict(row.headers).items()
    if row.body is not None:
        assert row.body in body_bytes(response)
    cached = files.FileCache(root).plan(row.request)  # the cache answers alike, first time
    assert (cached.status, cached.headers) == (response.status, response.headers)


def test_a_head_request_gets_no_body_and_close_follows_the_request(root: Path) -> None:
    missing = files.plan(request("/missing.txt", method="HEAD"), root)
    assert missing.status == 404 and not missing.send_body
    closing = files.plan(request("/missing.txt", ("connection", "close")), root)
    assert closing.close
    old = files.plan(request("/a.txt", version=(1, 0)), root)
    assert old.close  # HTTP/1.0 without keep-alive


def test_protocol_responses_are_plain_values() -> None:
    response = error_response(404, "gone")
    assert isinstance(response, Response) and response == error_response(404, "gone")
