"""Encoding and strict decoding of whole DNS messages (RFC 1035 4.1, RFC 6891, RFC 3597).

Pure functions over bytes and ``craft.dns.message`` values; no I/O. ``decode`` raises only
``WireError``. Pass a list as ``spans`` to get every field's byte range for the hex view.
"""

from __future__ import annotations

from collections.abc import Callable

from craft.dns.constants import RRClass, RRType, class_text, type_text
from craft.dns.message import Header, Message, Question, Record
from craft.dns.rdata import Opaque, Rdata, rdata_class
from craft.dns.wire import HEADER_SIZE, Layout, Reader, Span, SpanKind, WireError, Writer

_SECTION_TITLES = ("ANSWER", "AUTHORITY", "ADDITIONAL")
_COUNT_FIELDS = ("QDCOUNT", "ANCOUNT", "NSCOUNT", "ARCOUNT")
TTL_MAX = 0x7FFFFFFF


def decode_header(data: bytes) -> tuple[Header, tuple[int, int, int, int]]:
    """The header and the four counts; ``WireError`` if fewer than 12 octets."""
    r = Reader(data)
    r.section = "HEADER"
    return _read_header(r)


def _read_header(r: Reader) -> tuple[Header, tuple[int, int, int, int]]:
    r.section = "DNS HEADER"
    ident = r.u16("ID", SpanKind.ID)
    _retext(r, lambda v: f"{v:#06x} ({v})", ident)
    flags = r.u16("FLAGS", SpanKind.FLAGS)
    header = Header.from_flags(ident, flags)
    if r.spans is not None:
        r.spans[-1] = Span(r.pos - 2, r.pos, r.section, "FLAGS", header.describe(), SpanKind.FLAGS)
    counts = (
        r.u16("QDCOUNT", SpanKind.COUNT),
        r.u16("ANCOUNT", SpanKind.COUNT),
        r.u16("NSCOUNT", SpanKind.COUNT),
        r.u16("ARCOUNT", SpanKind.COUNT),
    )
    return header, counts


def _retext(r: Reader, show: Callable[[int], str], value: int) -> None:
    """Give the span just recorded a friendlier value (e.g. ``A`` for type 1); the text is
    only made when spans are being recorded, so plain decoding pays nothing for it."""
    if r.spans is not None:
        last = r.spans[-1]
        r.spans[-1] = Span(last.start, last.end, last.section, last.field, show(value), last.kind)


def decode(data: bytes, spans: list[Span] | None = None, layout: Layout | None = None) -> Message:
    """Decode one whole message strictly: every count honoured, no octet left over.

    Pass an empty ``Layout()`` to keep how names were spelled (for byte-identical
    re-encoding with ``encode(message, layout=...)``)."""
    r = Reader(data, spans)
    r.layout = layout
    header, counts = _read_header(r)
    r.section = "QUERY"
    questions = []
    for index in range(counts[0]):
        _expect_more(r, "question", index, counts[0])
        r.section = "QUERY" if counts[0] == 1 else f"QUERY {index + 1}"
        name = r.name("QNAME")
        rtype = r.u16("QTYPE", SpanKind.TYPE)
        _retext(r, type_text, rtype)
        rclass = r.u16("QCLASS", SpanKind.CLASS)
        _retext(r, class_text, rclass)
        questions.append(Question(name, rtype, rclass))
    sections: list[tuple[Record, ...]] = []
    for title, count in zip(_SECTION_TITLES, counts[1:], strict=True):
        records = []
        for index in range(count):
            _expect_more(r, title.lower(), index, count)
            r.section = f"{title} {index + 1}"
            records.append(_read_record(r))
        sections.append(tuple(records))
    if r.pos != len(data):
        raise WireError(r.pos, f"{len(data) - r.pos} octets of trailing data after the last record")
    return Message(header, tuple(questions), sections[0], sections[1], sections[2])


def _expect_more(r: Reader, what: str, index: int, count: int) -> None:
    if r.pos >= r.end:
        raise WireError(r.pos, f"header counts {count} {what} records but data ends after {index}")


