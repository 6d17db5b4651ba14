"""Pairing a capture's queries with their responses, and the statistics of the pairs.

This module owns ``craft verify --stats``'s arithmetic. It is pure: it is fed the
``DnsItem`` values the reader yields, in capture order, and reads nothing itself.

Pairing. A response answers the oldest waiting query with the same transport, the same
two endpoints reversed, the same ID and the same question (name compared case-blind,
type, class); a response without a readable question matches on the rest. What counts:

- a **retransmission**: a query equal in all of that to one still waiting (the client
  sent the same message again); it joins the first, and the response time runs from the
  first copy, which is how long the client waited;
- a **duplicate**: a query for the same question from the same client host to the same
  server host as one still waiting, under a new ID or source port (a client's retry);
- **unanswered**: a query with no response within ``WAIT`` seconds of capture time, or
  still waiting at the end, or pushed out when more than ``MAX_PENDING`` wait at once;
- **unsolicited**: a response that matches no query (a **duplicate response** when it
  matches one answered in the last ``WAIT`` seconds);
- a **TC retry**: a UDP response with TC set followed, within ``WAIT`` seconds, by a TCP
  query for the same question from the same client host to the same server host.

Memory is flat apart from the waiting queries (bounded by ``MAX_PENDING``): response
times go to exact samples up to ``EXACT_SAMPLES``, then to a log-bucketed histogram whose
percentiles are within 0.5% of the true value; the top names are kept in at most twice
``TOP_CAPACITY`` counters (see ``TopNames``); at most ``MAX_SERVERS`` servers get figures of their own.
"""

from __future__ import annotations

import math
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from craft.capture.reader import DnsItem
from craft.dns.constants import opcode_text, rcode_text, type_text
from craft.dns.names import LOWER

WAIT = 30.0  # capture seconds a query waits for its response
MAX_PENDING = 100_000
EXACT_SAMPLES = 4096
TOP_CAPACITY = 1000
TOP_SHOWN = 10
MAX_SERVERS = 1000
_STEP = math.log(1.01)  # histogram buckets 1% wide: the geometric middle is within 0.5%
_HEAD = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_OPT = struct.Struct("!HHBBHH")


@dataclass(frozen=True, slots=True)
class Glance:
    """What pairing and statistics need of one message, read without building a Message."""

    ident: int
    flags: int  # the header's second 16 bits
    rcode: int  # with the OPT record's upper bits, when there is one
    qname: str  # as sent ("" without a question)
    qkey: bytes  # the question name's wire form in lower case
    qtype: int
    qclass: int
    counts: tuple[int, int, int, int]
    edns: int | None = None  # the OPT record's version
    do: bool = False
    payload: int = 0

    @property
    def qr(self) -> bool:
        return bool(self.flags & 0x8000)

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    @property
    def tc(self) -> bool:
        return bool(self.flags & 0x0200)

    @property
    def question(self) -> tuple[bytes, int, int]:
        return self.qkey, self.qtype, self.qclass


def _skip_name(data: bytes, pos: int) -> int:
    """The offset after a name's own octets (a pointer ends it); ValueError past the end."""
    size = len(data)
    while True:
        if pos >= size:
            raise ValueError("name runs past the end")
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0:
            return pos + 2
        pos += length + 1


def _name_text(data: bytes, pos: int) -> tuple[str, bytes, int]:
    """Presentation text and lower-case wire form of the name at ``pos``, following at most
    16 backward pointers, and the offset after its own octets."""
    labels: list[bytes] = []
    end = -1
    jumps = 0
    size = len(data)
    start = pos
    while True:
        if pos >= size:
            raise ValueError("name runs past the end")
        length = data[pos]
        if length == 0:
            break
        if length & 0xC0:
            if pos + 2 > size or length & 0xC0 != 0xC0:
                raise ValueError("bad label")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end < 0:
                end = pos + 2
            jumps += 1
            if target >= pos or jumps > 16:
                raise ValueError("looping pointer")
            pos = target
            continue
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += length + 1
    if not labels:
        return ".", b"\x00", (end if end >= 0 else pos + 1)
    if end < 0:  # no pointer: the name's octets are all here
        end = pos + 1
        wire = data[start:end]
    else:
        wire = b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"
    text = b".".join(labels).decode("ascii", "backslashreplace") + "."
    return text, wire.translate(LOWER), end


