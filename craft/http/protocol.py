"""HTTP/1.1 as pure functions (RFC 9110, 9112): parse requests from bytes, build responses.

Nothing here touches a socket or the file system. ``parse_request`` takes the bytes
received so far and returns a request (or an ``HttpError`` carrying the status to answer)
and how many bytes it used, its content included, or None while it is incomplete;
``parse_head`` and ``read_body`` are its two steps, for a server that answers between them
(100 Continue). ``file_response`` turns a request for a file, described by a ``FileInfo``
value, into the response to send (200, 206 for one byte range or multipart/byteranges for
several, 304, 412 or 416); ``error_response`` builds every error page.
Finding the file a target names, and listing folders, is ``craft.http.files``'s job.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field, replace
from enum import Enum
from urllib.parse import urlsplit

from craft import __version__
from craft.errors import CraftError

SERVER = f"craft/{__version__}"
MAX_REQUEST_LINE = 8192
MAX_HEAD = 16384
MAX_HEADERS = 100
MAX_DISCARDED_BODY = 1 << 20  # request content is read and thrown away, up to this many octets
MAX_RANGES = 16  # byte ranges in one request; more get the whole file (RFC 9110 14.2)
MAX_CHUNK_LINE = 4096  # a chunk-size line with its extensions, or a trailer field line
CHUNKED = -1  # ``Request.body`` of a chunked request: its length is known at its end
ALLOWED = "GET, HEAD"
KNOWN_METHODS = frozenset({"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"})
REASONS = {
    200: "OK", 206: "Partial Content", 301: "Moved Permanently", 304: "Not Modified",
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 505: "HTTP Version Not Supported",
}

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION = re.compile(rb"^HTTP/(\d)\.(\d)$")
_TARGET_CONTROL = re.compile(rb"[\x00-\x20\x7f]")
_RANGE = re.compile(r"^(\d*)[ \t]*-[ \t]*(\d*)\Z", re.ASCII)  # one byte-range-spec
_BLANK_LINES = re.compile(rb"(?:\r?\n)+")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
# chunk-size, then chunk-ext: *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*" + _TCHAR + rb"+(?:[ \t]*=[ \t]*(?:"
                         + _TCHAR + rb"+|" + _QUOTED + rb"))?)*[ \t]*\Z")
_TRAILER_FIELD = re.compile(_TCHAR + rb"+:[\t \x21-\x7e\x80-\xff]*\Z")
# RFC 3986 host (reg-name, IPv4, or [IPv6]) and an optional port; empty is allowed (RFC 9112 3.2)
_HOST = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$")


class HttpError(CraftError):
    """A request that gets an error status; ``close`` when the connection cannot go on."""

    def __init__(self, status: int, detail: str, close: bool = False) -> None:
        super().__init__(f"{status} {REASONS.get(status, '')}", detail)
        self.status = status
        self.detail = detail
        self.close = close


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    version: tuple[int, int]
    headers: tuple[tuple[str, str], ...]
    body: int = 0  # octets of content announced by Content-Length, or CHUNKED

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_list(self, name: str) -> str | None:
        """A list field's lines joined into one list (RFC 9110 5.3), or None when absent."""
        values = [value for key, value in self.headers if key == name]
        return ", ".join(values) if values else None

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header_list("connection") or "").split(",")}
        if self.version >= (1, 1):
            return "close" not in tokens
        return "keep-alive" in tokens

    @property
    def expects_continue(self) -> bool:
        """The client waits for 100 Continue before sending its content (RFC 9110 10.1.1;
        an HTTP/1.0 client's expectation is ignored)."""
        expect = self.header_list("expect")
        return (self.version >= (1, 1) and self.body != 0 and expect is not None
                and expect.strip().lower() == "100-continue")

    @property
    def line(self) -> str:
        return f"{self.method} {self.target} HTTP/{self.version[0]}.{self.version[1]}"


def parse_request(data: bytes | bytearray) -> tuple[Request | HttpError, int] | None:
    """The next request in ``data`` with its content (read and thrown away) and the octets
    it used; None until the head and the content are whole. ``parse_head`` and
    ``read_body`` are its two steps, for a caller that answers between them (100 Continue)."""
    parsed = parse_head(data)
    if parsed is None:
        return None
    request, used = parsed
    if isinstance(request, HttpError):
        return request, used
    state = body_state(request)
    if state is None:
        return request, used
    state_or_error, taken = read_body(data[used:], state)
    if isinstance(state_or_error, HttpError):
        return state_or_error, used + taken
    if not state_or_error.done:
        return None
    return request, used + taken


