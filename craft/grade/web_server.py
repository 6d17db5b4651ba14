"""The lab's Task 1 rubric: the web server's GET, HEAD and 404, then robustness rows.

``parse_response`` and the ``judge_*`` functions are pure, over the octets that came back;
``Target`` sends the requests (through the sandbox's ``Net``). A failed row shows the raw
response.
"""

from __future__ import annotations

import email.utils
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from craft.grade.rubric import Check, Row, RowSpec, Rubric
from craft.grade.sandbox import Deadline, Net, SandboxError

COMMAND = "web-server"
ROWS = (
    RowSpec("get", "GET of the page: 200 and the file's octets", 2),
    RowSpec("headers", "the six headers (Connection, Date, Server, Last-Modified, "
            "Content-Length, Content-Type)", 2),
    RowSpec("content-length", "Content-Length equals the body", 2),
    RowSpec("date", "Date is an HTTP-date in GMT, now", 1),
    RowSpec("last-modified", "Last-Modified is the file's time", 1),
    RowSpec("content-type", "Content-Type text/html for the page", 1),
    RowSpec("crlf", "status line and headers end in CRLF", 1),
    RowSpec("head", "HEAD: the same headers, no body", 2),
    RowSpec("not-found", "a missing file: 404 with a body", 2),
    RowSpec("port", "port in the lab's range", 1),
    RowSpec("outside", "a path outside the folder is not served", 1, False),
    RowSpec("malformed", "a malformed request: no 200, and still serving", 1, False),
    RowSpec("several", "several clients at once", 1, False),
    RowSpec("cut", "a connection closed mid-request: still serving", 1, False),
)
SIX = ("Connection", "Date", "Server", "Last-Modified", "Content-Length", "Content-Type")
SHOWN = 800  # characters of a raw response shown in a failed row
DATE_SLACK = 120.0  # seconds a Date may be off (a local time labelled GMT is hours off)


