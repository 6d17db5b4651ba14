"""Record data types, one frozen class per type, each described once by its ``fields``.

A field description (``FieldKind``) knows how to read itself (recording its span), write
itself, print itself in zone-file form and parse itself from zone-file tokens. The generic
methods on ``Rdata`` walk ``fields``, so decoding, encoding, presentation and the hex view
cannot drift apart. Types craft does not know are kept opaque (RFC 3597: ``\\# len hex``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from craft.dns.constants import RRType
from craft.dns.edns import EdnsOption, decode_options, encode_options, parse_edns_option
from craft.dns.names import BadNameError, Name
from craft.dns.wire import Reader, SpanKind, WireError, Writer


class FieldKind:
    """How one rdata field goes to and from the wire and zone-file text."""

    def decode(self, r: Reader, end: int, field: str) -> Any:
        raise NotImplementedError

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        raise NotImplementedError

    def text(self, value: Any) -> str:
        return str(value)

    def parse(self, tokens: list[str], origin: Name | None) -> Any:
        """Consume the tokens this field needs from the front of ``tokens``."""
        raise NotImplementedError


def _pop(tokens: list[str], what: str) -> str:
    if not tokens:
        raise ValueError(f"missing {what}")
    return tokens.pop(0)


class UInt(FieldKind):
    def __init__(self, size: int) -> None:
        self.size = size
        self.limit = (1 << (8 * size)) - 1

    def decode(self, r: Reader, end: int, field: str) -> int:
        if r.pos + self.size > end:
            raise WireError(r.pos, f"rdata too short for {field}")
        if self.size == 1:
            return r.u8(field)
        if self.size == 2:
            return r.u16(field)
        return r.u32(field)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        {1: w.u8, 2: w.u16, 4: w.u32}[self.size](int(value))

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        token = _pop(tokens, "number")
        if not (token.isascii() and token.isdigit()) or int(token) > self.limit:
            raise ValueError(f"bad {8 * self.size}-bit number {token!r}")
        return int(token)


_SECONDS_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SECONDS_RE = re.compile(r"^(?:\d+[smhdw]?)+$", re.IGNORECASE | re.ASCII)


def is_seconds(token: str) -> bool:
    return bool(_SECONDS_RE.match(token))


def parse_seconds(token: str, limit: int = 0xFFFFFFFF) -> int:
    """``3600`` or BIND units such as ``1h30m`` to seconds; ValueError when malformed."""
    if not _SECONDS_RE.match(token):
        raise ValueError(f"bad time value {token!r}")
    value = sum(
        int(number) * _SECONDS_UNITS[unit.lower() or "s"]
        for number, unit in re.findall(r"(\d+)([smhdwSMHDW]?)", token)
    )
    if value > limit:
        raise ValueError(f"time value {token} over {limit}")
    return value


class Seconds(UInt):
    """A 32-bit count of seconds (SOA timers): zone text may use units (``1h``)."""

    def __init__(self) -> None:
        super().__init__(4)

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        return parse_seconds(_pop(tokens, "time value"))


class Address(FieldKind):
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = 4 if version == 4 else 16

    def decode(self, r: Reader, end: int, field: str) -> str:
        if r.pos + self.size > end:
            raise WireError(r.pos, f"rdata too short for {field}")
        start = r.pos
        text = self.show(r.take(self.size, field))
        r.mark(start, field, text, SpanKind.RDATA)
        return text

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(self.pack(str(value)))

    def show(self, packed: bytes) -> str:
        """Text form: dotted quad, or RFC 5952 for IPv6 (glibc's inet_ntop is not)."""
        if self.version == 4:  # formatted by hand: four times faster than IPv4Address
            return f"{packed[0]}.{packed[1]}.{packed[2]}.{packed[3]}"
        return str(ipaddress.IPv6Address(packed))

    def pack(self, text: str) -> bytes:
        if self.version == 4:
            return ipaddress.IPv4Address(text).packed
        return ipaddress.IPv6Address(text).packed

    def parse(self, tokens: list[str], origin: Name | None) -> str:
        token = _pop(tokens, "address")
        try:
            packed = self.pack(token)
        except ValueError:
            raise ValueError(f"bad IPv{self.version} address {token!r}") from None
        return self.show(packed)  # the decoder's form, so parsed and decoded values compare


class DomainName(FieldKind):
    """A name inside rdata; ``compress`` only for RFC 1035 types (RFC 3597 section 4)."""

    def __init__(self, compress: bool) -> None:
        self.compress = compress

    def decode(self, r: Reader, end: int, field: str) -> Name:
        name = r.name(field)
        if r.pos > end:
            raise WireError(end, f"{field} runs past rdata")
        return name

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.name(value, compress and self.compress)

    def text(self, value: Any) -> str:
        return str(value.to_text())

    def parse(self, tokens: list[str], origin: Name | None) -> Name:
        token = _pop(tokens, "name")
        try:
            return Name.from_text(token, origin)
        except BadNameError as exc:
            raise ValueError(exc.reason + f" in {token!r}") from None


def quote(data: bytes) -> str:
    out = []
    for b in data:
        if b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return '"' + "".join(out) + '"'


def unquote(token: str) -> bytes:
    """A zone-file character string (quotes already removed by the tokenizer) to bytes."""
    raw = token.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and i + 1 < len(raw):
            digits = raw[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit() and int(digits) <= 255:
                out.append(int(digits))
                i += 4
                continue
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    if len(out) > 255:
        raise ValueError(f"character string of {len(out)} octets (max 255)")
    return bytes(out)


class CharStrings(FieldKind):
    """One or more <length><octets> strings filling the rest of the rdata (TXT)."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[bytes, ...]:
        strings = []
        index = 0
        while r.pos < end:
            start = r.pos
            length = r.data[r.pos]
            if r.pos + 1 + length > end:
                raise WireError(r.pos, f"character string of {length} runs past rdata")
            r.pos += 1
            value = r.take(length, field)
            r.mark(start, f"{field}[{index}]", quote(value), SpanKind.RDATA)
            strings.append(value)
            index += 1
        if not strings:
            raise WireError(r.pos, f"{field} needs at least one string")
        return tuple(strings)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        for string in value:
            w.u8(len(string))
            w.raw(string)

    def text(self, value: Any) -> str:
        return " ".join(quote(s) for s in value)

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[bytes, ...]:
        if not tokens:
            raise ValueError("missing text")
        strings = tuple(unquote(t) for t in tokens)
        tokens.clear()
        return strings


class Options(FieldKind):
    """EDNS0 options (RFC 6891) filling the rdata; ``craft.dns.edns`` owns their layouts."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[EdnsOption, ...]:
        return decode_options(r, end)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        encode_options(w, value)

    def text(self, value: Any) -> str:
        return " ".join(option.to_text() for option in value)

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[EdnsOption, ...]:
        options = tuple(parse_edns_option(token) for token in tokens)
        tokens.clear()
        return options


class Rest(FieldKind):
    """Opaque bytes to the end of the rdata."""

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        data = r.take(end - r.pos, field)
        r.mark(start, field, data.hex(" ") if data else "(empty)", SpanKind.RDATA)
        return data

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(value)

    def text(self, value: Any) -> str:
        return f"\\# {len(value)} {value.hex()}" if value else "\\# 0"

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        if _pop(tokens, "\\#") != "\\#":
            raise ValueError("unknown type needs RFC 3597 form \\# LENGTH HEX")
        length = int(_pop(tokens, "length"))
        data = bytes.fromhex("".join(tokens))
        tokens.clear()
        if len(data) != length:
            raise ValueError(f"\\# says {length} octets, hex has {len(data)}")
        return data


U8, U16, U32 = UInt(1), UInt(2), UInt(4)
SECONDS = Seconds()
NAME = DomainName(compress=True)
NAME_PLAIN = DomainName(compress=False)


@dataclass(frozen=True, slots=True)
class Rdata:
    """Base of all rdata values; subclasses list their wire layout in ``fields``."""

    rtype: ClassVar[int] = 0
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = ()

    @classmethod
    def decode(cls, r: Reader, end: int) -> Self:
        values = [kind.decode(r, end, f"RDATA {name}") for name, kind in cls.fields]
        return cls(*values)

    def encode(self, w: Writer, compress: bool = True) -> None:
        for name, kind in self.fields:
            kind.encode(w, getattr(self, name), compress)

    def to_text(self) -> str:
        return " ".join(kind.text(getattr(self, name)) for name, kind in self.fields)

    @classmethod
    def from_text(cls, tokens: Sequence[str], origin: Name | None = None) -> Self:
        rest = list(tokens)
        values = [kind.parse(rest, origin) for _, kind in cls.fields]
        if rest:
            raise ValueError(f"unexpected {' '.join(rest)!r} after rdata")
        return cls(*values)


@dataclass(frozen=True, slots=True)
class A(Rdata):
    address: str
    rtype: ClassVar[int] = RRType.A
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("address", Address(4)),)


@dataclass(frozen=True, slots=True)
class AAAA(Rdata):
    address: str
    rtype: ClassVar[int] = RRType.AAAA
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("address", Address(6)),)


