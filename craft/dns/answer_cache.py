"""The answer cache: query octets in, response octets out, as fast as a dict lookup.

``Authority.respond(query_bytes, limit)`` is the DNS server's whole entry: it returns the
response bytes, or ``None`` when the message must be dropped. Nothing here does I/O, and
nothing here decides what an answer means: that is ``craft.dns.answering``'s job, and every
octet this module sends was first built by it.

Speed comes from precomputation. An answer depends only on the lower-cased question (and,
for a signed zone, the DO bit: bodies with and without DNSSEC records are kept apart); its
response is ``header + question-as-received + body`` where ``body`` (and the counts and
flags) were encoded once, with names compressed against the question at offset 12. The
question keeps its length whatever its case, so one body serves every spelling and the
client sees its own case echoed. For zones of up to ``PRECOMPUTE_LIMIT`` names (the lab's
table and zones like it) bodies for every name and type are built at load; for larger
zones, and for anything else (NXDOMAIN, odd types), a body is built on first use and kept
in a bounded cache, so start-up time and memory do not grow with every name of a big zone.
Whole responses to repeated queries are kept too, keyed by the octets after the ID.
Anything unusual (EDNS options the fast path does not parse, compression in the question,
IXFR, truncation) takes the slow path: ``Answerer.respond`` through the full codec.
"""

from __future__ import annotations

import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from craft.dns.answering import OUR_PAYLOAD, UDP_MIN, Answerer
from craft.dns.codec import encode
from craft.dns.constants import RRClass, RRType
from craft.dns.edns import encode_options
from craft.dns.message import Header, Message, Question
from craft.dns.names import LOWER, Name
from craft.dns.server_edns import ServerEdns
from craft.dns.transfer import LOOPBACK, Network
from craft.dns.tsig import Keyring
from craft.dns.wire import HEADER, HEADER_SIZE, Writer
from craft.dns.zone import Zone

CACHE_LIMIT = 65536
RELEASE_STEP = 2000  # owners or records freed per step when a retired authority is released
PRECOMPUTE_LIMIT = 20000  # names: above this, bodies are built on first use, not at load

@dataclass(frozen=True, slots=True)
class Body:
    """A response less its header and question: flag bits to set, counts, section bytes."""

    flags: int  # QR, AA and RCODE bits; ID, OPCODE, RD and CD come from the query
    counts: tuple[int, int, int]
    data: bytes
    options: bytes = b""  # the OPT's options when the query has EDNS (an EDE for REFUSED)


