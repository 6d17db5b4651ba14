"""Field kinds the record types share beyond ``craft.dns.rdata``'s basic ones.

Each kind reads itself strictly (a ``WireError`` at the offset of the fault, a span per
field and per part for the hex view), writes itself, prints itself as RFCs and BIND write it
(base64, base32hex, hex, type lists, ``YYYYMMDDHHmmSS`` times) and parses that text back.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from craft.dns.constants import type_number, type_text
from craft.dns.names import BadNameError, Name
from craft.dns.rdata import (
    QUOTED,
    Address,
    DomainName,
    FieldKind,
    UInt,
    _pop,
    _pop_string,
    quote,
    unquote,
)
from craft.dns.wire import Reader, SpanKind, WireError, Writer


def need(r: Reader, end: int, count: int, field: str) -> None:
    if r.pos + count > end:
        raise WireError(r.pos, f"rdata too short for {field}: needs {count} octets, "
                               f"{max(end - r.pos, 0)} left")


def retext(r: Reader, text: Callable[[], str]) -> None:
    """Give the span just recorded a friendlier value (made only when spans are kept)."""
    if r.spans is not None and r.spans:
        last = r.spans[-1]
        r.spans[-1] = type(last)(last.start, last.end, last.section, last.field, text(),
                                 last.kind, last.level)


def mark(r: Reader, start: int, field: str, text: Callable[[], str], level: int = 0) -> None:
    if r.spans is not None:
        r.mark(start, field, text(), SpanKind.RDATA, level)


def take(r: Reader, end: int, count: int, field: str) -> bytes:
    need(r, end, count, field)
    return r.take(count, field)


def number(token: str, limit: int, what: str) -> int:
    if not (token.isascii() and token.isdigit()) or int(token) > limit:
        raise ValueError(f"bad {what} {token!r} (0..{limit})")
    return int(token)


class Mnemonic(UInt):
    """A number some values of which have names (CERT types, DSYNC schemes, algorithms).
    ``show`` False prints numbers (as BIND does for DNSSEC algorithms) but reads both."""

    def __init__(self, size: int, names: dict[int, str], show: bool = True,
                 aliases: dict[str, int] | None = None) -> None:
        super().__init__(size)
        self.names = names
        self.show = show
        self.numbers = {v.upper(): k for k, v in names.items()} | (aliases or {})

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        retext(r, lambda: self.names.get(value, str(value)))
        return value

    def text(self, value: Any) -> str:
        return self.names.get(value, str(value)) if self.show else str(value)

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        token = _pop(tokens, "number or mnemonic")
        known = self.numbers.get(token.upper())
        return known if known is not None else number(token, self.limit, "value")


ALGORITHMS = {
    1: "RSAMD5", 2: "DH", 3: "DSA", 5: "RSASHA1", 6: "NSEC3DSA", 7: "NSEC3RSASHA1",
    8: "RSASHA256", 10: "RSASHA512", 12: "ECCGOST", 13: "ECDSAP256SHA256",
    14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448", 252: "INDIRECT", 253: "PRIVATEDNS",
    254: "PRIVATEOID",
}
# dnspython's spellings of 6 and 7
ALGORITHM = Mnemonic(1, ALGORITHMS, show=False,
                     aliases={"DSANSEC3SHA1": 6, "RSASHA1NSEC3SHA1": 7})


class TypeCode(UInt):
    """A record type number, written as its mnemonic (RRSIG's type covered)."""

    def __init__(self) -> None:
        super().__init__(2)

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        retext(r, lambda: type_text(value))
        return value

    def text(self, value: Any) -> str:
        return type_text(value)

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        return type_number(_pop(tokens, "type"))


def sig_time_text(value: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))


class SigTime(UInt):
    """RRSIG/SIG times: seconds since 1970 mod 2**32, written ``YYYYMMDDHHmmSS`` (RFC 4034
    3.2); a plain decimal number of seconds is read too."""

    def __init__(self) -> None:
        super().__init__(4)

    def decode(self, r: Reader, end: int, field: str) -> int:
        value = super().decode(r, end, field)
        retext(r, lambda: sig_time_text(value))
        return value

    def text(self, value: Any) -> str:
        return sig_time_text(value)

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        token = _pop(tokens, "time")
        if len(token) == 14 and token.isascii() and token.isdigit():
            return _sig_time(token)
        return number(token, 0xFFFFFFFF, "time")


