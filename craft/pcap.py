"""Writing DNS exchanges to pcap files that Wireshark opens as they are.

Scapy builds each frame (Ethernet, IPv4 or IPv6, UDP or TCP, lengths and checksums filled
in) around the DNS octets exactly as they went over the wire, and ``PcapWriter`` with
``sync=True`` flushes every record, so a killed process leaves a file readable to its last
whole record. TCP conversations get a three-way handshake, per-direction sequence numbers
and a FIN exchange, and each DNS message its RFC 1035 4.2.2 length prefix.
"""

from __future__ import annotations

import os
import secrets
import signal
import struct
import threading
import time
from typing import Any

Address = tuple[str, int]

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_MAC_CLIENT = "02:00:00:00:00:01"
_MAC_SERVER = "02:00:00:00:00:02"


class CaptureError(OSError):
    """A capture file that cannot be written (found when it is opened, not mid-run)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"capture {path}: {reason}")
        self.path = path
        self.reason = reason


class CaptureWriter:
    """Thread-safe writer of UDP datagrams and TCP conversations carrying DNS."""

    def __init__(self, path: str, append: bool = False) -> None:
        self.path = path
        from scapy.utils import PcapWriter  # Scapy loads only when capturing

        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise CaptureError(path, f"no such folder {directory}")
        if os.path.isdir(path):
            raise CaptureError(path, "is a folder")
        append = append and os.path.exists(path) and os.path.getsize(path) > 0
        try:
            self._writer: Any = PcapWriter(path, append=append, sync=True, linktype=1)
            if not append:
                # PcapWriter writes the file header lazily; write it now so a full disk or
                # an unwritable file is found at start-up, not at the first packet.
                self._writer._write_header(None)
                self._writer.flush()
        except OSError as exc:
            raise CaptureError(path, exc.strerror or str(exc)) from None
        self._lock = threading.Lock()
        self._tcp: dict[tuple[Address, Address], list[int]] = {}
        self.failed: str | None = None

    def _write(self, packet: Any, when: float | None) -> None:
        packet.time = when or time.time()
        with self._lock:
            if self.failed is not None:
                return
            # A stop signal raises in the main thread; hold it off until the record is whole.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            try:
                self._writer.write(packet)
            except OSError as exc:
                # Keep serving; the capture stops here, whole up to the last record.
                self.failed = exc.strerror or str(exc)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _ip(self, src: Address, dst: Address) -> Any:
        from scapy.layers.inet import IP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import Ether

        forward = (src, dst) in self._tcp or (dst, src) not in self._tcp
        ether = Ether(src=_MAC_CLIENT if forward else _MAC_SERVER,
                      dst=_MAC_SERVER if forward else _MAC_CLIENT)
        if ":" in src[0]:
            return ether / IPv6(src=src[0], dst=dst[0])
        return ether / IP(src=src[0], dst=dst[0])

    def udp(self, src: Address, dst: Address, payload: bytes, when: float | None = None) -> None:
        from scapy.layers.inet import UDP
        from scapy.packet import Raw

        frame = self._ip(src, dst) / UDP(sport=src[1], dport=dst[1]) / Raw(payload)
        self._write(frame, when)

    def _segment(
        self, src: Address, dst: Address, flags: str, when: float | None, payload: bytes = b""
    ) -> None:
        from scapy.layers.inet import TCP
        from scapy.packet import Raw

        key, index = ((src, dst), 0) if (src, dst) in self._tcp else ((dst, src), 1)
        seqs = self._tcp[key]
        seq, ack = seqs[index], seqs[1 - index]
        segment = TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq,
                      ack=ack if "A" in flags else 0, window=65535)
        frame = self._ip(src, dst) / segment
        if payload:
            frame = frame / Raw(payload)
        seqs[index] = (seq + len(payload) + (1 if ("S" in flags or "F" in flags) else 0)) % 2**32
        self._write(frame, when)

    def tcp_open(self, client: Address, server: Address, when: float | None = None) -> None:
        with self._lock:
            self._tcp[(client, server)] = [secrets.randbits(32), secrets.randbits(32)]
        self._segment(client, server, "S", when)
        self._segment(server, client, "SA", when)
        self._segment(client, server, "A", when)

    def tcp_data(self, src: Address, dst: Address, message: bytes,
                 when: float | None = None) -> None:
        if (src, dst) not in self._tcp and (dst, src) not in self._tcp:
            self.tcp_open(src, dst, when)
        self._segment(src, dst, "PA", when, struct.pack("!H", len(message)) + message)

    def tcp_close(self, client: Address, server: Address, when: float | None = None) -> None:
        if (client, server) not in self._tcp:
            return
        self._segment(client, server, "FA", when)
        self._segment(server, client, "FA", when)
        self._segment(client, server, "A", when)
        with self._lock:
            del self._tcp[(client, server)]

    def close(self) -> None:
        with self._lock:
            try:
                self._writer.close()
            except OSError:
                pass