def glance(data: bytes) -> Glance | None:
    """The header, the first question and the OPT record of ``data``; None when not even
    the header and the question can be read."""
    if len(data) < 12:
        return None
    ident, flags, qd, an, ns, ar = _HEAD.unpack_from(data)
    qname, qkey, qtype, qclass = "", b"", 0, 0
    pos = 12
    try:
        if qd:
            qname, qkey, pos = _name_text(data, pos)
            if pos + 4 > len(data):
                return None
            qtype, qclass = struct.unpack_from("!HH", data, pos)
            pos += 4
            for _ in range(qd - 1):
                pos = _skip_name(data, pos) + 4
    except ValueError:
        return None
    rcode = flags & 0xF
    edns: int | None = None
    do = False
    payload = 0
    if ar:
        try:
            for index in range(an + ns + ar):
                start = pos
                pos = _skip_name(data, pos)
                rtype, rclass, ttl, rdlen = _RR.unpack_from(data, pos)
                if rtype == 41 and index >= an + ns and data[start] == 0:
                    payload = rclass
                    rcode |= (ttl >> 24) << 4
                    edns = (ttl >> 16) & 0xFF
                    do = bool(ttl & 0x8000)
                    break
                pos += 10 + rdlen
        except (ValueError, struct.error):
            pass  # the OPT cannot be found: counted as no EDNS
    return Glance(ident, flags, rcode, qname, qkey, qtype, qclass, (qd, an, ns, ar), edns, do,
                  payload)