def _sig_time(token: str) -> int:
    """``YYYYMMDDHHmmSS`` (14 digits) as seconds mod 2**32, by the ranges time.strptime
    keeps (seconds up to 61); read by slicing because strptime cost a signed zone's load
    a seventh of its time, one call per RRSIG."""
    hour, minute, second = int(token[8:10]), int(token[10:12]), int(token[12:])
    try:
        if hour > 23 or minute > 59 or second > 61:
            raise ValueError
        days = date(int(token[:4]), int(token[4:6]), int(token[6:8])).toordinal() - _EPOCH_DAY
    except ValueError:
        raise ValueError(f"bad time {token!r} (YYYYMMDDHHmmSS)") from None
    return (days * 86400 + hour * 3600 + minute * 60 + second) % (1 << 32)


_EPOCH_DAY = date(1970, 1, 1).toordinal()


class UInt48(FieldKind):
    """TSIG's 48-bit time signed."""

    def decode(self, r: Reader, end: int, field: str) -> int:
        start = r.pos
        value = int.from_bytes(take(r, end, 6, field), "big")
        mark(r, start, field, lambda: str(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(int(value).to_bytes(6, "big"))

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        return number(_pop(tokens, "time"), (1 << 48) - 1, "48-bit number")


class CharString(FieldKind):
    """One <length><octets> character string, written quoted with escapes."""

    quotable = True

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        need(r, end, 1, field)
        length = r.data[r.pos]
        if r.pos + 1 + length > end:
            raise WireError(r.pos, f"character string of {length} runs past rdata in {field}")
        r.pos += 1
        value = r.take(length, field)
        mark(r, start, field, lambda: quote(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.u8(len(value))
        w.raw(value)

    def text(self, value: Any) -> str:
        return quote(value)

    def json(self, value: Any) -> object:
        return quote(value)[1:-1]

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        return unquote(_pop_string(tokens, "character string"))


class OptionalCharString(CharString):
    """A last character string that may be absent (ISDN's subaddress): None then."""

    def decode(self, r: Reader, end: int, field: str) -> bytes | None:  # type: ignore[override]
        return None if r.pos == end else super().decode(r, end, field)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        if value is not None:
            super().encode(w, value, compress)

    def text(self, value: Any) -> str:
        return "" if value is None else quote(value)

    def json(self, value: Any) -> object:
        return None if value is None else quote(value)[1:-1]

    def parse(self, tokens: list[str], origin: Name | None) -> bytes | None:  # type: ignore[override]
        return super().parse(tokens, origin) if tokens else None


class RestString(FieldKind):
    """Octets to the end of the rdata, written as one quoted string (CAA value, URI target)."""

    quotable = True

    def __init__(self, nonempty: bool = False) -> None:
        self.nonempty = nonempty

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        if self.nonempty and start >= end:
            raise WireError(start, f"empty {field}")
        value = r.take(end - start, field)
        mark(r, start, field, lambda: quote(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(value)

    def text(self, value: Any) -> str:
        return quote(value)

    def json(self, value: Any) -> object:
        return quote(value)[1:-1]

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        raw = _pop_string(tokens, "string")
        value = unquote(raw, limit=0xFFFF)
        if self.nonempty and not value:
            raise ValueError("empty string")
        return value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def from_b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"bad base64 {text[:40]!r}") from None


def from_hex(text: str) -> bytes:
    if not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", text):
        raise ValueError(f"bad hex {text[:40]!r}")
    return bytes.fromhex(text)


class Base64(FieldKind):
    """Octets to the end of the rdata in base64; the text may be split into several words.
    ``empty`` allows none at all (KEY with its no-key flag)."""

    def __init__(self, empty: bool = False) -> None:
        self.empty = empty

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        if start >= end and not self.empty:
            raise WireError(start, f"empty {field}")
        value = r.take(end - start, field)
        mark(r, start, field, lambda: b64(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(value)

    def text(self, value: Any) -> str:
        return b64(value)

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        if not tokens and not self.empty:
            raise ValueError("missing base64 data")
        words = [_pop(tokens, "base64") for _ in range(len(tokens))]
        return from_b64("".join(words))


class SizedBase64(FieldKind):
    """A 16-bit length and that many octets (TSIG MAC, TKEY key). ``with_size``: the text
    gives the length first (``4 AAAAAA==``, TSIG); an empty value is written ``""``."""

    def __init__(self, with_size: bool, quote_empty: bool = True) -> None:
        self.with_size = with_size
        self.quote_empty = quote_empty

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        need(r, end, 2, field)
        length = r.u16(f"{field} length")
        value = take(r, end, length, field)
        mark(r, start + 2, field, lambda: b64(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.u16(len(value))
        w.raw(value)

    def text(self, value: Any) -> str:
        data = b64(value) if value else '""' if self.quote_empty else ""
        return f"{len(value)} {data}".rstrip() if self.with_size else data

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        if self.with_size:
            size = number(_pop(tokens, "length"), 0xFFFF, "length")
            if size == 0:
                if tokens and tokens[0] in (QUOTED, '""'):
                    tokens.pop(0)
                return b""
            value = from_b64(_pop(tokens, "base64"))
            if len(value) != size:
                raise ValueError(f"length {size} but {len(value)} octets of data")
            return value
        token = _pop_string(tokens, "base64")
        return from_b64(token) if token not in ("", '""') else b""


class OptionalBase64(FieldKind):
    """TKEY's other data: a 16-bit length and octets, written only when there are some."""

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        length = UInt(2).decode(r, end, f"{field} length")
        value = take(r, end, length, field)
        mark(r, start + 2, field, lambda: b64(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.u16(len(value))
        w.raw(value)

    def text(self, value: Any) -> str:
        return b64(value) if value else ""

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        return from_b64(_pop(tokens, "base64")) if tokens else b""


class Hex(FieldKind):
    """Octets to the end of the rdata in hex, possibly split into words (digests)."""

    def __init__(self, empty: bool = False) -> None:
        self.empty = empty

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        if start >= end and not self.empty:
            raise WireError(start, f"empty {field}")
        value = r.take(end - start, field)
        mark(r, start, field, lambda: value.hex().upper())
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(value)

    def text(self, value: Any) -> str:
        return str(value.hex().upper())

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        if not tokens and not self.empty:
            raise ValueError("missing hex data")
        words = [_pop(tokens, "hex") for _ in range(len(tokens))]
        return from_hex("".join(words))


class SaltHex(FieldKind):
    """NSEC3 salt: an 8-bit length and octets, in hex, ``-`` when empty (RFC 5155 3.3)."""

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        length = UInt(1).decode(r, end, f"{field} length")
        value = take(r, end, length, field)
        mark(r, start + 1, field, lambda: value.hex().upper() or "-")
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.u8(len(value))
        w.raw(value)

    def text(self, value: Any) -> str:
        return value.hex().upper() or "-"

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        token = _pop(tokens, "salt")
        value = b"" if token == "-" else from_hex(token)
        if len(value) > 255:
            raise ValueError("salt over 255 octets")
        return value


_B32_HEX = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


def b32hex(data: bytes) -> str:
    return base64.b32hexencode(data).decode("ascii").rstrip("=")


class Base32Hex(FieldKind):
    """NSEC3 next hashed owner: an 8-bit length and octets in unpadded base32hex."""

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        length = UInt(1).decode(r, end, f"{field} length")
        if length == 0:
            raise WireError(start, f"empty {field}")
        value = take(r, end, length, field)
        mark(r, start + 1, field, lambda: b32hex(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.u8(len(value))
        w.raw(value)

    def text(self, value: Any) -> str:
        return b32hex(value)

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        token = _pop(tokens, "base32hex").upper()
        if not token or any(c not in _B32_HEX for c in token):
            raise ValueError(f"bad base32hex {token!r}")
        padded = token + "=" * (-len(token) % 8)
        try:
            value = base64.b32hexdecode(padded)
        except binascii.Error:
            raise ValueError(f"bad base32hex {token!r}") from None
        if b32hex(value) != token or len(value) > 255:
            raise ValueError(f"bad base32hex {token!r}")
        return value


def parse_types(tokens: list[str]) -> tuple[int, ...]:
    types = {type_number(_pop(tokens, "type")) for _ in range(len(tokens))}
    return tuple(sorted(types))


class TypeBitmap(FieldKind):
    """RFC 4034 4.1.2 type bitmaps to the end of the rdata, written as a type list.

    Strict: windows in strictly increasing order, each 1 to 32 octets with a non-zero last
    octet (RFC 4034: empty blocks and trailing zero octets are left out). One span per
    window, naming its types."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[int, ...]:
        types: list[int] = []
        last = -1
        data = r.data
        while r.pos < end:
            start = r.pos
            need(r, end, 2, f"{field} window header")
            window, length = data[start], data[start + 1]
            if window <= last:
                raise WireError(start, f"{field} window {window} after window {last}")
            if not 1 <= length <= 32:
                raise WireError(start + 1, f"{field} window {window} of {length} octets (1..32)")
            if start + 2 + length > end:
                raise WireError(start, f"{field} window {window} runs past rdata")
            bits = data[start + 2 : start + 2 + length]
            if bits[-1] == 0:
                raise WireError(start + 1 + length, f"{field} window {window} ends in a zero octet")
            found = [window * 256 + i * 8 + j for i, octet in enumerate(bits)
                     for j in range(8) if octet & (0x80 >> j)]
            types.extend(found)
            r.pos = start + 2 + length
            mark(r, start, f"{field} window {window}",
                 lambda found=found: " ".join(type_text(t) for t in found))  # type: ignore[misc]
            last = window
        return tuple(types)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(bitmap_windows(value))

    def text(self, value: Any) -> str:
        return " ".join(type_text(t) for t in value)

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[int, ...]:
        return parse_types(tokens)


def bitmap_windows(types: tuple[int, ...]) -> bytes:
    windows: dict[int, bytearray] = {}
    for t in sorted(set(types)):
        bits = windows.setdefault(t >> 8, bytearray())
        index = (t & 0xFF) >> 3
        if len(bits) <= index:
            bits.extend(bytes(index + 1 - len(bits)))
        bits[index] |= 0x80 >> (t & 7)
    out = bytearray()
    for window, bits in sorted(windows.items()):
        out += bytes((window, len(bits))) + bits
    return bytes(out)


class NxtBitmap(FieldKind):
    """NXT's bitmap (RFC 2535 5.2): one bit per type 0..127, trailing zero octets left out."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[int, ...]:
        start = r.pos
        bits = r.take(end - start, field)
        if len(bits) > 16:
            raise WireError(start, f"{field} of {len(bits)} octets (at most 16)")
        if bits and bits[-1] == 0:
            raise WireError(end - 1, f"{field} ends in a zero octet")
        types = tuple(i * 8 + j for i, o in enumerate(bits) for j in range(8) if o & (0x80 >> j))
        mark(r, start, field, lambda: self.text(types))
        return types

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        bits = bytearray()
        for t in value:
            if len(bits) <= t >> 3:
                bits.extend(bytes((t >> 3) + 1 - len(bits)))
            bits[t >> 3] |= 0x80 >> (t & 7)
        w.raw(bytes(bits))

    def text(self, value: Any) -> str:
        return " ".join(type_text(t) for t in value)

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[int, ...]:
        types = parse_types(tokens)
        if types and types[-1] > 127:
            raise ValueError(f"type {type_text(types[-1])} over 127 in an NXT bitmap")
        return types


class Groups(FieldKind):
    """A fixed number of octets as hex groups: ``xxxx:xxxx:xxxx:xxxx`` (NID, L64, RFC 6742)
    or ``xx-xx-...`` (EUI48, EUI64, RFC 7043)."""

    def __init__(self, size: int, group: int, sep: str) -> None:
        self.size, self.group, self.sep = size, group, sep

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        value = take(r, end, self.size, field)
        mark(r, start, field, lambda: self.text(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(value)

    def text(self, value: Any) -> str:
        h = value.hex()
        step = 2 * self.group
        return self.sep.join(h[i : i + step] for i in range(0, len(h), step))

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        token = _pop(tokens, "value")
        parts = token.split(self.sep)
        if len(parts) != self.size // self.group or any(
            len(p) != 2 * self.group for p in parts
        ):
            raise ValueError(f"bad value {token!r}")
        return from_hex("".join(parts))


class NsapHex(FieldKind):
    """NSAP (RFC 1706): octets in hex after ``0x``, dots allowed between digits."""

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        if start >= end:
            raise WireError(start, f"empty {field}")
        value = r.take(end - start, field)
        mark(r, start, field, lambda: self.text(value))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.raw(value)

    def text(self, value: Any) -> str:
        return "0x" + str(value.hex())

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        token = _pop(tokens, "NSAP address")
        if token[:2].lower() != "0x":
            raise ValueError(f"NSAP address {token!r} must start with 0x")
        value = from_hex(token[2:].replace(".", ""))
        if not value:
            raise ValueError("empty NSAP address")
        return value


_PROTOCOLS = {"TCP": 6, "UDP": 17}


class WksPorts(FieldKind):
    """WKS's service bitmap (RFC 1035 3.4.2), written as the port numbers set."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[int, ...]:
        start = r.pos
        bits = r.take(end - start, field)
        if len(bits) > 8192:
            raise WireError(start, f"{field} of {len(bits)} octets (at most 8192)")
        ports = tuple(i * 8 + j for i, o in enumerate(bits) for j in range(8) if o & (0x80 >> j))
        mark(r, start, field, lambda: self.text(ports) or "(none)")
        return ports

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        bits = bytearray()
        for port in value:
            if len(bits) <= port >> 3:
                bits.extend(bytes((port >> 3) + 1 - len(bits)))
            bits[port >> 3] |= 0x80 >> (port & 7)
        w.raw(bytes(bits))

    def text(self, value: Any) -> str:
        return " ".join(map(str, value))

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[int, ...]:
        ports = {number(_pop(tokens, "port"), 0xFFFF, "port") for _ in range(len(tokens))}
        return tuple(sorted(ports))


class Protocol(UInt):
    """WKS's IP protocol: a number, or ``tcp``/``udp``."""

    def __init__(self) -> None:
        super().__init__(1)

    def parse(self, tokens: list[str], origin: Name | None) -> int:
        token = _pop(tokens, "protocol")
        known = _PROTOCOLS.get(token.upper())
        return known if known is not None else number(token, 255, "protocol")


def _apl_text(item: tuple[bool, int, str, int]) -> str:
    negate, family, address, prefix = item
    return f"{'!' if negate else ''}{family}:{address}/{prefix}"


class AplItems(FieldKind):
    """APL (RFC 3123): ``[!]family:address/prefix`` items to the end of the rdata. Each
    item is (negated, family, address, prefix); families 1 (IPv4) and 2 (IPv6) only."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[tuple[bool, int, str, int], ...]:
        items = []
        while r.pos < end:
            start = r.pos
            need(r, end, 4, f"{field} item")
            family = r.u16(f"{field} family")
            prefix = r.u8(f"{field} prefix")
            packed = r.u8(f"{field} N and AFD length")
            length = packed & 0x7F
            if family not in (1, 2):
                raise WireError(start, f"{field} address family {family} (only 1 and 2)")
            size = 4 if family == 1 else 16
            if prefix > 8 * size:
                raise WireError(start + 2, f"{field} prefix {prefix} too long for family {family}")
            if length > size:
                raise WireError(start + 3, f"{field} address part of {length} octets (max {size})")
            part = take(r, end, length, f"{field} address")
            if part and part[-1] == 0:
                raise WireError(r.pos - 1, f"{field} address part ends in a zero octet")
            address = str(ipaddress.ip_address(part + bytes(size - length)))
            item = (bool(packed & 0x80), family, address, prefix)
            mark(r, start, f"{field} item", lambda item=item: _apl_text(item))  # type: ignore[misc]
            items.append(item)
        return tuple(items)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        for negate, family, address, prefix in value:
            part = ipaddress.ip_address(address).packed.rstrip(b"\0")
            w.u16(family)
            w.u8(prefix)
            w.u8((0x80 if negate else 0) | len(part))
            w.raw(part)

    def text(self, value: Any) -> str:
        return " ".join(_apl_text(item) for item in value)

    def json(self, value: Any) -> object:
        return [_apl_text(item) for item in value]

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[tuple[bool, int, str, int], ...]:
        items = []
        while tokens:
            token = _pop(tokens, "APL item")
            match = re.fullmatch(r"(!?)([12]):([^/]+)/(\d{1,3})", token)
            if match is None:
                raise ValueError(f"bad APL item {token!r} ([!]1:ADDRESS/PREFIX or 2:...)")
            family, prefix = int(match[2]), int(match[4])
            try:
                address = ipaddress.IPv4Address(match[3]) if family == 1 else \
                    ipaddress.IPv6Address(match[3])
            except ValueError:
                raise ValueError(f"bad address in APL item {token!r}") from None
            if prefix > address.max_prefixlen:
                raise ValueError(f"prefix /{prefix} too long in {token!r}")
            items.append((bool(match[1]), family, str(address), prefix))
        return tuple(items)


class CaaTag(FieldKind):
    """CAA's tag (RFC 8659 4.1): an 8-bit length and 1 or more letters and digits."""

    def decode(self, r: Reader, end: int, field: str) -> bytes:
        start = r.pos
        length = UInt(1).decode(r, end, f"{field} length")
        value = take(r, end, length, field)
        if not value or not value.isalnum() or not value.isascii():
            raise WireError(start, f"{field} {value!r} is not 1 or more letters and digits")
        mark(r, start + 1, field, lambda: value.decode("ascii"))
        return value

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        w.u8(len(value))
        w.raw(value)

    def text(self, value: Any) -> str:
        return str(value.decode("ascii"))

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        token = _pop(tokens, "tag")
        if not (token.isascii() and token.isalnum()) or len(token) > 255:
            raise ValueError(f"bad CAA tag {token!r} (letters and digits)")
        return token.encode("ascii")


def _name(token: str, origin: Name | None) -> Name:
    try:
        return Name.from_text(token, origin)
    except BadNameError as exc:
        raise ValueError(f"{exc.reason} in {token!r}") from None


class Gateway(FieldKind):
    """IPSECKEY's gateway (RFC 4025 2.5) and AMTRELAY's relay (RFC 8777 4.2): its form
    comes from an earlier field: 0 none (``.``), 1 IPv4, 2 IPv6, 3 an uncompressed name."""

    prior = True

    def __init__(self, kind_of: Callable[[list[Any]], int]) -> None:
        self.kind_of = kind_of

    def decode_after(self, r: Reader, end: int, field: str, before: list[Any]) -> Any:
        kind = self.kind_of(before)
        if kind == 0:
            return None
        if kind in (1, 2):
            return Address(4 if kind == 1 else 6).decode(r, end, field)
        if kind == 3:
            return DomainName(compress=False, decompress=False).decode(r, end, field)
        raise WireError(r.pos, f"{field} type {kind} unknown (0..3)")

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        if isinstance(value, Name):
            w.name(value, False)
        elif value is not None:
            w.raw(ipaddress.ip_address(value).packed)

    def text(self, value: Any) -> str:
        if value is None:
            return "."
        return value.to_text() if isinstance(value, Name) else str(value)

    def parse_after(self, tokens: list[str], origin: Name | None, before: list[Any]) -> Any:
        kind = self.kind_of(before)
        token = _pop(tokens, "gateway")
        if kind == 0:
            if token != ".":
                raise ValueError(f"gateway type 0 takes '.', not {token!r}")
            return None
        if kind in (1, 2):
            return Address(4 if kind == 1 else 6).parse([token], origin)
        if kind == 3:
            return _name(token, origin)
        raise ValueError(f"gateway type {kind} unknown (0..3)")


class NameList(FieldKind):
    """Names to the end of the rdata, uncompressed (HIP's rendezvous servers)."""

    def decode(self, r: Reader, end: int, field: str) -> tuple[Name, ...]:
        kind = DomainName(compress=False, decompress=False)
        names = []
        while r.pos < end:
            names.append(kind.decode(r, end, field))
        return tuple(names)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        for name in value:
            w.name(name, False)

    def text(self, value: Any) -> str:
        return " ".join(name.to_text() for name in value)

    def json(self, value: Any) -> object:
        return [name.to_text() for name in value]

    def parse(self, tokens: list[str], origin: Name | None) -> tuple[Name, ...]:
        return tuple(_name(_pop(tokens, "name"), origin) for _ in range(len(tokens)))
