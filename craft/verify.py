"""``craft verify``'s logic: every DNS message of a capture through both codecs.

For each message: craft decodes it, Scapy dissects it, the oracle compares every field,
and craft re-encodes its reading and must decode those bytes back to the same message.
The result is a ``Report`` value; printing it is the command's job. ``replay`` sends the
captured queries to a live server and compares its answers with the captured ones.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from craft.capture import CaptureError, DnsItem, Stats, dns_messages
from craft.codec import decode, encode
from craft.message import Header, Message
from craft.wire import WireError


@dataclass(frozen=True, slots=True)
class Problem:
    packet: int
    kind: str  # "malformed", "disagree", "roundtrip", "replay"
    detail: str


@dataclass(slots=True)
class Report:
    packets: int = 0
    messages: int = 0
    queries: int = 0
    responses: int = 0
    agreeing: int = 0
    disagreeing: int = 0
    malformed: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.messages > 0 and not self.problems

    def rows(self) -> list[tuple[str, int]]:
        return [
            ("packets", self.packets), ("DNS messages", self.messages),
            ("  queries", self.queries), ("  responses", self.responses),
            ("agreeing", self.agreeing), ("disagreeing", self.disagreeing),
            ("malformed", self.malformed), ("skipped non-DNS", self.skipped),
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "packets": self.packets, "dns_messages": self.messages, "queries": self.queries,
            "responses": self.responses, "agreeing": self.agreeing,
            "disagreeing": self.disagreeing, "malformed": self.malformed,
            "skipped_non_dns": self.skipped, "ok": self.ok,
            "problems": [{"packet": p.packet, "kind": p.kind, "detail": p.detail}
                         for p in self.problems],
        }


def check_message(item: DnsItem, report: Report) -> None:
    """Decode ``item`` with both codecs and round-trip it; count it in ``report``."""
    from craft.oracle import check

    report.messages += 1
    verdict = check(item.data)
    if verdict.craft_error is not None:
        report.malformed += 1
        report.problems.append(Problem(item.packet, "malformed", verdict.describe()))
        return
    message = decode(item.data)
    if message.header.qr:
        report.responses += 1
    else:
        report.queries += 1
    problems = []
    if not verdict.agrees:
        problems.append(Problem(item.packet, "disagree", verdict.describe()))
    try:
        again = decode(encode(message))
    except WireError as exc:
        problems.append(Problem(item.packet, "roundtrip", f"re-encoded bytes do not decode: {exc}"))
    else:
        if again != message:
            problems.append(Problem(item.packet, "roundtrip", "re-encoded bytes decode to another message"))
    if problems:
        report.disagreeing += 1
        report.problems.extend(problems)
    else:
        report.agreeing += 1


def verify(path: str, progress: Callable[[int], None] | None = None) -> Report:
    """Check every DNS message in the capture (``CaptureError`` if it cannot be read)."""
    report = Report()
    stats = Stats()
    try:
        for item in dns_messages(path, stats):
            check_message(item, report)
            if progress is not None:
                progress(stats.offset)
    except CaptureError as exc:
        if not exc.truncated or stats.packets == 0:
            raise
        report.problems.append(Problem(exc.packet, "truncated", exc.reason))
    report.packets = stats.packets
    report.skipped = stats.skipped
    return report


# ---- replay ----

@dataclass(frozen=True, slots=True)
class Exchanged:
    query: DnsItem
    response: DnsItem | None


def exchanges(path: str) -> Iterator[Exchanged]:
    """Captured queries paired with the captured response to each (same ID, reversed
    addresses), in capture order."""
    Key = tuple[str, tuple[str, int], tuple[str, int], bytes]
    waiting: dict[Key, DnsItem] = {}
    order: list[Key] = []
    answered: dict[Key, DnsItem] = {}
    for item in dns_messages(path):
        if len(item.data) < 12:
            continue
        ident = item.data[:2]
        if item.data[2] & 0x80:
            key = (item.transport, item.dst, item.src, ident)
            if key in waiting and key not in answered:
                answered[key] = item
        else:
            key = (item.transport, item.src, item.dst, ident)
            if key not in waiting:
                waiting[key] = item
                order.append(key)
    for key in order:
        yield Exchanged(waiting[key], answered.get(key))


def _normalised(data: bytes) -> Message | None:
    try:
        message = decode(data)
    except WireError:
        return None
    return replace(message, header=replace(message.header, id=0))


def _send(data: bytes, server: tuple[str, int], tcp: bool, timeout: float) -> bytes | None:
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    try:
        if tcp:
            with socket.create_connection(server, timeout=timeout) as sock:
                sock.sendall(struct.pack("!H", len(data)) + data)
                head = sock.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return None
                return sock.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.connect(server)
            sock.send(data)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                reply = sock.recv(65535)
                if reply[:2] == data[:2]:
                    return reply
    except OSError:
        return None
    return None


@dataclass(slots=True)
class ReplayReport:
    sent: int = 0
    matched: int = 0
    differing: int = 0
    unanswered: int = 0
    no_capture: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.sent > 0 and not self.problems


def replay(
    path: str, server: tuple[str, int], *, rate: float = 200.0, max_time: float = 60.0,
    timeout: float = 1.0,
) -> ReplayReport:
    """Send each captured query to ``server`` (bounded by ``rate`` per second and
    ``max_time`` seconds) and compare the answer with the captured response, ID aside."""
    report = ReplayReport()
    start = time.monotonic()
    for index, pair in enumerate(exchanges(path)):
        if time.monotonic() - start > max_time:
            report.problems.append(Problem(pair.query.packet, "replay", "time limit reached"))
            break
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        report.sent += 1
        live = _send(pair.query.data, server, pair.query.transport == "tcp", timeout)
        packet = pair.query.packet
        if live is None:
            report.unanswered += 1
            if pair.response is not None:
                report.problems.append(Problem(packet, "replay", "no answer from the server"))
            continue
        if pair.response is None:
            report.no_capture += 1
            continue
        captured, now = _normalised(pair.response.data), _normalised(live)
        if captured == now:
            report.matched += 1
            continue
        report.differing += 1
        report.problems.append(Problem(packet, "replay", _difference(captured, now)))
    return report


def _difference(captured: Message | None, live: Message | None) -> str:
    if captured is None or live is None:
        return "captured or live answer does not decode"
    parts: list[str] = []
    if captured.header != live.header:
        fields = [f for f in Header.__dataclass_fields__
                  if getattr(captured.header, f) != getattr(live.header, f)]
        parts.extend(f"header.{f}: captured {getattr(captured.header, f)} live "
                     f"{getattr(live.header, f)}" for f in fields)
    for title, records in captured.sections():
        other = dict(live.sections())[title]
        if records != other:
            parts.append(f"{title}: captured {[r.to_text() for r in records]} "
                         f"live {[r.to_text() for r in other]}")
    if captured.question != live.question:
        parts.append("question differs")
    return "; ".join(parts) or "answers differ"
