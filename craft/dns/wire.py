"""Bounds-checked reading and compressing writing of DNS wire data, with optional field spans.

This module owns the only exception of the codec layer, ``WireError``: every fault found
while reading bytes becomes one, with the byte offset and a short reason. ``Reader`` can
record a ``Span`` (byte range, section, field, decoded value) for each field it reads; the
annotated hex view is drawn from those spans, so the field layout is described only once,
in the decoders. Span recording is off unless a list is passed in.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import StrEnum

from craft.dns.names import LOWER, MAX_LABEL, MAX_NAME, Name
from craft.errors import CraftError

POINTER_LIMIT = 0x3FFF
HEADER_SIZE = 12
HEADER = struct.Struct("!HHHHHH")  # ID, flags and the four counts
MAX_POINTER_JUMPS = 127  # a 255-octet name cannot need more distinct backward jumps

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


class WireError(CraftError, ValueError):
    """Bytes that are not a valid DNS message: ``offset`` is where the fault was found."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"offset {offset}", reason)
        self.offset = offset


class SpanKind(StrEnum):
    """What a span's octets are: the hex view names a name's parts after it."""

    ID = "id"
    FLAGS = "flags"
    COUNT = "count"
    TYPE = "type"
    CLASS = "class"
    TTL = "ttl"
    RDLENGTH = "rdlength"
    INT = "int"  # any other number
    RDATA = "rdata"
    NAME = "name"
    LABEL = "label"  # level 1: one label of a name
    POINTER = "pointer"  # level 1: a compression pointer inside a name
    ROOT = "root"  # level 1: the root label ending a name
    REST = "rest"  # octets after a fault, never decoded
    MAC_COVERS = "mac covers"  # level 2: octets a TSIG's MAC covers (RFC 8945 4.3)
    MAC = "mac"  # level 2: the MAC itself, which covers the rest


@dataclass(frozen=True, slots=True)
class Span:
    """One decoded field: bytes ``[start, end)`` of the message.

    ``kind`` says what the octets are; ``level`` 0 is a whole field, 1 a part of one (a label or
    a compression pointer inside a name).
    """

    start: int
    end: int
    section: str
    field: str
    value: str
    kind: SpanKind
    level: int = 0


class Reader:
    """A cursor over message bytes. Every read checks bounds and raises ``WireError``."""

    __slots__ = ("data", "end", "layout", "pos", "section", "spans")

    def __init__(self, data: bytes, spans: list[Span] | None = None) -> None:
        # bytes, so a slice is already an immutable copy (labels are dict keys)
        self.data = data if type(data) is bytes else bytes(data)
        self.pos = 0
        self.end = len(data)
        self.spans = spans
        self.section = ""
        # With a Layout, every name's original octets are kept, keyed by offset.
        self.layout: Layout | None = None

    def need(self, count: int, what: str) -> None:
        if self.pos + count > self.end:
            left = self.end - self.pos
            raise WireError(
                self.pos, f"truncated {what}: needs {count} octets, {max(left, 0)} left"
            )

    def mark(self, start: int, field: str, value: str, kind: SpanKind, level: int = 0) -> None:
        if self.spans is not None:
            self.spans.append(Span(start, self.pos, self.section, field, value, kind, level))

    def u8(self, field: str, kind: SpanKind = SpanKind.INT) -> int:
        self.need(1, field)
        value = self.data[self.pos]
        self.pos += 1
        if self.spans is not None:
            self.mark(self.pos - 1, field, str(value), kind)
        return value

    def u16(self, field: str, kind: SpanKind = SpanKind.INT) -> int:
        self.need(2, field)
        (value,) = _U16.unpack_from(self.data, self.pos)
        self.pos += 2
        if self.spans is not None:
            self.mark(self.pos - 2, field, str(value), kind)
        return int(value)

    def u32(self, field: str, kind: SpanKind = SpanKind.INT) -> int:
        self.need(4, field)
        (value,) = _U32.unpack_from(self.data, self.pos)
        self.pos += 4
        if self.spans is not None:
            self.mark(self.pos - 4, field, str(value), kind)
        return int(value)

    def take(self, count: int, field: str) -> bytes:
        self.need(count, field)
        value = self.data[self.pos : self.pos + count]
        self.pos += count
        return value

    def name(self, field: str) -> Name:
        """Read a possibly compressed name (RFC 1035 4.1.4) strictly.

        Each pointer must land inside the message body (not the header) and strictly before
        both itself and the previous pointer's target, so no loop or forward jump can be
        followed; the expanded name must stay within 255 octets. When recording spans, a
        name that fails still leaves a span for the labels read before the fault, so a
        partial decode shows everything up to the octet where reading stopped.
        """
        spans = self.spans
        parts: list[Span] | None = [] if spans is not None else None
        try:
            return self._name(field, parts)
        except WireError:
            if spans is not None and parts:
                start, end = parts[0].start, parts[-1].end
                text = ".".join(p.value for p in parts if p.kind is SpanKind.LABEL)
                spans.append(Span(start, end, self.section, field, f"{text}… (cut)", SpanKind.NAME, 0))
                spans.extend(parts)
            raise

    def _name(self, field: str, parts: list[Span] | None) -> Name:
        data = self.data
        start = self.pos
        pos = start
        labels: list[bytes] = []
        length = 1
        jumped = False
        limit = start  # a pointer's target must be below this
        spans = self.spans
        jumps = 0
        while True:
            if pos >= self.end:
                raise WireError(pos, f"truncated {field}: name runs past the end")
            octet = data[pos]
            kind = octet & 0xC0
            if kind == 0:
                if octet == 0:
                    if parts is not None and not jumped:
                        parts.append(Span(pos, pos + 1, self.section, field, "root", SpanKind.ROOT, 1))
                    pos += 1
                    break
                if pos + 1 + octet > self.end:
                    raise WireError(pos, f"truncated {field}: label of {octet} runs past the end")
                label = data[pos + 1 : pos + 1 + octet]
                length += octet + 1
                if length > MAX_NAME:
                    raise WireError(pos, f"name longer than {MAX_NAME} octets in {field}")
                if parts is not None and not jumped:
                    parts.append(
                        Span(
                            pos, pos + 1 + octet, self.section, field,
                            Name((label,)).to_text()[:-1], SpanKind.LABEL, 1,
                        )
                    )
                labels.append(label)
                pos += 1 + octet
            elif kind == 0xC0:
                if pos + 2 > self.end:
                    raise WireError(pos, f"truncated {field}: compression pointer cut short")
                target = ((octet & 0x3F) << 8) | data[pos + 1]
                if target < HEADER_SIZE:
                    raise WireError(pos, f"compression pointer into the header ({target})")
                if target >= pos or target >= limit:
                    direction = "self" if target == pos else "forward or looping"
                    raise WireError(pos, f"{direction} compression pointer to {target}")
                jumps += 1
                if jumps > MAX_POINTER_JUMPS:
                    raise WireError(pos, "too many compression pointers")
                if parts is not None and not jumped:
                    parts.append(
                        Span(pos, pos + 2, self.section, field, f"-> {target}", SpanKind.POINTER, 1)
                    )
                if not jumped:
                    self.pos = pos + 2
                    jumped = True
                limit = target
                pos = target
            else:
                label_type = "01" if kind == 0x40 else "10"
                raise WireError(pos, f"reserved label type {label_type} in {field}")
        if not jumped:
            self.pos = pos
        name = Name(tuple(labels))
        if self.layout is not None:
            self.layout.names[start] = (name, bytes(data[start : self.pos]))
        if spans is not None and parts is not None:
            text = name.to_text()
            spans.append(Span(start, self.pos, self.section, field, text, SpanKind.NAME, 0))
            for part in parts:
                if part.kind is SpanKind.POINTER:
                    target = int(part.value[3:])
                    suffix = _suffix_at(data, target)
                    part = Span(
                        part.start, part.end, part.section, part.field,
                        f"pointer to offset {target} ({suffix})", SpanKind.POINTER, 1,
                    )
                spans.append(part)
        return name


