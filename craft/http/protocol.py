"""HTTP/1.1 as pure functions (RFC 9110, 9112): parse requests from bytes, build responses.

Nothing here touches a socket or the file system. ``parse_request`` takes the bytes
received so far and returns a request (or an ``HttpError`` carrying the status to answer)
and how many bytes it used, or None while the head is incomplete. ``file_response`` turns
a request for a file, described by a ``FileInfo`` value, into the response to send (200,
206 for one byte range, 304, 412 or 416); ``error_response`` builds every error page.
Finding the file a target names, and listing folders, is ``craft.http.files``'s job.
"""

from __future__ import annotations

import datetime
import email.utils
import html
import re
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

from craft import __version__
from craft.errors import CraftError

SERVER = f"craft/{__version__}"
MAX_REQUEST_LINE = 8192
MAX_HEAD = 16384
MAX_HEADERS = 100
MAX_DISCARDED_BODY = 1 << 20
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
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII | re.IGNORECASE)  # units: any case
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
    def line(self) -> str:
        return f"{self.method} {self.target} HTTP/{self.version[0]}.{self.version[1]}"


def parse_request(data: bytes | bytearray) -> tuple[Request | HttpError, int] | None:
    """The next request in ``data`` and the octets it used; None until its head is whole."""
    start = 0
    while data.startswith(b"\r\n", start):  # RFC 9112 2.2: ignore empty lines before a request
        start += 2
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        line_end = data.find(b"\r\n", start)
        if (line_end < 0 and len(data) - start > MAX_REQUEST_LINE) or line_end - start > MAX_REQUEST_LINE:
            return HttpError(414, "request line too long", close=True), len(data)
        if len(data) - start > MAX_HEAD:
            return HttpError(431, "request head too large", close=True), len(data)
        return None
    used = end + 4
    head = bytes(data[start:end])
    lines = head.split(b"\r\n")
    if len(lines[0]) > MAX_REQUEST_LINE:
        return HttpError(414, "request line too long", close=True), used
    if len(head) > MAX_HEAD or len(lines) - 1 > MAX_HEADERS:
        return HttpError(431, "request head too large", close=True), used
    try:
        request = _parse_head(lines)
    except HttpError as exc:
        return exc, used
    length = request.header("content-length")
    if request.header("transfer-encoding") is not None:
        return HttpError(501, "request bodies with Transfer-Encoding", close=True), used
    if length is not None:
        if not (length.isascii() and length.isdigit()):  # not "²", which int() refuses
            return HttpError(400, "bad Content-Length", close=True), used
        length = _bounded(length)
        if int(length) > MAX_DISCARDED_BODY:
            return HttpError(413, "request body too large", close=True), used
        if len(data) < used + int(length):
            return None  # wait for the body: it is read and discarded
        used += int(length)
    return request, used


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
    body: bytes | FileBody = b""
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
    """GET or HEAD of a located file: 200, 206 for one byte range, 304, or 416."""
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
        span = _range(wanted, size)
        if span is RangeCheck.UNSATISFIABLE:
            return error_response(416, f"range {wanted} is outside {size} octets", head=head,
                                  close=close, extra=(("Content-Range", f"bytes */{size}"),))
        if isinstance(span, tuple):
            offset, length = span[0], span[1] - span[0] + 1
            headers = (*base, ("Content-Length", str(length)),
                       ("Content-Range", f"bytes {span[0]}-{span[1]}/{size}"))
            body: bytes | FileBody = (FileBody(file.path, offset, length) if file.content is None
                                      else file.content[offset:offset + length])
            return Response(206, headers, body, close, not head, length)
    headers = (*base, ("Content-Length", str(size)))
    whole = FileBody(file.path, 0, size) if file.content is None else file.content
    return Response(200, headers, whole, close, not head, size, file.whole)


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


def _range(value: str, size: int) -> tuple[int, int] | RangeCheck:
    """(first, last) for one satisfiable byte range, else why not (RFC 9110 14.1.2)."""
    match = _RANGE.match(value.strip())
    if not match:
        return RangeCheck.IGNORED  # several ranges or another unit: RFC 9110 14.2
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
