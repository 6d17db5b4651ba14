"""Record data types, one frozen class per type, each described once by its ``fields``.

A field description (``FieldKind``) knows how to read itself (recording its span), write
itself, print itself in zone-file form and parse itself from zone-file tokens. The generic
methods on ``Rdata`` walk ``fields``, so decoding, encoding, presentation and the hex view
cannot drift apart. Types craft does not know are kept opaque (RFC 3597: ``\\# len hex``).
"""

from __future__ import annotations

import ipaddress
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from craft.dns.constants import RRType
from craft.dns.edns import EdnsOption, decode_options, encode_options, parse_edns_option
from craft.dns.names import BadNameError, Name
from craft.dns.wire import Reader, SpanKind, WireError, Writer

_U16 = struct.Struct("!H")
_SOA_NUMBERS = struct.Struct("!IIIII")


def _ntoa(packed: bytes) -> str:
    """Four octets as a dotted quad, formatted by hand (no socket in craft/dns)."""
    return f"{packed[0]}.{packed[1]}.{packed[2]}.{packed[3]}"


def _aton(text: str) -> bytes:
    """A dotted quad's four octets; the fast path takes canonical quads only (digits, no
    leading zero, each at most 255), anything else goes to ipaddress for its precise error."""
    parts = text.split(".")
    if len(parts) == 4 and all(
        p.isascii() and p.isdigit() and len(p) <= 3 and (p[0] != "0" or p == "0") for p in parts
    ):
        try:
            return bytes([int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])])
        except ValueError:  # an octet over 255
            pass
    return ipaddress.IPv4Address(text).packed

QUOTED = '"'  # first character of a token that was a quoted string (its content follows)


class FieldKind:
    """How one rdata field goes to and from the wire and zone-file text.

    Tokens handed to ``parse`` are zone-file words; one that was a quoted string starts with
    ``QUOTED``. Only kinds with ``quotable`` take those. A kind with ``prior`` reads the
    values of the fields before it (a gateway whose form its type field gives): the generic
    walk calls ``decode_after``/``parse_after``/``encode_after`` with them instead.
    """

    quotable = False
    prior = False

    def decode(self, r: Reader, end: int, field: str) -> Any:
        raise NotImplementedError

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        raise NotImplementedError

    def text(self, value: Any) -> str:
        return str(value)

    def parse(self, tokens: list[str], origin: Name | None) -> Any:
        """Consume the tokens this field needs from the front of ``tokens``."""
        raise NotImplementedError

    def json(self, value: Any) -> object:
        """The value for ``--json``: numbers and text as they are, the rest as zone text."""
        if isinstance(value, int | str) and not isinstance(value, bool):
            return value
        return self.text(value)

    def decode_after(self, r: Reader, end: int, field: str, before: list[Any]) -> Any:
        return self.decode(r, end, field)

    def parse_after(self, tokens: list[str], origin: Name | None, before: list[Any]) -> Any:
        return self.parse(tokens, origin)

    def encode_after(self, w: Writer, value: Any, compress: bool, before: list[Any]) -> None:
        self.encode(w, value, compress)


def _pop(tokens: list[str], what: str) -> str:
    """The next plain word; a quoted string is refused (it is never a number or a name)."""
    if not tokens:
        raise ValueError(f"missing {what}")
    token = tokens.pop(0)
    if token.startswith(QUOTED):
        raise ValueError(f"quoted string {token[1:]!r} where the {what} belongs")
    return token


def _pop_string(tokens: list[str], what: str) -> str:
    """The next word or quoted string, without its quote mark."""
    if not tokens:
        raise ValueError(f"missing {what}")
    token = tokens.pop(0)
    return token[1:] if token.startswith(QUOTED) else token


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
            return _ntoa(packed)
        return str(ipaddress.IPv6Address(packed))

    def pack(self, text: str) -> bytes:
        if self.version == 4:
            return _aton(text)
        return ipaddress.IPv6Address(text).packed

    def parse(self, tokens: list[str], origin: Name | None) -> str:
        token = _pop(tokens, "address")
        try:
            packed = self.pack(token)
        except ValueError:
            raise ValueError(f"bad IPv{self.version} address {token!r}") from None
        return self.show(packed)  # the decoder's form, so parsed and decoded values compare


class DomainName(FieldKind):
    """A name inside rdata. ``compress``: written compressed (RFC 1035 types only, RFC 3597
    4); ``decompress``: a compressed one is read (those types and the ones RFC 3597 4 lists:
    RP, AFSDB, RT, SIG, PX, NXT, NAPTR, SRV); elsewhere a pointer is a ``WireError``
    (RFC 4034: RRSIG's signer, NSEC's next name)."""

    def __init__(self, compress: bool, decompress: bool = True) -> None:
        self.compress = compress
        self.decompress = decompress or compress

    def decode(self, r: Reader, end: int, field: str) -> Name:
        start = r.pos
        name = r.name(field)
        if r.pos > end:
            raise WireError(end, f"{field} runs past rdata")
        if not self.decompress and r.pos - start != name.wire_length():
            raise WireError(start, f"compressed name in {field}, where compression is not allowed")
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