class Durations:
    """Response times: exact min and max, percentiles from exact samples while few, then
    from a histogram of 1%-wide buckets (flat memory)."""

    __slots__ = ("buckets", "count", "high", "low", "samples", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.samples: list[float] | None = []
        self.buckets: dict[int, int] = {}

    def add(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)  # a response stamped before its query: clock steps
        self.count += 1
        self.total += seconds
        self.low = min(self.low, seconds)
        self.high = max(self.high, seconds)
        index = self._bucket(seconds)
        self.buckets[index] = self.buckets.get(index, 0) + 1
        if self.samples is not None:
            self.samples.append(seconds)
            if len(self.samples) > EXACT_SAMPLES:
                self.samples = None

    @staticmethod
    def _bucket(seconds: float) -> int:
        micro = seconds * 1e6
        return 0 if micro < 1 else 1 + int(math.log(micro) / _STEP)

    def percentile(self, fraction: float) -> float:
        """The nearest-rank percentile in seconds (0.0 with no samples)."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(fraction * self.count))
        if self.samples is not None:
            return sorted(self.samples)[rank - 1]
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                middle = 0.0 if index == 0 else math.exp((index - 0.5) * _STEP) / 1e6
                return min(max(middle, self.low), self.high)
        return self.high

    def as_dict(self) -> dict[str, float | None]:
        """Milliseconds: min, median, p95, p99, max, mean (None each with no samples)."""
        if not self.count:
            return dict.fromkeys(("min", "median", "p95", "p99", "max", "mean"))
        return {
            "min": _ms(self.low), "median": _ms(self.percentile(0.5)),
            "p95": _ms(self.percentile(0.95)), "p99": _ms(self.percentile(0.99)),
            "max": _ms(self.high), "mean": _ms(self.total / self.count),
        }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class TopNames:
    """The most asked names in at most twice ``capacity`` counters: when they are all in
    use, only the ``capacity`` largest are kept (exact while fewer distinct names were
    seen; after that a name asked more often than one query in ``capacity`` keeps its
    place, and the counts are lower bounds)."""

    __slots__ = ("capacity", "counts")

    def __init__(self, capacity: int = TOP_CAPACITY) -> None:
        self.capacity = capacity
        self.counts: dict[str, int] = {}

    def add(self, name: str) -> None:
        counts = self.counts
        counts[name] = counts.get(name, 0) + 1
        if len(counts) >= 2 * self.capacity:
            # One sort per ``capacity`` new names: cheap on average, unlike a min per name.
            kept = sorted(counts.items(), key=lambda kv: -kv[1])[: self.capacity]
            self.counts = dict(kept)

    def top(self, count: int = TOP_SHOWN) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:count]


Endpoint = tuple[str, int]
_Key = tuple[str, Endpoint, Endpoint, int, bytes, int, int]


@dataclass(frozen=True, slots=True)
class Exchange:
    """A query and its response, either possibly missing, and what pairing found."""

    transport: str
    client: Endpoint
    server: Endpoint
    query: DnsItem | None
    response: DnsItem | None
    query_glance: Glance | None
    response_glance: Glance | None
    copies: int = 1  # how many times the query was sent (retransmissions + 1)
    duplicate: bool = False  # repeats a waiting query's question under a new ID or port
    tc_retry: bool = False  # a TCP query after a TC answer to the same question over UDP
    duplicate_response: bool = False  # a response to a query already answered
    query_index: int = -1  # the messages' 0-based ordinals in the capture (-1: none)
    response_index: int = -1

    @property
    def rtt(self) -> float | None:
        if self.query is None or self.response is None:
            return None
        return max(self.response.time - self.query.time, 0.0)

    @property
    def time(self) -> float:
        first = self.query if self.query is not None else self.response
        assert first is not None
        return first.time

    @property
    def glance(self) -> Glance | None:
        return self.query_glance if self.query_glance is not None else self.response_glance

    def problems(self) -> list[str]:
        """The exchange's labels for the report's problem filter."""
        found: list[str] = []
        if self.response is None:
            found.append("unanswered")
        if self.query is None:
            found.append("duplicate response" if self.duplicate_response else "unsolicited")
        if self.copies > 1:
            found.append("retransmitted")
        if self.duplicate:
            found.append("duplicate")
        if self.response_glance is not None and self.response_glance.tc:
            found.append("truncated")
        if self.tc_retry:
            found.append("tc retry")
        return found


@dataclass(slots=True)
class _Waiting:
    item: DnsItem
    glance: Glance
    asked: tuple[str, str, bytes, int, int]  # client host, server host, question
    index: int
    copies: int = 1
    duplicate: bool = False
    tc_retry: bool = False


@dataclass(slots=True)
class _Server:
    answered: int = 0
    unanswered: int = 0
    times: Durations = field(default_factory=Durations)


class Histogram(dict[int, int]):
    """Counts by number; ``text`` names them when the figures are shown."""

    def add(self, key: int) -> None:
        self[key] = self.get(key, 0) + 1

    def text(self, name: Callable[[int], str]) -> dict[str, int]:
        named: dict[str, int] = {}
        for key, count in self.items():
            label = name(key)
            named[label] = named.get(label, 0) + count
        return dict(sorted(named.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(slots=True)
class CaptureStats:
    """The counters ``--stats`` prints; ``as_dict`` is the ``stats`` object of ``--json``."""

    messages: int = 0
    queries: int = 0
    responses: int = 0
    unreadable: int = 0  # too short, or the question cannot be read: not paired
    exchanges: int = 0
    unanswered: int = 0
    unsolicited: int = 0
    duplicate_responses: int = 0
    retransmissions: int = 0
    duplicates: int = 0
    tc_answers: int = 0
    tc_retried: int = 0
    evicted: int = 0  # unanswered because more than MAX_PENDING waited at once
    times: Durations = field(default_factory=Durations)
    servers: dict[Endpoint, _Server] = field(default_factory=dict)
    other_servers: _Server = field(default_factory=_Server)
    rcodes: Histogram = field(default_factory=Histogram)
    qtypes: Histogram = field(default_factory=Histogram)
    opcodes: Histogram = field(default_factory=Histogram)
    edns: Histogram = field(default_factory=Histogram)  # by version, -1 without EDNS
    edns_do: int = 0
    names: TopNames = field(default_factory=TopNames)

    def server(self, endpoint: Endpoint) -> _Server:
        found = self.servers.get(endpoint)
        if found is None:
            if len(self.servers) >= MAX_SERVERS:
                return self.other_servers
            found = self.servers[endpoint] = _Server()
        return found

    def as_dict(self) -> dict[str, object]:
        servers: dict[str, object] = {
            endpoint_text(endpoint): _server_dict(server)
            for endpoint, server in sorted(self.servers.items())
        }
        if self.other_servers.answered or self.other_servers.unanswered:
            servers["others"] = _server_dict(self.other_servers)
        return {
            "messages": self.messages, "queries": self.queries, "responses": self.responses,
            "unreadable": self.unreadable, "exchanges": self.exchanges,
            "unanswered": self.unanswered, "unsolicited": self.unsolicited,
            "duplicate_responses": self.duplicate_responses,
            "retransmissions": self.retransmissions, "duplicates": self.duplicates,
            "tc_answers": self.tc_answers, "tc_retried_over_tcp": self.tc_retried,
            "evicted": self.evicted,
            "response_time_ms": self.times.as_dict(), "servers": servers,
            **self.histograms(),
            "top_names": [{"name": name, "count": count} for name, count in self.names.top()],
        }

    def histograms(self) -> dict[str, dict[str, int]]:
        """rcodes (of responses), qtypes, opcodes and EDNS (of queries), by name, largest
        first; ``edns`` counts "none" or "version N" per query, and "DO" besides."""
        edns = self.edns.text(lambda v: "none" if v < 0 else f"version {v}")
        if self.edns_do:
            edns["DO"] = self.edns_do
        return {
            "rcodes": self.rcodes.text(rcode_text),
            "qtypes": self.qtypes.text(lambda v: "(none)" if v < 0 else type_text(v)),
            "opcodes": self.opcodes.text(opcode_text), "edns": edns,
        }

    def lines(self) -> list[str]:
        """The text form, one figure or histogram a line."""
        t = self.times.as_dict()
        out = [
            f"exchanges {self.exchanges}, unanswered {self.unanswered}, unsolicited "
            f"{self.unsolicited}, duplicate responses {self.duplicate_responses}",
            f"retransmissions {self.retransmissions}, duplicates {self.duplicates}, "
            f"TC answers {self.tc_answers} ({self.tc_retried} retried over TCP)",
        ]
        if self.times.count:
            out.append("response time ms: " + _times_text(t))
        for endpoint, server in sorted(self.servers.items()):
            text = _times_text(server.times.as_dict()) if server.times.count else "-"
            out.append(f"  server {endpoint_text(endpoint)}: {server.answered} answered, "
                       f"{server.unanswered} unanswered; {text}")
        for title, histogram in self.histograms().items():
            items = ", ".join(f"{k} {v}" for k, v in histogram.items())
            out.append(f"{title}: {items or '-'}")
        top = ", ".join(f"{name} {count}" for name, count in self.names.top())
        out.append(f"top names: {top or '-'}")
        return out


def _times_text(t: dict[str, float | None]) -> str:
    return " ".join(f"{k} {t[k]:g}" for k in ("min", "median", "p95", "p99", "max")
                    if t[k] is not None)


def _server_dict(server: _Server) -> dict[str, object]:
    return {"exchanges": server.answered, "unanswered": server.unanswered,
            "response_time_ms": server.times.as_dict()}


def endpoint_text(endpoint: Endpoint) -> str:
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Pairing:
    """Feed items in capture order with ``add``, which returns the exchanges each one
    completes (``finish`` returns the rest); ``stats`` holds the figures so far. With
    ``exchanges=False`` only the figures are kept (``--stats`` alone builds no Exchange)."""

    def __init__(self, exchanges: bool = True) -> None:
        self.stats = CaptureStats()
        self._keep = exchanges
        self._waiting: OrderedDict[_Key, _Waiting] = OrderedDict()
        self._by_id: dict[tuple[str, Endpoint, Endpoint, int], _Key] = {}
        self._asking: dict[tuple[str, str, bytes, int, int], int] = {}
        self._answered: OrderedDict[_Key, float] = OrderedDict()
        self._truncated: OrderedDict[tuple[str, str, bytes, int, int], float] = OrderedDict()
        self._next_check = -math.inf

    def add(self, item: DnsItem) -> list[Exchange]:
        stats = self.stats
        stats.messages += 1
        done: list[Exchange] = []
        now = item.time
        if now >= self._next_check or len(self._waiting) >= MAX_PENDING:
            # Ages are checked once a capture second (and exactly when a response pairs).
            self._expire(now, done)
            self._next_check = now + 1.0
        seen = glance(item.data)
        if seen is None:
            stats.unreadable += 1
            if item.is_response:
                stats.responses += 1
            else:
                stats.queries += 1
            return done
        if seen.qr:
            stats.responses += 1
            stats.rcodes.add(seen.rcode)
            self._response(item, seen, done)
        else:
            stats.queries += 1
            stats.qtypes.add(seen.qtype if seen.counts[0] else -1)
            stats.opcodes.add(seen.opcode)
            stats.edns.add(-1 if seen.edns is None else seen.edns)
            if seen.do:
                stats.edns_do += 1
            if seen.counts[0]:
                stats.names.add(seen.qname.lower())
            self._query(item, seen)
        return done

    def _query(self, item: DnsItem, seen: Glance) -> None:
        stats = self.stats
        key: _Key = (item.transport, item.src, item.dst, seen.ident, *seen.question)
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.copies += 1
            stats.retransmissions += 1
            return
        asked = (item.src[0], item.dst[0], *seen.question)
        entry = _Waiting(item, seen, asked, self.stats.messages - 1)
        if item.transport == "tcp" and self._truncated.pop(asked, None) is not None:
            entry.tc_retry = True
            stats.tc_retried += 1
        elif self._asking.get(asked):
            entry.duplicate = True
            stats.duplicates += 1
        self._asking[asked] = self._asking.get(asked, 0) + 1
        self._waiting[key] = entry
        self._by_id[key[:4]] = key

    def _response(self, item: DnsItem, seen: Glance, done: list[Exchange]) -> None:
        stats = self.stats
        key: _Key = (item.transport, item.dst, item.src, seen.ident, *seen.question)
        if not seen.counts[0]:
            key = self._by_id.get(key[:4], key)
        entry = self._waiting.pop(key, None)
        if entry is not None and item.time - entry.item.time > WAIT:
            self._unanswered(key, entry, done)  # too late: as if it had expired already
            entry = None
        if item.transport == "udp" and seen.tc:
            stats.tc_answers += 1
            asked = (item.dst[0], item.src[0], *seen.question)
            self._truncated[asked] = item.time
            self._truncated.move_to_end(asked)
        if entry is None:
            duplicate = key in self._answered
            if duplicate:
                stats.duplicate_responses += 1
            else:
                stats.unsolicited += 1
            if self._keep:
                done.append(Exchange(item.transport, item.dst, item.src, None, item, None, seen,
                                     duplicate_response=duplicate,
                                     response_index=stats.messages - 1))
            return
        self._forget(key, entry)
        self._answered[key] = item.time
        if len(self._answered) > MAX_PENDING:
            self._answered.popitem(last=False)
        stats.exchanges += 1
        rtt = max(item.time - entry.item.time, 0.0)
        stats.times.add(rtt)
        server = stats.server(item.src)
        server.answered += 1
        server.times.add(rtt)
        if self._keep:
            done.append(Exchange(item.transport, item.dst, item.src, entry.item, item,
                                 entry.glance, seen, entry.copies, entry.duplicate,
                                 entry.tc_retry, query_index=entry.index,
                                 response_index=stats.messages - 1))

    def _forget(self, key: _Key, entry: _Waiting) -> None:
        if self._by_id.get(key[:4]) == key:
            del self._by_id[key[:4]]
        left = self._asking[entry.asked] - 1
        if left:
            self._asking[entry.asked] = left
        else:
            del self._asking[entry.asked]

    def _unanswered(self, key: _Key, entry: _Waiting, done: list[Exchange]) -> None:
        self._forget(key, entry)
        self.stats.unanswered += 1
        self.stats.server(key[2]).unanswered += 1
        if self._keep:
            done.append(Exchange(key[0], key[1], key[2], entry.item, None, entry.glance, None,
                                 entry.copies, entry.duplicate, entry.tc_retry,
                                 query_index=entry.index))

    def _expire(self, now: float, done: list[Exchange]) -> None:
        waiting = self._waiting
        while waiting:
            key, entry = next(iter(waiting.items()))
            full = len(waiting) >= MAX_PENDING
            if not full and now - entry.item.time <= WAIT:
                break
            if full:
                self.stats.evicted += 1
            waiting.popitem(last=False)
            self._unanswered(key, entry, done)
        for table in (self._answered, self._truncated):
            while table and now - next(iter(table.values())) > WAIT:
                table.popitem(last=False)

    def finish(self) -> list[Exchange]:
        """The queries still waiting, as unanswered exchanges."""
        done: list[Exchange] = []
        while self._waiting:
            key, entry = self._waiting.popitem(last=False)
            self._unanswered(key, entry, done)
        return done
