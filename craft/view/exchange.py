"""How a DNS exchange is shown to a person: the lab's ``Request:`` / ``Response:`` hex,
coloured by field on a terminal, with a one-line summary and, when asked, Scapy's verdict.
"""

from __future__ import annotations

from craft.dns.codec import decode
from craft.dns.constants import rcode_text, type_text
from craft.dns.message import Message
from craft.dns.tsig import coverage, coverage_line
from craft.dns.wire import Span, SpanKind, WireError
from craft.view.hexview import annotate, field_colors, field_table, hexdump


def colored_hex(data: bytes, color: bool) -> str:
    """The lab's 16-a-line dump; each field in its own colour when ``color``."""
    if not color:
        return hexdump(data)
    spans: list[Span] = []
    try:
        decode(data, spans)
    except WireError:
        pass  # colour what was read before the fault; the rest stays plain
    return hexdump(data, field_colors(len(data), spans))


FAULT_COLOR = 41  # red background: the octet where decoding stopped


def annotated(data: bytes, color: bool, mark: tuple[int, int] | None = None) -> str:
    """The annotated view (dump plus field table). An undecodable message is annotated up
    to its fault: the fields read before it, then the octets left undecoded, the faulty
    octet marked in the dump, and craft's reason. ``mark`` points at octets judged wrong
    (red on a terminal, ``^^`` under them otherwise)."""
    spans: list[Span] = []
    try:
        decode(data, spans)
    except WireError as exc:
        return partial_view(data, spans, exc, color)
    covered = coverage(data)  # a signed message: what its MAC covers
    spans += covered
    if mark is None:
        view = annotate(data, spans, color)
        return view + ("\n" + coverage_line(covered) if covered else "")
    colors = field_colors(len(data), spans)
    start, end = max(mark[0], 0), min(mark[1], len(data))
    if color:
        colors[start:end] = [FAULT_COLOR] * (end - start)
        dump = hexdump(data, colors)
    else:
        dump = _carets(hexdump(data), start, end, "wrong")
    return dump + "\n\n" + field_table(data, spans, colors if color else None)


def partial_view(data: bytes, spans: list[Span], fault: WireError, color: bool) -> str:
    decoded = max((s.end for s in spans), default=0)
    rest = list(spans)
    if decoded < len(data):
        rest.append(Span(decoded, len(data), "NOT DECODED", f"{len(data) - decoded} octets",
                         "!! not read", SpanKind.REST))
    colors = field_colors(len(data), spans)
    at = min(fault.offset, len(data) - 1)
    if color and at >= 0:
        colors[at] = FAULT_COLOR
    dump = hexdump(data, colors if color else None)
    if not color and at >= 0:
        dump = _caret_under(dump, at)
    table = field_table(data, rest, colors if color else None)
    where = f"offset {fault.offset}" + (f" (octet {data[at]:02x})" if 0 <= at < len(data) else "")
    return f"{dump}\n\n{table}\n!! craft cannot decode at {where}: {fault.reason}"


def _caret_under(dump: str, offset: int) -> str:
    """A ``^^`` line under the octet at ``offset`` of a plain 16-a-line dump."""
    return _carets(dump, offset, offset + 1, "fault")


def _carets(dump: str, start: int, end: int, label: str) -> str:
    """``^^`` under each octet in ``[start, end)`` of a plain 16-a-line dump, ``label``
    after the last."""
    lines = dump.split("\n")
    out = []
    for row, line in enumerate(lines):
        out.append(line)
        cols = [o % 16 for o in range(max(start, row * 16), min(end, row * 16 + 16))]
        if cols:
            marks = [" "] * (3 * cols[-1] + 2)
            for col in cols:
                marks[3 * col : 3 * col + 2] = "^^"
            tail = f" {label}" if row * 16 + 16 >= end else ""
            out.append("".join(marks) + tail)
    return "\n".join(out)


def undecodable_view(query: bytes, reply: bytes, color: bool) -> str:
    """``dns-ask --hex`` for a reply craft cannot decode: the query, then the reply
    annotated up to its fault, each with Scapy's verdict."""
    lines = [f";; query ({len(query)} octets)", annotated(query, color), verdict_line(query),
             f"\n;; response ({len(reply)} octets, undecodable)", annotated(reply, color),
             verdict_line(reply)]
    return "\n".join(lines) + "\n"


def summary(message: Message) -> str:
    q = message.question[0] if message.question else None
    asked = f"{q.name.to_text()} {type_text(q.rtype)}" if q else "(no question)"
    if not message.header.qr:
        return f"query {asked} id {message.header.id}"
    return (
        f"{rcode_text(message.rcode)} for {asked}: {len(message.answer)} answer(s), "
        f"{len(message.authority)} authority, {len(message.additional)} additional"
    )


def verdict_line(data: bytes) -> str:
    """Scapy's reading of ``data`` against craft's, indented under a dump."""
    from craft.oracle import check  # Scapy loads only when the oracle is wanted

    return "\n".join("  " + line for line in ("scapy: " + check(data).describe()).splitlines())


def exchange_text(
    query: bytes, response: bytes | None, *, color: bool, oracle: bool, note: str = ""
) -> str:
    lines = []
    if note:
        lines.append(f";; {note}")
    lines.append("Request:")
    lines.append(colored_hex(query, color))
    if oracle:
        lines.append(verdict_line(query))
    if response is None:
        lines.append("Response: (none: dropped)")
    else:
        lines.append("Response:")
        lines.append(colored_hex(response, color))
        if oracle:
            lines.append(verdict_line(response))
    return "\n".join(lines)