def unquote(token: str, limit: int = 255) -> bytes:
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
    if len(out) > limit:
        raise ValueError(f"character string of {len(out)} octets (max {limit})")
    return bytes(out)


class CharStrings(FieldKind):
    """One or more <length><octets> strings filling the rest of the rdata (TXT)."""

    quotable = True

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
        # A value made in code may break what the decoder and every reader hold to: say so
        # here rather than write a length octet that wraps (256 -> 0) or an empty rdata.
        if not value:
            raise ValueError("a TXT needs at least one string")
        for string in value:
            if len(string) > 255:
                raise ValueError(f"a character string holds at most 255 octets, not {len(string)}")
            w.u8(len(string))
            w.raw(string)

    def text(self, value: Any) -> str:
        return " ".join(quote(s) for s in value)

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[bytes, ...]:
        if not tokens:
            raise ValueError("missing text")
        strings = tuple(unquote(t[1:] if t.startswith(QUOTED) else t) for t in tokens)
        tokens.clear()
        return strings

    def json(self, value: Any) -> object:
        return [quote(s)[1:-1] for s in value]


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


NAME_STRICT = DomainName(compress=False, decompress=False)
Fields = tuple[tuple[str, FieldKind], ...]


@dataclass(frozen=True, slots=True)
class Rdata:
    """Base of all rdata values; subclasses list their wire layout in ``fields``.

    ``mnemonic`` is the type's zone-file name. ``problem`` (None when fine) is asked after
    decoding and parsing: a rule between fields (a digest's length for its type) that no
    single field can check.
    """

    rtype: ClassVar[int] = 0
    fields: ClassVar[Fields] = ()
    # Made once per class by __init_subclass__: (decode method, span label) per field, and
    # whether any field needs the ones before it.
    _plan: ClassVar[tuple[tuple[Any, str], ...]] = ()
    _prior: ClassVar[bool] = False
    _checked: ClassVar[bool] = False

    def __init_subclass__(cls) -> None:
        # No super() call: dataclass(slots=True) rebuilds the class, which breaks the
        # zero-argument form, and object.__init_subclass__ does nothing.
        cls._plan = tuple((kind.decode, f"RDATA {name}") for name, kind in cls.fields)
        cls._prior = any(kind.prior for _, kind in cls.fields)
        cls._checked = cls.problem is not Rdata.problem

    def problem(self) -> str | None:
        return None

    @classmethod
    def decode(cls, r: Reader, end: int) -> Self:
        start = r.pos
        if cls._prior:
            values: list[Any] = []
            for name, kind in cls.fields:
                label = f"RDATA {name}"
                if kind.prior:
                    values.append(kind.decode_after(r, end, label, values))
                else:
                    values.append(kind.decode(r, end, label))
            rdata = cls(*values)
        else:
            rdata = cls(*[decode(r, end, label) for decode, label in cls._plan])
        if cls._checked:
            fault = rdata.problem()
            if fault is not None:
                raise WireError(start, fault)
        return rdata

    @classmethod
    def fast_decode(cls, r: Reader, end: int) -> Self:
        """``decode`` when no spans are kept; the common types read their octets directly
        and fall back to ``decode`` (for its precise error) on anything odd."""
        return cls.decode(r, end)

    def encode(self, w: Writer, compress: bool = True) -> None:
        if self._prior:
            values: list[Any] = []
            for name, kind in self.fields:
                value = getattr(self, name)
                kind.encode_after(w, value, compress, values)
                values.append(value)
            return
        for name, kind in self.fields:
            kind.encode(w, getattr(self, name), compress)

    def to_text(self) -> str:
        texts = (kind.text(getattr(self, name)) for name, kind in self.fields)
        return " ".join(text for text in texts if text)

    def to_dict(self) -> dict[str, object]:
        """Every field by name, JSON-ready."""
        return {name: kind.json(getattr(self, name)) for name, kind in self.fields}

    @classmethod
    def from_text(
        cls, tokens: Sequence[str], origin: Name | None = None,
        names: Callable[[str], Name] | None = None,
    ) -> Self:
        """Parse presentation-format rdata; ``names`` reads name tokens when given (the zone
        reader's memo). ValueError names the field at fault."""
        rest = list(tokens)
        values: list[Any] = []
        for name, kind in cls.fields:
            try:
                if names is not None and isinstance(kind, DomainName):
                    values.append(names(_pop(rest, "name")))
                elif kind.prior:
                    values.append(kind.parse_after(rest, origin, values))
                else:
                    values.append(kind.parse(rest, origin))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        if rest:
            shown = " ".join(t if not t.startswith(QUOTED) else f'"{t[1:]}"' for t in rest)
            raise ValueError(f"unexpected {shown!r} after the rdata")
        rdata = cls(*values)
        fault = rdata.problem() if cls._checked else None
        if fault is not None:
            raise ValueError(fault)
        return rdata


