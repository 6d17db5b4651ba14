"""Reading DNS messages out of pcap and pcapng files, streaming, with flat memory.

Frames are parsed with ``struct`` (no Scapy objects per frame): Ethernet (with VLAN tags),
Linux cooked v1 and v2, raw IP, BSD null/loopback; IPv4 and IPv6 (extension headers
skipped, fragments counted as non-DNS); UDP, and TCP reassembled per direction by sequence
number with the RFC 1035 4.2.2 length prefix.

Which traffic is DNS: anything to or from port 53 or 5353, and on any other port a message
whose header and counts look like DNS (then that port counts as DNS for the rest of the
file, so a later corrupt message on it is reported rather than skipped).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

DNS_PORTS = frozenset({53, 5353})
MAX_TCP_BUFFER = 1 << 20  # per direction: a stream that never resyncs cannot grow memory

_ETHERNET, _RAW, _NULL, _LOOP, _SLL, _SLL2, _RAW_ALT, _IPV4, _IPV6 = 1, 101, 0, 108, 113, 276, 12, 228, 229


class CaptureError(ValueError):
    """A capture file that cannot be read; ``packet`` is how many frames came before."""

    def __init__(self, path: str, packet: int, reason: str) -> None:
        where = f" after packet {packet}" if packet else ""
        super().__init__(f"{path}: {reason}{where}")
        self.path = path
        self.packet = packet
        self.reason = reason

    @property
    def truncated(self) -> bool:
        """The file was readable up to a cut (e.g. a capturing process was killed)."""
        return "truncated" in self.reason


@dataclass(frozen=True, slots=True)
class DnsItem:
    """One DNS message found in a capture."""

    packet: int  # 1-based frame number, as Wireshark counts
    time: float
    transport: str  # "udp" or "tcp"
    src: tuple[str, int]
    dst: tuple[str, int]
    data: bytes


@dataclass(slots=True)
class Stats:
    packets: int = 0
    skipped: int = 0  # frames that carried no DNS
    offset: int = 0  # octets of the file read so far (for progress)


def _frames(f: BinaryIO, path: str) -> Iterator[tuple[int, float, bytes]]:
    """(link type, timestamp, frame bytes) for each record of a pcap or pcapng file."""
    head = f.read(4)
    if len(head) < 4:
        raise CaptureError(path, 0, "empty or not a capture file")
    if head == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng(f, path, head)
        return
    magic = head
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise CaptureError(path, 0, "not a pcap or pcapng file (bad magic number)")
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    rest = f.read(20)
    if len(rest) < 20:
        raise CaptureError(path, 0, "pcap file header cut short")
    linktype = struct.unpack(endian + "I", rest[16:20])[0] & 0xFFFF
    record = struct.Struct(endian + "IIII")
    count = 0
    while True:
        header = f.read(16)
        if not header:
            return
        if len(header) < 16:
            raise CaptureError(path, count, "record header cut short (truncated file)")
        seconds, fraction, caplen, _ = record.unpack(header)
        if caplen > 0x40000:
            raise CaptureError(path, count, f"record of {caplen} octets (corrupt file)")
        data = f.read(caplen)
        if len(data) < caplen:
            raise CaptureError(path, count, "record cut short (truncated file)")
        count += 1
        yield linktype, seconds + fraction * scale, data


def _pcapng(f: BinaryIO, path: str, first: bytes) -> Iterator[tuple[int, float, bytes]]:
    endian = "<"
    interfaces: list[tuple[int, float]] = []
    count = 0
    block_type = first
    while True:
        head = f.read(4)
        if len(head) < 4:
            raise CaptureError(path, count, "pcapng block cut short (truncated file)")
        if block_type == b"\x0a\x0d\x0d\x0a":
            bom = f.read(4)
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            length = struct.unpack(endian + "I", head)[0]
            if length < 28:
                raise CaptureError(path, count, f"pcapng section header of {length} octets")
            body = bom + f.read(length - 16)
            interfaces = []
        else:
            length = struct.unpack(endian + "I", head)[0]
            if length < 12 or length > 0x4000000:
                raise CaptureError(path, count, f"pcapng block of {length} octets (corrupt)")
            body = f.read(length - 12)
        trailer = f.read(4)
        if len(body) < length - 12 or len(trailer) < 4:
            raise CaptureError(path, count, "pcapng block cut short (truncated file)")
        kind = struct.unpack(endian + "I", block_type)[0]
        if kind == 1 and len(body) >= 8:  # interface description
            linktype = struct.unpack(endian + "H", body[:2])[0]
            interfaces.append((linktype, _tsresol(body[8:], endian)))
        elif kind == 6 and len(body) >= 20:  # enhanced packet
            iface, high, low, caplen, _ = struct.unpack(endian + "IIIII", body[:20])
            if iface >= len(interfaces):
                raise CaptureError(path, count, f"packet on undeclared interface {iface}")
            linktype, resolution = interfaces[iface]
            count += 1
            yield linktype, ((high << 32) | low) * resolution, body[20 : 20 + caplen]
        elif kind == 3 and len(body) >= 4 and interfaces:  # simple packet
            count += 1
            yield interfaces[0][0], 0.0, body[4:]
        nxt = f.read(4)
        if not nxt:
            return
        if len(nxt) < 4:
            raise CaptureError(path, count, "pcapng block cut short (truncated file)")
        block_type = nxt


def _tsresol(options: bytes, endian: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack(endian + "HH", options[pos : pos + 4])
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[pos + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0 ** -value
        pos += 4 + ((length + 3) & ~3)
    return 1e-6


def _network(linktype: int, frame: bytes) -> tuple[int, bytes] | None:
    """(IP version, IP packet) from a link-layer frame, or None when it carries no IP."""
    if linktype == _ETHERNET:
        if len(frame) < 14:
            return None
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        offset = 14
        while ethertype in (0x8100, 0x88A8) and len(frame) >= offset + 4:
            ethertype = struct.unpack_from("!H", frame, offset + 2)[0]
            offset += 4
        payload = frame[offset:]
    elif linktype == _SLL:
        if len(frame) < 16:
            return None
        ethertype = struct.unpack_from("!H", frame, 14)[0]
        payload = frame[16:]
    elif linktype == _SLL2:
        if len(frame) < 20:
            return None
        ethertype = struct.unpack_from("!H", frame, 0)[0]
        payload = frame[20:]
    elif linktype in (_NULL, _LOOP):
        if len(frame) < 4:
            return None
        family = struct.unpack_from("<I" if linktype == _NULL else "!I", frame, 0)[0]
        if family > 0xFFFF:
            family = struct.unpack_from(">I", frame, 0)[0]
        ethertype = 0x0800 if family == 2 else 0x86DD if family in (10, 24, 28, 30) else 0
        payload = frame[4:]
    elif linktype in (_RAW, _RAW_ALT, _IPV4, _IPV6):
        if not frame:
            return None
        version = frame[0] >> 4
        ethertype = 0x0800 if version == 4 else 0x86DD if version == 6 else 0
        payload = frame
    else:
        return None
    if ethertype == 0x0800:
        return 4, payload
    if ethertype == 0x86DD:
        return 6, payload
    return None


def _transport(version: int, packet: bytes) -> tuple[int, str, str, bytes] | None:
    """(protocol, source, destination, transport segment) or None."""
    if version == 4:
        if len(packet) < 20:
            return None
        ihl = (packet[0] & 0x0F) * 4
        total = struct.unpack_from("!H", packet, 2)[0]
        flags_fragment = struct.unpack_from("!H", packet, 6)[0]
        if flags_fragment & 0x3FFF:  # a fragment: the DNS message is not whole here
            return None
        return (packet[9], socket.inet_ntop(socket.AF_INET, packet[12:16]),
                socket.inet_ntop(socket.AF_INET, packet[16:20]), packet[ihl : max(total, ihl)])
    if len(packet) < 40:
        return None
    length = struct.unpack_from("!H", packet, 4)[0]
    proto = packet[6]
    src = socket.inet_ntop(socket.AF_INET6, packet[8:24])
    dst = socket.inet_ntop(socket.AF_INET6, packet[24:40])
    body = packet[40 : 40 + length]
    while proto in (0, 43, 60) and len(body) >= 8:
        proto, size = body[0], (body[1] + 1) * 8
        body = body[size:]
    if proto == 44:
        return None
    return proto, src, dst, body


def looks_like_dns(data: bytes) -> bool:
    """A cheap shape test for traffic on ports not known to carry DNS."""
    if len(data) < 12:
        return False
    flags, qd, an, ns, ar = struct.unpack_from("!HHHHH", data, 2)
    opcode = (flags >> 11) & 0xF
    if opcode not in (0, 1, 2, 4, 5) or qd > 16:
        return False
    return bool(12 + qd * 5 + (an + ns + ar) * 11 <= len(data))


def _server_port(data: bytes, sport: int, dport: int) -> int:
    """The server's side of a DNS exchange: a query goes to it, a response comes from it."""
    return sport if len(data) > 2 and data[2] & 0x80 else dport


