"""What ``craft verify`` does with each message besides checking it, when asked: pair it
(``--stats``), log the exchanges (``--log``), keep it for the page (``--html``).

One ``Observer`` is fed every message and its outcome in capture order by
``craft.verify.verify``, so the capture is read once whatever is asked.
"""

from __future__ import annotations

from typing import TextIO

from craft.capture.exchanges import CaptureStats, Exchange, Pairing
from craft.capture.reader import DnsItem
from craft.errors import CraftError
from craft.report.log import ExchangeLog
from craft.verify import Outcome, Report


class ReportWriteError(CraftError):
    """The log or the page could not be written (a missing folder, a full disk)."""

    exit_code = 2


class Observer:
    def __init__(self, log: TextIO | None = None, log_format: str = "json",
                 html: str | None = None, source: str = "",
                 html_detail: int | None = None) -> None:
        from craft.report.html import HtmlReport  # the page's template loads only when wanted

        self.pairing = Pairing(exchanges=log is not None or html is not None)
        self.log = ExchangeLog(log, log_format) if log is not None else None
        self.html = HtmlReport(html, source, html_detail) if html is not None else None

    @property
    def stats(self) -> CaptureStats:
        return self.pairing.stats

    def observe(self, item: DnsItem, outcome: Outcome) -> None:
        if self.html is not None:
            self.html.message(item, outcome)
        for exchange in self.pairing.add(item):
            self._exchange(exchange)

    def _exchange(self, exchange: Exchange) -> None:
        if self.log is not None:
            self.log.write(exchange)
        if self.html is not None:
            self.html.exchange(exchange)

    def finish(self, report: Report) -> None:
        """The queries still waiting count as unanswered; the page is written."""
        for exchange in self.pairing.finish():
            self._exchange(exchange)
        if self.html is not None:
            self.html.finish(report, self.stats)
