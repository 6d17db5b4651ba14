"""RFC 1035 master files (zone files) to ``Zone`` values and back.

Reads ``$ORIGIN``, ``$TTL``, relative names, ``@``, owner inheritance (a line starting with
white space), TTL and class in either order, BIND-style TTL units (``1h30m``), parentheses
across lines, ``;`` comments, quoted strings with escapes, and RFC 3597 generic rdata
(``TYPE65280 \\# 3 010203``, also for known types). Every fault is a ``ZoneError`` naming
``file:line``; loading is all or nothing, so a server never starts half-loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from craft.codec import TTL_MAX
from craft.constants import RRClass, RRType, class_number, type_number
from craft.message import Record
from craft.names import BadNameError, Name
from craft.rdata import SOA, Opaque, Rdata, Rest, is_seconds, parse_seconds, rdata_class
from craft.wire import Reader, WireError
from craft.zone import Zone, ZoneError


@dataclass(frozen=True, slots=True)
class Line:
    """One logical entry: tokens after parentheses are joined, with its first line number."""

    number: int
    indented: bool
    tokens: list[str]


def _logical_lines(text: str, filename: str) -> Iterator[Line]:
    """Tokenize: quotes keep their content (escapes intact for the field parsers), ``;``
    starts a comment outside quotes, newlines inside parentheses do not end an entry."""
    tokens: list[str] = []
    depth = 0
    start_line = 1
    indented = False
    line_no = 1
    i = 0
    n = len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and depth == 0:
            start_line = line_no
            indented = c in " \t"
            at_line_start = False
        if c == "\n":
            line_no += 1
            if depth == 0:
                if tokens:
                    yield Line(start_line, indented, tokens)
                tokens = []
                at_line_start = True
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == ";":
            while i < n and text[i] != "\n":
                i += 1
        elif c == "(":
            depth += 1
            i += 1
        elif c == ")":
            if depth == 0:
                raise ZoneError(f"{filename}:{line_no}", "')' without '('")
            depth -= 1
            i += 1
        elif c == '"':
            j = i + 1
            value = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    value.append(text[j : j + 2])
                    j += 2
                    continue
                if text[j] == "\n":
                    line_no += 1
                value.append(text[j])
                j += 1
            if j >= n:
                raise ZoneError(f"{filename}:{start_line}", "unterminated quoted string")
            tokens.append('"' + "".join(value))  # leading quote marks a quoted token
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n;()"':
                j += 2 if text[j] == "\\" and j + 1 < n else 1
            tokens.append(text[i:j])
            i = j
    if depth:
        raise ZoneError(f"{filename}:{start_line}", "'(' never closed")
    if tokens:
        yield Line(start_line, indented, tokens)


def parse_ttl(token: str) -> int:
    """A record TTL: seconds or units, at most 2^31 - 1 (RFC 2181 8)."""
    return parse_seconds(token, TTL_MAX)


def _is_class(token: str) -> bool:
    upper = token.upper()
    return upper in ("IN", "CH", "HS", "CS", "NONE", "ANY") or (
        upper.startswith("CLASS") and upper[5:].isdigit()
    )


def _unquoted(tokens: list[str]) -> list[str]:
    return [t[1:] if t.startswith('"') else t for t in tokens]


def _rdata(rtype: int, tokens: list[str], origin: Name | None) -> Rdata:
    cls = rdata_class(rtype)
    if tokens and tokens[0] == "\\#":
        data = Rest().parse(list(tokens), origin)
        if cls is Opaque:
            return Opaque(data)
        reader = Reader(data)  # generic form of a known type: read it as the wire says
        try:
            rdata = cls.decode(reader, len(data))
        except WireError as exc:
            raise ValueError(f"\\# data is not valid rdata: {exc.reason}") from None
        if reader.pos != len(data):
            raise ValueError("\\# data longer than the rdata it holds")
        return rdata
    if cls is Opaque:
        raise ValueError("unknown type needs RFC 3597 form \\# LENGTH HEX")
    return cls.from_text(tokens, origin)


def _record_parts(
    rest: list[str], origin: Name | None, allow_meta: bool = False
) -> tuple[int | None, int | None, int, Rdata]:
    """TTL and class (either order, both optional), type and rdata of one record's tokens
    after its owner."""
    ttl: int | None = None
    rclass: int | None = None
    while rest:
        if ttl is None and is_seconds(rest[0]):
            ttl = parse_ttl(rest.pop(0))
        elif rclass is None and _is_class(rest[0]):
            rclass = class_number(rest.pop(0))
        else:
            break
    if not rest:
        raise ValueError("missing type")
    mnemonic = rest.pop(0)
    rtype = type_number(mnemonic)
    if not allow_meta and rtype in (RRType.OPT, RRType.ANY, RRType.AXFR, RRType.IXFR):
        raise ValueError(f"{mnemonic} is not a record type for zones")
    if not rest:
        raise ValueError("missing rdata")
    return ttl, rclass, rtype, _rdata(rtype, _unquoted(rest), origin)


def parse_record(text: str, origin: Name | None = None) -> Record:
    """One record in zone-file form (``name [ttl] [class] type rdata``), for crafting: any
    type is allowed, a missing TTL is 0 and a missing class IN. ValueError if bad."""
    lines = list(_logical_lines(text, "<record>"))
    if len(lines) != 1:
        raise ValueError("expected exactly one record")
    tokens = list(lines[0].tokens)
    base = origin or Name.root()
    try:
        owner = Name.from_text(tokens.pop(0), base)
        ttl, rclass, rtype, rdata = _record_parts(tokens, base, allow_meta=True)
    except BadNameError as exc:
        raise ValueError(exc.reason) from None
    return Record(owner, rtype, RRClass.IN if rclass is None else rclass, ttl or 0, rdata)


def parse_zone(
    text: str, *, filename: str = "<zone>", origin: Name | None = None,
    default_ttl: int | None = None,
) -> Zone:
    """Parse master-file text into a checked ``Zone`` (raises ``ZoneError``)."""
    current_origin = origin
    ttl_default = default_ttl
    last_ttl: int | None = None
    last_owner: Name | None = None
    last_class = int(RRClass.IN)
    zone_origin = origin
    records: list[Record] = []
    lines: list[int] = []
    for line in _logical_lines(text, filename):
        where = f"{filename}:{line.number}"
        tokens = line.tokens
        try:
            head = tokens[0].upper()
            if head == "$ORIGIN":
                if len(tokens) != 2:
                    raise ValueError("$ORIGIN takes one name")
                current_origin = Name.from_text(tokens[1], current_origin)
                if zone_origin is None:
                    zone_origin = current_origin
                continue
            if head == "$TTL":
                if len(tokens) != 2:
                    raise ValueError("$TTL takes one value")
                ttl_default = parse_ttl(tokens[1])
                continue
            if head.startswith("$"):
                raise ValueError(f"{tokens[0]} is not supported")
            rest = list(tokens)
            if line.indented:
                if last_owner is None:
                    raise ValueError("no owner name for this record")
                owner = last_owner
            else:
                if current_origin is None and not rest[0].endswith(".") and rest[0] != ".":
                    raise ValueError(f"relative name {rest[0]!r} with no $ORIGIN")
                owner = Name.from_text(rest.pop(0), current_origin)
            ttl, rclass, rtype, rdata = _record_parts(rest, current_origin)
            if ttl is None:
                if ttl_default is not None:
                    ttl = ttl_default
                elif last_ttl is not None:
                    ttl = last_ttl
                elif isinstance(rdata, SOA):
                    ttl = rdata.minimum  # RFC 1035 without $TTL: the SOA minimum
                else:
                    raise ValueError("no TTL and no $TTL before it")
        except (ValueError, BadNameError) as exc:
            reason = exc.reason if isinstance(exc, BadNameError) else str(exc)
            raise ZoneError(where, reason) from None
        rclass = last_class if rclass is None else rclass
        if zone_origin is None and isinstance(rdata, SOA):
            zone_origin = owner
        records.append(Record(owner, rtype, rclass, ttl, rdata))
        lines.append(line.number)
        last_owner, last_ttl, last_class = owner, ttl, rclass
    if not records:
        raise ZoneError(f"{filename}:1", "no records")
    if zone_origin is None:
        raise ZoneError(f"{filename}:1", "no $ORIGIN and no SOA to take the origin from")
    _check_records(records, lines, zone_origin, filename)
    zone = Zone(zone_origin, tuple(records))
    try:
        zone.check()
    except ZoneError as exc:
        raise ZoneError(filename, exc.reason) from None
    return zone


def _check_records(records: list[Record], lines: list[int], origin: Name, filename: str) -> None:
    """Per-record rules that need a line number: inside the zone, CNAME alone (RFC 1034
    3.6.2), one SOA."""
    types_at: dict[bytes, set[int]] = {}
    for record, number in zip(records, lines, strict=True):
        where = f"{filename}:{number}"
        if not record.name.is_subdomain_of(origin):
            raise ZoneError(where, f"{record.name.to_text()} is outside the zone {origin.to_text()}")
        if record.rtype == RRType.SOA and not record.name.equals(origin):
            raise ZoneError(where, "SOA only at the zone apex")
        seen = types_at.setdefault(record.name.key, set())
        if record.rtype == RRType.SOA and RRType.SOA in seen:
            raise ZoneError(where, "a second SOA")
        if (record.rtype == RRType.CNAME and seen - {RRType.CNAME}) or (
            RRType.CNAME in seen and record.rtype != RRType.CNAME
        ):
            raise ZoneError(where, f"CNAME and other data at {record.name.to_text()}")
        if record.rtype == RRType.CNAME and RRType.CNAME in seen:
            raise ZoneError(where, f"two CNAMEs at {record.name.to_text()}")
        seen.add(record.rtype)


def load_zone(path: str | Path, origin: Name | None = None) -> Zone:
    """Read and parse one master file (``OSError`` if unreadable, ``ZoneError`` if bad)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ZoneError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_zone(text, filename=str(path), origin=origin)


def zone_to_text(zone: Zone) -> str:
    """Master-file text, SOA first, absolute names, that ``parse_zone`` reads back equal."""
    soa = zone.soa
    lines = [f"$ORIGIN {zone.origin.to_text()}", soa.to_text()]
    lines.extend(r.to_text() for r in zone.records if r is not soa)
    return "\n".join(lines) + "\n"
