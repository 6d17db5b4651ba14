"""``craft verify``'s logic: every DNS message of a capture through both codecs.

For each message: craft decodes it, Scapy dissects it, the oracle compares every field,
and craft re-encodes its reading, which must decode back to the same message. The result
is a ``Report`` value; printing it is the command's job. ``replay`` sends the captured
queries to a live server and compares its answers with the captured ones.

Captures repeat themselves: the same questions and answers under new IDs. A message that
equals an earlier clean one (decoded, agreed, round-tripped) in everything but its two ID
octets gets that message's outcome without a second dissection. That is exact, not a
guess: craft rejects any name that points into the header, so in a message craft decodes
the ID octets are read as the ID and nowhere else, by craft and by Scapy alike, and
craft's re-encoding differs from the other one's only there. ``memo=False`` (the
command's ``--no-memo``) dissects every message anyway.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial

from craft.capture.reader import CaptureError, DnsItem, NoteKind, Stats, dns_messages
from craft.dns.codec import decode, encode
from craft.dns.message import Header, Message, fold_case
from craft.dns.wire import WireError
from craft.transport import send_bytes

UDP_LIMIT = 512  # RFC 1035 4.2.1, without EDNS
ONLY_NOTED = frozenset({NoteKind.EMPTY})  # capture notes that are not problems
MEMO_SIZE = 1 << 16  # clean outcomes remembered (oldest forgotten first): memory stays flat


class ProblemKind(StrEnum):
    """What a check found (a capture's own notes keep their ``NoteKind``)."""

    MALFORMED = "malformed"  # craft rejects the message
    DISAGREE = "disagree"  # craft and Scapy read it differently
    ROUNDTRIP = "roundtrip"  # craft's re-encoding does not decode to the same message
    FILE = "file"  # the file ends in a fault
    NOTES = "notes"  # capture notes left out past the limit
    REPLAY = "replay"  # a live answer that does not match the captured one


class Role(StrEnum):
    QUERY = "query"
    RESPONSE = "response"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not hold, at a 1-based packet number (0: the file as a whole)."""

    packet: int
    kind: ProblemKind | NoteKind
    detail: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What checking one message found: its role and its problems (packet number aside)."""

    role: Role
    problems: tuple[tuple[ProblemKind, str], ...] = ()


# One object per clean outcome: no allocation per message, and a list of outcomes sent
# between processes pickles each of them once (``craft.verify_jobs``).
CLEAN = {role: Outcome(role) for role in (Role.QUERY, Role.RESPONSE)}


@dataclass(frozen=True, slots=True)
class Report:
    packets: int
    messages: int
    queries: int
    responses: int
    agreeing: int
    disagreeing: int
    malformed: int
    skipped: int
    problems: tuple[Problem, ...]
    error: str | None = None  # the file ended in a fault after ``packets`` whole frames
    repeats: int = 0  # messages that repeat an earlier clean one but for the ID
    notes: tuple[Problem, ...] = ()  # worth saying, yet no problem (an empty datagram)
    empty: int = 0  # empty UDP datagrams on DNS ports

    @property
    def ok(self) -> bool:
        """Nothing disagrees or fails to decode, and the file read to its end. A capture
        without DNS is ok too: there was nothing wrong to find (the verdict says so)."""
        return not self.problems and self.error is None

    def rows(self) -> list[tuple[str, int]]:
        rows = [
            ("packets", self.packets), ("DNS messages", self.messages),
            ("  queries", self.queries), ("  responses", self.responses),
            ("agreeing", self.agreeing), ("disagreeing", self.disagreeing),
            ("malformed", self.malformed), ("skipped non-DNS", self.skipped),
            ("repeats, ID aside", self.repeats),
        ]
        return [*rows, ("  empty UDP datagrams", self.empty)] if self.empty else rows

    def as_dict(self) -> dict[str, object]:
        return {
            "packets": self.packets, "dns_messages": self.messages, "queries": self.queries,
            "responses": self.responses, "agreeing": self.agreeing,
            "disagreeing": self.disagreeing, "malformed": self.malformed,
            "skipped_non_dns": self.skipped, "repeats_id_aside": self.repeats,
            "empty_udp_datagrams": self.empty, "error": self.error, "ok": self.ok,
            "problems": [{"packet": p.packet, "kind": p.kind, "detail": p.detail}
                         for p in self.problems],
            "notes": [{"packet": p.packet, "kind": p.kind, "detail": p.detail}
                      for p in self.notes],
        }


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def check_data(data: bytes) -> Outcome:
    """Both codecs and a craft round trip over one message's octets."""
    from craft.oracle import check

    verdict = check(data)
    if verdict.craft_error is not None:
        return Outcome(Role.MALFORMED, ((ProblemKind.MALFORMED, _one_line(verdict.describe())),))
    message = decode(data)
    problems: list[tuple[ProblemKind, str]] = []
    if not verdict.agrees:
        problems.append((ProblemKind.DISAGREE, _one_line(verdict.describe())))
    try:
        wire = encode(message)
        # The same octets decode to the same message: only other octets need reading. Names
        # compare case-blind: compression may give a name an earlier equal name's case
        # (a 0x20-randomised question, the zone's lower case after it).
        if wire != data and fold_case(decode(wire)) != fold_case(message):
            problems.append((ProblemKind.ROUNDTRIP, "craft's re-encoding decodes to another message"))
    except WireError as exc:
        problems.append((ProblemKind.ROUNDTRIP, f"craft's re-encoding does not encode or decode: {exc}"))
    role = Role.RESPONSE if message.header.qr else Role.QUERY
    return Outcome(role, tuple(problems)) if problems else CLEAN[role]


@dataclass(slots=True)
class Tally:
    messages: int = 0
    queries: int = 0
    responses: int = 0
    agreeing: int = 0
    disagreeing: int = 0
    malformed: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, packet: int, outcome: Outcome) -> None:
        self.messages += 1
        if outcome.role is Role.MALFORMED:
            self.malformed += 1
        else:
            if outcome.role is Role.RESPONSE:
                self.responses += 1
            else:
                self.queries += 1
            if outcome.problems:
                self.disagreeing += 1
            else:
                self.agreeing += 1
        self.problems.extend(Problem(packet, kind, detail) for kind, detail in outcome.problems)