def _read_record(r: Reader) -> Record:
    name = r.name("NAME")
    rtype = r.u16("TYPE", SpanKind.TYPE)
    _retext(r, type_text, rtype)
    if rtype == RRType.OPT:
        rclass = r.u16("UDP PAYLOAD", SpanKind.CLASS)
        ext = r.u8("EXT-RCODE", SpanKind.TTL)
        version = r.u8("VERSION", SpanKind.TTL)
        flags = r.u16("EDNS FLAGS", SpanKind.TTL)
        _retext(r, lambda v: f"{v:#06x}" + (" (DO)" if v & 0x8000 else ""), flags)
        ttl = (ext << 24) | (version << 16) | flags
    else:
        rclass = r.u16("CLASS", SpanKind.CLASS)
        _retext(r, class_text, rclass)
        ttl = r.u32("TTL", SpanKind.TTL)
        if ttl > TTL_MAX:  # RFC 2181 8: a TTL with the top bit set is read as zero
            ttl = 0
    rdlength = r.u16("RDLENGTH", SpanKind.RDLENGTH)
    start = r.pos
    end = start + rdlength
    if end > r.end:
        raise WireError(start, f"rdata of {rdlength} octets runs past the end of the message")
    rdata = _read_rdata(r, rtype, rclass, end)
    if r.pos != end:
        used = r.pos - start
        raise WireError(start, f"{type_text(rtype)} rdata uses {used} octets, rdlength says {rdlength}")
    return Record(name, rtype, rclass, ttl, rdata)


def _read_rdata(r: Reader, rtype: int, rclass: int, end: int) -> Rdata:
    cls = rdata_class(rtype)
    if cls is Opaque or rclass == RRClass.IN or rtype == RRType.OPT:
        return cls.decode(r, end)
    # Outside class IN a known type may mean something else (RFC 3597 5): fall back to opaque.
    start, mark = r.pos, len(r.spans) if r.spans is not None else 0
    try:
        rdata = cls.decode(r, end)
        if r.pos == end:
            return rdata
    except WireError:
        pass
    r.pos = start
    if r.spans is not None:
        del r.spans[mark:]
    return Opaque.decode(r, end)


def encode(
    message: Message,
    *,
    compress: bool = True,
    max_size: int | None = None,
    counts: tuple[int | None, int | None, int | None, int | None] | None = None,
    layout: Layout | None = None,
) -> bytes:
    """Encode ``message``.

    ``max_size`` drops whole records that do not fit (the OPT record, and a TSIG after it,
    are always kept, in that order: RFC 8945 wants the TSIG last) and sets TC when an answer
    or authority record was dropped (RFC 2181 9: missing additional data alone does not set
    TC). ``counts`` overrides header counts, to craft lying messages.
    """
    w = Writer(layout)
    w.raw(bytes(HEADER_SIZE))
    for q in message.question:
        w.name(q.name, compress)
        w.u16(q.rtype)
        w.u16(q.rclass)
    kept = [rec for rec in message.additional if rec.rtype == RRType.OPT][:1] + [
        rec for rec in message.additional if rec.rtype == RRType.TSIG][-1:]
    budget = None
    if max_size is not None:
        budget = max_size - sum(_record_size(rec) for rec in kept)
    written = [len(message.question), 0, 0, 0]
    truncated = False
    dropped_answers = False
    for index, records in enumerate((message.answer, message.authority, message.additional)):
        for rec in records:
            if budget is not None and rec.rtype in (RRType.OPT, RRType.TSIG):
                continue  # written last, inside the reserved room
            mark = len(w.buf)
            _write_record(w, rec, compress)
            if budget is not None and len(w.buf) > budget:
                w.truncate(mark)
                truncated = True
                dropped_answers = index < 2
                break
            written[index + 1] += 1
        if truncated:
            break
    if budget is not None:
        for rec in kept:
            _write_record(w, rec, compress)
            written[3] += 1
    header = message.header
    flags = header.flags | (0x0200 if dropped_answers else 0)
    final = [
        written[i] if counts is None or counts[i] is None else counts[i] for i in range(4)
    ]
    w.buf[0:HEADER_SIZE] = (
        header.id.to_bytes(2, "big")
        + flags.to_bytes(2, "big")
        + b"".join(int(c or 0).to_bytes(2, "big") for c in final)
    )
    return w.getvalue()


def _record_size(rec: Record) -> int:
    return len(record_wire(rec))


def record_wire(rec: Record) -> bytes:
    """One record's octets, uncompressed: owner, type, class, TTL, RDLENGTH and rdata."""
    w = Writer()
    _write_record(w, rec, False)
    return w.getvalue()


def _write_record(w: Writer, rec: Record, compress: bool) -> None:
    w.name(rec.name, compress)
    w.u16(rec.rtype)
    w.u16(rec.rclass)
    w.u32(rec.ttl)
    at = len(w.buf)
    w.u16(0)
    rec.rdata.encode(w, compress)
    length = len(w.buf) - at - 2
    if length > 0xFFFF:
        raise WireError(at, f"rdata of {length} octets does not fit RDLENGTH")
    w.buf[at : at + 2] = length.to_bytes(2, "big")
