"""EDNS(0) options (RFC 6891 6.1.2), one frozen class per option code, each described once.

An option class lists its data layout in ``fields`` (name, ``OptionField``); the generic
methods on ``EdnsOption`` walk that list to decode (recording a span per field for the hex
view), encode, give JSON and check lengths, so the layout is written down only once. After
the walk, ``problem`` names what the RFC forbids across fields (a COOKIE of 12 octets, an
ECS address longer than its prefix). Decoding is strict: malformed option data is a
``WireError`` at its offset, as BIND and the RFCs treat it (FORMERR). Codes craft does not
model stay ``RawOption`` (code and octets). ``dig_line`` prints an option the way dig 9.18
does in its OPT PSEUDOSECTION; ``parse_edns_option`` reads the command line's forms.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from craft.dns.names import BadNameError, Name
from craft.dns.wire import Reader, Span, SpanKind, WireError, Writer

# RFC 8914 section 4 and the IANA "Extended DNS Error Codes" registry.
EDE_NAMES: dict[int, str] = {
    0: "Other Error", 1: "Unsupported DNSKEY Algorithm", 2: "Unsupported DS Digest Type",
    3: "Stale Answer", 4: "Forged Answer", 5: "DNSSEC Indeterminate", 6: "DNSSEC Bogus",
    7: "Signature Expired", 8: "Signature Not Yet Valid", 9: "DNSKEY Missing",
    10: "RRSIGs Missing", 11: "No Zone Key Bit Set", 12: "NSEC Missing", 13: "Cached Error",
    14: "Not Ready", 15: "Blocked", 16: "Censored", 17: "Filtered", 18: "Prohibited",
    19: "Stale NXDOMAIN Answer", 20: "Not Authoritative", 21: "Not Supported",
    22: "No Reachable Authority", 23: "Network Error", 24: "Invalid Data",
    25: "Signature Expired before Valid", 26: "Too Early",
    27: "Unsupported NSEC3 Iterations Value", 28: "Unable to conform to policy",
    29: "Synthesized", 30: "Invalid Query Type",
}

ZONEVERSION_TYPES = {0: "SOA-SERIAL"}
ECS_FAMILIES = {1: 32, 2: 128}  # IANA address family -> bits in an address


class OptionField:
    """How one field of an option's data goes to and from the wire, and into JSON."""

    def decode(self, r: Reader, end: int, label: str) -> Any:
        raise NotImplementedError

    def encode(self, w: Writer, value: Any) -> None:
        raise NotImplementedError

    def json(self, value: Any) -> object:
        return value


def _retext(r: Reader, text: str) -> None:
    if r.spans is not None:
        last = r.spans[-1]
        r.spans[-1] = Span(last.start, last.end, last.section, last.field, text, last.kind)


class Num(OptionField):
    """An unsigned integer of 1, 2 or 4 octets; ``show`` words it for the hex view."""

    def __init__(self, size: int, show: Callable[[int], str] | None = None) -> None:
        self.size, self.show = size, show

    def decode(self, r: Reader, end: int, label: str) -> int:
        if r.pos + self.size > end:
            raise WireError(r.pos, f"option data too short for {label}")
        value = {1: r.u8, 2: r.u16, 4: r.u32}[self.size](label, SpanKind.RDATA)
        if self.show is not None:
            _retext(r, self.show(value))
        return value

    def encode(self, w: Writer, value: Any) -> None:
        {1: w.u8, 2: w.u16, 4: w.u32}[self.size](int(value))


class Nums(OptionField):
    """Integers of ``size`` octets to the end of the option (algorithm or key tag lists)."""

    def __init__(self, size: int) -> None:
        self.item = Num(size)

    def decode(self, r: Reader, end: int, label: str) -> tuple[int, ...]:
        if (end - r.pos) % self.item.size:
            raise WireError(r.pos, f"{label}: {end - r.pos} octets is not a whole number "
                                   f"of {self.item.size}-octet items")
        values: list[int] = []
        while r.pos < end:
            values.append(self.item.decode(r, end, f"{label}[{len(values)}]"))
        return tuple(values)

    def encode(self, w: Writer, value: Any) -> None:
        for item in value:
            self.item.encode(w, item)

    def json(self, value: Any) -> object:
        return list(value)


