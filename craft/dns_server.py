"""The DNS server's sockets: UDP and TCP on one port around ``craft.dns.answer_cache.Authority``.

A thin loop: receive bytes, ask the authority for response bytes, send them. UDP runs in
the calling thread; TCP (RFC 7766: 2-byte length prefix, several queries per connection,
idle timeout) runs one thread per connection, bounded; when every slot is taken, the
connection idle the longest is closed to make room (RFC 7766 6.2.2, as NSD does), so idle
clients can never shut a new query or a transfer out. Observers (printing, capture, the
oracle) see each exchange after it was sent; with none the loop does nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from craft.dns.answer_cache import Authority
from craft.dns.answering import UDP_MIN, error_reply
from craft.dns.constants import Rcode
from craft.errors import CraftError

TCP_LIMIT = 65535
TCP_IDLE = 10.0
MAX_TCP_CONNECTIONS = 256
SHED_WAIT = 2.0  # seconds to wait for a closed idle connection's slot to come free
RECV_SIZE = 65535
UDP_BUFFER = 4 << 20
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One query the server handled and what it sent back (``None``: dropped)."""

    transport: str
    client: tuple[str, int]
    server: tuple[str, int]
    query: bytes
    response: bytes | None
    time: float = 0.0  # when the query arrived (epoch seconds), for captures


@dataclass(frozen=True, slots=True)
class Connection:
    """A TCP connection opening (``opened``) or closing: captures need both ends."""

    opened: bool
    client: tuple[str, int]
    server: tuple[str, int]
    time: float = 0.0


Observer = Callable[[Exchange | Connection], None]


class Stopped(BaseException):
    """Raised from a signal handler to end ``serve_forever`` (interrupting a blocked
    receive, which a wake-up datagram cannot do when SO_REUSEPORT may route it to a
    sibling process). A BaseException, like KeyboardInterrupt, so that no ``except
    Exception`` on the way (the fault guards below, library code) can swallow it."""


class ServerError(CraftError):
    """The server could not start: ``where`` says which address or socket."""