def parse_head(data: bytes | bytearray) -> tuple[Request | HttpError, int] | None:
    """The next request head in ``data`` and the octets it used (its content, if any, comes
    next: see ``body_state``); None until the head is whole. Lines may end in CRLF or in a
    bare LF (RFC 9112 2.2 lets a recipient accept it; nginx does)."""
    blanks = _BLANK_LINES.match(data)
    start = blanks.end() if blanks else 0  # RFC 9112 2.2: empty lines before a request
    if start > MAX_HEAD:
        return HttpError(400, "empty lines instead of a request", close=True), start
    found = _HEAD_END.search(data, start)
    if found is None:
        line_end = data.find(b"\n", start)
        if (line_end < 0 and len(data) - start > MAX_REQUEST_LINE) or line_end - start > MAX_REQUEST_LINE:
            return HttpError(414, "request line too long", close=True), len(data)
        if len(data) - start > MAX_HEAD:
            return HttpError(431, "request head too large", close=True), len(data)
        return None
    used = found.end()
    head = bytes(data[start:found.start()])
    lines = _LINE_END.split(head)
    if len(lines[0]) > MAX_REQUEST_LINE:
        return HttpError(414, "request line too long", close=True), used
    if len(head) > MAX_HEAD or len(lines) - 1 > MAX_HEADERS:
        return HttpError(431, "request head too large", close=True), used
    try:
        request = _parse_head(lines)
        return _framed(request), used
    except HttpError as exc:
        return exc, used


def _framed(request: Request) -> Request:
    """``request`` with the length of its content, from Transfer-Encoding or Content-Length
    (RFC 9112 6.1-6.3, with nginx's answers to the ambiguous cases); HttpError when the
    framing cannot be trusted, and the connection closes."""
    codings = request.header_list("transfer-encoding")
    length = request.header("content-length")
    if codings is not None:
        if request.version < (1, 1):  # RFC 9112 6.1: faulty framing from an HTTP/1.0 client
            raise HttpError(400, "Transfer-Encoding in an HTTP/1.0 request", close=True)
        if length is not None:  # a smuggling vector: nginx refuses it too
            raise HttpError(400, "both Content-Length and Transfer-Encoding", close=True)
        names = [c.strip().lower() for c in codings.split(",")]
        if names[-1] != "chunked" or names.count("chunked") > 1:
            raise HttpError(400, "chunked is not the final transfer coding, once", close=True)
        if len(names) > 1:
            raise HttpError(501, f"transfer coding {names[0]!r}", close=True)
        return replace(request, body=CHUNKED)
    if length is None:
        return request
    if not (length.isascii() and length.isdigit()):  # not "²", which int() refuses
        raise HttpError(400, "bad Content-Length", close=True)
    if int(_bounded(length)) > MAX_DISCARDED_BODY:
        raise HttpError(413, "request body too large", close=True)
    return replace(request, body=int(_bounded(length)))


@dataclass(frozen=True, slots=True)
class BodyState:
    """How far a request's content has been read (to be thrown away: no method served here
    takes content). ``left`` counts the octets still to skip of a Content-Length body or
    of the current chunk's data; ``phase`` says what comes next in a chunked body."""

    chunked: bool
    left: int = 0
    phase: str = "data"  # "size" line, "data", its "data-end" CRLF, "trailer" lines, "done"
    read: int = 0  # octets of the body so far, chunked framing included

    @property
    def done(self) -> bool:
        return self.phase == "done"


def body_state(request: Request) -> BodyState | None:
    """Where reading ``request``'s content starts; None when it has none."""
    if request.body == CHUNKED:
        return BodyState(chunked=True, phase="size")
    if request.body > 0:
        return BodyState(chunked=False, left=request.body)
    return None


