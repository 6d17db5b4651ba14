"""SVCB and HTTPS (RFC 9460): priority, target and SvcParams by key.

Params are kept as (key, wire value) pairs in ascending key order, so encoding is a copy and
every check happens once, when reading wire or text. Text follows RFC 9460 appendix A:
``mandatory=alpn,port alpn="h2,h3" no-default-alpn port=443 ipv4hint=... ech=BASE64
ipv6hint=... dohpath="..." ohttp keyNNNNN="..."``, value lists with ``\\,`` escapes inside a
character string.
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from craft.dns.constants import RRType
from craft.dns.names import Name
from craft.dns.rdata import NAME_STRICT, QUOTED, U16, FieldKind, Fields, Rdata, quote, unquote
from craft.dns.rdtypes.fields import b64, from_b64, need
from craft.dns.wire import Reader, SpanKind, WireError, Writer

KEY_NAMES = {0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint",
             5: "ech", 6: "ipv6hint", 7: "dohpath", 8: "ohttp"}
KEY_NUMBERS = {name: key for key, name in KEY_NAMES.items()}
_EMPTY_KEYS = frozenset({2, 8})  # no-default-alpn, ohttp: no value at all

Params = tuple[tuple[int, bytes], ...]


def key_text(key: int) -> str:
    return KEY_NAMES.get(key) or f"key{key}"


def key_number(text: str) -> int:
    known = KEY_NUMBERS.get(text.lower())
    if known is not None:
        return known
    digits = text[3:]
    if text[:3].lower() == "key" and digits.isascii() and digits.isdigit() and len(digits) <= 5 \
            and int(digits) <= 0xFFFF and (digits == "0" or not digits.startswith("0")):
        return int(digits)
    raise ValueError(f"unknown SvcParam key {text!r}")


def _alpn_ids(value: bytes) -> list[bytes] | None:
    ids, i = [], 0
    while i < len(value):
        length = value[i]
        if length == 0 or i + 1 + length > len(value):
            return None
        ids.append(value[i + 1 : i + 1 + length])
        i += 1 + length
    return ids if ids else None


def value_problem(key: int, value: bytes) -> str | None:
    """Why ``value`` is not a valid wire value of ``key`` (None when it is)."""
    size = len(value)
    if key == 0:
        if size == 0 or size % 2:
            return "mandatory needs a non-empty list of 2-octet keys"
        keys = [int.from_bytes(value[i : i + 2], "big") for i in range(0, size, 2)]
        if 0 in keys:
            return "mandatory lists itself"
        if any(a >= b for a, b in itertools.pairwise(keys)):
            return "mandatory keys not in strictly ascending order"
    elif key == 1 and _alpn_ids(value) is None:
        return "alpn needs one or more non-empty, length-prefixed ids"
    elif key in _EMPTY_KEYS and size:
        return f"{key_text(key)} takes no value"
    elif key == 3 and size != 2:
        return f"port of {size} octets (2)"
    elif key in (4, 6) and (size == 0 or size % (4 if key == 4 else 16)):
        return f"{key_text(key)} of {size} octets (a non-empty multiple of {4 if key == 4 else 16})"
    return None


def _escape_list_item(item: bytes) -> bytes:
    return item.replace(b"\\", b"\\\\").replace(b",", b"\\,")


def _split_list(raw: bytes) -> list[bytes]:
    """Split a value list on commas not escaped by a backslash (RFC 9460 A.1)."""
    items, current, i = [], bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            current.append(raw[i + 1])
            i += 2
            continue
        if c == 0x2C:
            items.append(bytes(current))
            current = bytearray()
        else:
            current.append(c)
        i += 1
    items.append(bytes(current))
    return items


def value_text(key: int, value: bytes) -> str:
    if key in _EMPTY_KEYS or (key > 8 and not value):
        return key_text(key)
    if key == 0:
        keys = (int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value), 2))
        shown = ",".join(key_text(k) for k in keys)
    elif key == 1:
        shown = quote(b",".join(_escape_list_item(i) for i in _alpn_ids(value) or []))
    elif key == 3:
        shown = str(int.from_bytes(value, "big"))
    elif key in (4, 6):
        step = 4 if key == 4 else 16
        shown = ",".join(str(ipaddress.ip_address(value[i : i + step]))
                         for i in range(0, len(value), step))
    elif key == 5:
        shown = b64(value)
    else:
        shown = quote(value)
    return f"{key_text(key)}={shown}"


def value_from_text(key: int, raw: bytes | None) -> bytes:
    """A key's wire value from its text (``raw`` is the character string after ``=``)."""
    if key in _EMPTY_KEYS:
        if raw:
            raise ValueError(f"{key_text(key)} takes no value")
        return b""
    if raw is None:
        if key > 8:
            return b""
        raise ValueError(f"{key_text(key)} needs a value")
    text = raw.decode("utf-8", "replace")
    if key == 0:
        keys = sorted(key_number(k) for k in text.split(","))
        if len(set(keys)) != len(keys):
            raise ValueError("mandatory lists a key twice")
        return b"".join(k.to_bytes(2, "big") for k in keys)
    if key == 1:
        ids = _split_list(raw)
        if any(not i or len(i) > 255 for i in ids):
            raise ValueError("alpn ids are 1 to 255 octets")
        return b"".join(bytes((len(i),)) + i for i in ids)
    if key == 3:
        if not (text.isascii() and text.isdigit()) or int(text) > 0xFFFF:
            raise ValueError(f"bad port {text!r}")
        return int(text).to_bytes(2, "big")
    if key in (4, 6):
        try:
            addresses = [ipaddress.IPv4Address(a) if key == 4 else ipaddress.IPv6Address(a)
                         for a in text.split(",")]
        except ValueError:
            raise ValueError(f"bad address list {text!r}") from None
        return b"".join(a.packed for a in addresses)
    if key == 5:
        return from_b64(text)
    return raw


