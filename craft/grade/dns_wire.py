"""What the DNS rubrics need of raw octets that craft's strict decoder may refuse.

Pure: a lenient walk over a message's question and answer records (names skipped by their
labels or pointer, never followed), so each field can still be judged when one field is
wrong; hex text recognised for what it is; the lab's printed ``Request:`` / ``Response:``
hex read back out of a program's output.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

HEX_LINE = re.compile(r"(?:[0-9a-fA-F]{2}\s*)+")


@dataclass(frozen=True, slots=True)
class RawRecord:
    offset: int
    name: bytes  # the owner name's octets as sent (labels, or a pointer)
    rtype: int
    rclass: int
    ttl: int
    rdata: bytes


@dataclass(frozen=True, slots=True)
class Walk:
    questions: tuple[bytes, ...]  # each question's octets (name, type, class)
    answers: tuple[RawRecord, ...]
    error: str  # "" when the walk read every counted question and answer


def counts(data: bytes) -> tuple[int, int, int, int]:
    a, b, c, d = struct.unpack_from("!HHHH", data, 4)
    return a, b, c, d


def _skip_name(data: bytes, pos: int) -> int:
    while True:
        if pos >= len(data):
            raise IndexError(pos)
        octet = data[pos]
        if octet & 0xC0 == 0xC0:
            if pos + 2 > len(data):
                raise IndexError(pos)
            return pos + 2
        if octet == 0:
            return pos + 1
        pos += 1 + (octet & 0x3F)


def walk(data: bytes) -> Walk:
    """Read the header's questions and answers as laid out, whatever their values."""
    if len(data) < 12:
        return Walk((), (), f"{len(data)} octets: shorter than a DNS header")
    qd, an, _, _ = counts(data)
    pos = 12
    questions: list[bytes] = []
    answers: list[RawRecord] = []
    try:
        for _ in range(qd):
            end = _skip_name(data, pos) + 4
            if end > len(data):
                raise IndexError(end)
            questions.append(data[pos:end])
            pos = end
        for _ in range(an):
            start = pos
            pos = _skip_name(data, pos)
            if pos + 10 > len(data):
                raise IndexError(pos)
            rtype, rclass, ttl, rdlength = struct.unpack_from("!HHIH", data, pos)
            rdata = data[pos + 10 : pos + 10 + rdlength]
            if len(rdata) != rdlength:
                raise IndexError(pos)
            answers.append(RawRecord(start, data[start:pos], rtype, rclass, ttl, rdata))
            pos += 10 + rdlength
    except IndexError as exc:
        return Walk(tuple(questions), tuple(answers), f"the message ends early (offset {exc.args[0]})")
    return Walk(tuple(questions), tuple(answers), "")


def hex_text(data: bytes) -> bytes | None:
    """The octets ``data`` spells when it is hex text (``b"1a 2b 84 00..."``), else None."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    compact = "".join(text.split())
    if len(compact) < 24 or len(compact) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", compact):
        return None
    return bytes.fromhex(compact)


def printed_messages(output: str) -> tuple[list[bytes], list[bytes]]:
    """The messages a lab server printed: hex lines after each ``Request:`` and
    ``Response:`` line (or on it, after the colon)."""
    requests: list[bytes] = []
    responses: list[bytes] = []
    current: list[bytes] | None = None
    collected = ""

    def flush() -> None:
        if current is not None and collected:
            current.append(bytes.fromhex("".join(collected.split())))

    for line in output.splitlines():
        label = re.match(r"\s*(request|response)\s*:?\s*(.*)$", line, re.IGNORECASE)
        if label:
            flush()
            current = requests if label.group(1).lower() == "request" else responses
            rest = label.group(2)
            collected = rest if HEX_LINE.fullmatch(rest.strip() or "x") else ""
            continue
        if current is not None and line.strip() and HEX_LINE.fullmatch(line.strip()):
            collected += line
            continue
        flush()
        current, collected = None, ""
    flush()
    return requests, responses