class Octets(OptionField):
    """Octets: exactly ``size`` of them, or all the option has left when ``size`` is None."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size

    def decode(self, r: Reader, end: int, label: str) -> bytes:
        count = end - r.pos if self.size is None else self.size
        if r.pos + count > end:
            raise WireError(r.pos, f"option data too short for {label}")
        start = r.pos
        value = r.take(count, label)
        if value:
            r.mark(start, label, value.hex(" "), SpanKind.RDATA)
        return value

    def encode(self, w: Writer, value: Any) -> None:
        w.raw(bytes(value))

    def json(self, value: Any) -> object:
        return bytes(value).hex()


class Text(OptionField):
    """UTF-8 text to the end of the option (RFC 8914 EXTRA-TEXT)."""

    def decode(self, r: Reader, end: int, label: str) -> str:
        start = r.pos
        raw = r.take(end - r.pos, label)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError(start + exc.start, f"{label} is not UTF-8") from None
        if raw:
            r.mark(start, label, repr(value), SpanKind.RDATA)
        return value

    def encode(self, w: Writer, value: Any) -> None:
        w.raw(str(value).encode("utf-8"))


class PlainName(OptionField):
    """An uncompressed domain name filling the option (RFC 7901 CHAIN)."""

    def decode(self, r: Reader, end: int, label: str) -> Name:
        start = r.pos
        name = r.name(label)
        if r.pos - start != name.wire_length():
            raise WireError(start, f"{label} must not be compressed")
        if r.pos > end:
            raise WireError(start, f"{label} runs past the option")
        return name

    def encode(self, w: Writer, value: Any) -> None:
        w.name(value, compress=False)

    def json(self, value: Any) -> object:
        return str(value.to_text())


class Maybe(OptionField):
    """A field a query leaves out (the option is then empty): None when no data is left."""

    def __init__(self, inner: OptionField) -> None:
        self.inner = inner

    def decode(self, r: Reader, end: int, label: str) -> Any:
        return None if r.pos == end else self.inner.decode(r, end, label)

    def encode(self, w: Writer, value: Any) -> None:
        if value is not None:
            self.inner.encode(w, value)

    def json(self, value: Any) -> object:
        return None if value is None else self.inner.json(value)


def _printable(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)


def _hex_and_text(data: bytes) -> str:
    """dig's rendering of opaque option data: spaced hex, then the printable octets."""
    return f" {data.hex(' ')} (\"{_printable(data)}\")" if data else ""


_TTL_UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration_text(seconds: int) -> str:
    """BIND's long form of a duration: ``1 day 1 second``, ``2 weeks``."""
    parts = []
    for unit, size in _TTL_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"


class EdnsOption:
    """Base of the typed options: ``code`` and ``data`` (the option's octets) on all of them."""

    __slots__ = ()
    CODE: ClassVar[int] = -1
    MNEMONIC: ClassVar[str] = ""
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = ()

    @property
    def code(self) -> int:
        return self.CODE

    @property
    def mnemonic(self) -> str:
        return self.MNEMONIC

    @property
    def data(self) -> bytes:
        w = Writer()
        self.encode_data(w)
        return w.getvalue()

    @classmethod
    def decode_data(cls, r: Reader, end: int) -> Self:
        start = r.pos
        values = [kind.decode(r, end, f"{cls.MNEMONIC} {name}") for name, kind in cls.fields]
        option = cls(*values)
        if r.pos != end:
            raise WireError(r.pos, f"{end - r.pos} octets left over in {cls.MNEMONIC} option")
        reason = option.problem()
        if reason:
            raise WireError(start, f"{cls.MNEMONIC} option: {reason}")
        return option

    def encode_data(self, w: Writer) -> None:
        for name, kind in self.fields:
            kind.encode(w, getattr(self, name))

    def problem(self) -> str:
        """What the RFC forbids in these values together ('' when nothing)."""
        return ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "name": self.mnemonic,
                                  "data": self.data.hex()}
        for name, kind in self.fields:
            out[name] = kind.json(getattr(self, name))
        return out

    def to_text(self) -> str:
        """``CODE:HEX``: what ``parse_edns_option`` reads back (and the OPT rdata text)."""
        return f"{self.code}:{self.data.hex()}"

    def dig_line(self) -> str:
        """One line of dig's OPT PSEUDOSECTION; options dig 9.18 does not name print as it
        prints any unknown code."""
        return f"; OPT={self.code}:{_hex_and_text(self.data)}"