def remember(outcomes: dict[bytes, Outcome], key: bytes, outcome: Outcome) -> None:
    """Keep a clean outcome for messages equal but for the ID (oldest forgotten first)."""
    if outcome.role is not Role.MALFORMED and not outcome.problems:
        if len(outcomes) >= MEMO_SIZE:
            del outcomes[next(iter(outcomes))]
        outcomes[key] = outcome


class Settling:
    """What every way of checking a capture (one job here, several in
    ``craft.verify_jobs``) does with each message's outcome, in capture order: the memo of
    clean outcomes (a message equal but for its ID is a repeat, not checked again), the
    tally, the count of repeats, and the observer of ``--stats``, ``--log`` and ``--html``."""

    __slots__ = ("memo", "observe", "outcomes", "repeats", "tally")

    def __init__(self, memo: bool, observe: Callable[[DnsItem, Outcome], None] | None) -> None:
        self.memo, self.observe = memo, observe
        self.outcomes: dict[bytes, Outcome] = {}
        self.tally = Tally()
        self.repeats = 0

    def take(self, item: DnsItem, check: Callable[[], Outcome]) -> None:
        """Settle ``item``: the memo's outcome for a repeat, else ``check()``'s (remembered
        when clean), counted and shown."""
        key = item.data[2:]
        outcome = self.outcomes.get(key) if self.memo else None
        if outcome is not None:
            self.repeats += 1
        else:
            outcome = check()
            if self.memo:
                remember(self.outcomes, key, outcome)
        self.tally.add(item.packet, outcome)
        if self.observe is not None:
            self.observe(item, outcome)

    def known(self, key: bytes) -> bool:
        """Whether the memo holds the clean outcome of a message (ID aside) of key ``key``."""
        return self.memo and key in self.outcomes


