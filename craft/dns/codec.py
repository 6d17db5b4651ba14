"""Encoding and strict decoding of whole DNS messages (RFC 1035 4.1, RFC 6891, RFC 3597).

Pure functions over bytes and ``craft.dns.message`` values; no I/O. ``decode`` raises only
``WireError``. Pass a list as ``spans`` to get every field's byte range for the hex view.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from craft.dns.constants import RRClass, RRType, class_text, type_text
from craft.dns.message import Header, Message, Question, Record
from craft.dns.rdata import Opaque, Rdata
from craft.dns.rdtypes import RDATA_TYPES, rdata_class
from craft.dns.wire import HEADER_SIZE, Layout, Reader, Span, SpanKind, WireError, Writer

_SECTION_TITLES = ("ANSWER", "AUTHORITY", "ADDITIONAL")
_COUNT_FIELDS = ("QDCOUNT", "ANCOUNT", "NSCOUNT", "ARCOUNT")
TTL_MAX = 0x7FFFFFFF


def decode_header(data: bytes) -> tuple[Header, tuple[int, int, int, int]]:
    """The header and the four counts; ``WireError`` if fewer than 12 octets."""
    r = Reader(data)
    r.section = "HEADER"
    return _read_header(r)


_HEADER = struct.Struct("!6H")
_QUESTION_TAIL = struct.Struct("!HH")
_RDLENGTH = struct.Struct("!H")


def _read_header(r: Reader) -> tuple[Header, tuple[int, int, int, int]]:
    r.section = "DNS HEADER"
    if r.spans is None and r.end >= HEADER_SIZE:
        ident, flags, qd, an, ns, ar = _HEADER.unpack_from(r.data, 0)
        r.pos = HEADER_SIZE
        return Header.from_flags(ident, flags), (qd, an, ns, ar)
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
        if r.spans is None:
            start = r.pos
            name = r.name("QNAME")
            if r.pos + 4 <= r.end:
                rtype, rclass = _QUESTION_TAIL.unpack_from(r.data, r.pos)
                r.pos += 4
                questions.append(Question(name, rtype, rclass))
                continue
            r.pos = start  # cut short: the field-by-field reader names what is missing
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


_RR_HEAD = struct.Struct("!HHIH")
# Types whose own fast_decode is worth a lookup (the rest decode through their fields).
_FAST = {t: RDATA_TYPES[t] for t in (RRType.A, RRType.AAAA, RRType.NS, RRType.CNAME,
                                      RRType.PTR, RRType.MX, RRType.SOA)}


def _read_record(r: Reader) -> Record:
    if r.spans is None:
        return _read_record_fast(r)
    return _read_record_spans(r)


def _read_record_spans(r: Reader) -> Record:
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


def _read_record_fast(r: Reader) -> Record:
    """``_read_record`` without spans: the fixed fields in one unpack, the rdata through
    its type's fast reader. Anything unusual goes the long way, which names the fault."""
    start = r.pos
    name = r.name("NAME")
    pos = r.pos
    if pos + 10 > r.end:
        r.pos = start
        return _read_record_spans(r)
    rtype, rclass, ttl, rdlength = _RR_HEAD.unpack_from(r.data, pos)
    end = pos + 10 + rdlength
    if rtype == RRType.OPT or end > r.end or rclass != RRClass.IN:
        r.pos = start
        return _read_record_spans(r)
    r.pos = pos + 10
    if ttl > TTL_MAX:
        ttl = 0
    fast = _FAST.get(rtype)
    rdata = fast.fast_decode(r, end) if fast is not None else rdata_class(rtype).decode(r, end)
    if r.pos != end:
        used = r.pos - pos - 10
        raise WireError(pos + 10, f"{type_text(rtype)} rdata uses {used} octets, "
                                  f"rdlength says {rdlength}")
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
    if max_size is None and counts is None:
        return _encode_plain(message, compress, layout)
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


def _encode_plain(message: Message, compress: bool, layout: Layout | None) -> bytes:
    """``encode`` with nothing to cut or override: every record, counts from the sections."""
    w = Writer(layout)
    buf = w.buf
    buf += bytes(HEADER_SIZE)
    name = w.name
    tail = _QUESTION_TAIL.pack
    for q in message.question:
        name(q.name, compress)
        buf += tail(q.rtype & 0xFFFF, q.rclass & 0xFFFF)
    for records in (message.answer, message.authority, message.additional):
        for rec in records:
            _write_record(w, rec, compress)
    header = message.header
    counts = (len(message.question), len(message.answer), len(message.authority),
              len(message.additional))
    if max(counts) > 0xFFFF:
        raise WireError(4, f"a section of {max(counts)} entries does not fit its 16-bit count")
    _HEADER.pack_into(buf, 0, header.id & 0xFFFF, header.flags & 0xFFFF, *counts)
    return bytes(buf)


def _record_size(rec: Record) -> int:
    return len(record_wire(rec))


def record_wire(rec: Record) -> bytes:
    """One record's octets, uncompressed: owner, type, class, TTL, RDLENGTH and rdata."""
    w = Writer()
    _write_record(w, rec, False)
    return w.getvalue()


def _write_record(w: Writer, rec: Record, compress: bool) -> None:
    w.name(rec.name, compress)
    buf = w.buf
    at = len(buf) + 8
    buf += _RR_HEAD.pack(rec.rtype & 0xFFFF, rec.rclass & 0xFFFF, rec.ttl & 0xFFFFFFFF, 0)
    rec.rdata.encode(w, compress)
    length = len(buf) - at - 2
    if length > 0xFFFF:
        raise WireError(at, f"rdata of {length} octets does not fit RDLENGTH")
    _RDLENGTH.pack_into(buf, at, length)