def read_body(data: bytes | bytearray, state: BodyState) -> tuple[BodyState | HttpError, int]:
    """Skip what ``data`` holds of the content ``state`` is reading: the new state (or the
    HttpError that ends the connection) and the octets used. Resumable at any octet, so
    every octet is looked at once however the body arrives (RFC 9112 7.1 for chunks)."""
    at, left, phase = 0, state.left, state.phase
    error: HttpError | None = None
    while phase != "done":
        if phase == "data":
            take = min(left, len(data) - at)
            at, left = at + take, left - take
            if left:
                break
            phase = "data-end" if state.chunked else "done"
        elif phase == "data-end":
            if data[at:at + 1] == b"\n":
                at, phase = at + 1, "size"
            elif data[at:at + 2] == b"\r\n":
                at, phase = at + 2, "size"
            elif data[at:at + 1] in (b"", b"\r") and at + 2 > len(data):
                break
            else:
                error = HttpError(400, "chunk data longer than its size", close=True)
                break
        else:  # a chunk-size line, or a trailer field line
            end = data.find(b"\n", at)
            if end < 0 or end - at > MAX_CHUNK_LINE:
                if end >= 0 or len(data) - at > MAX_CHUNK_LINE:
                    error = HttpError(400, "chunk or trailer line too long", close=True)
                break
            line = bytes(data[at:end]).removesuffix(b"\r")
            at = end + 1
            if phase == "trailer":
                if not line:
                    phase = "done"
                elif not _TRAILER_FIELD.match(line):
                    error = HttpError(400, "malformed trailer field", close=True)
                    break
                continue
            size = _chunk_size(line)
            if size is None:
                error = HttpError(400, "malformed chunk size", close=True)
                break
            if state.read + at + size > MAX_DISCARDED_BODY:
                error = HttpError(413, "request body too large", close=True)
                break
            phase, left = ("trailer", 0) if size == 0 else ("data", size)
        if state.read + at > MAX_DISCARDED_BODY:
            error = HttpError(413, "request body too large", close=True)
            break
    if error is not None:
        return error, at
    return BodyState(state.chunked, left, phase, state.read + at), at


def _chunk_size(line: bytes) -> int | None:
    """A chunk-size line's size, its extensions ignored (RFC 9112 7.1.1); None if malformed."""
    match = _CHUNK_LINE.match(line)
    if match is None:
        return None
    digits = match.group(1).lstrip(b"0")
    if len(digits) > 16:
        return None  # not a 64-bit number (nginx: 400 too); int() stays cheap
    return int(digits or b"0", 16)


def _parse_head(lines: list[bytes]) -> Request:
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not all(parts):
        raise HttpError(400, "malformed request line", close=True)
    method, target, version = parts
    match = _VERSION.match(version)
    if not match:
        raise HttpError(400, "malformed HTTP version", close=True)
    numbers = (int(match.group(1)), int(match.group(2)))
    if numbers[0] != 1:
        raise HttpError(505, f"HTTP/{numbers[0]}.{numbers[1]}", close=True)
    if not _TOKEN.match(method):
        raise HttpError(400, "malformed method", close=True)
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name):  # also rejects obsolete line folding
            raise HttpError(400, "malformed header line", close=True)
        try:
            text = value.strip(b" \t").decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every octet
            raise HttpError(400, "undecodable header", close=True) from None
        if any(c in text for c in "\r\n\x00"):
            raise HttpError(400, "control character in a header", close=True)
        headers.append((name.decode("ascii").lower(), text))
    if _TARGET_CONTROL.search(target):  # a bare LF would reach Location: response splitting
        raise HttpError(400, "control character in the request target", close=True)
    try:
        target_text = target.decode("ascii")
    except UnicodeDecodeError:
        raise HttpError(400, "non-ASCII request target", close=True) from None
    if target_text[:8].lower().startswith(("http://", "https://")):
        try:
            urlsplit(target_text)
        except ValueError:  # "http://[x/": an unclosed IPv6 literal (nginx: 400 too)
            raise HttpError(400, "malformed absolute-form target", close=True) from None
    request = Request(method.decode("ascii"), target_text, numbers, tuple(headers))
    host = request.header("host")
    if numbers >= (1, 1) and host is None:
        raise HttpError(400, "HTTP/1.1 request without Host")
    if host is not None and not _HOST.match(host):  # RFC 9112 3.2: an invalid value is 400
        raise HttpError(400, "invalid Host", close=True)
    names = [name for name, _ in headers]
    if names.count("host") > 1:  # RFC 9112 3.2
        raise HttpError(400, "more than one Host header", close=True)
    if len({value for name, value in headers if name == "content-length"}) > 1:  # RFC 9112 6.3
        raise HttpError(400, "Content-Length headers that disagree", close=True)
    return request


