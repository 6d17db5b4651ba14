"""The web server's sockets: one non-blocking ``selectors`` loop around ``craft.http``.

Every connection has an input buffer and a queue of outgoing pieces (header bytes, body
bytes, or a file slice sent with ``os.sendfile``), so a slow download never blocks other
clients and files of any size stream without being read into memory (small ones are sent
from ``FileCache``'s memory, head and body in one send). Pipelined requests
are answered in order. Connections idle too long, or too slow to send a request head, are
closed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from craft.errors import warn
from craft.http.files import FileCache
from craft.http.protocol import (
    BodyState,
    FileBody,
    HttpError,
    Request,
    Response,
    body_state,
    error_response,
    http_date,
    parse_head,
    read_body,
)
from craft.transport import family

PROGRAM = "craft web-serve"  # how its warnings on stderr begin
IDLE_TIMEOUT = 15.0
HEAD_TIMEOUT = 10.0
SEND_TIMEOUT = 60.0  # no octet taken by the client for this long: drop it (nginx's send_timeout)
MAX_QUEUED = 8  # responses waiting to be sent before more pipelined requests are read
MAX_CONNECTIONS = 1024
RECV_SIZE = 65536
SENDFILE_CHUNK = 1 << 20
SMALL_RESPONSE = 64 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

AccessLog = Callable[[str, Request | None, int, int], None]


class _Connection:
    __slots__ = ("address", "body", "closing", "files", "inbuf", "last", "outq", "sent_at",
                 "sock", "started", "waiting")

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address
        self.inbuf = bytearray()
        self.outq: deque[bytes | list[int]] = deque()  # bytes, or [fd, offset, left, closes]
        self.files: list[int] = []
        self.closing = False
        self.last = time.monotonic()
        self.sent_at = self.last  # when the client last took octets of a response
        self.started: float | None = None  # when the current, unfinished head began
        self.body: BodyState | None = None  # content being read and thrown away
        self.waiting: tuple[Request, Response] | None = None  # sent once ``body`` is done


class WebServer:
    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 10080,
                 log: AccessLog | None = None, idle_timeout: float = IDLE_TIMEOUT,
                 head_timeout: float = HEAD_TIMEOUT, send_timeout: float = SEND_TIMEOUT) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise OSError(f"{root}: not a folder")
        self.files = FileCache(self.root)
        self.host, self.port = host, port
        self.log = log
        self.idle_timeout, self.head_timeout = idle_timeout, head_timeout
        self.send_timeout = send_timeout
        self.sock: socket.socket | None = None
        self._running = False
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._date = ("", 0)

    @property
    def address(self) -> tuple[str, int]:
        assert self.sock is not None
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def bind(self) -> tuple[str, int]:
        sock = socket.socket(family(self.host), socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(512)
        sock.setblocking(False)
        self.sock = sock
        return self.address

    def stop(self) -> None:
        self._running = False
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def serve_forever(self) -> None:
        if self.sock is None:
            self.bind()
        assert self.sock is not None
        sel = self._selector
        sel.register(self.sock, selectors.EVENT_READ, None)
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._running = True
        conns: dict[int, _Connection] = {}
        try:
            while self._running:
                for key, events in sel.select(timeout=1.0):
                    if key.data == "wake":
                        self._wake_r.recv(64)
                    elif key.data is None:
                        self._accept(conns)
                    else:
                        conn = key.data
                        try:
                            self._serve(conn, events)
                        except Exception as exc:  # a bug costs one connection, never the server
                            self._fault(conn, exc)
                        if conn.sock.fileno() < 0:
                            conns.pop(id(conn), None)
                self._expire(conns)
        finally:
            for conn in list(conns.values()):
                self._close(conn)
            sel.close()
            self.sock.close()
            self._wake_r.close()
            self._wake_w.close()

    def _serve(self, conn: _Connection, events: int) -> None:
        if events & selectors.EVENT_READ:
            self._read(conn)
        if events & selectors.EVENT_WRITE and conn.sock.fileno() >= 0:
            self._write(conn)
            if not conn.outq and conn.inbuf and conn.sock.fileno() >= 0:
                self._parse(conn)  # pipelined requests held back while responses queued
        if conn.sock.fileno() >= 0:
            self._rearm(conn)

    def _fault(self, conn: _Connection, exc: Exception) -> None:
        """An unexpected error while serving ``conn``: say so on stderr in one line, send a
        500 if nothing of a response has gone yet, and close that connection alone."""
        warn(PROGRAM, f"internal error serving {conn.address}: {type(exc).__name__}: {exc}; "
                      "connection closed")
        if conn.sock.fileno() >= 0 and not conn.outq:
            page = error_response(500, "internal error", close=True)
            body = page.body if isinstance(page.body, bytes) else b""
            with contextlib.suppress(OSError):
                conn.sock.send(page.head_bytes(self._now()) + body)
        self._close(conn)

    def _accept(self, conns: dict[int, _Connection]) -> None:
        assert self.sock is not None
        for _ in range(64):
            try:
                sock, address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. out of file descriptors: the client retries later
            if len(conns) >= MAX_CONNECTIONS:
                sock.close()
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(sock, str(address[0]))
            conns[id(conn)] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            if not conn.outq:
                self._close(conn)
            else:
                conn.closing = True
            return
        conn.last = time.monotonic()
        if conn.closing:
            return  # after a Connection: close response, further requests are ignored
        conn.inbuf += data
        if conn.started is None and conn.body is None:
            conn.started = conn.last
        self._parse(conn)

    def _parse(self, conn: _Connection) -> None:
        """Answer the whole requests in ``conn.inbuf``, in order, while few enough responses
        wait to be sent (a client that pipelines and never reads holds nothing more). A
        request's content is read and thrown away before its response goes, so the next
        request is read from where it starts."""
        while conn.inbuf and not conn.closing and len(conn.outq) < MAX_QUEUED:
            if conn.body is not None:
                if not self._skip_body(conn):
                    return
                continue
            parsed = parse_head(conn.inbuf)
            if parsed is None:
                return
            request, used = parsed
            # An error to a HEAD carries no body; only the first octets are looked at.
            head = isinstance(request, HttpError) and conn.inbuf[:64].lstrip(b"\r\n").startswith(b"HEAD ")
            del conn.inbuf[:used]
            conn.started = time.monotonic() if conn.inbuf else None
            if isinstance(request, HttpError):
                response = error_response(request.status, request.detail, head=head, close=True)
                self._queue(conn, response, None)
                continue
            response = self._plan(request)
            state = body_state(request)
            if state is None:
                self._queue(conn, response, request)
                continue
            conn.started = None  # the head is whole: the idle timeout watches the content
            if request.expects_continue and not conn.inbuf:
                if response.status >= 400:
                    # The final status is known before the content: say it now and close,
                    # so the content the client holds back is never needed (RFC 9110 10.1.1).
                    self._queue(conn, replace(response, close=True), request)
                    return
                conn.outq.append(CONTINUE)
                self._write(conn)
            conn.body, conn.waiting = state, (request, response)

    def _skip_body(self, conn: _Connection) -> bool:
        """Read what has come of the content being thrown away; True once it is whole and
        the response it waited for is queued (or its framing failed: 400, 413)."""
        assert conn.body is not None and conn.waiting is not None
        state, used = read_body(conn.inbuf, conn.body)
        del conn.inbuf[:used]
        request, response = conn.waiting
        if isinstance(state, HttpError):
            conn.body = conn.waiting = None
            page = error_response(state.status, state.detail, head=request.method == "HEAD",
                                  close=True)
            self._queue(conn, page, request)
            return True
        if not state.done:
            conn.body = state
            return False
        conn.body = conn.waiting = None
        conn.started = time.monotonic() if conn.inbuf else None
        self._queue(conn, response, request)
        return True

    def _plan(self, request: Request) -> Response:
        try:
            return self.files.plan(request)
        except OSError:
            return error_response(500, "the file could not be read", close=True)

    def _now(self) -> str:
        second = int(time.time())
        if self._date[1] != second:
            self._date = (http_date(second), second)
        return self._date[0]

    def _queue(self, conn: _Connection, response: Response, request: Request | None) -> None:
        head = response.head_bytes(self._now())
        sent = 0
        body = response.body
        if response.send_body and isinstance(body, bytes) and len(body) <= SMALL_RESPONSE:
            conn.outq.append(head + body)  # one send, one segment for a small response
            sent = response.length
        elif response.send_body:
            pieces = body if isinstance(body, tuple) else (body,)
            slices = [p for p in pieces if isinstance(p, FileBody)]
            fd = -1
            if slices:
                try:
                    fd = os.open(slices[0].path, os.O_RDONLY)  # one file per response
                except OSError:
                    self._queue(conn, error_response(500, "file vanished", close=True), request)
                    return
                conn.files.append(fd)
            conn.outq.append(head)
            for piece in pieces:
                if isinstance(piece, FileBody):
                    # the last slice of the file closes it: [fd, offset, left, closes]
                    conn.outq.append([fd, piece.offset, piece.length, piece is slices[-1]])
                elif piece:
                    conn.outq.append(piece)
            sent = response.length
        else:
            conn.outq.append(head)
        if response.close:
            conn.closing = True
        if self.log is not None:
            try:
                self.log(conn.address, request, response.status, sent)
            except Exception as exc:  # e.g. stdout closed (`| head`): stop logging, keep serving
                self.log = None
                warn(PROGRAM, f"access log stopped: {type(exc).__name__}: {exc}")
        self._write(conn)

    def _write(self, conn: _Connection) -> None:
        sock = conn.sock
        while conn.outq:
            piece = conn.outq[0]
            try:
                if isinstance(piece, bytes):
                    sent = sock.send(piece)
                    conn.sent_at = time.monotonic()
                    if sent < len(piece):
                        conn.outq[0] = piece[sent:]
                        return
                    conn.outq.popleft()
                else:
                    fd, offset, remaining = piece[:3]
                    if remaining > 0:
                        sent = os.sendfile(sock.fileno(), fd, offset, min(remaining, SENDFILE_CHUNK))
                        if sent == 0:  # the file shrank under us: stop this connection
                            self._close(conn)
                            return
                        conn.sent_at = time.monotonic()
                        piece[1], piece[2] = offset + sent, remaining - sent
                    if piece[2] > 0:
                        continue
                    conn.outq.popleft()
                    if piece[3]:
                        os.close(fd)
                        conn.files.remove(fd)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close(conn)
                return
            conn.last = time.monotonic()
        if conn.closing:
            self._close(conn)

    def _rearm(self, conn: _Connection) -> None:
        # Read only when nothing waits to be sent: a closed input is always readable (the
        # loop would spin) and a client that does not read gets no more work done for it.
        if conn.outq:
            events = selectors.EVENT_WRITE
        elif conn.closing:
            return
        else:
            events = selectors.EVENT_READ
        try:
            if self._selector.get_key(conn.sock).events != events:
                self._selector.modify(conn.sock, events, conn)
        except (KeyError, ValueError):
            pass

    def _expire(self, conns: dict[int, _Connection]) -> None:
        now = time.monotonic()
        for conn in list(conns.values()):
            if conn.sock.fileno() < 0:
                conns.pop(id(conn), None)
            elif (conn.started is not None and not conn.outq
                  and now - max(conn.started, conn.sent_at) > self.head_timeout):
                # a head still unfinished: answer 408-style by closing (slowloris guard)
                self._close(conn)
                conns.pop(id(conn), None)
            elif conn.outq and now - conn.sent_at > self.send_timeout:
                self._close(conn)  # the client stopped taking its response
                conns.pop(id(conn), None)
            elif not conn.outq and now - conn.last > self.idle_timeout:
                self._close(conn)
                conns.pop(id(conn), None)

    def _close(self, conn: _Connection) -> None:
        if conn.sock.fileno() >= 0:
            try:
                self._selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
            conn.sock.close()
        for fd in conn.files:
            os.close(fd)
        conn.files.clear()
        conn.outq.clear()
