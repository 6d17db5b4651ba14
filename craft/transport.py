"""Sending exact bytes to any DNS server and catching whatever comes back.

Unlike ``craft.dns_client`` (which asks well-formed questions and only accepts matching
answers), this sends what it is given, broken or not, and returns the first reply from
the server asked, so a crafted message's effect can be seen as it is.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Sent:
    wire: bytes
    reply: bytes | None  # None: nothing came back in time (or --no-wait)
    transport: str
    elapsed: float
    server: Address
    client: Address


def send_bytes(data: bytes, server: Address, *, tcp: bool = False, timeout: float = 2.0,
               wait: bool = True) -> Sent:
    """Send ``data`` as one DNS message (with a length prefix over TCP); OSError on network
    failure, a ``Sent`` with ``reply=None`` when the server stays silent."""
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    start = time.perf_counter()
    if tcp:
        with socket.create_connection(server, timeout=timeout) as sock:
            client = sock.getsockname()[:2]
            sock.sendall(struct.pack("!H", len(data)) + data)
            reply = _tcp_reply(sock) if wait else None
    else:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.connect(server)
            client = sock.getsockname()[:2]
            sock.send(data)
            reply = None
            if wait:
                try:
                    reply = sock.recv(65535)
                except TimeoutError:
                    reply = None
    return Sent(data, reply, "tcp" if tcp else "udp", time.perf_counter() - start, server, client)


def _tcp_reply(sock: socket.socket) -> bytes | None:
    try:
        head = sock.recv(2, socket.MSG_WAITALL)
        if len(head) < 2:
            return None
        body = sock.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
    except TimeoutError:
        return None
    return body or None