@dataclass(frozen=True, slots=True)
class FileBody:
    path: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | FileBody | tuple[bytes | FileBody, ...] = b""  # a tuple: pieces in order
    close: bool = False
    send_body: bool = True  # False for HEAD and 304: headers say what GET would send
    length: int = field(default=0)
    encoded: bytes = b""  # ``headers`` already encoded, each line ending in CRLF

    def head_bytes(self, date: str) -> bytes:
        start = (f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}\r\n"
                 f"Date: {date}\r\nServer: {SERVER}\r\n"
                 f"Connection: {'close' if self.close else 'keep-alive'}\r\n").encode("latin-1")
        return start + (self.encoded or encode_headers(self.headers)) + b"\r\n"


def encode_headers(headers: tuple[tuple[str, str], ...]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode("latin-1")


def http_date(when: float | None = None) -> str:
    return email.utils.formatdate(when, usegmt=True)


def error_response(status: int, detail: str, *, head: bool = False, close: bool = False,
                   extra: tuple[tuple[str, str], ...] = ()) -> Response:
    reason = REASONS.get(status, "Error")
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{status} {reason}"
            f"</title></head>\n<body><h1>{status} {reason}</h1>\n<p>{html.escape(detail)}</p>"
            f"\n<hr><p>{SERVER}</p></body></html>\n").encode()
    headers = (("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(page))), *extra)
    return Response(status, headers, page, close, not head, len(page))


def path_and_query(target: str) -> tuple[str, str]:
    """A request target's path and query (an absolute-form target's too), fragment dropped."""
    if target[:8].lower().startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.split("#", 1)[0].partition("?")
    return path, query


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What the headers of a file's responses need, computed once per version of the file;
    ``content`` holds the whole file when the caller chose to keep it in memory."""

    path: str
    size: int
    etag: str
    modified: str
    mtime: int
    base: tuple[tuple[str, str], ...]  # Content-Type, Last-Modified, ETag, Accept-Ranges
    whole: bytes  # ``base`` and Content-Length of the whole file, encoded
    version: tuple[int, int, int, int]  # inode, size, mtime and ctime in ns
    content: bytes | None = None


def file_response(request: Request, file: FileInfo) -> Response:
    """GET or HEAD of a located file: 200, 206 (one range, or several as
    multipart/byteranges), 304, 412 or 416."""
    head = request.method == "HEAD"
    close = not request.keep_alive
    size, etag, base = file.size, file.etag, file.base
    if _precondition_failed(request, etag, file.mtime):
        return error_response(412, "a precondition of the request does not hold", head=head,
                              close=close)
    if _not_modified(request, etag, file.mtime):
        return Response(304, base, b"", close, False, 0)
    wanted = request.header("range")
    if wanted is not None and (request.header("if-range") in (None, etag, file.modified)):
        spans = _ranges(wanted, size)
        if spans is RangeCheck.UNSATISFIABLE:
            return error_response(416, f"range {wanted} is outside {size} octets", head=head,
                                  close=close, extra=(("Content-Range", f"bytes */{size}"),))
        if isinstance(spans, list) and len(spans) == 1:
            (first, last), = spans
            length = last - first + 1
            headers = (*base, ("Content-Length", str(length)),
                       ("Content-Range", f"bytes {first}-{last}/{size}"))
            return Response(206, headers, _slice(file, first, length), close, not head, length)
        if isinstance(spans, list):
            return _byteranges(file, spans, head, close)
    headers = (*base, ("Content-Length", str(size)))
    whole = FileBody(file.path, 0, size) if file.content is None else file.content
    return Response(200, headers, whole, close, not head, size, file.whole)


def _slice(file: FileInfo, offset: int, length: int) -> bytes | FileBody:
    if file.content is None:
        return FileBody(file.path, offset, length)
    return file.content[offset:offset + length]


def _byteranges(file: FileInfo, spans: list[tuple[int, int]], head: bool, close: bool) -> Response:
    """206 with a multipart/byteranges body (RFC 9110 14.6): the parts in the order asked,
    each with its Content-Type and Content-Range, as nginx sends them."""
    kind = file.base[0][1]
    # A boundary from the file's version and the ranges: the same request gets the same
    # octets, and a file cannot hold it unless it was made to contain its own checksum.
    digest = hashlib.sha256(f"{file.etag}{spans}".encode()).hexdigest()[:24]
    boundary = f"craft-{digest}"
    pieces: list[bytes | FileBody] = []
    for first, last in spans:
        pieces.append(f"--{boundary}\r\nContent-Type: {kind}\r\nContent-Range: bytes "
                      f"{first}-{last}/{file.size}\r\n\r\n".encode("latin-1"))
        pieces.append(_slice(file, first, last - first + 1))
        pieces.append(b"\r\n")
    pieces.append(f"--{boundary}--\r\n".encode("latin-1"))
    length = sum(len(p) if isinstance(p, bytes) else p.length for p in pieces)
    headers = (("Content-Type", f"multipart/byteranges; boundary={boundary}"), *file.base[1:],
               ("Content-Length", str(length)))
    body: bytes | tuple[bytes | FileBody, ...] = (
        b"".join(p for p in pieces if isinstance(p, bytes)) if file.content is not None
        else tuple(pieces))
    return Response(206, headers, body, close, not head, length)


def _http_time(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # asctime form: HTTP dates are always UTC (RFC 9110 5.6.7)
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _precondition_failed(request: Request, etag: str, mtime: int) -> bool:
    """If-Match (strong comparison) and, without it, If-Unmodified-Since (RFC 9110 13.2.2)."""
    match = request.header_list("if-match")
    if match is not None:
        tags = {t.strip() for t in match.split(",")}
        return "*" not in tags and etag not in tags
    since = request.header("if-unmodified-since")
    if since is not None:
        when = _http_time(since)
        return when is not None and mtime > when
    return False


def _not_modified(request: Request, etag: str, mtime: int) -> bool:
    match = request.header_list("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = request.header("if-modified-since")
    if since is not None:
        when = _http_time(since)
        return when is not None and mtime <= when
    return False


def _bounded(digits: str) -> str:
    """Decimal digits as a number int() takes: leading zeros dropped, and anything over 18
    digits (int() refuses 4,300) taken as 10**18, larger than any file."""
    if not digits:
        return digits
    digits = digits.lstrip("0") or "0"
    return str(10**18) if len(digits) > 18 else digits


class RangeCheck(Enum):
    """What a Range header gets when it does not name one satisfiable byte range."""

    IGNORED = "ignored"  # several ranges, another unit, a bad form: the whole file, 200
    UNSATISFIABLE = "unsatisfiable"  # 416 with Content-Range: bytes */size


def _ranges(value: str, size: int) -> list[tuple[int, int]] | RangeCheck:
    """The satisfiable (first, last) byte ranges of a Range value, in the order asked, or
    why there are none to send (RFC 9110 14.1.2).

    The rule against abuse (RFC 9110 14.2): more than MAX_RANGES ranges, or ranges whose
    lengths add up to more than the file (they overlap or repeat: nginx's rule), get the
    whole file. A range that is not valid (not "bytes=", a last before its first, not
    numbers) makes the whole field ignored, as the RFC allows; nginx answers 416 instead."""
    unit, equals, specs = value.strip().partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return RangeCheck.IGNORED
    wanted = [spec.strip() for spec in specs.split(",") if spec.strip()]  # empty elements skipped
    if not wanted or len(wanted) > MAX_RANGES:
        return RangeCheck.IGNORED
    spans: list[tuple[int, int]] = []
    for spec in wanted:
        span = _range(spec, size)
        if span is RangeCheck.IGNORED:
            return span
        if isinstance(span, tuple):
            spans.append(span)
    if not spans:
        return RangeCheck.UNSATISFIABLE
    if len(spans) > 1 and sum(last - first + 1 for first, last in spans) > size:
        return RangeCheck.IGNORED
    return spans


def _range(spec: str, size: int) -> tuple[int, int] | RangeCheck:
    """(first, last) for one satisfiable byte-range-spec, else why not."""
    match = _RANGE.match(spec)
    if not match:
        return RangeCheck.IGNORED
    first, last = (_bounded(n) for n in match.groups())
    if not first and not last:
        return RangeCheck.IGNORED
    if not first:
        suffix = int(last)
        if suffix == 0:
            return RangeCheck.UNSATISFIABLE
        if size == 0:
            return RangeCheck.IGNORED  # RFC 9110 14.1.1: the whole (empty) file is the range
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return RangeCheck.IGNORED
    if start >= size:
        return RangeCheck.UNSATISFIABLE
    return start, end
