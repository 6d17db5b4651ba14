"""DNS over UDP and TCP: the socket work every craft client and server shares.

Owns: the address family of a host, a fresh UDP socket connected to one server (a new
random source port each time), a TCP connection, the RFC 1035 4.2.2 two-octet length
prefix, receiving exactly N octets, and ``send_bytes``: the raw exchange (the given
octets out, broken or not, the first reply from the server asked back) that ``dns-send``,
``dns-probe`` and ``verify --replay`` use. Deciding which reply answers a question (RFC
5452: ID, question, server) is the client's job (``craft.dns_client``); the server's
loops (``craft.dns_server``) use ``family``, ``framed`` and ``recv_framed``.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

Address = tuple[str, int]
RECV_SIZE = 65535
_PREFIX = struct.Struct("!H")


def family(host: str) -> socket.AddressFamily:
    """IPv6 for an address with a colon (``::1``, ``fe80::1%lo``), IPv4 otherwise."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_socket(server: Address) -> socket.socket:
    """A new UDP socket connected to ``server``: the kernel picks a random source port and
    drops datagrams from any other address."""
    sock = socket.socket(family(server[0]), socket.SOCK_DGRAM)
    try:
        sock.connect(server)
    except OSError:
        sock.close()
        raise
    return sock


def tcp_socket(server: Address, timeout: float) -> socket.socket:
    """A TCP connection to ``server``; ``timeout`` applies to connecting and to each receive."""
    return socket.create_connection(server, timeout=timeout)


def framed(message: bytes) -> bytes:
    """``message`` with its TCP length prefix."""
    return _PREFIX.pack(len(message)) + message


def recv_exact(sock: socket.socket, count: int) -> bytes:
    """``count`` octets from a stream; fewer only when the peer closed first."""
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def recv_framed(sock: socket.socket) -> bytes | None:
    """One length-prefixed message from a stream; None when the peer closes before all of
    it arrived."""
    head = recv_exact(sock, 2)
    if len(head) < 2:
        return None
    (length,) = _PREFIX.unpack(head)
    body = recv_exact(sock, length)
    return body if len(body) == length else None


@dataclass(frozen=True, slots=True)
class Sent:
    wire: bytes
    reply: bytes | None  # None: nothing came back in time (or wait=False)
    transport: str
    elapsed: float
    server: Address
    client: Address
    complete: bool = True  # False: the server closed a TCP connection before a whole reply


def send_bytes(data: bytes, server: Address, *, tcp: bool = False, timeout: float = 2.0,
               wait: bool = True, accept: Callable[[bytes], bool] | None = None) -> Sent:
    """Send ``data`` as one DNS message (with a length prefix over TCP) on a new socket and
    return the first reply, or the first that ``accept`` takes. OSError when the network
    fails; ``reply=None`` when the server stays silent for ``timeout`` seconds (a TCP
    connection closed first says so with ``complete=False``; a reply it cut short is kept
    as far as it came)."""
    start = time.perf_counter()
    reply: bytes | None = None
    complete = True
    if tcp:
        with tcp_socket(server, timeout) as sock:
            client = sock.getsockname()[:2]
            sock.sendall(framed(data))
            if wait:
                reply, complete = _tcp_reply(sock, accept)
    else:
        with udp_socket(server) as sock:
            client = sock.getsockname()[:2]
            sock.send(data)
            if wait:
                reply = _udp_reply(sock, start + timeout, accept)
    return Sent(data, reply, "tcp" if tcp else "udp", time.perf_counter() - start, server,
                client, complete)


def _udp_reply(sock: socket.socket, deadline: float,
               accept: Callable[[bytes], bool] | None) -> bytes | None:
    while (left := deadline - time.perf_counter()) > 0:
        sock.settimeout(left)
        try:
            reply = sock.recv(RECV_SIZE)
        except TimeoutError:
            return None
        if accept is None or accept(reply):
            return reply
    return None


def _tcp_reply(sock: socket.socket,
               accept: Callable[[bytes], bool] | None) -> tuple[bytes | None, bool]:
    try:
        while True:
            head = recv_exact(sock, 2)
            if len(head) < 2:
                return None, False
            (length,) = _PREFIX.unpack(head)
            body = recv_exact(sock, length)
            if len(body) < length:
                return body or None, False
            if accept is None or accept(body):
                return body or None, True
    except TimeoutError:
        return None, True