class SvcParams(FieldKind):
    """SvcParams to the end of the rdata: strictly ascending keys, each value checked, the
    keys ``mandatory`` lists present; one span per key."""

    quotable = True

    def decode(self, r: Reader, end: int, field: str) -> Params:
        params: list[tuple[int, bytes]] = []
        last = -1
        while r.pos < end:
            start = r.pos
            first = len(r.spans) if r.spans is not None else 0
            need(r, end, 4, f"{field} key and length")
            key = r.u16(f"{field} key")
            length = r.u16(f"{field} length")
            if key <= last:
                raise WireError(start, f"SvcParam key {key} after key {last} (keys must ascend)")
            need(r, end, length, f"{field} {key_text(key)} value")
            value = r.take(length, field)
            fault = value_problem(key, value)
            if fault is not None:
                raise WireError(start, fault)
            if r.spans is not None:
                # the whole param first, its key and length as parts of it
                parts = [replace(span, level=1) for span in r.spans[first:]]
                del r.spans[first:]
                r.mark(start, f"{field} {key_text(key)}", value_text(key, value), SpanKind.RDATA)
                r.spans.extend(parts)
            params.append((key, value))
            last = key
        _check_mandatory(tuple(params), lambda reason: WireError(end, reason))
        return tuple(params)

    def encode(self, w: Writer, value: Any, compress: bool) -> None:
        for key, data in value:
            w.u16(key)
            w.u16(len(data))
            w.raw(data)

    def text(self, value: Any) -> str:
        return " ".join(value_text(key, data) for key, data in value)

    def json(self, value: Any) -> object:
        return {key_text(key): value_text(key, data).partition("=")[2] or True
                for key, data in value}

    def parse(self, tokens: list[str], origin: Name | None) -> Params:
        params: dict[int, bytes] = {}
        while tokens:
            token = tokens.pop(0)
            if token.startswith(QUOTED):
                raise ValueError(f"quoted string {token[1:]!r} where a SvcParam belongs")
            name, equals, rest = token.partition("=")
            raw: bytes | None = None
            if equals:
                if not rest and tokens and tokens[0].startswith(QUOTED):
                    rest = tokens.pop(0)[1:]  # key="value": the tokenizer split them
                raw = unquote(rest, limit=0xFFFF)
            key = key_number(name)
            if key in params:
                raise ValueError(f"SvcParam {key_text(key)} given twice")
            value = value_from_text(key, raw)
            fault = value_problem(key, value)
            if fault is not None:
                raise ValueError(fault)
            params[key] = value
        ordered = tuple(sorted(params.items()))
        _check_mandatory(ordered, ValueError)
        return ordered


def _check_mandatory(params: Params, error: Any) -> None:
    present = {key for key, _ in params}
    for key, value in params:
        if key == 0:
            for i in range(0, len(value), 2):
                listed = int.from_bytes(value[i : i + 2], "big")
                if listed not in present:
                    raise error(f"mandatory lists {key_text(listed)}, which is not there")


PARAMS = SvcParams()


@dataclass(frozen=True, slots=True)
class SVCB(Rdata):
    priority: int
    target: Name
    params: Params = ()
    rtype: ClassVar[int] = RRType.SVCB
    fields: ClassVar[Fields] = (("priority", U16), ("target", NAME_STRICT), ("params", PARAMS))


@dataclass(frozen=True, slots=True)
class HTTPS(Rdata):
    priority: int
    target: Name
    params: Params = ()
    rtype: ClassVar[int] = RRType.HTTPS
    fields: ClassVar[Fields] = (("priority", U16), ("target", NAME_STRICT), ("params", PARAMS))


TYPES: tuple[type[Rdata], ...] = (SVCB, HTTPS)