@dataclass(frozen=True, slots=True)
class RawOption(EdnsOption):
    """An option kept as octets: a code craft does not model, or one built on purpose."""

    code: int  # a field here, where typed options have a fixed code
    data: bytes

    @property
    def mnemonic(self) -> str:
        return OPTION_NAMES.get(self.code, f"OPT{self.code}")

    def encode_data(self, w: Writer) -> None:
        w.raw(self.data)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.mnemonic, "data": self.data.hex()}


@dataclass(frozen=True, slots=True)
class NSID(EdnsOption):
    """RFC 5001: empty in a query; the server's identifier in a reply."""

    nsid: bytes = b""
    CODE: ClassVar[int] = 3
    MNEMONIC: ClassVar[str] = "NSID"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (("nsid", Octets()),)

    def to_dict(self) -> dict[str, object]:
        return {**EdnsOption.to_dict(self), "text": _printable(self.nsid)}

    def dig_line(self) -> str:
        return f"; NSID:{_hex_and_text(self.nsid)}"


@dataclass(frozen=True, slots=True)
class DAU(EdnsOption):
    """RFC 6975: the DNSSEC algorithms a validating client understands."""

    algorithms: tuple[int, ...] = ()
    CODE: ClassVar[int] = 5
    MNEMONIC: ClassVar[str] = "DAU"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (("algorithms", Nums(1)),)


@dataclass(frozen=True, slots=True)
class DHU(DAU):
    """RFC 6975: the DS hash algorithms understood."""

    CODE: ClassVar[int] = 6
    MNEMONIC: ClassVar[str] = "DHU"


@dataclass(frozen=True, slots=True)
class N3U(DAU):
    """RFC 6975: the NSEC3 hash algorithms understood."""

    CODE: ClassVar[int] = 7
    MNEMONIC: ClassVar[str] = "N3U"