@dataclass(frozen=True, slots=True)
class Response:
    raw: bytes
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    crlf: bool  # every line of the head ended in CRLF
    complete: bool  # the head ended (a blank line)

    @property
    def announced_body(self) -> bytes:
        """The body as far as Content-Length goes (octets after it are that row's fault)."""
        length = self.header("Content-Length")
        if length is not None and length.isdigit() and int(length) <= len(self.body):
            return self.body[: int(length)]
        return self.body

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def parse_response(raw: bytes) -> Response:
    """Read a status line, headers and body leniently: LF-only lines are noted, not refused."""
    head_end = raw.find(b"\r\n\r\n")
    sep = 4
    if head_end < 0:
        head_end, sep = raw.find(b"\n\n"), 2
    complete = head_end >= 0
    head = raw[: head_end if complete else len(raw)]
    body = raw[head_end + sep :] if complete else b""
    lines = head.split(b"\n")
    crlf = complete and sep == 4 and all(line.endswith(b"\r") for line in lines[:-1])
    text = [line.rstrip(b"\r").decode("latin-1") for line in lines]
    status = None
    parts = text[0].split(" ", 2) if text else []
    if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isdigit():
        status = int(parts[1])
    headers = []
    for line in text[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return Response(raw, status, tuple(headers), body, crlf, complete)


def raw_text(raw: bytes) -> str:
    """A response as a TA would want to read it: CR and LF visible, long bodies cut."""
    if not raw:
        return "(nothing: the connection closed without a response)"
    text = raw.decode("latin-1").replace("\r", "\\r").replace("\n", "\\n\n")
    cut = f"\n… ({len(raw)} octets in all)" if len(text) > SHOWN else ""
    return "raw response:\n" + text[:SHOWN].rstrip("\n") + cut


def _fail(key: str, detail: str, response: Response | None) -> Check:
    raw = raw_text(response.raw) if response is not None else "(no response)"
    return Check(key, False, f"{detail}\n{raw}")


def judge_get(page: str, content: bytes, mtime: float, response: Response, now: float) -> list[Check]:
    checks = []
    ok = response.status == 200 and response.announced_body == content
    checks.append(Check("get", True) if ok else _fail(
        "get", f"GET /{page}: expected 200 and the file's {len(content)} octets, got status "
        f"{response.status} and {len(response.announced_body)} octets", response))
    checks.extend(judge_headers(page, response))
    length = response.header("Content-Length")
    ok = length is not None and length.isdigit() and int(length) == len(response.body)
    checks.append(Check("content-length", True) if ok else _fail(
        "content-length", f"expected Content-Length {len(response.body)} (the body's octets), "
        f"got {length}", response))
    checks.append(judge_date(response, now))
    modified = response.header("Last-Modified")
    stamp = _http_time(modified)
    ok = stamp is not None and int(stamp) == int(mtime)
    checks.append(Check("last-modified", True) if ok else _fail(
        "last-modified", f"expected Last-Modified {email.utils.formatdate(mtime, usegmt=True)}"
        f", got {modified}", response))
    ctype = response.header("Content-Type") or ""
    ok = ctype.split(";")[0].strip().lower() == "text/html"
    checks.append(Check("content-type", True) if ok else _fail(
        "content-type", f"expected Content-Type text/html, got {ctype or None}", response))
    checks.append(Check("crlf", True) if response.crlf else _fail(
        "crlf", "expected every line of the head to end in CR LF (\\r\\n)", response))
    return checks


def judge_headers(page: str, response: Response) -> list[Check]:
    missing = [h for h in SIX if response.header(h) is None]
    if missing:
        return [_fail("headers", f"GET /{page}: missing {', '.join(missing)}", response)]
    return [Check("headers", True)]


def judge_date(response: Response, now: float) -> Check:
    value = response.header("Date")
    stamp = _http_time(value)
    if value is None or stamp is None or not value.endswith("GMT"):
        return _fail("date", f"expected an HTTP-date such as "
                     f"{email.utils.formatdate(now, usegmt=True)}, got {value}", response)
    if abs(stamp - now) > DATE_SLACK:
        return _fail("date", f"Date {value} is {abs(stamp - now) / 3600:.1f} h from now "
                     f"(local time labelled GMT?)", response)
    return Check("date", True)


def _http_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def judge_head(get: Response, head: Response) -> Check:
    wrong = []
    if head.status != 200:
        wrong.append(f"status {head.status}")
    # the same headers as GET: one missing from both is the headers row's fault, not HEAD's
    missing = [h for h in SIX if head.header(h) is None and get.header(h) is not None]
    if missing:
        wrong.append("missing " + ", ".join(missing) + " (GET had them)")
    if head.body:
        wrong.append(f"a body of {len(head.body)} octets")
    same = ("Content-Length", "Content-Type", "Last-Modified")
    differ = [h for h in same if get.header(h) is not None and head.header(h) != get.header(h)]
    if differ:
        wrong.append("differs from GET in " + ", ".join(differ))
    if wrong:
        return _fail("head", "HEAD: " + "; ".join(wrong), head)
    return Check("head", True)


def judge_not_found(response: Response) -> Check:
    if response.status == 404 and response.body:
        return Check("not-found", True)
    return _fail("not-found", f"expected 404 with a body, got status {response.status} and "
                 f"{len(response.body)} octets", response)


# ---- asking ----


@dataclass
class Target:
    host: str
    port: int
    net: Net
    deadline: Deadline
    root: Path

    def connect(self) -> socket.socket:
        try:
            return self.net.connect((self.host, self.port), self.deadline.step())
        except ConnectionRefusedError:
            raise SandboxError(f"{self.host}:{self.port}", "nothing listens there (connection refused)") from None

    def request(self, data: bytes) -> Response:
        with self.connect() as sock:
            sock.sendall(data)
            return parse_response(self.read(sock))

    def read(self, sock: socket.socket) -> bytes:
        """Until the server closes, or the body its Content-Length announces has come, or
        a step's time has passed."""
        got = bytearray()
        end = time.monotonic() + self.deadline.step()
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            got += chunk
            if len(got) > 4 * 1024 * 1024:
                break
        return bytes(got)

    def get(self, method: str, path: str) -> Response:
        return self.request(f"{method} /{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                            f"Connection: close\r\n\r\n".encode())


def pick_page(root: Path) -> str | None:
    if (root / "HelloWorld.html").is_file():
        return "HelloWorld.html"
    pages = sorted(p.name for p in root.glob("*.html") if p.is_file())
    return pages[0] if pages else None


def grade(target: Target, rubric: Rubric) -> list[Row]:
    page = pick_page(target.root)
    made = None
    if page is None:  # a folder without a page: lend it one for the grade
        made = target.root / "craft-grade.html"
        made.write_text("<html><body>craft grade</body></html>\n")
        page = made.name
    try:
        return rubric.rows(COMMAND, ROWS, _checks(target, rubric, page))
    finally:
        if made is not None:
            made.unlink(missing_ok=True)


def _checks(target: Target, rubric: Rubric, page: str) -> list[Check]:
    path = target.root / page
    content, mtime = path.read_bytes(), os.stat(path).st_mtime
    get = target.get("GET", page)
    checks = judge_get(page, content, mtime, get, time.time())
    checks.append(judge_head(get, target.get("HEAD", page)))
    checks.append(judge_not_found(target.get("GET", "no-such-file-craft-grade.html")))
    checks.append(rubric.port_check(target.port))
    checks.append(_outside(target))
    checks.append(_after(target, page, "malformed", b"HELLO THERE\r\n\r\n"))
    checks.append(_several(target, page, content))
    checks.append(_after(target, page, "cut", f"GET /{page} HT".encode()))
    return checks


def _outside(target: Target) -> Check:
    secret = Path("/etc/passwd")
    try:
        response = target.get("GET", "../../../../../../../../etc/passwd")
    except OSError as exc:
        return Check("outside", True, f"connection ended: {exc}")
    leaked = response.status == 200 and secret.is_file() and response.body == secret.read_bytes()
    if leaked:
        return _fail("outside", "GET /../../etc/passwd served a file outside the folder", response)
    return Check("outside", True)


def _after(target: Target, page: str, key: str, data: bytes) -> Check:
    """Send ``data`` (a malformed or cut request), then a good GET must still succeed."""
    response = None
    try:
        with target.connect() as sock:
            sock.sendall(data)
            if key == "malformed":
                response = parse_response(target.read(sock))
    except OSError:
        pass
    if response is not None and response.status == 200:
        return _fail(key, "answered 200 to a malformed request", response)
    try:
        again = target.get("GET", page)
    except (OSError, SandboxError) as exc:
        return Check(key, False, f"a GET afterwards failed: {exc}")
    if again.status != 200:
        return _fail(key, f"a GET afterwards got status {again.status}", again)
    return Check(key, True)


def _several(target: Target, page: str, content: bytes) -> Check:
    """Two connections open at once; the second asks first. A server that serves one
    connection to its end before accepting the next never answers it."""
    try:
        first, second = target.connect(), target.connect()
    except (OSError, SandboxError) as exc:
        return Check("several", False, f"could not open two connections: {exc}")
    request = (f"GET /{page} HTTP/1.1\r\nHost: {target.host}\r\nConnection: close\r\n\r\n").encode()
    got: dict[str, Response] = {}

    def ask(name: str, sock: socket.socket, delay: float) -> None:
        time.sleep(delay)
        try:
            sock.sendall(request)
            got[name] = parse_response(target.read(sock))
        except OSError:
            pass

    threads = [threading.Thread(target=ask, args=("second", second, 0.0)),
               threading.Thread(target=ask, args=("first", first, 0.5))]
    try:
        threads[0].start()
        threads[0].join()  # the second connection's answer must come before the first asks
        threads[1].start()
        threads[1].join()
    finally:
        first.close()
        second.close()
    for name in ("second", "first"):
        response = got.get(name)
        if response is None or response.status != 200 or response.announced_body != content:
            return _fail("several", f"the {name} connection (of two open at once) got no "
                         f"whole answer", response)
    return Check("several", True)
