"""RFC 1035 master files (zone files) to ``Zone`` values and back.

Reads ``$ORIGIN``, ``$TTL``, relative names, ``@``, owner inheritance (a line starting with
white space), TTL and class in either order, BIND-style TTL units (``1h30m``), parentheses
across lines, ``;`` comments, quoted strings with escapes, ``\\DDD`` escapes in names, and
RFC 3597 generic rdata (``TYPE65280 \\# 3 010203``, also for known types, and ``CLASSn``).
Every fault is a ``ZoneError`` naming ``file:line``; loading is all or nothing, so a
server never starts half-loaded. ``$INCLUDE`` is refused: one file is one zone. The
reader takes text and a source name and opens no file: ``craft.zone_loader`` reads files.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from craft.dns.codec import TTL_MAX
from craft.dns.constants import RRClass, RRType, class_number, class_text, type_number, type_text
from craft.dns.message import Record
from craft.dns.names import LOWER, MAX_NAME, BadNameError, Name
from craft.dns.rdata import (
    QUOTED,
    SOA,
    TXT,
    A,
    DomainName,
    Opaque,
    Rdata,
    is_seconds,
    parse_seconds,
)
from craft.dns.rdtypes import rdata_class
from craft.dns.wire import Reader, WireError, Writer
from craft.dns.zone import Zone, ZoneError
from craft.dns.zonefast import SIMPLE_LINE, fast_head, new_a, new_name, new_record, simple_txt

# A physical line needs the full tokenizer only when it holds one of these; anything else
# (the vast majority of lines, and the parenthesised records BIND writes) is split on
# blanks after cutting its comment, its parentheses counted by ``_parens``.
_NEEDS_SCAN = re.compile(r'[^\t\r\x20-\x7e]|["\\]')
_TOKEN = re.compile(
    r"""[ \t\r\f\v]+                # blanks
    |;.*                            # comment to the end of the line
    |(\()|(\))                      # 1, 2: parentheses
    |"((?:[^"\\]|\\.)*)"            # 3: quoted string, escapes kept for the field parser
    |(")                            # 4: a quote that is never closed on this line
    |((?:[^ \t\r\f\v;()"\\]|\\.?)+) # 5: a word; a dangling backslash is the name's fault
    """,
    re.VERBOSE,
)
# Types that may share a name with a CNAME (RFC 4035 2.5) and RRsets whose members may
# carry different TTLs (RFC 4034 3: each RRSIG has the TTL of the RRset it covers).
_BESIDE_CNAME = frozenset({RRType.CNAME, RRType.RRSIG, RRType.NSEC})
_MIXED_TTLS = frozenset({RRType.RRSIG})


@dataclass(frozen=True, slots=True)
class Line:
    """One logical entry: its tokens (parentheses joined), the line it starts on, and
    whether that line starts with a blank (then the owner is the previous record's)."""

    number: int
    indented: bool
    tokens: list[str]


def _scan(line: str, tokens: list[str], depth: int, where: str) -> int:
    """Tokenize one physical line into ``tokens``; returns the parenthesis depth after it."""
    for match in _TOKEN.finditer(line):
        kind = match.lastindex
        if kind is None:
            continue  # blanks or a comment
        if kind == 5:
            tokens.append(match.group(5))
        elif kind == 3:
            tokens.append(QUOTED + match.group(3))
        elif kind == 1:
            if depth:
                raise ZoneError(where, "'(' inside parentheses")
            depth = 1
        elif kind == 2:
            if not depth:
                raise ZoneError(where, "')' without '('")
            depth = 0
        else:
            raise ZoneError(where, "unterminated quoted string (quotes end on their line)")
    return depth


_PAREN = re.compile(r"[()]")


def _parens(line: str, depth: int, where: str) -> int:
    """The parenthesis depth after a line with no quote and no escape, its comment cut:
    what ``_scan`` gives, errors and all, without tokenizing it."""
    for paren in _PAREN.findall(line):
        if paren == "(":
            if depth:
                raise ZoneError(where, "'(' inside parentheses")
            depth = 1
        else:
            if not depth:
                raise ZoneError(where, "')' without '('")
            depth = 0
    return depth


def logical_lines(text: str, filename: str = "<zone>") -> Iterator[Line]:
    """Split master-file text into entries; newlines inside parentheses do not end one."""
    for entry in _entries(text, filename, simple=False):
        assert isinstance(entry, Line)
        yield entry


Run = list[tuple[int, re.Match[str]]]
RUN = 4096  # simple lines handed over at a time


def _entries(text: str, filename: str, simple: bool) -> Iterator[Line | Run]:
    """``logical_lines``; with ``simple``, whole lines outside parentheses in one of the
    forms ``SIMPLE_LINE`` matches come instead as runs of (line number, match), in order."""
    tokens: list[str] = []
    depth = 0
    start = 1
    indented = False
    fast = SIMPLE_LINE.fullmatch if simple else None
    run: Run = []
    for number, line in enumerate(_physical_lines(text), 1):
        if not depth:
            if fast is not None:
                match = fast(line)
                if match is not None:
                    run.append((number, match))
                    if len(run) >= RUN:
                        yield run
                        run = []
                    continue
                if run:
                    yield run
                    run = []
            start = number
            indented = line[:1] in (" ", "\t")
        if _NEEDS_SCAN.search(line) is None:
            cut = line.find(";")
            if cut >= 0:
                line = line[:cut]
            if "(" in line or ")" in line:
                depth = _parens(line, depth, f"{filename}:{number}")
                line = line.replace("(", " ").replace(")", " ")
            tokens += line.split()
        else:
            depth = _scan(line, tokens, depth, f"{filename}:{number}")
        if not depth and tokens:
            yield Line(start, indented, tokens)
            tokens = []
    if run:
        yield run
    if depth:
        raise ZoneError(f"{filename}:{start}", "'(' never closed")


_CHUNK = 1 << 20  # characters split into lines at a time


def _physical_lines(text: str) -> Iterator[str]:
    """``text.split("\\n")``, a megabyte at a time: splitting a big zone's text in one
    call makes a million strings with the interpreter held (0.1 s, a stall for a server
    answering while it reloads), and freeing them at the end is another."""
    start = 0
    while True:
        end = text.find("\n", start + _CHUNK)
        if end < 0:
            yield from text[start:].split("\n")
            return
        yield from text[start:end].split("\n")
        start = end + 1


def parse_ttl(token: str) -> int:
    """A record TTL: seconds or units (``1h30m``), at most 2^31 - 1 (RFC 2181 8)."""
    if not is_seconds(token):
        raise ValueError(f"bad TTL {token!r} (seconds, or units s m h d w as in 1h30m)")
    try:
        return parse_seconds(token, TTL_MAX)
    except ValueError:
        raise ValueError(f"TTL {token} over the maximum {TTL_MAX} (RFC 2181 8)") from None


def is_absolute(token: str) -> bool:
    """Whether a name token ends in an unescaped dot (``a\\.`` is relative, ``a\\\\.`` not)."""
    if not token.endswith("."):
        return False
    body = token[:-1]
    return (len(body) - len(body.rstrip("\\"))) % 2 == 0


def parse_name(token: str, origin: Name | None) -> Name:
    """A name token: absolute, or relative to ``origin`` (``@`` is the origin itself).
    ValueError when it is quoted, relative with no origin, or over the RFC 1035 limits."""
    if token.startswith(QUOTED):
        raise ValueError(f"quoted string {token[1:]!r} where a name belongs")
    if origin is None and not is_absolute(token) and token != ".":
        raise ValueError(f"relative name {token!r} with no $ORIGIN")
    try:
        if "\\" in token or token in ("@", "."):
            return Name.from_text(token, origin)
        absolute = token.endswith(".")
        labels = tuple((token[:-1] if absolute else token).encode("utf-8").split(b"."))
        if b"" in labels:
            return Name.from_text(token, origin)  # for its precise complaint
        if origin is not None and not absolute:
            labels += origin.labels
        name = Name(labels)
        name.check()
        return name
    except BadNameError as exc:
        raise ValueError(f"{exc.reason} in name {token!r}") from None


class _Names:
    """Name tokens relative to the current origin, memoized: zone files repeat names."""

    def __init__(self, origin: Name | None) -> None:
        self.origin = origin
        self.memo: dict[str, Name] = {}

    def set_origin(self, origin: Name) -> None:
        self.origin = origin
        self.memo.clear()

    def __call__(self, token: str) -> Name:
        name = self.memo.get(token)
        if name is None:
            name = self.memo[token] = parse_name(token, self.origin)
        return name


def _generic_data(tokens: list[str]) -> bytes:
    """RFC 3597 generic rdata after its ``\\#``: a decimal length, then hex in any words."""
    if len(tokens) < 2:
        raise ValueError("\\# needs a length and hex data")
    length = tokens[1]
    if not (length.isascii() and length.isdigit()) or int(length) > 0xFFFF:
        raise ValueError(f"bad \\# length {length!r}")
    hex_text = "".join(tokens[2:])
    if not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", hex_text):
        raise ValueError(f"bad hex {hex_text!r} in \\# data")
    data = bytes.fromhex(hex_text)
    if len(data) != int(length):
        raise ValueError(f"\\# says {int(length)} octets, hex has {len(data)}")
    return data


def _from_generic(cls: type[Rdata], rtype: int, data: bytes) -> Rdata:
    """A known type written as ``\\# len hex``: read it as the wire says, uncompressed."""
    reader = Reader(data)
    try:
        rdata = cls.decode(reader, len(data))
    except WireError as exc:
        raise ValueError(f"\\# data is not valid {type_text(rtype)} rdata: {exc.reason}") from None
    if reader.pos != len(data):
        raise ValueError(f"\\# data longer than the {type_text(rtype)} rdata it holds")
    writer = Writer()
    rdata.encode(writer, compress=False)
    if writer.getvalue() != data:  # RFC 3597 5: names in generic rdata are never compressed
        raise ValueError(f"\\# data of {type_text(rtype)} holds a compressed name")
    return rdata


def _rdata(rtype: int, tokens: list[str], names: _Names) -> Rdata:
    cls = rdata_class(rtype)
    if tokens[0] == "\\#":
        data = _generic_data(tokens)
        return Opaque(data) if cls is Opaque else _from_generic(cls, rtype, data)
    if cls is Opaque:
        raise ValueError(f"{type_text(rtype)} rdata must be in RFC 3597 form: \\# LENGTH HEX")
    return cls.from_text(tokens, names.origin, names)


_IN = int(RRClass.IN)
_A = int(RRType.A)
_TXT = int(RRType.TXT)
_CLASSES = {name: int(value) for name, value in RRClass.__members__.items()}
_TYPES = {type_text(value): int(value) for value in RRType}


def _class(token: str) -> int | None:
    """The class a token names, or None when it is not a class mnemonic or ``CLASSn``."""
    upper = token.upper()
    number = _CLASSES.get(upper)
    if number is None and upper.startswith("CLASS") and upper[5:].isascii() and upper[5:].isdigit():
        number = class_number(upper)
    return number


def _is_meta_type(rtype: int) -> bool:
    """TYPE0, OPT and the query/meta range 128-255 (RFC 6895 3.1) never sit in a zone."""
    return rtype == 0 or rtype == RRType.OPT or 128 <= rtype <= 255


def _record_head(tokens: list[str], allow_meta: bool) -> tuple[int | None, int | None, int, int]:
    """TTL and class (either order, both optional) and type of one record's tokens after
    its owner; the last value is where the rdata starts."""
    ttl: int | None = None
    rclass: int | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token[:1].isdigit():
            if ttl is not None:
                raise ValueError(f"a second TTL {token!r}")
            ttl = parse_ttl(token)
        else:
            number = _class(token)
            if number is None:
                break
            if rclass is not None:
                raise ValueError(f"a second class {token!r}")
            rclass = number
        i += 1
    if i == len(tokens):
        raise ValueError("missing type")
    mnemonic = tokens[i]
    if mnemonic.startswith(QUOTED):
        raise ValueError(f"quoted string {mnemonic[1:]!r} where the type belongs")
    rtype = _TYPES.get(mnemonic.upper())
    if rtype is None:
        rtype = type_number(mnemonic)
    if not allow_meta and _is_meta_type(rtype):
        raise ValueError(f"{mnemonic} is not a record type for zones")
    if i + 1 == len(tokens):
        raise ValueError("missing rdata")
    return ttl, rclass, rtype, i + 1


def parse_record(text: str, origin: Name | None = None) -> Record:
    """One record in zone-file form (``name [ttl] [class] type rdata``), for crafting: any
    type is allowed, a missing TTL is 0 and a missing class IN; relative names are relative
    to ``origin`` (the root when None). ValueError if bad."""
    try:
        lines = list(logical_lines(text, "<record>"))
    except ZoneError as exc:
        raise ValueError(exc.reason) from None
    if len(lines) != 1:
        raise ValueError("expected exactly one record")
    tokens = lines[0].tokens
    names = _Names(origin or Name.root())
    owner = names(tokens[0])
    ttl, rclass, rtype, start = _record_head(tokens[1:], allow_meta=True)
    rdata = _rdata(rtype, tokens[1 + start :], names)
    return Record(owner, rtype, RRClass.IN if rclass is None else rclass, ttl or 0, rdata)


class _Reader:
    """The state a master file carries from entry to entry (RFC 1035 5.1)."""

    def __init__(self, origin: Name | None, default_ttl: int | None) -> None:
        self.names = _Names(origin)
        self.default_ttl = default_ttl  # $TTL (RFC 2308 4)
        self.last_ttl: int | None = None
        self.last_owner: Name | None = None
        self.last_key = b""  # the last owner's lookup key
        self.last_class = int(RRClass.IN)
        self.records: list[Record] = []
        # Each record's line and owner key, in step with ``records``; the lines as machine
        # integers (a million int objects would cost memory and a long free).
        self.lines = array("l")
        self.keys: list[bytes] = []
        self.origin_key: tuple[Name | None, bytes] = (None, b"")
        self.failed = 0  # the line a run's record was being read from, for errors

    def entry(self, line: Line) -> None:
        tokens = line.tokens
        head = tokens[0]
        if head.startswith("$"):
            self.directive(head.upper(), tokens[1:])
            return
        if line.indented:
            if self.last_owner is None:
                raise ValueError("no owner name for this record (the line starts with a blank)")
            owner = self.last_owner
            rest = tokens
        else:
            owner = self.names(head)
            rest = tokens[1:]
        fast = fast_head(rest, self.names)  # the common one-line forms, or None
        if fast is not None:
            ttl, rclass, rtype, rdata = fast
        else:
            ttl, rclass, rtype, start = _record_head(rest, allow_meta=False)
            if self.names.origin is None and rtype == RRType.SOA:
                self.names.set_origin(owner)  # no $ORIGIN: the SOA's owner is the origin
            rdata = _rdata(rtype, rest[start:], self.names)
        key = self.last_key if owner is self.last_owner else owner.key
        self.add(line.number, owner, key, ttl, rclass, rtype, rdata)

    def simple(self, number: int, match: re.Match[str]) -> None:
        """A line ``SIMPLE_LINE`` matched: ``simple_run`` of that line alone."""
        self.simple_run([(number, match)])

    def tokenized(self, number: int, match: re.Match[str]) -> None:
        """A line ``SIMPLE_LINE`` matched but the simple lane is not sure of (no origin yet,
        no TTL to take, a TTL or a string too long, a name too long), read as ``entry``
        reads any line: it says what is wrong."""
        self.failed = number
        tokens: list[str] = []
        _scan(match.string, tokens, 0, str(number))
        self.entry(Line(number, False, tokens))

    def simple_run(self, run: Run) -> None:
        """Lines ``SIMPLE_LINE`` matched, in file order: a one-label owner under the origin,
        an A or a TXT; one loop, the reader's state in locals (a big zone is mostly such
        lines, and a call per line was a good part of reading it). A line it is not sure
        of goes to ``tokenized``, with the reader's state brought up to date first."""
        origin = self.names.origin
        if origin is None:
            for number, match in run:
                self.tokenized(number, match)
            return
        origin_key = self.key_of(origin)
        labels = origin.labels
        room = MAX_NAME - 1 - len(origin_key)  # octets left for the owner's label
        default_ttl = self.default_ttl
        records, lines, keys = self.records, self.lines, self.keys
        owner, key, last_ttl, last_class = self.last_owner, self.last_key, self.last_ttl, \
            self.last_class
        for number, match in run:
            label, ttl_text, klass, address, strings = match.groups()
            rdata: A | TXT | None
            if address is not None:
                rdata, rtype = new_a(address), _A
            else:
                rdata, rtype = simple_txt(strings), _TXT
            if ttl_text is not None:
                ttl: int | None = int(ttl_text)
            else:
                ttl = default_ttl if default_ttl is not None else last_ttl
            if rdata is None or ttl is None or ttl > TTL_MAX or len(label) > room:
                self.last_owner, self.last_key, self.last_ttl, self.last_class = \
                    owner, key, last_ttl, last_class
                self.tokenized(number, match)
                owner, key, last_ttl, last_class = self.last_owner, self.last_key, \
                    self.last_ttl, self.last_class
                continue
            raw = label.encode("ascii")
            owner = new_name((raw, *labels))
            key = bytes((len(raw),)) + raw.translate(LOWER) + origin_key
            if klass:
                last_class = _IN
            records.append(new_record(owner, rtype, last_class, ttl, rdata))
            lines.append(number)
            keys.append(key)
            last_ttl = ttl
        self.last_owner, self.last_key, self.last_ttl, self.last_class = \
            owner, key, last_ttl, last_class

    def key_of(self, origin: Name) -> bytes:
        """The current origin's key, made once per origin."""
        known, key = self.origin_key
        if known is not origin:
            key = origin.key
            self.origin_key = (origin, key)
        return key

    def add(self, number: int, owner: Name, key: bytes, ttl: int | None, rclass: int | None,
            rtype: int, rdata: Rdata) -> None:
        if ttl is None:
            if self.default_ttl is not None:
                ttl = self.default_ttl
            elif self.last_ttl is not None:
                ttl = self.last_ttl  # RFC 1035 5.1: the last TTL stated
            elif isinstance(rdata, SOA):
                ttl = rdata.minimum  # what BIND does for an SOA with no TTL and no $TTL
            else:
                raise ValueError("no TTL, and no $TTL or earlier record to take one from")
        rclass = self.last_class if rclass is None else rclass
        if rclass in (0, RRClass.NONE, RRClass.ANY):
            raise ValueError(f"{class_text(rclass)} is not a class for zones")
        self.records.append(Record(owner, rtype, rclass, ttl, rdata))
        self.lines.append(number)
        self.keys.append(key)
        self.last_owner, self.last_key, self.last_ttl, self.last_class = owner, key, ttl, rclass

    def directive(self, name: str, args: list[str]) -> None:
        if name == "$ORIGIN":
            if len(args) != 1:
                raise ValueError("$ORIGIN takes one name")
            origin = self.names(args[0])  # a relative $ORIGIN extends the current one
            self.names.set_origin(origin)
        elif name == "$TTL":
            if len(args) != 1:
                raise ValueError("$TTL takes one value")
            self.default_ttl = parse_ttl(args[0])
        elif name == "$INCLUDE":
            raise ValueError("$INCLUDE is not supported: put the records in this file")
        else:
            raise ValueError(f"unknown directive {name} (only $ORIGIN and $TTL)")


def parse_zone(
    text: str, *, filename: str = "<zone>", origin: Name | None = None,
    default_ttl: int | None = None,
) -> Zone:
    """Parse master-file text into a checked ``Zone``. Its origin is ``origin``, else the
    owner of the SOA; relative names before any ``$ORIGIN`` are relative to ``origin``, or
    (without one) to the SOA's owner once it is read. Raises ``ZoneError("file:line", reason)``."""
    reader = _Reader(origin, default_ttl)
    for entry in _entries(text, filename, simple=True):
        try:
            if isinstance(entry, Line):
                reader.entry(entry)
            else:
                reader.simple_run(entry)
        except ValueError as exc:  # BadNameError and WireError are ValueErrors too
            reason = exc.reason if isinstance(exc, ZoneError | BadNameError) else str(exc)
            number = entry.number if isinstance(entry, Line) else reader.failed
            raise ZoneError(f"{filename}:{number}", reason) from None
    if not reader.records:
        raise ZoneError(f"{filename}:1", "no records")
    zone_origin = origin
    if zone_origin is None:  # the SOA marks the top of the zone (RFC 1035 5.2)
        soa = next((r for r in reader.records if r.rtype == RRType.SOA), None)
        if soa is None:
            raise ZoneError(f"{filename}:{reader.lines[0]}", "no SOA record")
        zone_origin = soa.name
    changes = _check_records(reader.records, reader.lines, reader.keys, zone_origin, filename)
    # _check_records holds every rule Zone.check has, at the offending line: no second pass.
    if not changes:
        return Zone(zone_origin, tuple(reader.records), owner_keys=tuple(reader.keys))
    kept = [(changes.get(i, record), key)
            for i, (record, key) in enumerate(zip(reader.records, reader.keys, strict=True))]
    return Zone(zone_origin, tuple(r for r, _ in kept if r is not None),
                owner_keys=tuple(k for r, k in kept if r is not None))


_HAS_NAMES: dict[type[Rdata], bool] = {}


def _rdata_key(rdata: Rdata) -> object:
    """Rdata identity for duplicate detection: names inside compare case-insensitively."""
    cls = type(rdata)
    named = _HAS_NAMES.get(cls)
    if named is None:
        named = _HAS_NAMES[cls] = any(isinstance(kind, DomainName) for _, kind in cls.fields)
    if not named:
        return rdata
    values = (getattr(rdata, field) for field, _ in rdata.fields)
    return tuple(v.key if isinstance(v, Name) else v for v in values)


def _check_records(
    records: list[Record], lines: Sequence[int], keys: list[bytes], origin: Name, filename: str
) -> dict[int, Record | None]:
    """Zone rules, each reported at the offending record's line: names inside the zone,
    one class, one SOA at the apex, NS at the apex, a CNAME alone at its name (RFC 1034
    3.6.2), one TTL per RRset (RFC 2181 5.2, the first one stated). Exact duplicates are
    dropped (RFC 2181 5). ``keys``: each record's owner key. Returns what to change, by
    position: the record to keep instead (its TTL set) or None (a duplicate dropped).

    Most owners of a big zone have one record, which breaks no rule by itself: such an
    owner costs one dict entry holding its record, and only owners with more get their
    types' TTLs and their records' identities kept. (Per-record sets and tuples were most
    of this check's time, and their freeing on return held the interpreter for seconds
    at a million records, which starved the serving thread during a reload.)"""
    origin_key = origin.key
    zone_class = records[0].rclass
    # Owner key -> its one record so far, or the first TTL of each of its types.
    at: dict[bytes, Record | dict[int, int]] = {}
    seen: set[tuple[bytes, int, object]] = set()  # identities at owners with several records
    changes: dict[int, Record | None] = {}
    soa_line = 0
    soa = int(RRType.SOA)  # a local int: looked up a million times
    for position, (record, number, key) in enumerate(zip(records, lines, keys, strict=True)):
        state = at.get(key)
        if state is None and not _inside(key, origin_key):
            raise ZoneError(f"{filename}:{number}",
                            f"{record.name.to_text()} is outside the zone {origin.to_text()}")
        if record.rclass != zone_class:
            raise ZoneError(f"{filename}:{number}", f"class {class_text(record.rclass)} in a "
                                                    f"zone of class {class_text(zone_class)}")
        rtype = record.rtype
        if rtype == soa:
            if key != origin_key:
                raise ZoneError(f"{filename}:{number}", f"SOA at {record.name.to_text()}: only "
                                                        f"at the zone apex {origin.to_text()}")
            if soa_line:
                raise ZoneError(f"{filename}:{number}",
                                f"a second SOA (the first is on line {soa_line})")
            soa_line = number
        if state is None:
            at[key] = record
            continue
        if not isinstance(state, dict):
            first = state
            state = at[key] = {first.rtype: first.ttl}
            seen.add((key, first.rtype, _rdata_key(first.rdata)))
        if rtype == RRType.CNAME and RRType.CNAME in state:
            raise ZoneError(f"{filename}:{number}", f"a second CNAME at {record.name.to_text()}")
        if (rtype == RRType.CNAME and state.keys() - _BESIDE_CNAME) or (
            RRType.CNAME in state and rtype not in _BESIDE_CNAME
        ):
            raise ZoneError(f"{filename}:{number}", f"CNAME and other data at "
                                                    f"{record.name.to_text()} (RFC 1034 3.6.2)")
        first_ttl = state.setdefault(rtype, record.ttl)
        if first_ttl != record.ttl and rtype not in _MIXED_TTLS:
            # RFC 2181 5.2 forbids mixed TTLs on the wire; like BIND ("TTL set to prior
            # TTL") the RRset keeps the TTL of its first record rather than failing the load.
            record = changes[position] = replace(record, ttl=first_ttl)
        identity = (key, rtype, _rdata_key(record.rdata))
        if identity in seen:
            changes[position] = None
        else:
            seen.add(identity)
    if not soa_line:
        raise ZoneError(f"{filename}:{lines[0]}", f"no SOA record at the apex {origin.to_text()}")
    apex = at.get(origin_key)
    if not (isinstance(apex, dict) and RRType.NS in apex):  # the SOA is there: not alone
        raise ZoneError(f"{filename}:{soa_line}", f"no NS record at the apex {origin.to_text()}")
    return changes


def _inside(key: bytes, origin_key: bytes) -> bool:
    """Whether the name of lookup key ``key`` is at or below the one of ``origin_key``:
    a suffix that starts at a label boundary."""
    cut = len(key) - len(origin_key)
    if cut < 0 or not key.endswith(origin_key):
        return False
    if key[0] + 1 == cut:  # one label below: most names of a big zone
        return True
    pos = 0
    while pos < cut:
        pos += key[pos] + 1
    return pos == cut


def zone_to_text(zone: Zone) -> str:
    """Master-file text, SOA first, absolute names and explicit TTL and class on every
    record, that ``parse_zone`` reads back equal (and ``nsd-checkzone`` accepts)."""
    soa = zone.soa
    lines = [f"$ORIGIN {zone.origin.to_text()}", soa.to_text()]
    lines.extend(r.to_text() for r in zone.records if r is not soa)
    return "\n".join(lines) + "\n"
