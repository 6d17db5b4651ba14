"""The annotated hex view: the lab report's colour-coded figure, drawn from decoder spans.

``hexdump`` is the lab's plain layout (16 octets a line); ``annotate`` colours each field
of that dump and adds the field table (section, field, bytes, decoded value). Colour is
only used when asked for; ``want_color`` decides for a stream (a terminal, and NO_COLOR
unset or empty).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from craft.dns.wire import Span, SpanKind

PALETTE = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)
RESET = "\x1b[0m"


def want_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def hexdump(data: bytes, colors: Sequence[int | None] | None = None) -> str:
    """``data`` as lines of 16 space-separated hex octets, optionally one ANSI colour each."""
    lines = []
    for start in range(0, len(data), 16):
        cells = []
        for offset in range(start, min(start + 16, len(data))):
            cell = f"{data[offset]:02x}"
            colour = colors[offset] if colors is not None else None
            if colour is not None:
                cell = f"\x1b[{colour}m{cell}{RESET}"
            cells.append(cell)
        lines.append(" ".join(cells))
    return "\n".join(lines)


def field_colors(length: int, spans: Sequence[Span]) -> list[int | None]:
    """One colour per octet: each top-level field gets the next colour of the palette."""
    colors: list[int | None] = [None] * length
    index = 0
    for span in spans:
        if span.level:
            continue
        colour = PALETTE[index % len(PALETTE)]
        index += 1
        for offset in range(span.start, min(span.end, length)):
            colors[offset] = colour
    return colors


def annotate(data: bytes, spans: Sequence[Span], color: bool = False) -> str:
    """The coloured dump followed by the field table."""
    colors = field_colors(len(data), spans)
    dump = hexdump(data, colors if color else None)
    return dump + "\n\n" + field_table(data, spans, colors if color else None)


def field_table(data: bytes, spans: Sequence[Span], colors: Sequence[int | None] | None) -> str:
    rows: list[tuple[str, str, str, str]] = []
    row_colors: list[int | None] = []
    section = None
    for span in shown_spans(spans):
        shown_section = span.section if span.section != section else ""
        section = span.section
        raw = data[span.start : span.end].hex(" ")
        if len(raw) > 47:
            raw = raw[:44] + " …"
        field = ("  " + _part_label(span)) if span.level else span.field
        colour = colors[span.start] if colors is not None and span.start < len(colors) else None
        rows.append((shown_section, field, raw, span.value))
        row_colors.append(colour)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(_HEAD)]
    out = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(_HEAD)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for (sec, field, raw, value), colour in zip(rows, row_colors, strict=True):
        cell = raw.ljust(widths[2])
        if colour is not None:
            cell = f"\x1b[{colour}m{cell}{RESET}"
        out.append(f"{sec.ljust(widths[0])}  {field.ljust(widths[1])}  {cell}  {value}".rstrip())
    return "\n".join(out)


def shown_spans(spans: Sequence[Span]) -> list[Span]:
    """The spans the field table has a row for: every whole field, a name's labels and
    pointers only when the name is compressed, and every note over fields (level 2, such
    as what a TSIG's MAC covers)."""
    shown: list[Span] = []
    show_parts = False
    pointers = [p.start for p in spans if p.kind is SpanKind.POINTER]
    for span in spans:
        if span.level == 0 and span.kind is SpanKind.NAME:
            show_parts = any(span.start <= p < span.end for p in pointers)
        if span.level == 1 and not show_parts:
            continue
        shown.append(span)
    return shown


_HEAD = ("SECTION", "FIELD", "BYTES", "VALUE")


def _part_label(span: Span) -> str:
    return span.kind.value