class _Stream:
    __slots__ = ("buffer", "next_seq", "pending")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.next_seq: int | None = None
        self.pending: dict[int, bytes] = {}


def dns_messages(path: str, stats: Stats | None = None) -> Iterator[DnsItem]:
    """Every DNS message in the capture at ``path``, in frame order."""
    stats = stats if stats is not None else Stats()
    dns_ports = set(DNS_PORTS)
    streams: dict[tuple[str, int, str, int], _Stream] = {}
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed in finally, generator-safe
    except OSError as exc:
        raise CaptureError(path, 0, exc.strerror or str(exc)) from None
    try:
        for number, (linktype, when, frame) in enumerate(_frames(f, path), 1):
            stats.packets = number
            stats.offset = f.tell()
            found = False
            for item in _dns_in_frame(number, when, linktype, frame, dns_ports, streams):
                found = True
                yield item
            if not found:
                stats.skipped += 1
    finally:
        f.close()


def _dns_in_frame(
    number: int, when: float, linktype: int, frame: bytes, dns_ports: set[int],
    streams: dict[tuple[str, int, str, int], _Stream],
) -> Iterator[DnsItem]:
    network = _network(linktype, frame)
    if network is None:
        return
    transport = _transport(*network)
    if transport is None:
        return
    proto, src, dst, segment = transport
    if proto == 17 and len(segment) >= 8:
        sport, dport, length = struct.unpack_from("!HHH", segment, 0)
        payload = segment[8 : max(length, 8)]
        if sport in dns_ports or dport in dns_ports or looks_like_dns(payload):
            dns_ports.add(_server_port(payload, sport, dport))
            yield DnsItem(number, when, "udp", (src, sport), (dst, dport), bytes(payload))
    elif proto == 6 and len(segment) >= 20:
        sport, dport, seq = struct.unpack_from("!HHI", segment, 0)
        offset = (segment[12] >> 4) * 4
        flags = segment[13]
        key = (src, sport, dst, dport)
        stream = streams.get(key)
        if flags & 0x02:  # SYN: the data starts at seq + 1
            stream = streams[key] = _Stream()
            stream.next_seq = (seq + 1) % 2**32
            return
        payload = segment[offset:]
        if flags & 0x05 and not payload:  # FIN or RST with nothing to carry
            streams.pop(key, None)
            return
        if not payload:
            return
        if stream is None:
            stream = streams[key] = _Stream()
        if stream.next_seq is None:
            stream.next_seq = seq
        stream.pending[seq] = payload
        while stream.next_seq in stream.pending:
            chunk = stream.pending.pop(stream.next_seq)
            stream.buffer += chunk
            stream.next_seq = (stream.next_seq + len(chunk)) % 2**32
        if len(stream.buffer) > MAX_TCP_BUFFER or len(stream.pending) > 1024:
            streams.pop(key, None)
            return
        buffer = stream.buffer
        while len(buffer) >= 2:
            length = struct.unpack_from("!H", buffer, 0)[0]
            if len(buffer) < 2 + length:
                break
            message = bytes(buffer[2 : 2 + length])
            del buffer[: 2 + length]
            if sport in dns_ports or dport in dns_ports or looks_like_dns(message):
                dns_ports.add(_server_port(message, sport, dport))
                yield DnsItem(number, when, "tcp", (src, sport), (dst, dport), message)