class Authority:
    """Answers query octets for a set of zones, from precomputed bodies when it can."""

    def __init__(self, zones: Sequence[Zone], payload: int = OUR_PAYLOAD,
                 allow_transfer: Sequence[Network | Name] = LOOPBACK,
                 clock: Callable[[], float] = time.time, precompute: bool | None = None,
                 keys: Keyring | None = None, explain: ServerEdns | None = None) -> None:
        """``precompute``: build every name's bodies now (True), on first use (False), or
        now only when the zones hold at most ``PRECOMPUTE_LIMIT`` names (None). ``explain``:
        cookies, NSID, BADCOOKIE policy (``craft.dns.server_edns``)."""
        self.answerer = Answerer(zones, payload, allow_transfer, clock, keys, explain)
        self.payload = payload
        # Bodies built at load never expire; those built on demand (unknown names, odd types)
        # live in a bounded store that is emptied when full, so floods cannot grow memory.
        # Keys: (lower-cased name, type, class, DO). DO is True only for a signed zone's
        # server, where it changes the answer (RRSIGs and proofs, RFC 4035 3.1).
        self._static: dict[tuple[bytes, int, int, bool], Body] = {}
        self._dynamic: OrderedDict[tuple[bytes, int, int, bool], Body] = OrderedDict()
        # Whole responses (less the ID) keyed by the query's octets after its ID, per size
        # limit: a repeated question costs one lookup. Bounded like _dynamic.
        self._exact: dict[int, dict[bytes, bytes]] = {}
        self.signed = any(index.denial is not None for index in self.answerer.zones)
        if precompute is None:
            precompute = sum(len(i.nodes) for i in self.answerer.zones) <= PRECOMPUTE_LIMIT
        if not precompute:
            return
        for index in self.answerer.zones:
            dos = (False, True) if index.denial is not None else (False,)
            for node in index.nodes.values():
                name = next(iter(node.by_type.values()))[0].name.lower()
                for rtype in {*node.by_type, RRType.ANY, RRType.A, RRType.AAAA}:
                    for do in dos:
                        key = (name.key, rtype, RRClass.IN, do)
                        self._static[key] = self._build(name, rtype, RRClass.IN, do)

    def with_zones(self, zones: Sequence[Zone]) -> Authority:
        """A new authority for ``zones`` with this one's settings (a reload: the TSIG keys,
        the cookie secret and NSID carry over)."""
        answerer = self.answerer
        return Authority(zones, self.payload, answerer.allow_transfer, answerer.clock,
                         keys=answerer.keys, explain=answerer.explain)

    def body(self, qname: Name, qtype: int, qclass: int, do: bool = False) -> Body:
        """The precomputed (or now computed and cached) response body for a question;
        ``do``: the query's DO bit."""
        do = do and self.signed
        key = (qname.key, qtype, qclass, do)
        body = self._static.get(key) or self._dynamic.get(key)
        if body is None:
            if len(self._dynamic) >= CACHE_LIMIT:
                # The oldest entry goes: a big zone's popular names stay built.
                self._dynamic.popitem(last=False)
            body = self._dynamic[key] = self._build(qname, qtype, qclass, do)
        return body

    def _build(self, qname: Name, qtype: int, qclass: int, do: bool) -> Body:
        found = self.answerer.lookup(qname, qtype, qclass, do)
        message = Message(
            Header(qr=True, aa=found.aa, rcode=found.rcode),
            (Question(qname, qtype, qclass),),
            found.answer, found.authority, found.additional,
        )
        wire = encode(message)
        qlen = qname.wire_length() + 4
        _, flags, _, an, ns, ar = HEADER.unpack_from(wire)
        options = b""
        if found.ede is not None:
            w = Writer()
            encode_options(w, (found.ede,))
            options = w.getvalue()
        return Body(flags, (an, ns, ar), wire[HEADER_SIZE + qlen :], options)

    def respond(self, data: bytes, limit: int = UDP_MIN, client: str | None = None,
                tcp: bool = False) -> bytes | None:
        """Response bytes for query bytes; ``limit`` is the transport's size limit without
        EDNS (512 for UDP, 65535 for TCP); ``client``, the client's IP address, and ``tcp``
        matter only to queries with a COOKIE, which never take the fast path. ``None``
        means drop: not even a header to answer."""
        exact = self._exact.get(limit)
        if exact is not None:
            tail = exact.get(data[2:])
            if tail is not None:
                return data[:2] + tail
        size = len(data)
        if size < HEADER_SIZE:
            return None
        ident, flags, qd, an, ns, ar = HEADER.unpack_from(data)
        if flags & 0x8000:
            return None  # a response: never answer one (RFC 1035 7.3, avoids loops)
        if flags & 0x7800 == 0 and qd == 1 and an == 0 and ns == 0 and ar <= 1:
            fast = self._fast(data, ident, flags, ar, limit)
            if fast is not None:
                # The answer depends on nothing but these octets and the limit: remember it.
                if exact is None:
                    exact = self._exact[limit] = {}
                elif len(exact) >= CACHE_LIMIT:
                    exact.clear()
                exact[data[2:]] = fast[2:]
                return fast
        return self.answerer.respond(data, limit, client, tcp)

    def _fast(self, data: bytes, ident: int, flags: int, ar: int, limit: int) -> bytes | None:
        pos = HEADER_SIZE
        size = len(data)
        while True:  # walk the question name; anything odd goes to the slow path
            if pos >= size:
                return None
            length = data[pos]
            if length == 0:
                break
            if length > 63:
                return None
            pos += length + 1
        qend = pos + 5
        if qend > size or pos - HEADER_SIZE + 1 > 255:  # the name's octets, root included
            return None
        qtype, qclass = struct.unpack_from("!HH", data, pos + 1)
        if qtype == RRType.IXFR:
            return None  # an IXFR needs the client's SOA in authority: the slow path checks
        do = -1  # no OPT in the query
        if ar:
            # Only the plain OPT: root owner, type 41, version 0, no options.
            if size != qend + 11 or data[qend] != 0 or data[qend + 1 : qend + 3] != b"\x00\x29":
                return None
            client_payload, ext, version, eflags, rdlen = struct.unpack_from("!HBBHH", data, qend + 3)
            if version != 0 or rdlen != 0 or ext != 0:
                return None
            do = eflags & 0x8000
            limit = max(limit, min(client_payload, self.payload), UDP_MIN)
        elif size != qend:
            return None
        signed = do > 0 and self.signed  # do: -1 without an OPT, else the DO bit
        key = (data[HEADER_SIZE : pos + 1].translate(LOWER), qtype, qclass, signed)
        body = self._static.get(key) or self._dynamic.get(key)
        if body is None:
            name = Name(_labels(data[HEADER_SIZE : pos + 1]))
            body = self.body(name, qtype, qclass, signed)
        opt = b""
        if do >= 0:
            extra = body.options
            opt = b"\x00\x00\x29" + struct.pack("!HBBHH", self.payload, 0, 0, do, len(extra)) + extra
        if qend + len(body.data) + len(opt) > limit:
            return None  # needs truncation: the slow path does it at a record boundary
        an, ns, adc = body.counts
        head = HEADER.pack(
            ident, body.flags | (flags & 0x0110), 1, an, ns, adc + (1 if ar else 0)
        )
        return head + data[HEADER_SIZE:qend] + body.data + opt

    def release(self) -> Iterator[None]:
        """Take a retired authority apart a piece at a time, for a reload: each step frees
        at most ``RELEASE_STEP`` owners' or records' objects, so freeing a zone of a million
        records never holds the interpreter for long in one go (dropped at once, it is
        seconds of deallocation in one call). Nothing may answer from it once this starts."""
        keep = [record for zone in self.answerer.zone_list for record in zone.records]
        yield
        for index in self.answerer.zones:
            nodes = index.nodes
            while nodes:
                for _ in range(min(len(nodes), RELEASE_STEP)):
                    nodes.popitem()
                yield
            vars(index).clear()
        self.answerer.zones, self.answerer.zone_list = [], []
        self._static.clear()
        self._dynamic.clear()
        self._exact.clear()
        yield  # the zones' record tuples are gone: the records live on in ``keep`` alone
        while keep:
            del keep[-RELEASE_STEP:]
            yield

    def respond_stream(self, data: bytes, client: str) -> Iterable[bytes]:
        """Responses for one query over TCP: several messages for a zone transfer, built
        as they are taken."""
        transfer = self.answerer.transfer(data, client)
        if transfer is not None:
            return transfer
        response = self.respond(data, 0xFFFF, client, tcp=True)
        return [] if response is None else [response]


def _labels(wire: bytes) -> tuple[bytes, ...]:
    labels = []
    pos = 0
    while wire[pos]:
        labels.append(wire[pos + 1 : pos + 1 + wire[pos]])
        pos += wire[pos] + 1
    return tuple(labels)