def verify(path: str, progress: Callable[[int], None] | None = None, memo: bool = True,
           observe: Callable[[DnsItem, Outcome], None] | None = None) -> Report:
    """Check every DNS message in the capture at ``path``.

    ``progress`` is called with the octets of the file read so far; ``observe`` with each
    message and its outcome, in capture order (``--stats``, ``--log`` and ``--html``). Raises ``CaptureError``
    when the file cannot be read at all; a fault after some whole frames (a cut or corrupt
    file) ends the report early with ``error`` set."""
    settling = Settling(memo, observe)
    stats = Stats()
    error: str | None = None
    try:
        for item in dns_messages(path, stats):
            settling.take(item, partial(check_data, item.data))
            if progress is not None:
                progress(stats.offset)
    except CaptureError as exc:
        error = capture_error(exc, stats, settling.tally)
    return finish(settling.tally, stats, error, settling.repeats)


def capture_error(exc: CaptureError, stats: Stats, tally: Tally) -> str:
    """A fault while reading: raised again when nothing could be read, else noted in
    ``tally`` as a problem of the file; returns the report's error text."""
    if stats.packets == 0 and exc.packet == 0:
        raise exc
    checked = f"; frames 1-{exc.packet} were read and checked" if exc.packet else ""
    tally.problems.append(Problem(exc.packet + 1, ProblemKind.FILE, exc.reason + checked))
    return exc.reason


def finish(tally: Tally, stats: Stats, error: str | None, repeats: int) -> Report:
    """The report from what was checked (``tally``) and what the reader noted (``stats``)."""
    problems = tally.problems + [Problem(n.packet, n.kind, n.detail) for n in stats.notes
                                 if n.kind not in ONLY_NOTED]
    notes = [Problem(n.packet, n.kind, n.detail) for n in stats.notes if n.kind in ONLY_NOTED]
    if stats.empty > 1:
        notes = [replace(n, detail=f"{n.detail} (and {stats.empty - 1} more)")
                 if n.kind is NoteKind.EMPTY else n for n in notes]
    if stats.notes_dropped:
        problems.append(Problem(0, ProblemKind.NOTES, f"{stats.notes_dropped} more capture notes left out"))
    return Report(
        packets=stats.packets, messages=tally.messages, queries=tally.queries,
        responses=tally.responses, agreeing=tally.agreeing, disagreeing=tally.disagreeing,
        malformed=tally.malformed, skipped=stats.skipped,
        problems=tuple(sorted(problems, key=lambda p: p.packet)), error=error,
        repeats=repeats, notes=tuple(notes), empty=stats.empty,
    )


# ---- replay ----


@dataclass(frozen=True, slots=True)
class Exchanged:
    """A captured query and the captured response to it (None when the capture has none)."""

    query: DnsItem
    response: DnsItem | None


REPLAY_WINDOW = 10000  # queries awaiting their captured response at once
REPLAY_WAIT = 30.0  # capture seconds after which a query counts as unanswered


def exchanges(path: str) -> Iterator[Exchanged]:
    """Captured queries paired with the captured response to each (same transport, ID and
    reversed addresses), in capture order, streaming with a bounded window."""
    Key = tuple[str, tuple[str, int], tuple[str, int], bytes]
    waiting: OrderedDict[Key, list[DnsItem | None]] = OrderedDict()
    for item in dns_messages(path):
        if len(item.data) < 12:
            continue
        ident = item.data[:2]
        if item.is_response:
            pair = waiting.get((item.transport, item.dst, item.src, ident))
            if pair is not None and pair[1] is None:
                pair[1] = item
        else:
            key = (item.transport, item.src, item.dst, ident)
            if key in waiting:  # the same query again: flush the earlier one first
                query, response = waiting.pop(key)
                assert query is not None
                yield Exchanged(query, response)
            waiting[key] = [item, None]
        while waiting:
            query, response = next(iter(waiting.values()))
            assert query is not None
            if response is None and len(waiting) < REPLAY_WINDOW and (
                    item.time - query.time < REPLAY_WAIT):
                break
            waiting.popitem(last=False)
            yield Exchanged(query, response)
    for query, response in waiting.values():
        assert query is not None
        yield Exchanged(query, response)


