"""Record types with their own layouts: LOC (RFC 1876), APL (RFC 3123), WKS (RFC 1035),
A6 (RFC 2874), AMTRELAY (RFC 8777) and DSYNC (RFC 9859).

LOC keeps its wire values (size and precision octets, coordinates as stored) and reads and
writes them in degrees, minutes, seconds and metres, as BIND does.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from craft.dns.constants import RRType
from craft.dns.names import Name
from craft.dns.rdata import (
    NAME_STRICT,
    U8,
    U16,
    Address,
    DomainName,
    FieldKind,
    Fields,
    Rdata,
    UInt,
    _pop,
)
from craft.dns.rdtypes.fields import (
    AplItems,
    Gateway,
    Mnemonic,
    Protocol,
    TypeCode,
    WksPorts,
    mark,
    need,
    number,
    retext,
)
from craft.dns.wire import Reader, WireError, Writer

_EQUATOR = 1 << 31  # RFC 1876: coordinates are offsets from 2**31 thousandths of a second
_BASE_ALTITUDE = 10_000_000  # centimetres below the WGS 84 spheroid
_MAX_SIZE_CM = 9 * 10**9


def _size_cm(octet: int) -> int:
    return int((octet >> 4) * 10 ** (octet & 0x0F))


def _metres(cm: int, always_fraction: bool = False) -> str:
    sign = "-" if cm < 0 else ""
    cm = abs(cm)
    if cm % 100 or always_fraction:
        return f"{sign}{cm // 100}.{cm % 100:02d}m"
    return f"{sign}{cm // 100}m"


def _parse_cm(token: str, what: str) -> int:
    match = re.fullmatch(r"(-?)(\d+)(?:\.(\d{1,2}))?[mM]?", token)
    if match is None:
        raise ValueError(f"bad {what} {token!r} (metres, two decimals at most)")
    cm = int(match[2]) * 100 + int((match[3] or "0").ljust(2, "0"))
    return -cm if match[1] else cm


def _size_octet(cm: int, what: str) -> int:
    if cm < 0 or cm > _MAX_SIZE_CM:
        raise ValueError(f"{what} out of range (0 to 90000000m)")
    if cm == 0:
        return 0
    exponent = len(str(cm)) - 1
    return int(((cm // 10**exponent) << 4) | exponent)


class LocSize(UInt):
    """A size or precision octet: mantissa and power of ten of centimetres, each 0..9."""

    def __init__(self) -> None:
        super().__init__(1)

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        if value >> 4 > 9 or value & 0x0F > 9:
            raise WireError(r.pos - 1, f"{field} octet {value:#04x}: mantissa and exponent are 0..9")
        retext(r, lambda: _metres(_size_cm(value)))
        return value

    def text(self, value: Any) -> str:
        return _metres(_size_cm(value))

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        return _size_octet(_parse_cm(_pop(tokens, "size"), "size"), "size")


class LocCoordinate(UInt):
    """Latitude or longitude: thousandths of an arc second from 2**31."""

    def __init__(self, latitude: bool) -> None:
        super().__init__(4)
        self.latitude = latitude
        self.limit_degrees = 90 if latitude else 180

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        if abs(value - _EQUATOR) > self.limit_degrees * 3_600_000:
            raise WireError(r.pos - 4, f"{field} beyond {self.limit_degrees} degrees")
        retext(r, lambda: self.text(value))
        return value

    def text(self, value: Any) -> str:
        offset = value - _EQUATOR
        hemisphere = ("N" if offset >= 0 else "S") if self.latitude else \
            ("E" if offset >= 0 else "W")
        offset = abs(offset)
        degrees, rest = divmod(offset, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        seconds, thousandths = divmod(rest, 1000)
        return f"{degrees} {minutes} {seconds}.{thousandths:03d} {hemisphere}"

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        letters = ("N", "S") if self.latitude else ("E", "W")
        parts: list[str] = []
        while tokens and tokens[0].upper() not in letters and len(parts) < 3:
            parts.append(_pop(tokens, "coordinate"))
        hemisphere = _pop(tokens, "hemisphere").upper()
        if hemisphere not in letters or not parts:
            raise ValueError(f"bad {'latitude' if self.latitude else 'longitude'}: "
                             f"degrees [minutes [seconds]] {'/'.join(letters)}")
        degrees = number(parts[0], self.limit_degrees, "degrees")
        minutes = number(parts[1], 59, "minutes") if len(parts) > 1 else 0
        thousandths = 0
        if len(parts) > 2:
            match = re.fullmatch(r"(\d{1,2})(?:\.(\d{1,3}))?", parts[2])
            if match is None or int(match[1]) > 59:
                raise ValueError(f"bad seconds {parts[2]!r}")
            thousandths = int(match[1]) * 1000 + int((match[2] or "0").ljust(3, "0"))
        offset = degrees * 3_600_000 + minutes * 60_000 + thousandths
        if offset > self.limit_degrees * 3_600_000:
            raise ValueError(f"beyond {self.limit_degrees} degrees")
        return _EQUATOR + (offset if hemisphere == letters[0] else -offset)


class LocAltitude(UInt):
    """Altitude: centimetres above a base 100,000 m below the WGS 84 spheroid."""

    def __init__(self) -> None:
        super().__init__(4)

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        retext(r, lambda: self.text(value))
        return value

    def text(self, value: Any) -> str:
        return _metres(value - _BASE_ALTITUDE, always_fraction=True)

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        value = _parse_cm(_pop(tokens, "altitude"), "altitude") + _BASE_ALTITUDE
        if not 0 <= value <= 0xFFFFFFFF:
            raise ValueError("altitude out of range (-100000m to 42849672.95m)")
        return value


class LocVersion(UInt):
    def __init__(self) -> None:
        super().__init__(1)

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        if value != 0:
            raise WireError(r.pos - 1, f"LOC version {value} (only 0 is defined)")
        return value


_SIZE = LocSize()
_LATITUDE = LocCoordinate(latitude=True)
_LONGITUDE = LocCoordinate(latitude=False)
_ALTITUDE = LocAltitude()
_DEFAULT_SIZE, _DEFAULT_HORIZONTAL, _DEFAULT_VERTICAL = 0x12, 0x16, 0x13  # 1m, 10km, 10m


@dataclass(frozen=True, slots=True)
class LOC(Rdata):
    """``fields`` are in wire order; text puts the position first (RFC 1876 3)."""

    version: int
    size: int
    horizontal_precision: int
    vertical_precision: int
    latitude: int
    longitude: int
    altitude: int
    rtype: ClassVar[int] = RRType.LOC
    fields: ClassVar[Fields] = (
        ("version", LocVersion()), ("size", _SIZE), ("horizontal_precision", _SIZE),
        ("vertical_precision", _SIZE), ("latitude", _LATITUDE), ("longitude", _LONGITUDE),
        ("altitude", _ALTITUDE),
    )

    def to_text(self) -> str:
        return " ".join((
            _LATITUDE.text(self.latitude), _LONGITUDE.text(self.longitude),
            _ALTITUDE.text(self.altitude), _SIZE.text(self.size),
            _SIZE.text(self.horizontal_precision), _SIZE.text(self.vertical_precision),
        ))

    @classmethod
    def from_text(cls, tokens: Sequence[str], origin: Name | None = None,
                  names: Any = None) -> Self:
        rest = list(tokens)
        values: dict[str, int] = {}
        for name, kind in (("latitude", _LATITUDE), ("longitude", _LONGITUDE),
                           ("altitude", _ALTITUDE)):
            try:
                values[name] = kind.parse(rest, origin)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        sizes = [_DEFAULT_SIZE, _DEFAULT_HORIZONTAL, _DEFAULT_VERTICAL]
        for index, name in enumerate(("size", "horizontal_precision", "vertical_precision")):
            if rest:
                try:
                    sizes[index] = _SIZE.parse(rest, origin)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        if rest:
            raise ValueError(f"unexpected {' '.join(rest)!r} after the rdata")
        return cls(0, sizes[0], sizes[1], sizes[2], values["latitude"], values["longitude"],
                   values["altitude"])


@dataclass(frozen=True, slots=True)
class APL(Rdata):
    items: tuple[tuple[bool, int, str, int], ...] = ()
    rtype: ClassVar[int] = RRType.APL
    fields: ClassVar[Fields] = (("items", AplItems()),)


@dataclass(frozen=True, slots=True)
class WKS(Rdata):
    address: str
    protocol: int
    ports: tuple[int, ...] = ()
    rtype: ClassVar[int] = RRType.WKS
    fields: ClassVar[Fields] = (("address", Address(4)), ("protocol", Protocol()),
                                ("ports", WksPorts()))


class A6Suffix(FieldKind):
    """A6's address suffix (RFC 2874 3.1): the octets the prefix length leaves, written
    as a whole IPv6 address."""

    prior = True

    def decode_after(self, r: Reader, end: int, field: str, before: list[Any]) -> str:
        size = (128 - before[0] + 7) // 8
        start = r.pos
        need(r, end, size, field)
        packed = bytes(16 - size) + r.take(size, field)
        if before[0] % 8 and packed[16 - size] >> (8 - before[0] % 8):
            raise WireError(start, f"{field} has bits inside the {before[0]}-bit prefix")
        text = str(ipaddress.IPv6Address(packed))
        mark(r, start, field, lambda: text)
        return text

    def encode_after(self, w: Writer, value: Any, compress: bool, before: list[Any]) -> None:
        size = (128 - before[0] + 7) // 8
        w.raw(ipaddress.IPv6Address(value).packed[16 - size :])

    def parse_after(self, tokens: list[str], origin: Name | None, before: list[Any]) -> str:
        text = Address(6).parse(tokens, origin)
        packed = ipaddress.IPv6Address(text).packed
        bits = int.from_bytes(packed, "big")
        if before[0] and bits >> (128 - before[0]):
            raise ValueError(f"suffix {text} has bits inside the {before[0]}-bit prefix")
        return text


class A6Prefix(FieldKind):
    """A6's prefix name, present when the prefix length is not 0; never compressed."""

    prior = True
    _NAME = DomainName(compress=False, decompress=False)

    def decode_after(self, r: Reader, end: int, field: str, before: list[Any]) -> Name | None:
        return self._NAME.decode(r, end, field) if before[0] else None

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        if value is not None:
            w.name(value, False)

    def text(self, value: Any) -> str:
        return "" if value is None else value.to_text()

    def parse_after(self, tokens: list[str], origin: Name | None, before: list[Any]) -> Name | None:
        return self._NAME.parse(tokens, origin) if before[0] else None