@dataclass(frozen=True, slots=True)
class A(Rdata):
    address: str
    rtype: ClassVar[int] = RRType.A
    fields: ClassVar[Fields] = (("address", Address(4)),)

    @classmethod
    def fast_decode(cls, r: Reader, end: int) -> Self:
        pos = r.pos
        if end - pos != 4:
            return cls.decode(r, end)
        r.pos = end
        return cls(_ntoa(r.data[pos:end]))

    def encode(self, w: Writer, compress: bool = True) -> None:
        w.buf += _aton(self.address)


@dataclass(frozen=True, slots=True)
class AAAA(Rdata):
    address: str
    rtype: ClassVar[int] = RRType.AAAA
    fields: ClassVar[Fields] = (("address", Address(6)),)

    @classmethod
    def fast_decode(cls, r: Reader, end: int) -> Self:
        pos = r.pos
        if end - pos != 16:
            return cls.decode(r, end)
        r.pos = end
        return cls(str(ipaddress.IPv6Address(r.data[pos:end])))

    def encode(self, w: Writer, compress: bool = True) -> None:
        w.buf += ipaddress.IPv6Address(self.address).packed


class _OneName:
    """NS, CNAME and PTR: a compressed ``target`` alone, read and written directly."""

    __slots__ = ()
    target: Name

    @classmethod
    def fast_decode(cls, r: Reader, end: int) -> Any:
        name = r.name("RDATA target")
        if r.pos > end:
            raise WireError(end, "RDATA target runs past rdata")
        return cls(name)  # type: ignore[call-arg]

    def encode(self, w: Writer, compress: bool = True) -> None:
        w.name(self.target, compress)


@dataclass(frozen=True, slots=True)
class NS(_OneName, Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.NS
    fields: ClassVar[Fields] = (("target", NAME),)


@dataclass(frozen=True, slots=True)
class CNAME(_OneName, Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.CNAME
    fields: ClassVar[Fields] = (("target", NAME),)


@dataclass(frozen=True, slots=True)
class PTR(_OneName, Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.PTR
    fields: ClassVar[Fields] = (("target", NAME),)


@dataclass(frozen=True, slots=True)
class MX(Rdata):
    preference: int
    exchange: Name
    rtype: ClassVar[int] = RRType.MX
    fields: ClassVar[Fields] = (
        ("preference", U16),
        ("exchange", NAME),
    )

    @classmethod
    def fast_decode(cls, r: Reader, end: int) -> Self:
        pos = r.pos
        if pos + 3 > end:
            return cls.decode(r, end)
        data = r.data
        r.pos = pos + 2
        name = r.name("RDATA exchange")
        if r.pos > end:
            raise WireError(end, "RDATA exchange runs past rdata")
        return cls((data[pos] << 8) | data[pos + 1], name)

    def encode(self, w: Writer, compress: bool = True) -> None:
        w.buf += _U16.pack(self.preference)
        w.name(self.exchange, compress)


@dataclass(frozen=True, slots=True)
class TXT(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RRType.TXT
    fields: ClassVar[Fields] = (("strings", CharStrings()),)


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
    fields: ClassVar[Fields] = (
        ("mname", NAME),
        ("rname", NAME),
        ("serial", U32),
        ("refresh", SECONDS),
        ("retry", SECONDS),
        ("expire", SECONDS),
        ("minimum", SECONDS),
    )

    @classmethod
    def fast_decode(cls, r: Reader, end: int) -> Self:
        start = r.pos
        mname = r.name("RDATA mname")
        rname = r.name("RDATA rname")
        if r.pos + 20 != end:
            r.pos = start  # the generic reader names the fault
            return cls.decode(r, end)
        numbers = _SOA_NUMBERS.unpack_from(r.data, r.pos)
        r.pos = end
        return cls(mname, rname, *numbers)

    def encode(self, w: Writer, compress: bool = True) -> None:
        w.name(self.mname, compress)
        w.name(self.rname, compress)
        w.buf += _SOA_NUMBERS.pack(self.serial, self.refresh, self.retry, self.expire,
                                   self.minimum)


@dataclass(frozen=True, slots=True)
class SRV(Rdata):
    priority: int
    weight: int
    port: int
    target: Name
    rtype: ClassVar[int] = RRType.SRV
    # RFC 2782: the target is never compressed.
    fields: ClassVar[Fields] = (
        ("priority", U16),
        ("weight", U16),
        ("port", U16),
        ("target", NAME_PLAIN),
    )


@dataclass(frozen=True, slots=True)
class OPT(Rdata):
    options: tuple[EdnsOption, ...] = ()
    rtype: ClassVar[int] = RRType.OPT
    fields: ClassVar[Fields] = (("options", Options()),)


@dataclass(frozen=True, slots=True)
class Opaque(Rdata):
    """Rdata of a type craft does not model, kept byte for byte (RFC 3597)."""

    data: bytes
    fields: ClassVar[Fields] = (("data", Rest()),)


BASIC_TYPES: tuple[type[Rdata], ...] = (A, AAAA, NS, CNAME, PTR, MX, TXT, SOA, SRV, OPT)