def _normalised(data: bytes) -> Message | None:
    try:
        message = decode(data)
    except WireError:
        return None
    return replace(message, header=replace(message.header, id=0))


def udp_limit(query: bytes) -> int:
    """The largest UDP answer the query allows: 512, or its EDNS size when larger."""
    try:
        edns = decode(query).edns
    except WireError:
        return UDP_LIMIT
    return max(UDP_LIMIT, edns.payload) if edns is not None else UDP_LIMIT


def _send(data: bytes, server: tuple[str, int], tcp: bool, timeout: float) -> bytes | None:
    """One query, one answer (over UDP, the first with the query's ID; over TCP, the first
    message); None when nothing whole came back in time."""
    try:
        sent = send_bytes(data, server, tcp=tcp, timeout=timeout,
                          accept=None if tcp else lambda reply: reply[:2] == data[:2])
    except OSError:
        return None
    return sent.reply if sent.complete else None


@dataclass(frozen=True, slots=True)
class ReplayReport:
    sent: int
    matched: int
    differing: int
    unanswered: int
    no_capture: int  # sent, answered, but the capture holds no response to compare with
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.sent > 0 and not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent, "matched": self.matched, "differing": self.differing,
            "unanswered": self.unanswered, "no_captured_answer": self.no_capture,
            "ok": self.ok,
            "problems": [{"packet": p.packet, "detail": p.detail} for p in self.problems],
        }


def replay(
    path: str, server: tuple[str, int], *, rate: float = 200.0, max_time: float = 60.0,
    timeout: float = 1.0,
) -> ReplayReport:
    """Send each captured query to ``server`` over the transport it was captured on (at
    most ``rate`` per second, for at most ``max_time`` seconds) and compare each answer
    with the captured response, ID and timing aside. A UDP answer larger than the query
    allows (512 octets, or its EDNS size) is a problem even when the capture agrees."""
    sent = matched = differing = unanswered = no_capture = 0
    problems: list[Problem] = []
    start = time.monotonic()
    for index, pair in enumerate(exchanges(path)):
        packet, query = pair.query.packet, pair.query.data
        if time.monotonic() - start >= max_time:
            problems.append(Problem(packet, ProblemKind.REPLAY,
                                    f"stopped: --max-time {max_time:g}s reached before this query"))
            break
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent += 1
        tcp = pair.query.transport == "tcp"
        live = _send(query, server, tcp, timeout)
        if live is None:
            unanswered += 1
            if pair.response is not None:
                problems.append(Problem(packet, ProblemKind.REPLAY, f"no answer within {timeout:g}s"))
            continue
        if not tcp and len(live) > udp_limit(query):
            problems.append(Problem(packet, ProblemKind.REPLAY,
                                    f"live UDP answer of {len(live)} octets exceeds the query's "
                                    f"limit of {udp_limit(query)}"))
        if pair.response is None:
            no_capture += 1
            continue
        captured, now = _normalised(pair.response.data), _normalised(live)
        if captured is not None and captured == now:
            matched += 1
            continue
        differing += 1
        problems.append(Problem(packet, ProblemKind.REPLAY, _difference(captured, now)))
    return ReplayReport(sent, matched, differing, unanswered, no_capture, tuple(problems))


def _difference(captured: Message | None, live: Message | None) -> str:
    if captured is None or live is None:
        which = "captured" if captured is None else "live"
        return f"the {which} answer does not decode"
    parts: list[str] = []
    for name in Header.__dataclass_fields__:
        ours, theirs = getattr(captured.header, name), getattr(live.header, name)
        if ours != theirs:
            parts.append(f"header.{name}: captured {ours}, live {theirs}")
    if captured.question != live.question:
        parts.append(f"question: captured {[q.to_text() for q in captured.question]}, "
                     f"live {[q.to_text() for q in live.question]}")
    for (title, records), (_, others) in zip(captured.sections(), live.sections(), strict=True):
        if records != others:
            parts.append(f"{title}: captured {[r.to_text() for r in records]}, "
                         f"live {[r.to_text() for r in others]}")
    return "; ".join(parts) or "answers differ"