@dataclass(frozen=True, slots=True)
class NS(Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.NS
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("target", NAME),)


@dataclass(frozen=True, slots=True)
class CNAME(Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.CNAME
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("target", NAME),)


@dataclass(frozen=True, slots=True)
class PTR(Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.PTR
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("target", NAME),)


@dataclass(frozen=True, slots=True)
class MX(Rdata):
    preference: int
    exchange: Name
    rtype: ClassVar[int] = RRType.MX
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (
        ("preference", U16),
        ("exchange", NAME),
    )


@dataclass(frozen=True, slots=True)
class TXT(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RRType.TXT
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("strings", CharStrings()),)


@dataclass(frozen=True, slots=True)
class SOA(Rdata):
    mname: Name
    rname: Name
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int
    rtype: ClassVar[int] = RRType.SOA
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (
        ("mname", NAME),
        ("rname", NAME),
        ("serial", U32),
        ("refresh", SECONDS),
        ("retry", SECONDS),
        ("expire", SECONDS),
        ("minimum", SECONDS),
    )


@dataclass(frozen=True, slots=True)
class SRV(Rdata):
    priority: int
    weight: int
    port: int
    target: Name
    rtype: ClassVar[int] = RRType.SRV
    # RFC 2782: the target is never compressed.
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (
        ("priority", U16),
        ("weight", U16),
        ("port", U16),
        ("target", NAME_PLAIN),
    )


@dataclass(frozen=True, slots=True)
class OPT(Rdata):
    options: tuple[EdnsOption, ...] = ()
    rtype: ClassVar[int] = RRType.OPT
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("options", Options()),)


@dataclass(frozen=True, slots=True)
class Opaque(Rdata):
    """Rdata of a type craft does not model, kept byte for byte (RFC 3597)."""

    data: bytes
    fields: ClassVar[tuple[tuple[str, FieldKind], ...]] = (("data", Rest()),)


RDATA_TYPES: dict[int, type[Rdata]] = {
    cls.rtype: cls for cls in (A, AAAA, NS, CNAME, PTR, MX, TXT, SOA, SRV, OPT)
}


def rdata_class(rtype: int) -> type[Rdata]:
    return RDATA_TYPES.get(rtype, Opaque)
