"""How a DNS exchange is shown to a person: the lab's ``Request:`` / ``Response:`` hex,
coloured by field on a terminal, with a one-line summary and, when asked, Scapy's verdict.
"""

from __future__ import annotations

from craft.dns.codec import decode
from craft.dns.constants import rcode_text, type_text
from craft.dns.message import Message
from craft.dns.wire import Span, WireError
from craft.view.hexview import annotate, field_colors, hexdump


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


def annotated(data: bytes, color: bool) -> str:
    """The annotated view (dump plus field table), or the dump and craft's reason."""
    spans: list[Span] = []
    try:
        decode(data, spans)
    except WireError as exc:
        return annotate(data, spans, color) + f"\n!! craft cannot decode: {exc}"
    return annotate(data, spans, color)


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