@dataclass(frozen=True, slots=True)
class ClientSubnet(EdnsOption):
    """RFC 7871: FAMILY, SOURCE and SCOPE PREFIX-LENGTH, then only the octets the source
    prefix covers, with every bit past it zero. ``address`` is the full address text."""

    family: int
    source: int
    scope: int
    address: str
    CODE: ClassVar[int] = 8
    MNEMONIC: ClassVar[str] = "ECS"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (
        ("family", Num(2, lambda f: {1: "1 (IPv4)", 2: "2 (IPv6)"}.get(f, str(f)))),
        ("source", Num(1)),
        ("scope", Num(1)),
    )

    @classmethod
    def decode_data(cls, r: Reader, end: int) -> Self:
        start = r.pos
        family, source, scope = (kind.decode(r, end, f"ECS {name}") for name, kind in cls.fields)
        bits = ECS_FAMILIES.get(family)
        # dig +subnet=0 sends family 0 with both prefixes 0 and no address (BIND accepts it).
        if bits is None and not (family == 0 and source == 0 and scope == 0):
            raise WireError(start, f"ECS option: unknown address family {family}")
        bits = bits or 0
        for name, value in (("source", source), ("scope", scope)):
            if value > bits:
                raise WireError(start, f"ECS option: {name} prefix {value} over {bits} bits")
        need = (source + 7) // 8
        at = r.pos
        if end - at != need:
            raise WireError(at, f"ECS option: address of {end - at} octets, "
                                f"source prefix {source} needs {need}")
        packed = r.take(need, "ECS address")
        if source % 8 and packed[-1] & (0xFF >> (source % 8)):
            raise WireError(end - 1, f"ECS option: address bits past prefix {source} are set")
        address = cls.show(family, packed)
        r.mark(at, "ECS address", f"{address}/{source}" if packed else "(none)", SpanKind.RDATA)
        return cls(family, source, scope, address)

    @staticmethod
    def show(family: int, packed: bytes) -> str:
        if family == 1:
            return str(ipaddress.IPv4Address(packed.ljust(4, b"\0")))
        if family == 2:
            return str(ipaddress.IPv6Address(packed.ljust(16, b"\0")))
        return "0"

    def packed(self) -> bytes:
        if self.family == 1:
            full = ipaddress.IPv4Address(self.address).packed
        elif self.family == 2:
            full = ipaddress.IPv6Address(self.address).packed
        else:
            return b""
        cut = bytearray(full[: (self.source + 7) // 8])
        if self.source % 8:
            cut[-1] &= 0xFF << (8 - self.source % 8) & 0xFF
        return bytes(cut)

    def encode_data(self, w: Writer) -> None:
        w.u16(self.family)
        w.u8(self.source)
        w.u8(self.scope)
        w.raw(self.packed())

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.mnemonic, "data": self.data.hex(),
                "family": self.family, "source": self.source, "scope": self.scope,
                "address": self.address}

    def dig_line(self) -> str:
        return f"; CLIENT-SUBNET: {self.address}/{self.source}/{self.scope}"

    @classmethod
    def from_prefix(cls, text: str, scope: int = 0) -> ClientSubnet:
        """``192.0.2.0/24``, ``2001:db8::/56``, ``0.0.0.0/0`` or ``0`` (family 0, dig's
        +subnet=0); host bits past the prefix are cleared, as dig does."""
        if text == "0":
            return cls(0, 0, 0, "0")
        try:
            network = ipaddress.ip_network(text if "/" in text else text + (
                "/128" if ":" in text else "/32"), strict=False)
        except ValueError:
            raise ValueError(f"bad subnet {text!r} (ADDRESS/PREFIX)") from None
        family = 1 if network.version == 4 else 2
        return cls(family, network.prefixlen, scope, str(network.network_address))


@dataclass(frozen=True, slots=True)
class Expire(EdnsOption):
    """RFC 7314: empty in a query; the zone's remaining expire timer in a reply."""

    expire: int | None = None
    CODE: ClassVar[int] = 9
    MNEMONIC: ClassVar[str] = "EXPIRE"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (
        ("expire", Maybe(Num(4, lambda v: f"{v} ({duration_text(v)})"))),
    )

    def dig_line(self) -> str:
        if self.expire is None:
            return "; EXPIRE:"
        return f"; EXPIRE: {self.expire} ({duration_text(self.expire)})"


@dataclass(frozen=True, slots=True)
class Cookie(EdnsOption):
    """RFC 7873: an 8-octet client cookie, then none or an 8 to 32 octet server cookie."""

    client: bytes
    server: bytes = b""
    CODE: ClassVar[int] = 10
    MNEMONIC: ClassVar[str] = "COOKIE"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (
        ("client", Octets(8)),
        ("server", Octets()),
    )

    @classmethod
    def decode_data(cls, r: Reader, end: int) -> Self:
        length = end - r.pos
        if length != 8 and not 16 <= length <= 40:
            raise WireError(r.pos, f"COOKIE option of {length} octets (8, or 16 to 40)")
        return super(Cookie, cls).decode_data(r, end)

    def problem(self) -> str:
        if len(self.client) != 8:
            return f"client cookie of {len(self.client)} octets (8)"
        if self.server and not 8 <= len(self.server) <= 32:
            return f"server cookie of {len(self.server)} octets (8 to 32)"
        return ""

    @classmethod
    def fresh(cls) -> Cookie:
        return cls(secrets.token_bytes(8))

    def dig_line(self) -> str:
        return f"; COOKIE: {self.client.hex()}{self.server.hex()}"


@dataclass(frozen=True, slots=True)
class TcpKeepalive(EdnsOption):
    """RFC 7828: empty from a client; the idle timeout in units of 100 ms from a server."""

    timeout: int | None = None
    CODE: ClassVar[int] = 11
    MNEMONIC: ClassVar[str] = "KEEPALIVE"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (
        ("timeout", Maybe(Num(2, lambda v: f"{v} ({v / 10:.1f} s)"))),
    )

    @classmethod
    def decode_data(cls, r: Reader, end: int) -> Self:
        if end - r.pos not in (0, 2):
            raise WireError(r.pos, f"KEEPALIVE option of {end - r.pos} octets (0 or 2)")
        return super(TcpKeepalive, cls).decode_data(r, end)

    def dig_line(self) -> str:
        if self.timeout is None:
            return "; TCP KEEPALIVE:"
        return f"; TCP KEEPALIVE: {self.timeout // 10}.{self.timeout % 10} secs"


@dataclass(frozen=True, slots=True)
class Padding(EdnsOption):
    """RFC 7830: octets that only make the message longer (zero when sent by craft)."""

    padding: bytes = b""
    CODE: ClassVar[int] = 12
    MNEMONIC: ClassVar[str] = "PADDING"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (("padding", Octets()),)

    def dig_line(self) -> str:
        return f"; PAD: ({len(self.padding)} bytes)" if self.padding else "; PAD:"


@dataclass(frozen=True, slots=True)
class Chain(EdnsOption):
    """RFC 7901: the closest trust point the client holds, an uncompressed name."""

    closest: Name
    CODE: ClassVar[int] = 13
    MNEMONIC: ClassVar[str] = "CHAIN"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (("closest", PlainName()),)


@dataclass(frozen=True, slots=True)
class KeyTag(EdnsOption):
    """RFC 8145: the key tags of the trust anchors the resolver uses (at least one)."""

    tags: tuple[int, ...]
    CODE: ClassVar[int] = 14
    MNEMONIC: ClassVar[str] = "KEY-TAG"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (("tags", Nums(2)),)

    def problem(self) -> str:
        return "" if self.tags else "no key tag"

    def dig_line(self) -> str:
        return "; KEY-TAG: " + ", ".join(str(t) for t in self.tags)


@dataclass(frozen=True, slots=True)
class ExtendedError(EdnsOption):
    """RFC 8914: an INFO-CODE and optional UTF-8 EXTRA-TEXT."""

    info_code: int
    text: str = ""
    CODE: ClassVar[int] = 15
    MNEMONIC: ClassVar[str] = "EDE"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (
        ("info_code", Num(2, lambda c: f"{c} ({EDE_NAMES[c]})" if c in EDE_NAMES else str(c))),
        ("text", Text()),
    )

    @property
    def purpose(self) -> str:
        return EDE_NAMES.get(self.info_code, "")

    def to_dict(self) -> dict[str, object]:
        return {**EdnsOption.to_dict(self), "purpose": self.purpose}

    def dig_line(self) -> str:
        line = f"; EDE: {self.info_code}"
        if self.purpose:
            line += f" ({self.purpose})"
        if self.text:
            shown = "".join("." if ord(c) < 0x20 or ord(c) == 0x7F else c for c in self.text)
            line += f": ({shown})"
        return line


@dataclass(frozen=True, slots=True)
class ZoneVersion(EdnsOption):
    """RFC 9660: empty in a query; in a reply the label count of the zone, a version type
    and the version (type 0: the SOA serial, four octets)."""

    labels: int | None = None
    type: int | None = None
    version: bytes = b""
    CODE: ClassVar[int] = 19
    MNEMONIC: ClassVar[str] = "ZONEVERSION"
    fields: ClassVar[tuple[tuple[str, OptionField], ...]] = (
        ("labels", Maybe(Num(1))),
        ("type", Maybe(Num(1, lambda t: f"{t} ({ZONEVERSION_TYPES.get(t, 'unknown')})"))),
        ("version", Octets()),
    )

    def problem(self) -> str:
        if self.labels is not None and self.type is None:
            return "a label count without a version type"
        if self.type == 0 and len(self.version) != 4:
            return f"SOA-SERIAL version of {len(self.version)} octets (4)"
        if self.type is None and self.version:
            return "version without a type"
        return ""

    def to_dict(self) -> dict[str, object]:
        out = EdnsOption.to_dict(self)
        if self.type == 0:
            out["serial"] = int.from_bytes(self.version, "big")
        return out


OPTION_TYPES: dict[int, type[EdnsOption]] = {
    cls.CODE: cls for cls in (NSID, DAU, DHU, N3U, ClientSubnet, Expire, Cookie, TcpKeepalive,
                              Padding, Chain, KeyTag, ExtendedError, ZoneVersion)
}
OPTION_NAMES: dict[int, str] = {code: cls.MNEMONIC for code, cls in OPTION_TYPES.items()}


def decode_options(r: Reader, end: int) -> tuple[EdnsOption, ...]:
    """The options filling an OPT record's rdata, each typed when craft knows its code."""
    options: list[EdnsOption] = []
    while r.pos < end:
        if r.pos + 4 > end:
            raise WireError(r.pos, "EDNS option header runs past rdata")
        code = r.u16("OPTION-CODE", SpanKind.TYPE)
        name = OPTION_NAMES.get(code)
        if r.spans is not None:
            _retext(r, f"{code} ({name})" if name else str(code))
        length = r.u16("OPTION-LENGTH", SpanKind.RDLENGTH)
        stop = r.pos + length
        if stop > end:
            raise WireError(r.pos, f"EDNS option data of {length} runs past rdata")
        cls = OPTION_TYPES.get(code)
        if cls is None:
            start = r.pos
            data = r.take(length, "OPTION-DATA")
            r.mark(start, f"OPT{code} data", data.hex(" ") if data else "(empty)", SpanKind.RDATA)
            options.append(RawOption(code, data))
        else:
            options.append(cls.decode_data(r, stop))
    return tuple(options)


def encode_options(w: Writer, options: tuple[EdnsOption, ...]) -> None:
    for option in options:
        w.u16(option.code)
        at = len(w.buf)
        w.u16(0)  # the length, known once the data is written in place
        option.encode_data(w)
        length = len(w.buf) - at - 2
        if length > 0xFFFF:
            raise WireError(at, f"EDNS option {option.code} of {length} octets (max 65535)")
        w.buf[at : at + 2] = length.to_bytes(2, "big")


def typed(option: EdnsOption) -> EdnsOption:
    """A ``RawOption`` whose code craft knows, decoded; itself when its octets are malformed
    (kept so a malformed option can still be sent on purpose)."""
    cls = OPTION_TYPES.get(option.code)
    if cls is None or not isinstance(option, RawOption):
        return option
    r = Reader(option.data)
    try:
        return cls.decode_data(r, len(option.data))
    except WireError:
        return option


def padding_for(length: int, block: int) -> Padding:
    """RFC 8467 block-length padding: the PADDING option that brings a message now
    ``length`` octets long (without this option) to a multiple of ``block``."""
    if block <= 0:
        return Padding()
    return Padding(bytes(-(length + 4) % block))


_OPTION_FORMS = ("CODE:HEX, nsid, cookie[:HEX], subnet:PREFIX, expire, keepalive[:N], padding:N,"
                 " chain:NAME, key-tag:N[,N], ede:CODE[:TEXT], dau|dhu|n3u:N[,N], zoneversion")


def parse_edns_option(token: str) -> EdnsOption:
    """One option from the command line: ``CODE:HEX`` (typed when those octets are a valid
    option of that code, kept raw when not, so broken options can be sent), or by name."""
    head, colon, rest = token.partition(":")
    value = rest if colon else None
    try:
        if head.isascii() and head.isdigit():
            if not colon or int(head) > 0xFFFF:
                raise ValueError
            return typed(RawOption(int(head), bytes.fromhex(rest)))
        return _by_name(head.lower(), value)
    except ValueError as exc:
        detail = f": {exc}" if str(exc) else ""
        raise ValueError(f"bad EDNS option {token!r}{detail} (forms: {_OPTION_FORMS})") from None


def _ints(value: str | None, limit: int) -> tuple[int, ...]:
    items = tuple(int(v) for v in (value or "").split(",") if v.strip())
    if any(not 0 <= v <= limit for v in items):
        raise ValueError(f"numbers must be 0..{limit}")
    return items


def _by_name(name: str, value: str | None) -> EdnsOption:
    if name == "nsid":
        return NSID(bytes.fromhex(value or ""))
    if name == "cookie":
        return parse_cookie(value)
    if name in ("subnet", "ecs", "client-subnet"):
        return ClientSubnet.from_prefix(value or "0")
    if name == "expire":
        return Expire(int(value) if value else None)
    if name in ("keepalive", "tcp-keepalive"):
        return TcpKeepalive(_ints(value, 0xFFFF)[0] if value else None)
    if name in ("padding", "pad"):
        return Padding(bytes(int(value or "0")))
    if name == "chain":
        try:
            return Chain(Name.from_text(value or "."))
        except BadNameError as exc:
            raise ValueError(exc.reason) from None
    if name in ("key-tag", "keytag"):
        return KeyTag(_ints(value, 0xFFFF))
    if name == "ede":
        code, _, text = (value or "").partition(":")
        return ExtendedError(_ints(code, 0xFFFF)[0], text)
    if name in ("dau", "dhu", "n3u"):
        cls = {"dau": DAU, "dhu": DHU, "n3u": N3U}[name]
        return cls(_ints(value, 0xFF))
    if name == "zoneversion":
        return ZoneVersion()
    raise ValueError(f"unknown option name {name!r}")


def parse_cookie(value: str | None) -> Cookie:
    """``--cookie`` (a fresh random client cookie) or ``--cookie=HEX`` (client, and server
    cookie after the first 8 octets), checked as RFC 7873 sizes them."""
    if not value:
        return Cookie.fresh()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"cookie {value!r} is not hex") from None
    cookie = Cookie(raw[:8], raw[8:])
    reason = cookie.problem()
    if reason:
        raise ValueError(reason)
    return cookie