def _suffix_at(data: bytes, offset: int) -> str:
    """The name a pointer targets, for the span's label (the caller already validated it)."""
    reader = Reader(data)
    reader.pos = offset
    try:
        return reader.name("target").to_text()
    except WireError:
        return "?"


@dataclass(slots=True)
class Layout:
    """How a decoded message spelled its names: original octets (labels and pointers) by
    offset. Encoding with it gives the original bytes back while nothing has moved."""

    names: dict[int, tuple[Name, bytes]] = field(default_factory=dict)


class Writer:
    """Appends wire data; ``name`` compresses against names already written."""

    __slots__ = ("buf", "layout", "suffixes")

    def __init__(self, layout: Layout | None = None) -> None:
        self.buf = bytearray()
        self.suffixes: dict[tuple[bytes, ...], int] = {}
        self.layout = layout

    def u8(self, value: int) -> None:
        self.buf.append(value & 0xFF)

    def u16(self, value: int) -> None:
        self.buf += _U16.pack(value & 0xFFFF)

    def u32(self, value: int) -> None:
        self.buf += _U32.pack(value & 0xFFFFFFFF)

    def raw(self, data: bytes) -> None:
        self.buf += data

    def name(self, name: Name, compress: bool = True) -> None:
        """Write ``name``, ending in a pointer to the longest suffix already written when
        ``compress``; new suffixes are remembered only where a pointer can reach them."""
        if self.layout is not None:
            kept = self.layout.names.get(len(self.buf))
            if kept is not None and kept[0] == name:
                self.buf += kept[1]  # the original spelling; its pointers still land right
                return
            self.layout = None  # something moved or changed: from here on, compress afresh
        labels = name.labels
        if compress:
            keys = tuple([label.translate(LOWER) for label in labels])
            get = self.suffixes.get
            for i in range(len(labels)):
                target = get(keys[i:])
                if target is not None:
                    self._labels(labels[:i], keys)
                    self.buf += _U16.pack(0xC000 | target)
                    return
            self._labels(labels, keys)
        else:
            self._labels(labels, ())
        self.buf.append(0)

    def _labels(self, labels: tuple[bytes, ...], all_keys: tuple[bytes, ...]) -> None:
        buf = self.buf
        for i, label in enumerate(labels):
            offset = len(buf)
            if all_keys and offset <= POINTER_LIMIT:
                self.suffixes.setdefault(all_keys[i:], offset)
            if len(label) > MAX_LABEL:
                raise WireError(offset, f"label of {len(label)} octets (max {MAX_LABEL})")
            self.buf.append(len(label))
            self.buf += label

    def truncate(self, mark: int) -> None:
        """Drop everything from ``mark`` on, and forget the suffixes written there: a later
        name must not point at octets that are gone (or at itself, written in their place)."""
        del self.buf[mark:]
        stale = [key for key, offset in self.suffixes.items() if offset >= mark]
        for key in stale:
            del self.suffixes[key]

    def getvalue(self) -> bytes:
        return bytes(self.buf)
