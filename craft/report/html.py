"""``craft verify --html FILE``: one self-contained page for a capture.

The page carries compact data, not markup per message: for each message its hex, its
field spans (from craft's decoder, coloured as ``craft.view.hexview`` colours the lab's
figure) and Scapy's verdict from ``craft verify``'s oracle check, as one JSON line; for
each exchange one short JSON array (hex and spans for the first ``MAX_DETAILED``
messages and up to ``MAX_LATE_PROBLEMS`` later ones with a problem; the others keep
their row, status and verdict). The page's script parses an exchange's messages
only when it is clicked, and draws only the timeline rows in view, so a capture of
100,000 messages opens and scrolls as a small one does. Each message's line is at most
``MAX_ENTRY`` characters (4,096 octets of hex at most, then fewer spans, values cut at
``MAX_VALUE``); each exchange adds about 100 more.

While the capture is read, the lines go to temporary files (memory stays flat apart
from one status octet per message); ``finish`` writes the page around them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import IO

from craft.capture.exchanges import CaptureStats, Exchange, endpoint_text
from craft.capture.reader import DnsItem
from craft.dns.codec import decode
from craft.dns.constants import rcode_text, type_text
from craft.dns.wire import Span, WireError
from craft.report.page import PAGE
from craft.verify import Outcome, Report
from craft.view.hexview import PALETTE, field_colors, shown_spans

MAX_OCTETS = 4096
MAX_VALUE = 120
MAX_VERDICT = 2000
MAX_ENTRY = 16384
MAX_PROBLEMS = 1000
# Messages whose hex and field spans the page holds: the first MAX_DETAILED in capture
# order (``--html-detail``), and up to MAX_LATE_PROBLEMS later ones with a problem. A
# browser holds the page's message data as one string: at about 830 octets a message, a
# million messages made a page of 841 MB that Chromium opened but whose details it never
# showed.
MAX_DETAILED = 100_000
MAX_LATE_PROBLEMS = 10_000
PROBLEM_BITS = ("unanswered", "unsolicited", "duplicate response", "retransmitted",
                "duplicate", "truncated", "tc retry", "disagree", "malformed")
_STATUS = {"query": 0, "response": 0, "malformed": 2}


def _json(value: object) -> str:
    # "</" would end the script element the data sits in.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


class HtmlReport:
    """Collects messages (``message``) and exchanges (``exchange``) in capture order and
    writes the page (``finish``)."""

    def __init__(self, path: str, source: str = "", detailed: int | None = None) -> None:
        """``detailed``: how many messages, first in capture order, keep hex and fields
        (``MAX_DETAILED`` when None)."""
        self.path = path
        self.detailed = MAX_DETAILED if detailed is None else detailed
        self.source = source
        self.start: float | None = None
        self.words: dict[str, int] = {}
        self._spans: dict[tuple[str, str, str], tuple[int, int, int]] = {}
        self.status = bytearray()
        self.packets: list[int] = []
        self.undetailed = 0  # messages past the limits, kept without hex and fields
        self.late_problems = 0  # messages past MAX_DETAILED kept whole for their problem
        # Closed by ``finish``, which every run reaches (verify's command calls it).
        self._messages: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._rows: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.exchanges = 0

    def _word(self, text: str) -> int:
        index = self.words.get(text)
        if index is None:
            index = self.words[text] = len(self.words)
        return index

    def _labels(self, span: Span) -> tuple[int, int, int]:
        key = (span.section, span.field, span.kind)
        found = self._spans.get(key)
        if found is None:
            found = self._spans[key] = (self._word(span.section), self._word(span.field),
                                        self._word(span.kind))
        return found

    def _time(self, when: float) -> float:
        if self.start is None:
            self.start = when
        return round(when - self.start, 6)

    def message(self, item: DnsItem, outcome: Outcome) -> None:
        data = item.data
        status = 1 if outcome.problems and outcome.role != "malformed" else _STATUS[outcome.role]
        verdict = "; ".join(f"{kind}: {detail}" for kind, detail in outcome.problems)
        if len(verdict) > MAX_VERDICT:
            verdict = verdict[:MAX_VERDICT] + "…"
        head = [item.packet, self._time(item.time), item.transport,
                endpoint_text(item.src), endpoint_text(item.dst), len(data)]
        if len(self.packets) >= self.detailed:
            if status == 0 or self.late_problems >= MAX_LATE_PROBLEMS:
                self._write(item, _json([*head, None, [], status, verdict]), status)  # no detail
                self.undetailed += 1
                return
            self.late_problems += 1
        spans: list[Span] = []
        try:
            decode(data, spans)
        except WireError:
            pass  # colour what was read before the fault, as the terminal view does
        colors = field_colors(len(data), spans)
        shown = [s for s in shown_spans(spans) if s.start < MAX_OCTETS]
        cells: list[object] = []
        for span in shown:
            colour = colors[span.start] if span.start < len(colors) else None
            value = span.value if len(span.value) <= MAX_VALUE else span.value[:MAX_VALUE] + "…"
            section, name, kind = self._labels(span)
            cells.append([span.start, span.end, span.level,
                          PALETTE.index(colour) if colour is not None else -1,
                          section, name, value, kind])
        hexed = data[:MAX_OCTETS].hex()
        line = _json([*head, hexed, cells, status, verdict])
        while len(line) > MAX_ENTRY and cells:
            cells = cells[: len(cells) // 2]  # fewer rows in the field table, stated on the page
            line = _json([*head, hexed, cells, status, verdict + " (field table cut)"])
        self._write(item, line, status)

    def _write(self, item: DnsItem, line: str, status: int) -> None:
        self._messages.write(line + "\n")
        self.status.append(0x30 + status)  # an ASCII digit
        self.packets.append(item.packet)

    def exchange(self, exchange: Exchange) -> None:
        seen = exchange.glance
        response = exchange.response_glance
        found = exchange.problems()
        bits = sum(1 << index for index, label in enumerate(PROBLEM_BITS) if label in found)
        rtt = exchange.rtt
        row = [
            self._time(exchange.time), exchange.transport, endpoint_text(exchange.client),
            endpoint_text(exchange.server), seen.ident if seen else None,
            seen.qname if seen and seen.counts[0] else "",
            type_text(seen.qtype) if seen and seen.counts[0] else "",
            rcode_text(response.rcode) if response else "",
            None if rtt is None else round(rtt * 1000, 3), bits,
            exchange.query_index, exchange.response_index, exchange.copies,
        ]
        self._rows.write(_json(row) + "\n")
        self.exchanges += 1

    def finish(self, report: Report, stats: CaptureStats) -> None:
        """Write the page to ``path`` (a temporary file renamed into place)."""
        summary = report.as_dict()
        problems = summary.pop("problems")
        assert isinstance(problems, list)
        meta = {
            "source": self.source, "report": summary, "stats": stats.as_dict(),
            "problems": problems[:MAX_PROBLEMS], "more_problems": max(len(problems) - MAX_PROBLEMS, 0),
            "words": sorted(self.words, key=self.words.__getitem__),
            "bits": PROBLEM_BITS, "max_entry": MAX_ENTRY, "max_octets": MAX_OCTETS,
            "packets": self.packets, "status": self.status.decode("ascii"),
            "detailed": self.detailed, "late_problems": MAX_LATE_PROBLEMS,
            "undetailed": self.undetailed,
        }
        before, _, rest = PAGE.partition("<!--META-->")
        middle, _, rest = rest.partition("<!--ROWS-->")
        between, _, after = rest.partition("<!--MSGS-->")
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".craft-report-")
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, self.path) from None  # name the page
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(before.replace("%TITLE%", _escape(os.path.basename(self.source))))
                out.write(_json(meta))
                out.write(middle)
                self._copy_joined(self._rows, out)
                out.write(between)
                self._messages.seek(0)
                shutil.copyfileobj(self._messages, out)
                out.write(after)
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        finally:
            self._messages.close()
            self._rows.close()

    @staticmethod
    def _copy_joined(lines: IO[str], out: IO[str]) -> None:
        """The JSON lines as one JSON array."""
        lines.seek(0)
        out.write("[")
        first = True
        for line in lines:
            if not first:
                out.write(",")
            out.write(line.rstrip("\n"))
            first = False
        out.write("]")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
