"""Several listening addresses served as one: a ``craft.dns_server.DnsServer`` per address,
all on one port, answering from one authority.

``ServerGroup`` looks like a single server to ``dns-serve``'s reloader, signal handling and
workers: setting ``authority`` swaps it in every server, ``stop()`` stops them all. The
first address is served in the calling thread (where a stop signal lands); the others each
in a thread of their own. With port 0 the first address draws the port and the others take
the same one (drawing again, a few times, when another address has it taken).

``::`` is dual stack (IPV6_V6ONLY off, where the system allows it) unless the IPv4 wildcard
``0.0.0.0`` is listed too: then ``::`` is IPv6 only and ``0.0.0.0`` takes IPv4.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Sequence

from craft.dns.answer_cache import Authority
from craft.dns_server import RETIRE_WAIT, SHED_WAIT, DnsServer, Observer, ServerError, StopPolicy

TRIES = 20
# How often a server in a thread of its own looks whether it was stopped. Its stop() wakes
# it with a datagram to its own address, which a worker process reading the same socket
# may take instead; only the first address gets the stop signal's exception in the main thread.
WAKE = 0.5
IN_USE = os.strerror(errno.EADDRINUSE)  # the reason DnsServer.bind gives for a taken port


class ServerGroup:
    """DnsServers on several addresses and one port, run and stopped together."""

    def __init__(self, authority: Authority, hosts: Sequence[str], port: int,
                 observers: Sequence[Observer] = (),
                 stops: StopPolicy | None = None) -> None:
        if not hosts:
            raise ServerError("--host", "no address to listen on")
        v6only = "0.0.0.0" in hosts
        self.servers = [
            DnsServer(authority, host, port, observers, stops=stops,
                      v6only=v6only if host == "::" else None)
            for host in hosts
        ]
        self.port = port
        self._threads: list[threading.Thread] = []
        self._retiring = False

    @property
    def authority(self) -> Authority:
        return self.servers[0].authority

    @authority.setter
    def authority(self, value: Authority) -> None:
        for server in self.servers:  # a reload reaches every address
            server.authority = value

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [server.address for server in self.servers]

    @property
    def address(self) -> tuple[str, int]:
        return self.servers[0].address

    def bind(self) -> tuple[str, int]:
        """Bind every address on one port; the first address's (host, port)."""
        first, rest = self.servers[0], self.servers[1:]
        for _ in range(TRIES):
            first.port = self.port
            address = first.bind()
            try:
                for server in rest:
                    server.port = address[1]
                    server.bind()
            except ServerError as exc:
                for server in self.servers:
                    server.close()
                    server.udp = server.tcp = None
                if self.port == 0 and exc.reason == IN_USE:
                    continue  # the port drawn for the first address is taken at another
                raise
            return address
        raise ServerError(f"{first.host}:0", "no port free at every address")

    def serve_forever(self) -> None:
        """Serve every address until ``stop()``; the first in this thread."""
        if self.servers[0].udp is None:
            self.bind()
        for server in self.servers[1:]:
            assert server.udp is not None
            if not server.shared:  # a shared socket is polled already
                server.udp.settimeout(WAKE)  # a timeout is an OSError: the loop checks the flag
            thread = threading.Thread(target=server.serve_forever, daemon=True,
                                      name=f"dns {server.host}")
            thread.start()
            self._threads.append(thread)
        try:
            self.servers[0].serve_forever()
        finally:
            retiring = self._retiring
            for server in self.servers[1:]:
                if not retiring:
                    server.stop()
            for thread in self._threads:
                # A retiring server lets its TCP exchanges finish (``DnsServer.retire``).
                thread.join(RETIRE_WAIT + SHED_WAIT + 10.0 if retiring else 5.0)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def retire(self) -> None:
        """Every address leaves its sockets to the other processes sharing them, losing no
        query (``DnsServer.retire``; flags only, safe in a signal handler)."""
        self._retiring = True
        for server in self.servers:
            server.retire()

    def share(self) -> None:
        """Make the bound sockets fit to be read by several processes at once (forked
        after this): every loop polls them, so that a retiring one sees its flag without
        closing or shutting down what the others still read."""
        for server in self.servers:
            server.shared = True  # UDP: a receive that never blocks (``DnsServer``)
            if server.tcp is not None:
                server.tcp.settimeout(WAKE)

    def close(self) -> None:
        for server in self.servers:
            server.close()
