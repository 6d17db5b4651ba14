"""Reading DNS messages out of pcap and pcapng files, streaming, with flat memory.

This module owns the capture layer's one exception, ``CaptureError`` (the writer in
``craft.capture.writer`` raises it too), and the reader. Frames are parsed with ``struct``, never as
Scapy packets: Ethernet (VLAN tags skipped), Linux cooked v1 and v2, raw IP, BSD
null/loopback; IPv4 and IPv6 (extension headers skipped, fragments reassembled); UDP, and
TCP reassembled per direction by sequence number (retransmissions and overlaps trimmed,
out-of-order segments held, all within fixed bounds) and split at the RFC 1035 4.2.2
length prefixes.

Which traffic is DNS (the rule ``craft verify`` documents):

1. anything to or from port 53 or 5353;
2. anything to or from a server endpoint (address and port) already seen to carry DNS
   in this file;
3. on ports 10000-11000 (the lab's range), a payload whose header has the shape of DNS;
4. on any other port, a payload with the shape of DNS that craft also decodes strictly.
   Its server endpoint (the destination of a query, the source of a response) is then
   remembered for rule 2, so a later corrupt message to that server is reported, not
   skipped.

What cannot be checked (a TCP segment missing from the capture, a frame cut by the
snapshot length, a link type this reader does not know) is recorded in ``Stats.notes``,
and so is an empty UDP datagram on a DNS port (counted in ``Stats.empty``): it holds no
message, so it is neither DNS nor malformed DNS.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from craft.dns.codec import decode
from craft.dns.wire import WireError
from craft.errors import CraftError

DNS_PORTS = frozenset({53, 5353})
LAB_PORTS = range(10000, 11001)
MAX_RECORD = 0x40000  # Wireshark's largest snapshot length; bigger means a corrupt file
MAX_TCP_PENDING = 256 * 1024  # out-of-order octets held per direction before a gap is declared
MAX_TCP_SEGMENTS = 256
MAX_TCP_STREAMS = 10000  # oldest evicted first: memory stays flat on endless captures
MAX_FRAGMENTED = 256  # IP datagrams being reassembled at once
MAX_NOTES = 1000
_BLOCKS = 0x10000 // 8  # 8-octet blocks of the largest IP datagram

_ETHERNET, _NULL, _LOOP, _SLL, _SLL2 = 1, 0, 108, 113, 276
_RAW_TYPES = frozenset({101, 12, 14, 228, 229})  # LINKTYPE_RAW, DLT_RAW (two BSD values), IPv4, IPv6
_IPV4, _IPV6 = 0x0800, 0x86DD
_AF_INET6 = frozenset({10, 24, 28, 30})  # Linux, the BSDs, FreeBSD, macOS
_SEQ = 1 << 32
_HALF = 1 << 31

_PCAP_RECORD_LE = struct.Struct("<IIII")
_PCAP_RECORD_BE = struct.Struct(">IIII")
_HEADER = struct.Struct("!HHHHH")
_U16 = struct.Struct("!H")
_UDP = struct.Struct("!HHH")
_TCP = struct.Struct("!HHI")


class CaptureError(CraftError):
    """A capture file that cannot be read (exit 2, as ``craft verify`` documents); the
    writer's ``CaptureWriteError`` is one that cannot be written.

    ``packet`` is how many whole frames came before the fault (0 when none, or when
    writing); ``truncated`` says the file was whole up to a cut, e.g. a capturing process
    killed mid-record."""

    exit_code = 2

    def __init__(self, path: str, reason: str, packet: int = 0, truncated: bool = False) -> None:
        where = f" (after packet {packet})" if packet else ""
        super().__init__(f"capture {path}", f"{reason}{where}")
        self.path = path
        self.reason = reason
        self.packet = packet
        self.truncated = truncated


@dataclass(frozen=True, slots=True)
class DnsItem:
    """One DNS message found in a capture."""

    packet: int  # 1-based frame number, as Wireshark counts
    time: float
    transport: str  # "udp" or "tcp"
    src: tuple[str, int]
    dst: tuple[str, int]
    data: bytes

    @property
    def is_response(self) -> bool:
        return len(self.data) > 2 and bool(self.data[2] & 0x80)


class NoteKind(StrEnum):
    """Why part of a capture could not be checked."""

    TCP_GAP = "tcp-gap"  # segments missing from a TCP stream
    TCP_STREAMS = "tcp-streams"  # too many open streams: the oldest was dropped
    INCOMPLETE = "incomplete"  # a TCP stream ended inside a message
    SNAPLEN = "snaplen"  # a frame cut by the capture's snapshot length
    LINK_TYPE = "link-type"  # frames of a link type this reader does not know
    EMPTY = "empty"  # an empty UDP datagram on a DNS port: no message, only noted


@dataclass(frozen=True, slots=True)
class Note:
    """Something in the capture that could not be checked."""

    packet: int
    kind: NoteKind
    detail: str


@dataclass(slots=True)
class Stats:
    """Counters a reader fills in while it runs (read them during or after iteration)."""

    packets: int = 0
    skipped: int = 0  # frames that completed no DNS message
    offset: int = 0  # octets of the file read so far (for progress)
    notes: list[Note] = field(default_factory=list)
    notes_dropped: int = 0
    empty: int = 0  # empty UDP datagrams on DNS ports (the first one noted)

    def note(self, packet: int, kind: NoteKind, detail: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(Note(packet, kind, detail))
        else:
            self.notes_dropped += 1


# ---- file formats ----


def _frames(f: BinaryIO, path: str) -> Iterator[tuple[int, float, bytes, int]]:
    """(link type, timestamp, frame octets, the frame's length on the wire) for each packet
    of a pcap or pcapng file; fewer octets than that length: cut by the snapshot length."""
    head = f.read(4)
    if len(head) < 4:
        raise CaptureError(path, "empty, or cut short before its file header")
    if head == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng(f, path)
        return
    if head in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        record = _PCAP_RECORD_LE
    elif head in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        record = _PCAP_RECORD_BE
    elif head in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34"):
        raise CaptureError(path, "a modified (Kuznetsov) pcap, not supported: convert with editcap")
    else:
        raise CaptureError(path, "not a pcap or pcapng file (bad magic number)")
    scale = 1e-9 if head in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    rest = f.read(20)
    if len(rest) < 20:
        raise CaptureError(path, "pcap file header cut short")
    endian = "<" if record is _PCAP_RECORD_LE else ">"
    linktype = struct.unpack(endian + "I", rest[16:20])[0] & 0xFFFF  # upper bits: FCS info
    count = 0
    read = f.read
    unpack = record.unpack
    while True:
        header = read(16)
        if len(header) < 16:
            if header:
                raise CaptureError(path, "record header cut short (truncated file)", count,
                                   truncated=True)
            return
        seconds, fraction, caplen, original = unpack(header)
        if caplen > MAX_RECORD:
            raise CaptureError(path, f"record {count + 1} claims {caplen} octets (corrupt file)",
                               count)
        data = read(caplen)
        if len(data) < caplen:
            raise CaptureError(path, "record cut short (truncated file)", count,
                               truncated=True)
        count += 1
        yield linktype, seconds + fraction * scale, data, original


def _pcapng(f: BinaryIO, path: str) -> Iterator[tuple[int, float, bytes, int]]:
    """The blocks of a pcapng file, its section header's type already read."""
    endian = "<"
    interfaces: list[tuple[int, float, int]] = []  # (link type, timestamp unit, snaplen)
    count = 0
    block_type = b"\x0a\x0d\x0d\x0a"
    while True:
        head = f.read(4)
        if len(head) < 4:
            raise CaptureError(path, "pcapng block cut short (truncated file)", count,
                               truncated=True)
        if block_type == b"\x0a\x0d\x0d\x0a":
            # A section header sets the byte order of everything up to the next one.
            bom = f.read(4)
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise CaptureError(path, "pcapng section header with a bad byte-order magic",
                                   count)
            length = struct.unpack(endian + "I", head)[0]
            if length < 28 or length % 4 or length > MAX_RECORD:
                raise CaptureError(path, f"pcapng section header of {length} octets (corrupt)",
                                   count)
            body = bom + f.read(length - 16)
            interfaces = []
        else:
            length = struct.unpack(endian + "I", head)[0]
            if length < 12 or length % 4 or length > MAX_RECORD + 64:
                raise CaptureError(path, f"pcapng block of {length} octets (corrupt file)", count)
            body = f.read(length - 12)
        trailer = f.read(4)
        if len(body) < length - 12 or len(trailer) < 4:
            raise CaptureError(path, "pcapng block cut short (truncated file)", count,
                               truncated=True)
        kind = struct.unpack(endian + "I", block_type)[0]
        if (kind == 6 and len(body) >= 20) or (kind == 2 and len(body) >= 24):
            # An enhanced packet block, or an obsolete one (16-bit interface, drops count):
            # both have the interface first, the time, lengths and the data at offset 20.
            fields = struct.unpack_from(endian + ("IIIII" if kind == 6 else "HHIIII"), body)
            iface, (high, low, caplen, original) = fields[0], fields[-4:]
            if iface >= len(interfaces):
                raise CaptureError(path, f"packet on undeclared interface {iface}", count)
            linktype, unit, _ = interfaces[iface]
            count += 1
            yield linktype, ((high << 32) | low) * unit, body[20 : 20 + caplen], original
        elif kind == 3 and len(body) >= 4 and interfaces:  # simple packet block
            original = struct.unpack_from(endian + "I", body)[0]
            linktype, _, snaplen = interfaces[0]
            kept = min(original, snaplen) if snaplen else original  # the rest is padding
            count += 1
            yield linktype, 0.0, body[4 : 4 + kept], original
        elif kind == 1 and len(body) >= 8:  # interface description
            linktype, _, snaplen = struct.unpack_from(endian + "HHI", body)
            interfaces.append((linktype, _tsresol(body[8:], endian), snaplen))
        following = f.read(4)
        if not following:
            return
        if len(following) < 4:
            raise CaptureError(path, "pcapng block cut short (truncated file)", count,
                               truncated=True)
        block_type = following


def _tsresol(options: bytes, endian: str) -> float:
    """The interface's timestamp unit in seconds (option if_tsresol, default microseconds)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[pos + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0 ** -value
        pos += 4 + ((length + 3) & ~3)
    return 1e-6


# ---- link and network layers ----


# Link types with an ethertype: (octets of link header, offset of the ethertype in it).
_LINK_HEADERS = {_ETHERNET: (14, 12), _SLL: (16, 14), _SLL2: (20, 0)}


def _network(linktype: int, frame: bytes) -> tuple[int, bytes] | None:
    """(ethertype, IP packet) from a link-layer frame, or None when it carries no IP."""
    header = _LINK_HEADERS.get(linktype)
    if header is not None:
        size, at = header
        if len(frame) < size:
            return None
        return _untagged(_U16.unpack_from(frame, at)[0], frame, size)
    if linktype in (_NULL, _LOOP):
        if len(frame) < 4:
            return None
        # DLT_NULL stores the address family in the capturing host's byte order.
        family = struct.unpack_from("<I", frame)[0]
        if family > 0xFFFF:
            family = struct.unpack_from(">I", frame)[0]
        return (_IPV4 if family == 2 else _IPV6 if family in _AF_INET6 else 0), frame[4:]
    if linktype in _RAW_TYPES:
        if not frame:
            return None
        version = frame[0] >> 4
        return (_IPV4 if version == 4 else _IPV6 if version == 6 else 0), frame
    return None


def _untagged(ethertype: int, frame: bytes, offset: int) -> tuple[int, bytes]:
    """Past any 802.1Q/802.1ad VLAN tags (libpcap keeps them in cooked captures too)."""
    while ethertype in (0x8100, 0x88A8, 0x9100) and len(frame) >= offset + 4:
        ethertype = _U16.unpack_from(frame, offset + 2)[0]
        offset += 4
    return ethertype, frame[offset:]


def _past_extensions(proto: int, body: bytes) -> tuple[int, bytes]:
    """Past IPv6 hop-by-hop, routing and destination options headers and IPsec AH (also
    in IPv4), wherever they stand (RFC 8200 4.1 puts destination options after a fragment
    header); stops at a fragment header, ESP or a transport."""
    while len(body) >= 8:
        if proto in (0, 43, 60):
            proto, body = body[0], body[(body[1] + 1) * 8 :]
        elif proto == 51:  # AH: its length counts 4-octet words, less 2
            proto, body = body[0], body[(body[1] + 2) * 4 :]
        else:
            break
    return proto, body


class _Datagram:
    """One IP datagram's fragments so far, and which of its 8-octet blocks they cover."""

    __slots__ = ("filled", "marks", "parts", "total")

    def __init__(self) -> None:
        self.parts: dict[int, bytes] = {}
        self.total = -1  # known from the last fragment
        self.marks = bytearray(_BLOCKS)  # 1 for each 8-octet block wholly received
        self.filled = 0  # blocks received from the start without a hole


class _Fragments:
    """IPv4 and IPv6 datagrams being put back together, a bounded number at once.

    Linear in the fragments: each one marks the 8-octet blocks it covers (fragment
    offsets count in those), the run of blocks received from the start only grows, and a
    datagram is put together once, when that run and its last fragment meet."""

    __slots__ = ("assembled", "held")

    def __init__(self) -> None:
        self.held: dict[tuple[object, ...], _Datagram] = {}
        self.assembled = 0  # datagrams put together (or found inconsistent), for tests

    def add(self, key: tuple[object, ...], offset: int, more: bool, data: bytes) -> bytes | None:
        entry = self.held.get(key)
        if entry is None:
            if len(self.held) >= MAX_FRAGMENTED:
                del self.held[next(iter(self.held))]
            entry = self.held[key] = _Datagram()
        entry.parts[offset] = data
        end = offset + len(data)
        if not more:
            entry.total = end
        first, last = offset // 8, min(end // 8, _BLOCKS)  # blocks wholly inside
        if last > first:
            entry.marks[first:last] = b"\x01" * (last - first)
            hole = entry.marks.find(0, entry.filled)
            entry.filled = _BLOCKS if hole < 0 else hole
        # The last fragment covers the blocks from its offset to the end, a partial one too.
        if entry.total < 0 or entry.filled < min(entry.total // 8, _BLOCKS):
            return None
        del self.held[key]
        self.assembled += 1
        whole = bytearray()
        for start in sorted(entry.parts):
            if start > len(whole):
                return None  # a fragment replaced by a shorter one left a hole: dropped
            piece = entry.parts[start]
            whole += piece[len(whole) - start :]
        if len(whole) < entry.total or len(whole) > 0xFFFF:
            return None
        return bytes(whole[: entry.total])


def _transport(
    ethertype: int, packet: bytes, fragments: _Fragments
) -> tuple[int, str, str, bytes, bool] | None:
    """(protocol, source, destination, transport segment, cut by snaplen) or None."""
    if ethertype == _IPV4:
        if len(packet) < 20 or packet[0] >> 4 != 4:
            return None
        ihl = (packet[0] & 0x0F) * 4
        total = _U16.unpack_from(packet, 2)[0]
        # Total length 0 appears in captures of segmentation-offloaded sends: trust the frame.
        cut = total > len(packet)
        body = packet[ihl:total] if ihl <= total <= len(packet) else packet[ihl:]
        proto = packet[9]
        src = socket.inet_ntop(socket.AF_INET, packet[12:16])
        dst = socket.inet_ntop(socket.AF_INET, packet[16:20])
        flags_offset = _U16.unpack_from(packet, 6)[0]
        if flags_offset & 0x3FFF and not cut:  # more fragments, or not the first one
            # (a cut fragment is not reassembled: it reaches the caller as cut, to be noted)
            key = (4, src, dst, _U16.unpack_from(packet, 4)[0], proto)
            whole = fragments.add(key, (flags_offset & 0x1FFF) * 8, bool(flags_offset & 0x2000),
                                  body)
            if whole is None:
                return None
            body = whole
        proto, body = _past_extensions(proto, body)
        return proto, src, dst, body, cut
    if ethertype == _IPV6:
        if len(packet) < 40 or packet[0] >> 4 != 6:
            return None
        length = _U16.unpack_from(packet, 4)[0]
        proto = packet[6]
        src = socket.inet_ntop(socket.AF_INET6, packet[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, packet[24:40])
        cut = 40 + length > len(packet)
        body = packet[40 : 40 + length] if length else packet[40:]
        proto, body = _past_extensions(proto, body)
        if proto == 44:  # fragment header
            if len(body) < 8:
                return None
            proto = body[0]
            offset_more = _U16.unpack_from(body, 2)[0]
            if offset_more & 0xFFF9 and not cut:  # a real fragment, not an atomic one
                key = (6, src, dst, struct.unpack_from("!I", body, 4)[0], proto)
                whole = fragments.add(key, offset_more & 0xFFF8, bool(offset_more & 1), body[8:])
                if whole is None:
                    return None
                body = whole
            else:
                body = body[8:]
            proto, body = _past_extensions(proto, body)
        return proto, src, dst, body, cut
    return None


# ---- what counts as DNS ----


def looks_like_dns(data: bytes) -> bool:
    """A cheap test of the header's shape: a known opcode, Z clear, and counts that the
    length can hold (each question at least 5 octets, each record at least 11)."""
    return len(data) >= 12 and _shape(data, len(data))


def _shape(header: bytes, length: int) -> bool:
    """``looks_like_dns`` for a message of ``length`` octets of which the header is here."""
    flags, qd, an, ns, ar = _HEADER.unpack_from(header, 2)
    if (flags >> 11) & 0xF not in (0, 1, 2, 4, 5, 6) or flags & 0x0040:
        return False
    if qd + an + ns + ar == 0:
        return length == 12
    return bool(12 + qd * 5 + (an + ns + ar) * 11 <= length)


def _decodes(data: bytes) -> bool:
    try:
        decode(data)
    except WireError:
        return False
    return True


def _server(data: bytes, src: tuple[str, int], dst: tuple[str, int]) -> tuple[str, int]:
    """The server's end of a DNS exchange: a query goes to it, a response comes from it."""
    return src if len(data) > 2 and data[2] & 0x80 else dst


class _Detector:
    """Applies the module's rule for what is DNS, remembering servers found on the way."""

    __slots__ = ("servers",)

    def __init__(self) -> None:
        self.servers: set[tuple[str, int]] = set()

    def known(self, src: tuple[str, int], dst: tuple[str, int]) -> bool:
        return (src[1] in DNS_PORTS or dst[1] in DNS_PORTS
                or src in self.servers or dst in self.servers)

    def accepts(self, data: bytes, src: tuple[str, int], dst: tuple[str, int]) -> bool:
        if self.known(src, dst):
            return True
        if not looks_like_dns(data):
            return False
        if not (src[1] in LAB_PORTS or dst[1] in LAB_PORTS) and not _decodes(data):
            return False
        if len(self.servers) < 100000:
            self.servers.add(_server(data, src, dst))
        return True


# ---- TCP ----


class _Stream:
    """One direction of a TCP connection."""

    __slots__ = ("buffer", "dns", "fin_at", "next_seq", "pending", "pending_size", "synced")

    def __init__(self, next_seq: int | None, synced: bool) -> None:
        self.fin_at: int | None = None  # a FIN came before the data it follows
        self.buffer = bytearray()
        self.next_seq = next_seq
        self.pending: dict[int, bytes] = {}
        self.pending_size = 0
        self.synced = synced  # saw the SYN, so the data starts at a message boundary
        self.dns: bool | None = None  # decided by the first message

    def feed(self, seq: int, payload: bytes) -> bool:
        """Add a segment; False when a gap has outlasted the bounds (data never captured)."""
        if self.next_seq is None:
            self.next_seq = seq
        ahead = (seq - self.next_seq) % _SEQ
        if ahead >= _HALF:  # begins before what we have: a retransmission or an overlap
            if _SEQ - ahead >= len(payload):
                return True
            payload = payload[_SEQ - ahead :]
            ahead = 0
        if ahead:
            if len(payload) > len(self.pending.get(seq, b"")):
                self.pending_size += len(payload) - len(self.pending.get(seq, b""))
                self.pending[seq] = payload
            return (len(self.pending) <= MAX_TCP_SEGMENTS
                    and self.pending_size <= MAX_TCP_PENDING)
        self.buffer += payload
        self.next_seq = (self.next_seq + len(payload)) % _SEQ
        while self.pending:
            moved = False
            for start in list(self.pending):
                offset = (self.next_seq - start) % _SEQ
                if offset >= _HALF:
                    continue  # still ahead of us
                chunk = self.pending.pop(start)
                self.pending_size -= len(chunk)
                if offset < len(chunk):
                    self.buffer += chunk[offset:]
                    self.next_seq = (self.next_seq + len(chunk) - offset) % _SEQ
                moved = True
            if not moved:
                break
        return True


def _name(src: tuple[str, int], dst: tuple[str, int]) -> str:
    def one(end: tuple[str, int]) -> str:
        return f"[{end[0]}]:{end[1]}" if ":" in end[0] else f"{end[0]}:{end[1]}"

    return f"{one(src)} -> {one(dst)}"


class _Tcp:
    """Reassembles TCP directions and splits them into length-prefixed DNS messages."""

    def __init__(self, detector: _Detector, stats: Stats) -> None:
        self.streams: dict[tuple[str, int, str, int], _Stream] = {}
        # Directions that ended with a FIN or RST: what comes later without a SYN is a
        # retransmission (RFC 9293 3.10.7.4), not a new stream. Bounded like the streams.
        self.closed: dict[tuple[str, int, str, int], None] = {}
        self.detector = detector
        self.stats = stats

    def segment(self, number: int, src: tuple[str, int], dst: tuple[str, int],
                segment: bytes) -> list[bytes]:
        seq = _TCP.unpack_from(segment, 0)[2]
        flags = segment[13]
        payload = segment[(segment[12] >> 4) * 4 :]
        key = (src[0], src[1], dst[0], dst[1])
        if flags & 0x04:  # RST: over now; any data it carries is a diagnostic, not the stream
            self._end(number, key, src, dst)
            return []
        if flags & 0x02:  # SYN: the data starts at seq + 1 (TCP Fast Open data is there too)
            self._end(number, key, src, dst)
            self.closed.pop(key, None)
            self._add(number, key, _Stream((seq + 1) % _SEQ, True))
            seq = (seq + 1) % _SEQ
        elif key in self.closed:
            return []
        stream = self.streams.get(key)
        messages: list[bytes] = []
        if payload:
            if stream is None:
                stream = self._add(number, key, _Stream(None, False))
            if stream.dns is not False:
                if not stream.feed(seq, payload):
                    start = stream.next_seq or 0
                    missing = min((s - start) % _SEQ for s in stream.pending)
                    self.stats.note(number, NoteKind.TCP_GAP, f"TCP {_name(src, dst)}: {missing} "
                                    "octets never captured; the rest of this direction is "
                                    "not checked")
                    stream.dns = False
                    stream.buffer.clear()
                    stream.pending.clear()
                else:
                    messages = self._messages(stream, src, dst)
        if flags & 0x01 and stream is not None:  # FIN: over once the data before it is in
            stream.fin_at = (seq + len(payload)) % _SEQ
        if stream is not None and stream.fin_at is not None and (
                stream.next_seq == stream.fin_at or stream.dns is False):
            self._end(number, key, src, dst)
        elif flags & 0x01 and stream is None:
            self._close(key)
        return messages

    def _add(self, number: int, key: tuple[str, int, str, int], stream: _Stream) -> _Stream:
        if len(self.streams) >= MAX_TCP_STREAMS:
            oldest = next(iter(self.streams))
            dropped = self.streams.pop(oldest)
            if dropped.dns or dropped.buffer or dropped.pending:
                self.stats.note(number, NoteKind.TCP_STREAMS, f"TCP {_name(oldest[:2], oldest[2:])}: "
                                f"over {MAX_TCP_STREAMS} open directions; this one is no longer "
                                "followed")
        self.streams[key] = stream
        return stream

    def _close(self, key: tuple[str, int, str, int]) -> None:
        if len(self.closed) >= MAX_TCP_STREAMS:
            del self.closed[next(iter(self.closed))]
        self.closed[key] = None

    def _end(self, number: int, key: tuple[str, int, str, int], src: tuple[str, int],
             dst: tuple[str, int]) -> None:
        self._close(key)
        stream = self.streams.pop(key, None)
        if stream is None or stream.dns is False or not (stream.buffer or stream.pending):
            return
        if stream.dns or self.detector.known(src, dst):
            unused = len(stream.buffer) + stream.pending_size
            self.stats.note(number, NoteKind.INCOMPLETE, f"TCP {_name(src, dst)} ended with {unused} "
                            "octets that make no whole DNS message")

    def finish(self, number: int) -> None:
        """At the end of the file: report DNS messages the capture stopped in the middle of."""
        for (sa, sp, da, dp) in list(self.streams):
            self._end(number, (sa, sp, da, dp), (sa, sp), (da, dp))

    def _messages(self, stream: _Stream, src: tuple[str, int],
                  dst: tuple[str, int]) -> list[bytes]:
        buffer = stream.buffer
        out: list[bytes] = []
        while len(buffer) >= 2:
            length = _U16.unpack_from(buffer, 0)[0]
            if stream.dns is None and len(buffer) >= 14 and not self._plausible(stream, buffer,
                                                                                 src, dst):
                stream.dns = False
                buffer.clear()
                return out
            if len(buffer) < 2 + length:
                break
            message = bytes(buffer[2 : 2 + length])
            del buffer[: 2 + length]
            if stream.dns is None:
                if not self.detector.accepts(message, src, dst):
                    stream.dns = False
                    buffer.clear()
                    return out
                stream.dns = True
            out.append(message)
        return out

    def _plausible(self, stream: _Stream, buffer: bytearray, src: tuple[str, int],
                   dst: tuple[str, int]) -> bool:
        """Before a whole first message is in: does this direction start like DNS? Known
        DNS ports pass, unless the capture joined the connection after its SYN (then the
        first octets may be the middle of a message)."""
        if stream.synced and self.detector.known(src, dst):
            return True
        length = _U16.unpack_from(buffer, 0)[0]
        return length >= 12 and _shape(bytes(buffer[2:14]), length)


# ---- the reader ----


def dns_messages(path: str, stats: Stats | None = None) -> Iterator[DnsItem]:
    """Every DNS message in the capture at ``path``, in frame order; ``CaptureError`` when
    the file cannot be opened or turns out cut short or corrupt (after the messages before
    the fault have been yielded)."""
    stats = stats if stats is not None else Stats()
    detector = _Detector()
    tcp = _Tcp(detector, stats)
    fragments = _Fragments()
    unknown_links: dict[int, int] = {}
    try:
        f = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed in finally
    except OSError as exc:
        raise CaptureError(path, exc.strerror or str(exc)) from None
    number = 0
    try:
        for number, (linktype, when, frame, original) in enumerate(_frames(f, path), 1):
            stats.packets = number
            stats.offset = f.tell()
            found = False
            network = _network(linktype, frame)
            if network is None:
                if linktype not in (_ETHERNET, _SLL, _SLL2, _NULL, _LOOP) and (
                        linktype not in _RAW_TYPES):
                    unknown_links[linktype] = unknown_links.get(linktype, 0) + 1
                stats.skipped += 1
                continue
            transport = _transport(network[0], network[1], fragments)
            if transport is None:
                stats.skipped += 1
                continue
            proto, src_ip, dst_ip, segment, cut = transport
            cut = cut or len(frame) < original  # IP lengths of 0 (offloaded sends) hide it
            if proto == 17 and len(segment) >= 8:
                sport, dport, length = _UDP.unpack_from(segment, 0)
                src, dst = (src_ip, sport), (dst_ip, dport)
                if cut or length > len(segment):
                    if detector.known(src, dst):
                        stats.note(number, NoteKind.SNAPLEN, f"UDP {_name(src, dst)}: frame cut by the "
                                   "snapshot length; its DNS message is not checked")
                else:
                    payload = segment[8:length] if length >= 8 else segment[8:]
                    if not payload and detector.known(src, dst):
                        # Nothing to decode: not a malformed message (probes send these).
                        stats.empty += 1
                        if stats.empty == 1:
                            stats.note(number, NoteKind.EMPTY, f"UDP {_name(src, dst)}: an empty "
                                       "datagram on a DNS port, no message to check")
                    elif detector.accepts(payload, src, dst):
                        found = True
                        yield DnsItem(number, when, "udp", src, dst, payload)
            elif proto == 6 and len(segment) >= 20:
                sport, dport = _UDP.unpack_from(segment, 0)[:2]
                src, dst = (src_ip, sport), (dst_ip, dport)
                if cut:
                    if detector.known(src, dst):
                        stats.note(number, NoteKind.SNAPLEN, f"TCP {_name(src, dst)}: frame cut by the "
                                   "snapshot length; this direction is not checked")
                    tcp.streams.pop((src_ip, sport, dst_ip, dport), None)
                else:
                    for message in tcp.segment(number, src, dst, segment):
                        found = True
                        yield DnsItem(number, when, "tcp", src, dst, message)
            if not found:
                stats.skipped += 1
        tcp.finish(number)
    finally:
        f.close()
        for linktype, frames in unknown_links.items():
            stats.note(0, NoteKind.LINK_TYPE, f"link type {linktype} is not read: {frames} frames "
                       "skipped")