class DnsServer:
    def __init__(
        self,
        authority: Authority,
        host: str = "127.0.0.1",
        port: int = 10053,
        observers: Sequence[Observer] = (),
        tcp_idle: float = TCP_IDLE,
        reuse_port: bool = False,
    ) -> None:
        self.authority = authority
        self.host = host
        self.port = port
        self.observers = list(observers)
        self.tcp_idle = tcp_idle
        self.reuse_port = reuse_port
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self._running = False
        self._slots = threading.BoundedSemaphore(MAX_TCP_CONNECTIONS)
        self._tcp_thread: threading.Thread | None = None
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._conns_lock = threading.Lock()
        # Connections waiting for their next query, and since when: the ones to close first.
        self._idle: dict[socket.socket, float] = {}

    @property
    def address(self) -> tuple[str, int]:
        assert self.udp is not None, "bind() first"
        host, port = self.udp.getsockname()[:2]
        return str(host), int(port)

    def bind(self) -> tuple[str, int]:
        """Open UDP and TCP on the same port (with port 0, the first free pair)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(20):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            for sock in (udp, tcp):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if self.reuse_port:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with contextlib.suppress(OSError):
                # Room for bursts: a full receive buffer is where queries get lost under load.
                udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
            try:
                udp.bind((self.host, self.port))
                port = udp.getsockname()[1]
                tcp.bind((self.host, port))
                tcp.listen(128)
            except OSError as exc:
                udp.close()
                tcp.close()
                if self.port == 0 and exc.errno == 98:
                    continue  # the TCP twin of a random UDP port was taken: draw again
                raise ServerError(f"{self.host}:{self.port}", exc.strerror or str(exc)) from None
            self.udp, self.tcp = udp, tcp
            return self.address
        raise ServerError(f"{self.host}:0", "no free port for both UDP and TCP")

    def serve_forever(self) -> None:
        """Serve until ``stop()`` (or an exception such as KeyboardInterrupt) ends it."""
        if self.udp is None:
            self.bind()
        assert self.udp is not None
        self._running = True
        self._tcp_thread = threading.Thread(target=self._accept_loop, daemon=True, name="tcp")
        self._tcp_thread.start()
        try:
            self._udp_loop(self.udp)
        except Stopped:
            pass
        finally:
            self._running = False
            self._finish_tcp()
            self.close()

    def _udp_loop(self, sock: socket.socket) -> None:
        authority = self.authority
        respond = authority.respond
        recvfrom = sock.recvfrom
        sendto = sock.sendto
        observers = self.observers
        server = self.address
        while self._running:
            try:
                data, client = recvfrom(RECV_SIZE)
            except OSError:
                if not self._running:
                    return
                continue  # e.g. ICMP port unreachable from an earlier reply
            if not self._running:
                return
            if self.authority is not authority:  # swapped by a zone reload
                authority = self.authority
                respond = authority.respond
            if not observers:
                try:
                    response = respond(data, UDP_MIN)
                except Exception as exc:  # a bug answers SERVFAIL; it never stops the server
                    response = self._fault(data, client, exc)
                if response is not None:
                    try:
                        sendto(response, client)
                    except OSError:
                        pass  # the client went away; nothing to tell it
                continue
            # With observers (a capture), a stop signal waits until this exchange is answered
            # and recorded whole: never a query in the file without its response.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            try:
                try:
                    response = respond(data, UDP_MIN)
                except Exception as exc:
                    response = self._fault(data, client, exc)
                if response is not None:
                    try:
                        sendto(response, client)
                    except OSError:
                        pass
                self._observe(Exchange("udp", client[:2], server, data, response, time.time()))
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _accept_loop(self) -> None:
        # Stop signals must reach the main thread, which is blocked in recvfrom: block them
        # here (connection threads inherit this mask) so the kernel never picks this thread.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        assert self.tcp is not None
        listener = self.tcp
        while self._running:
            try:
                conn, client = listener.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False) and not (
                    self._close_idlest() and self._slots.acquire(timeout=SHED_WAIT)):
                conn.close()  # every slot busy with a query: shed load rather than queue it
                continue
            thread = threading.Thread(target=self._serve_tcp, args=(conn, client[:2]), daemon=True)
            with self._conns_lock:
                self._conns[conn] = thread
            thread.start()

    def _close_idlest(self) -> bool:
        """Close the connection that has waited longest for a query (its thread then ends
        and frees its slot); False when none is idle."""
        with self._conns_lock:
            if not self._idle:
                return False
            conn = min(self._idle, key=self._idle.__getitem__)
            del self._idle[conn]
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)  # wakes its thread's recv with end of stream
        return True

    def _serve_tcp(self, conn: socket.socket, client: tuple[str, int]) -> None:
        server = self.address
        self._observe(Connection(True, client, server, time.time()))
        idle = self._idle
        try:
            conn.settimeout(self.tcp_idle)
            while self._running:
                with self._conns_lock:
                    idle[conn] = time.monotonic()
                prefix = _recv_exact(conn, 2)
                with self._conns_lock:
                    idle.pop(conn, None)
                if prefix is None:
                    return
                (length,) = struct.unpack("!H", prefix)
                data = _recv_exact(conn, length)
                if data is None:
                    return
                # A zone transfer's messages are built as they are sent: memory stays flat.
                sent = 0
                try:
                    for response in self.authority.respond_stream(data, client[0]):
                        conn.sendall(struct.pack("!H", len(response)) + response)
                        # After the first message, the rest of a zone transfer.
                        self._observe(Exchange("tcp", client, server, b"" if sent else data,
                                               response, time.time()))
                        sent += 1
                except OSError:
                    raise  # the client went away: close
                except Exception as exc:
                    if sent:  # a transfer broke off: say so and close, the client retries
                        _warn(f"transfer to {client[0]} broken off: {type(exc).__name__}: {exc}")
                        return
                    fault = self._fault(data, client, exc)
                    if fault is not None:
                        conn.sendall(struct.pack("!H", len(fault)) + fault)
                    self._observe(Exchange("tcp", client, server, data, fault, time.time()))
                    sent = 1
                if not sent:  # dropped: the observers still see the query
                    self._observe(Exchange("tcp", client, server, data, None, time.time()))
        except OSError:
            return  # idle timeout or reset: close the connection
        finally:
            with self._conns_lock:
                self._conns.pop(conn, None)
                idle.pop(conn, None)
            conn.close()
            self._slots.release()
            self._observe(Connection(False, client, server, time.time()))

    def _fault(self, data: bytes, client: tuple[str, int], exc: Exception) -> bytes | None:
        """An unexpected error while answering: one line on stderr, SERVFAIL to the client
        (RFC 1035 4.1.1: the server could not process the query), and serving goes on."""
        _warn(f"internal error answering {client[0]}#{client[1]}: {type(exc).__name__}: {exc}; "
              "answered SERVFAIL")
        return error_reply(data, Rcode.SERVFAIL)

    def _observe(self, event: Exchange | Connection) -> None:
        """Hand ``event`` to each observer; one that fails (a closed stdout, a bug) is said
        once on stderr and dropped, and the server goes on answering."""
        for observe in list(self.observers):
            try:
                observe(event)
            except Exception as exc:
                with contextlib.suppress(ValueError):
                    self.observers.remove(observe)
                _warn(f"{getattr(observe, '__name__', type(observe).__name__)} stopped: "
                      f"{type(exc).__name__}: {exc}")

    def _finish_tcp(self, timeout: float = 3.0) -> None:
        """End open TCP connections and let their threads write what they handled: an
        exchange answered just before a stop must still reach the observers (captures)."""
        if self.tcp is not None:
            self.tcp.close()
        with self._conns_lock:
            pending = list(self._conns.items())
        for conn, _ in pending:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for _, thread in pending:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        """Stop from another thread or a signal handler: clear the flag, then wake the
        blocked UDP receive with an empty datagram to ourselves."""
        if not self._running:
            return
        self._running = False
        if self.udp is not None and self.udp.fileno() >= 0:
            host, port = self.address
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as poke:
                poke.sendto(b"", (host, port))

    def disown(self) -> None:
        """In a forked child: close the child's copies of this server's sockets (listeners
        and TCP connections) without shutting them down, so the parent's stay as they are
        and a connection the parent closes is closed for its client. No lock: the fork
        copied none of the other threads."""
        for sock in (self.udp, self.tcp, *list(self._conns)):
            if sock is not None and sock.fileno() >= 0:
                os.close(sock.detach())

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            if sock is not None:
                sock.close()


def _recv_exact(conn: socket.socket, count: int) -> bytes | None:
    """Exactly ``count`` bytes, or None when the peer closes first."""
    chunks = bytearray()
    while len(chunks) < count:
        chunk = conn.recv(count - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _warn(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"craft dns-serve: {text}", file=sys.stderr, flush=True)