def option_lines(options: tuple[EdnsOption, ...], sent: tuple[EdnsOption, ...] = ()) -> list[str]:
    """dig's OPT PSEUDOSECTION lines for ``options``; a COOKIE gets dig's ``(good)`` when its
    client part is the one ``sent``, ``(bad)`` when it is another."""
    ours = next((o for o in sent if isinstance(o, Cookie)), None)
    lines = []
    for option in options:
        line = option.dig_line()
        if isinstance(option, Cookie) and ours is not None and option.server:
            line += " (good)" if option.client == ours.client else " (bad)"
        lines.append(line)
    return lines


@dataclass(frozen=True, slots=True)
class EdnsRequest:
    """What dig's switches ask of a query: ``--nsid``, ``--cookie[=HEX]``, ``--subnet``,
    ``--padding N`` (RFC 8467 block size, applied once the query is encoded) and
    ``--dnssec`` (the DO bit). Any of them puts an OPT record in the query."""

    nsid: bool = False
    cookie: Cookie | None = None
    subnet: ClientSubnet | None = None
    padding: int = 0
    dnssec: bool = False

    @classmethod
    def from_switches(cls, nsid: bool = False, cookie: str | None = None,
                      subnet: str | None = None, padding: int = 0,
                      dnssec: bool = False) -> EdnsRequest:
        """``cookie`` None: no cookie; '' a fresh random one; else HEX. ValueError when bad."""
        return cls(
            nsid=nsid,
            cookie=None if cookie is None else parse_cookie(cookie),
            subnet=None if subnet is None else ClientSubnet.from_prefix(subnet),
            padding=padding,
            dnssec=dnssec,
        )

    @property
    def wanted(self) -> bool:
        return bool(self.nsid or self.cookie or self.subnet or self.padding or self.dnssec)

    def options(self) -> tuple[EdnsOption, ...]:
        """The options to send, in dig's order; padding is added after encoding."""
        chosen: list[EdnsOption] = []
        if self.nsid:
            chosen.append(NSID())
        if self.subnet is not None:
            chosen.append(self.subnet)
        if self.cookie is not None:
            chosen.append(self.cookie)
        return tuple(chosen)
