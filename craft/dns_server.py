"""The DNS server's sockets: UDP and TCP on one port around ``craft.dns.answer_cache.Authority``.

A thin loop: receive bytes, ask the authority for response bytes, send them. UDP runs in
the calling thread; TCP (RFC 7766: 2-byte length prefix, several queries per connection,
idle timeout) runs one thread per connection, bounded; when every slot is taken, the
connection idle the longest is closed to make room (RFC 7766 6.2.2, as NSD does), so idle
clients can never shut a new query or a transfer out. Observers (printing, capture, the
oracle) see each exchange after it was sent; with none the loop does nothing else.
Sockets can be ``shared`` by several processes (``dns-serve --workers``); such a server can
``retire``, leaving them to the others without losing a query.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from craft.dns.answer_cache import Authority
from craft.dns.answering import UDP_MIN, error_reply
from craft.dns.constants import Rcode
from craft.dns.edns import ExtendedError
from craft.dns.server_edns import FAULT_TEXT, OTHER, with_ede
from craft.errors import CraftError, warn
from craft.stops import Stopped
from craft.transport import RECV_SIZE, family, framed, recv_framed

PROGRAM = "craft dns-serve"  # how its warnings on stderr begin
TCP_LIMIT = 65535
TCP_IDLE = 10.0
MAX_TCP_CONNECTIONS = 256
SHED_WAIT = 2.0  # seconds to wait for a closed idle connection's slot to come free
RETIRE_WAIT = 60.0  # seconds a retiring server lets its TCP exchanges (transfers too) finish
SHARED_POLL = 500  # ms a server sharing its UDP socket waits for a datagram between flag looks
UDP_BUFFER = 4 << 20


@dataclass(frozen=True, slots=True)
class Exchange:
    """One query the server handled and what it sent back (``None``: dropped)."""

    transport: str
    client: tuple[str, int]
    server: tuple[str, int]
    query: bytes
    response: bytes | None
    time: float = 0.0  # when the query arrived (epoch seconds), for captures
    answered: float = 0.0  # when the response went out (0: at ``time``)


@dataclass(frozen=True, slots=True)
class Connection:
    """A TCP connection opening (``opened``) or closing: captures need both ends."""

    opened: bool
    client: tuple[str, int]
    server: tuple[str, int]
    time: float = 0.0


Observer = Callable[[Exchange | Connection], None]


class StopPolicy:
    """How the loops keep a stop from cutting an exchange in two. This one does nothing: a
    server run in a thread and ended with ``stop()`` needs nothing more. The process that
    owns the signals supplies its own (``craft.dns_service.SignalStops``)."""

    def hold(self) -> AbstractContextManager[object]:
        """Around one exchange with observers: a stop waits until it is answered and
        recorded whole (never a query in a capture without its response)."""
        return contextlib.nullcontext()

    def deflect(self) -> None:
        """Called first in each thread the server starts, to keep stops off it."""


class ServerError(CraftError):
    """The server could not start: ``where`` says on which address."""


class DnsServer:
    def __init__(
        self,
        authority: Authority,
        host: str = "127.0.0.1",
        port: int = 10053,
        observers: Sequence[Observer] = (),
        tcp_idle: float = TCP_IDLE,
        stops: StopPolicy | None = None,
        v6only: bool | None = None,
    ) -> None:
        self.authority = authority
        self.v6only = v6only  # IPV6_V6ONLY for an IPv6 address; None: the system's default
        self.host = host
        self.port = port
        self.observers = list(observers)
        self.tcp_idle = tcp_idle
        self.stops = stops if stops is not None else StopPolicy()
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self._running = False
        self._stop_asked = False
        # Retiring (``retire``): take no new query, but answer the one in hand.
        self._retiring = False
        # Sockets read by several processes (``craft.dns_supervisor``): never block in a
        # receive, which no flag could end without a query lost to it.
        self.shared = False
        self._bound: tuple[str, int] | None = None
        self._slots = threading.BoundedSemaphore(MAX_TCP_CONNECTIONS)
        self._tcp_thread: threading.Thread | None = None
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._conns_lock = threading.Lock()
        # Connections waiting for their next query, and since when: the ones to close first.
        self._idle: dict[socket.socket, float] = {}
        self._fresh: set[socket.socket] = set()  # accepted, no query read yet

    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (kept from ``bind``: still known once it has stopped)."""
        assert self._bound is not None, "bind() first"
        return self._bound

    def bind(self) -> tuple[str, int]:
        """Open UDP and TCP on the same port (with port 0, the first free pair)."""
        af = family(self.host)
        for _ in range(20):
            udp = socket.socket(af, socket.SOCK_DGRAM)
            tcp = socket.socket(af, socket.SOCK_STREAM)
            for sock in (udp, tcp):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if self.v6only is not None and af == socket.AF_INET6:
                    with contextlib.suppress(OSError):  # where the system lets us choose
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(self.v6only))
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
                raise ServerError(f"cannot listen on {self.host}:{self.port}", exc.strerror or str(exc)) from None
            self.udp, self.tcp = udp, tcp
            host, port = udp.getsockname()[:2]
            self._bound = (str(host), int(port))
            return self._bound
        raise ServerError(f"cannot listen on {self.host}:0", "no free port for both UDP and TCP")

    def serve_forever(self) -> None:
        """Serve until ``stop()`` (or an exception such as KeyboardInterrupt) ends it."""
        if self.udp is None:
            self.bind()
        assert self.udp is not None
        # A stop() or retire() that came before the loop started holds.
        self._running = not (self._stop_asked or self._retiring)
        self._tcp_thread = threading.Thread(target=self._accept_loop, daemon=True, name="tcp")
        self._tcp_thread.start()
        try:
            self._udp_loop(self.udp)
        except Stopped:
            pass
        finally:
            self._running = False
            if self._retiring and not self._stop_asked:
                self._drain_tcp()
            else:
                self._finish_tcp()
            self.close()

    def _udp_loop(self, sock: socket.socket) -> None:
        authority = self.authority
        respond = authority.respond
        recvfrom = self._shared_receive(sock) if self.shared else sock.recvfrom
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
            if not self._running and not self._retiring:
                return  # a stop; a retiring server answers what it took, then leaves
            if not data:
                # No DNS message is empty: a stop's wake-up, which a worker reading the same
                # socket may have taken instead of its sibling (no capture records it).
                continue
            if self.authority is not authority:  # swapped by a zone reload
                authority = self.authority
                respond = authority.respond
            if not observers:
                try:
                    response = respond(data, UDP_MIN, client[0])
                except Exception as exc:  # a bug answers SERVFAIL; it never stops the server
                    response = self._fault(data, client, exc)
                if response is not None:
                    try:
                        sendto(response, client)
                    except OSError:
                        pass  # the client went away; nothing to tell it
                continue
            # With observers (a capture), a stop waits until this exchange is answered and
            # recorded whole: never a query in the file without its response. It is recorded
            # before the response goes out, so that nothing the client does next (a TCP
            # retry, say) can reach the capture ahead of it.
            arrived = time.time()
            with self.stops.hold():
                try:
                    response = respond(data, UDP_MIN, client[0])
                except Exception as exc:
                    response = self._fault(data, client, exc)
                self._observe(Exchange("udp", client[:2], server, data, response, arrived,
                                       time.time()))
                if response is not None:
                    try:
                        sendto(response, client)
                    except OSError:
                        pass

    def _shared_receive(self, sock: socket.socket) -> Callable[[int], tuple[bytes, Any]]:
        """``recvfrom`` for a UDP socket other processes read too: take a datagram only when
        one is there (under load, one call each); else wait for one, at most
        ``SHARED_POLL``, and raise BlockingIOError so that the loop looks at its flags."""
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        recvfrom, poll, dontwait = sock.recvfrom, poller.poll, socket.MSG_DONTWAIT

        def receive(size: int) -> tuple[bytes, Any]:
            try:
                return recvfrom(size, dontwait)
            except BlockingIOError:
                poll(SHARED_POLL)  # another process may take the datagram that woke this
                raise

        return receive

    def _accept_loop(self) -> None:
        self.stops.deflect()  # connection threads start from this one
        assert self.tcp is not None
        listener = self.tcp
        while self._running:
            try:
                conn, client = listener.accept()
            except TimeoutError:
                continue  # a listener shared with other processes is polled: look at the flag
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
            fresh = True
            while True:
                with self._conns_lock:
                    # Retiring: a connection's first query is still answered, then it ends.
                    if not self._running and (not self._retiring or not fresh):
                        return
                    idle[conn] = time.monotonic()
                    if fresh:
                        self._fresh.add(conn)
                data = recv_framed(conn)
                arrived = time.time()
                with self._conns_lock:
                    idle.pop(conn, None)
                    self._fresh.discard(conn)
                fresh = False
                if data is None:
                    return
                # A zone transfer's messages are built as they are sent: memory stays flat.
                sent = 0
                try:
                    for response in self.authority.respond_stream(data, client[0]):
                        conn.sendall(framed(response))
                        # After the first message, the rest of a zone transfer.
                        now = time.time()
                        self._observe(Exchange("tcp", client, server, b"" if sent else data,
                                               response, arrived if not sent else now, now))
                        sent += 1
                except OSError:
                    raise  # the client went away: close
                except Exception as exc:
                    if sent:  # a transfer broke off: say so and close, the client retries
                        warn(PROGRAM, f"transfer to {client[0]} broken off: {type(exc).__name__}: {exc}")
                        return
                    fault = self._fault(data, client, exc)
                    if fault is not None:
                        conn.sendall(framed(fault))
                    self._observe(Exchange("tcp", client, server, data, fault, arrived,
                                           time.time()))
                    sent = 1
                if not sent:  # dropped: the observers still see the query
                    self._observe(Exchange("tcp", client, server, data, None, arrived))
        except OSError:
            return  # idle timeout or reset: close the connection
        finally:
            with self._conns_lock:
                self._conns.pop(conn, None)
                idle.pop(conn, None)
                self._fresh.discard(conn)
            conn.close()
            self._slots.release()
            self._observe(Connection(False, client, server, time.time()))

    def _fault(self, data: bytes, client: tuple[str, int], exc: Exception) -> bytes | None:
        """An unexpected error while answering: one line on stderr, SERVFAIL to the client
        (RFC 1035 4.1.1: the server could not process the query) with EDE 0 when it asked
        with EDNS (RFC 8914), and serving goes on."""
        warn(PROGRAM, f"internal error answering {client[0]}#{client[1]}: "
                      f"{type(exc).__name__}: {exc}; answered SERVFAIL")
        return with_ede(error_reply(data, Rcode.SERVFAIL), data,
                        ExtendedError(OTHER, FAULT_TEXT), self.authority.payload)

    def _observe(self, event: Exchange | Connection) -> None:
        """Hand ``event`` to each observer; one that fails (a closed stdout, a bug) is said
        once on stderr and dropped, and the server goes on answering."""
        for observe in list(self.observers):
            try:
                observe(event)
            except Exception as exc:
                with contextlib.suppress(ValueError):
                    self.observers.remove(observe)
                warn(PROGRAM, f"{getattr(observe, '__name__', type(observe).__name__)} stopped: "
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

    def _drain_tcp(self, timeout: float = RETIRE_WAIT) -> None:
        """A retiring server's TCP: accept no more, close the connections idle after a
        query, and let the others finish the exchange they are in (a transfer too) or take
        their first query. The listening socket is only closed here, in this process."""
        if self._tcp_thread is not None:
            self._tcp_thread.join(SHED_WAIT + 5.0)  # a shared listener is polled: it sees the flag
        with self._conns_lock:
            for conn in self._idle:
                if conn not in self._fresh:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RD)  # wakes its recv; a reply may still go out
            pending = list(self._conns.values())
        deadline = time.monotonic() + timeout
        for thread in pending:
            thread.join(max(0.0, deadline - time.monotonic()))

    def retire(self) -> None:
        """Leave the sockets to other processes that share them, losing no query: take no
        new one, answer the one in hand, let TCP exchanges finish (``_drain_tcp``), then end
        ``serve_forever``. Only sets flags (safe in a signal handler): the loops see them
        because a ``shared`` server never blocks for long in a receive or an accept."""
        self._retiring = True
        self._running = False

    def stop(self) -> None:
        """Stop from another thread or a signal handler: clear the flag, then wake the
        blocked UDP receive with an empty datagram to ourselves. The loop may be between
        two receives and see the flag first, ending and closing its sockets while this
        runs; so the wake-up goes to the address kept from ``bind``, and a failure to send
        it only means there was no one left to wake."""
        self._stop_asked = True
        self._running = False
        if self._bound is None:
            return
        with contextlib.suppress(OSError), \
                socket.socket(family(self._bound[0]), socket.SOCK_DGRAM) as poke:
            poke.sendto(b"", self._bound)

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            if sock is not None:
                sock.close()