class A6Length(UInt):
    def __init__(self) -> None:
        super().__init__(1)

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        if value > 128:
            raise WireError(r.pos - 1, f"A6 prefix length {value} (0..128)")
        return value

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        return number(_pop(tokens, "prefix length"), 128, "prefix length")


@dataclass(frozen=True, slots=True)
class A6(Rdata):
    prefix_length: int
    suffix: str
    prefix: Name | None = None
    rtype: ClassVar[int] = RRType.A6
    fields: ClassVar[Fields] = (("prefix_length", A6Length()), ("suffix", A6Suffix()),
                                ("prefix", A6Prefix()))


class DiscoveryBit(FieldKind):
    """AMTRELAY's D bit: the top bit of the octet the relay type shares (read, not taken)."""

    def decode(self, r: Reader, end: int, field: str) -> int:
        need(r, end, 1, field)
        return r.data[r.pos] >> 7

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        pass  # written with the relay type

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        return number(_pop(tokens, "discovery bit"), 1, "discovery bit")


class RelayType(FieldKind):
    prior = True

    def decode_after(self, r: Reader, end: int, field: str, before: list[Any]) -> int:
        start = r.pos
        octet = U8.decode(r, end, field)
        mark(r, start, field, lambda: f"D={octet >> 7} type {octet & 0x7F}")
        if r.spans is not None:
            del r.spans[-2]  # the plain number U8 recorded
        return octet & 0x7F

    def encode_after(self, w: Writer, value: Any, compress: bool, before: list[Any]) -> None:
        w.u8((before[-1] << 7) | value)

    def parse_after(self, tokens: list[str], origin: Name | None, before: list[Any]) -> int:
        return number(_pop(tokens, "relay type"), 127, "relay type")


@dataclass(frozen=True, slots=True)
class AMTRELAY(Rdata):
    precedence: int
    discovery_optional: int
    relay_type: int
    relay: str | Name | None
    rtype: ClassVar[int] = RRType.AMTRELAY
    fields: ClassVar[Fields] = (
        ("precedence", U8), ("discovery_optional", DiscoveryBit()), ("relay_type", RelayType()),
        ("relay", Gateway(lambda before: int(before[2]))),
    )


@dataclass(frozen=True, slots=True)
class DSYNC(Rdata):
    rrtype: int
    scheme: int
    port: int
    target: Name
    rtype: ClassVar[int] = RRType.DSYNC
    fields: ClassVar[Fields] = (("rrtype", TypeCode()), ("scheme", Mnemonic(1, {1: "NOTIFY"})),
                                ("port", U16), ("target", NAME_STRICT))


TYPES: tuple[type[Rdata], ...] = (LOC, APL, WKS, A6, AMTRELAY, DSYNC)

