"""Writing DNS exchanges to pcap files that Wireshark opens as they are.

Scapy builds each frame (Ethernet, IPv4 or IPv6, UDP or TCP, lengths and checksums filled
in) around the DNS octets exactly as they went over the wire. TCP conversations get a
three-way handshake, per-direction sequence and acknowledgement numbers, segments no
larger than an Ethernet MSS, each DNS message its RFC 1035 4.2.2 length prefix, and a
FIN exchange.

Each record (its 16-octet header and the frame) goes to the file in one ``write`` on an
unbuffered descriptor, which is what ``PcapWriter(..., sync=True)`` promises but does in
two; so a process killed at any moment leaves a file readable to its last whole record.
A write that fails mid-run (a full disk) is cut back to the last whole record and ends
the capture, not the server. Problems with the path itself are found at construction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from craft.capture.reader import CaptureError
from craft.oracle import scapy
from craft.transport import framed

__all__ = ["Address", "CaptureError", "CaptureWriteError", "CaptureWriter"]

Address = tuple[str, int]

LINKTYPE_ETHERNET = 1
SNAPLEN = 0x40000
_MSS = {4: 1460, 6: 1440}  # a 1500-octet Ethernet MTU less the IP and TCP headers


class CaptureWriteError(CaptureError):
    """A capture file that cannot be written (exit 1: the command could not start)."""

    exit_code = 1


def _mac(address: str) -> str:
    """A stable locally administered MAC per IP address, so each host keeps one."""
    digest = hashlib.blake2s(address.encode(), digest_size=5).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest)


def _host(address: str) -> str:
    return address.split("%", 1)[0]  # a link-local scope (fe80::1%eth0) is not on the wire


class CaptureWriter:
    """Thread-safe writer of UDP datagrams and TCP conversations carrying DNS.

    ``CaptureWriter(path)`` truncates; ``append=True`` adds to an existing pcap (Ethernet
    link type), first cutting off a last record left half-written by a killed process.
    ``hold`` is entered around each public call (``craft.stops.held_stops``: stop signals
    wait until its records are written).
    ``CaptureError`` at construction when the path cannot be written."""

    def __init__(self, path: str, append: bool = False,
                 hold: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
                 ) -> None:
        self.path = path
        self._hold = hold
        self.failed: str | None = None  # why the capture stopped early, if it did
        self._closed = False
        self._lock = threading.Lock()
        self._tcp: dict[tuple[Address, Address], list[int]] = {}  # next seq: client, server
        self._ip_id = 0
        self._record = struct.Struct("<IIII")
        self._fraction = 1_000_000
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise CaptureWriteError(path, f"no such folder {directory}")
        try:
            self._layers = scapy()
        except ImportError as exc:
            raise CaptureWriteError(path, f"Scapy is needed to build frames: {exc}") from None
        # O_APPEND: each record's one write lands whole at the end of the file, also when
        # dns-serve's worker processes share this descriptor after fork.
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(path, flags | (0 if append else os.O_TRUNC), 0o644)
        except OSError as exc:
            raise CaptureWriteError(path, exc.strerror or str(exc)) from None
        try:
            self._offset = self._resume() if append else 0
            if self._offset == 0:
                # Written now, so a full disk or a read-only medium shows at start-up.
                self._put(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN,
                                      LINKTYPE_ETHERNET))
        except OSError as exc:
            os.close(self._fd)
            raise CaptureWriteError(path, exc.strerror or str(exc)) from None
        except CaptureError:
            os.close(self._fd)
            raise

    def _resume(self) -> int:
        """Where appending starts: after the last whole record (0 for an empty file)."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return 0
        with open(self.path, "rb") as f:
            head = f.read(24)
            if head[:4] == b"\x0a\x0d\x0d\x0a":
                raise CaptureWriteError(self.path, "cannot append to a pcapng file; craft writes pcap")
            magics = {b"\xd4\xc3\xb2\xa1": ("<", 10**6), b"\xa1\xb2\xc3\xd4": (">", 10**6),
                      b"\x4d\x3c\xb2\xa1": ("<", 10**9), b"\xa1\xb2\x3c\x4d": (">", 10**9)}
            if len(head) < 24 or head[:4] not in magics:
                raise CaptureWriteError(self.path, "cannot append: not a pcap file")
            endian, self._fraction = magics[head[:4]]
            linktype = struct.unpack(endian + "I", head[20:24])[0] & 0xFFFF
            if linktype != LINKTYPE_ETHERNET:
                raise CaptureWriteError(self.path, f"cannot append: link type {linktype}, "
                                   "craft writes Ethernet (1)")
            self._record = struct.Struct(endian + "IIII")
            end = 24
            while True:
                header = f.read(16)
                if len(header) < 16:
                    break
                caplen = self._record.unpack(header)[2]
                f.seek(caplen, os.SEEK_CUR)
                if end + 16 + caplen > size:
                    break
                end += 16 + caplen
        if end < size:
            os.ftruncate(self._fd, end)  # a half-written last record would hide the rest
        os.lseek(self._fd, end, os.SEEK_SET)
        return end

    def _put(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._offset += len(data)

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        """One public call's records, whole: the lock for other threads, and the ``hold``
        the owner of the process gave (stop signals held off) until they are written."""
        with self._hold(), self._lock:
            yield

    def _write(self, frame: Any, when: float) -> None:
        if self.failed is not None or self._closed:
            return
        data = bytes(frame)
        seconds = int(when)
        fraction = min(round((when - seconds) * self._fraction), self._fraction - 1)
        start = self._offset
        try:
            self._put(self._record.pack(seconds, fraction, len(data), len(data)) + data)
        except OSError as exc:
            # Keep serving; the capture ends here, whole up to the last record.
            self.failed = exc.strerror or str(exc)
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)

    def _ip(self, src: Address, dst: Address) -> tuple[Any, int]:
        """Ethernet and IP headers from ``src`` to ``dst``, and the IP version."""
        layers = self._layers
        a, b = _host(src[0]), _host(dst[0])
        if (":" in a) != (":" in b):  # one side dual-stack: show both as IPv6
            a, b = (a if ":" in a else f"::ffff:{a}"), (b if ":" in b else f"::ffff:{b}")
        # Like Linux's loopback device: zero MACs when a host talks to itself.
        ether = (layers.Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") if a == b
                 else layers.Ether(src=_mac(a), dst=_mac(b)))
        if ":" in a:
            return ether / layers.IPv6(src=a, dst=b), 6
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return ether / layers.IP(src=a, dst=b, id=self._ip_id, flags="DF"), 4

    def udp(self, src: Address, dst: Address, payload: bytes, when: float | None = None) -> None:
        """One datagram from ``src`` to ``dst``."""
        with self._atomic():
            self._datagram(src, dst, payload, time.time() if when is None else when)

    def _datagram(self, src: Address, dst: Address, payload: bytes, when: float) -> None:
        layers = self._layers
        ip, _ = self._ip(src, dst)
        self._write(ip / layers.UDP(sport=src[1], dport=dst[1]) / layers.Raw(payload), when)

    # ---- TCP ----

    def _conversation(self, a: Address, b: Address) -> tuple[list[int], int] | None:
        """The conversation between two ends and which side ``a`` is (0 client, 1 server)."""
        seqs = self._tcp.get((a, b))
        if seqs is not None:
            return seqs, 0
        seqs = self._tcp.get((b, a))
        return (seqs, 1) if seqs is not None else None

    def _segment(self, src: Address, dst: Address, flags: str, when: float,
                 payload: bytes = b"", options: list[tuple[str, int]] | None = None) -> None:
        found = self._conversation(src, dst)
        assert found is not None
        seqs, side = found
        seq, ack = seqs[side], seqs[1 - side]
        ip, _ = self._ip(src, dst)
        segment = self._layers.TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq,
                                   ack=ack if "A" in flags else 0, window=65535,
                                   options=options or [])
        frame = ip / segment
        if payload:
            frame = frame / self._layers.Raw(payload)
        # SYN and FIN each take one sequence number, as data octets do.
        seqs[side] = (seq + len(payload) + ("S" in flags) + ("F" in flags)) % 2**32
        self._write(frame, when)

    def _open(self, client: Address, server: Address, when: float) -> None:
        self._tcp.pop((server, client), None)
        self._tcp[(client, server)] = [int.from_bytes(os.urandom(4), "big"),
                                       int.from_bytes(os.urandom(4), "big")]
        mss = [("MSS", _MSS[6 if ":" in client[0] else 4])]
        self._segment(client, server, "S", when, options=mss)
        self._segment(server, client, "SA", when, options=mss)
        self._segment(client, server, "A", when)

    def tcp_open(self, client: Address, server: Address, when: float | None = None) -> None:
        """The three-way handshake of a new connection from ``client`` to ``server``."""
        with self._atomic():
            self._open(client, server, time.time() if when is None else when)

    def tcp_data(self, src: Address, dst: Address, message: bytes,
                 when: float | None = None) -> None:
        """One DNS message from ``src`` to ``dst``, length prefix added, split into
        segments; a connection not opened yet is opened first, ``src`` as its client."""
        with self._atomic():
            self._data(src, dst, message, time.time() if when is None else when)

    def _data(self, src: Address, dst: Address, message: bytes, when: float) -> None:
        if self._conversation(src, dst) is None:
            self._open(src, dst, when)
        data = framed(message)
        mss = _MSS[6 if ":" in src[0] else 4]
        for start in range(0, len(data), mss):
            last = start + mss >= len(data)
            self._segment(src, dst, "PA" if last else "A", when, data[start : start + mss])

    def tcp_close(self, client: Address, server: Address, when: float | None = None) -> None:
        """FIN from ``client``, FIN from ``server``, the last ACK; nothing if not open."""
        with self._atomic():
            self._close(client, server, time.time() if when is None else when)

    def _close(self, client: Address, server: Address, when: float) -> None:
        if self._conversation(client, server) is None:
            return
        self._segment(client, server, "FA", when)
        self._segment(server, client, "FA", when)
        self._segment(client, server, "A", when)
        self._tcp.pop((client, server), None)
        self._tcp.pop((server, client), None)

    def exchange(self, transport: str, client: Address, server: Address, query: bytes,
                 response: bytes | None, when: float | None = None) -> None:
        """A client's whole exchange: the query and the response (if any) as two datagrams,
        or over TCP a connection of their own, opened and closed around them."""
        with self._atomic():
            moment = time.time() if when is None else when
            if transport == "udp":
                self._datagram(client, server, query, moment)
                if response is not None:
                    self._datagram(server, client, response, moment)
                return
            self._open(client, server, moment)
            self._data(client, server, query, moment)
            if response is not None:
                self._data(server, client, response, moment)
            self._close(client, server, moment)

    def close(self) -> None:
        """Close the file (open TCP conversations stay without their FIN, as in a capture
        stopped mid-connection). Later writes are ignored."""
        with self._atomic():
            if not self._closed:
                self._closed = True
                with contextlib.suppress(OSError):
                    os.close(self._fd)
