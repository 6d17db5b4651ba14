"""The lab's Task 2 server rubric: every table name asked, each answer judged field by field.

The judgement functions (``judge_answer``, ``judge_outside``, ``judge_printed`` ...) are
pure, over the octets sent and received; ``grade`` does the asking, through the sandbox's
``Net`` so a namespaced submission is reached on its own loopback.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from craft.dns.codec import decode, encode
from craft.dns.constants import RRClass, RRType, rcode_text
from craft.dns.message import Header, Message, Question
from craft.dns.names import Name
from craft.dns.wire import WireError
from craft.grade.dns_wire import RawRecord, counts, hex_text, printed_messages, walk
from craft.grade.rubric import Check, Entry, Row, RowSpec, Rubric, merge
from craft.grade.sandbox import Deadline, Net, SandboxError, Submission

COMMAND = "dns-server"
ROWS = (
    RowSpec("binary", "answers are DNS octets craft decodes", 2),
    RowSpec("id", "ID echoed", 2),
    RowSpec("flags", "flags: QR, opcode QUERY, AA, RCODE NOERROR", 2),
    RowSpec("counts", "counts: QDCOUNT 1, ANCOUNT as sent, NSCOUNT 0, ARCOUNT 0", 1),
    RowSpec("question", "question echoed", 2),
    RowSpec("compression", "answer names are pointers to offset 12", 2),
    RowSpec("type-class", "answers are type A, class IN", 1),
    RowSpec("ttl", "TTL as in the table", 2),
    RowSpec("rdata", "RDLENGTH 4 and the table's address", 2),
    RowSpec("all-records", "every record of a name (both google.com records)", 2),
    RowSpec("outside", "a name outside the table: answered, no crash or hang", 2),
    RowSpec("port", "port in the lab's range", 1),
    RowSpec("printed-hex", "printed Request/Response hex is what crossed the wire", 2),
    RowSpec("upper-case", "upper-case name answered, question echoed as sent", 1, False),
    RowSpec("in-a-row", "several queries in a row, each answered", 1, False),
    RowSpec("two-clients", "two clients at once, each answered", 1, False),
    RowSpec("still-serving", "still answering after the name outside the table", 1, False),
)
ANSWER_KEYS = ("binary", "id", "flags", "counts", "question", "compression", "type-class",
               "ttl", "rdata", "all-records")
OUTSIDE_NAME = "not-in-the-table.example"


class Unreachable(SandboxError):
    """Nothing listens where the server should be (ICMP port unreachable)."""


# ---- pure judgements ----


def query_wire(name: str, ident: int) -> bytes:
    return encode(Message(Header(id=ident), (Question(Name.from_text(name + ".")),)))


def judge_answer(entry: Entry, query: bytes, reply: bytes | None, asked: str = "") -> list[Check]:
    """Every answer check for one table name; ``asked`` is the name as sent (its case)."""
    asked = asked or entry.name
    if reply is None:
        return [Check(k, False, f"{asked}: no reply in time") for k in ANSWER_KEYS]
    checks: list[Check] = []

    def add(key: str, ok: bool, detail: str, mark: tuple[int, int] | None = None) -> None:
        checks.append(Check(key, ok, "" if ok else f"{asked}: {detail}", None if ok else reply,
                            None if ok else mark))

    add("binary", *_decodes(reply))
    if len(reply) < 12:
        for key in ANSWER_KEYS[1:]:
            add(key, False, f"the reply has {len(reply)} octets, less than a header")
        return checks
    got_id, want_id = reply[:2].hex(), query[:2].hex()
    add("id", got_id == want_id, f"expected ID 0x{want_id} (the query's), got 0x{got_id}", (0, 2))
    add("flags", *_flags(Header.from_flags(0, int.from_bytes(reply[2:4], "big"))), (2, 4))
    layout = walk(reply)
    qd, an, ns, ar = counts(reply)
    present = len(layout.answers)
    add("counts", (qd, ns, ar) == (1, 0, 0) and not layout.error,
        f"expected QDCOUNT 1, NSCOUNT 0, ARCOUNT 0 and ANCOUNT records, got {qd}, {ns}, {ar}"
        + (f"; {layout.error}" if layout.error else f" and {present} of {an} answers"), (4, 12))
    sent_question = query[12:]
    got_question = layout.questions[0] if layout.questions else reply[12 : 12 + len(sent_question)]
    add("question", got_question == sent_question,
        f"expected the question echoed as {sent_question.hex(' ')}, got {got_question.hex(' ')}",
        (12, 12 + max(len(got_question), 1)))
    if not layout.answers:
        why = layout.error or "no answer records"
        for key in ("compression", "type-class", "ttl", "rdata"):
            add(key, False, why)
    else:
        def first(bad: Callable[[RawRecord], bool], start: int, end: int) -> tuple[int, int] | None:
            """The octets ``start``..``end`` (after the owner name) of the first bad record."""
            for r in layout.answers:
                if bad(r):
                    at = r.offset + len(r.name)
                    return (at + start, at + (end if end >= 0 else 10 + len(r.rdata)))
            return None

        names = [r.name.hex(" ") for r in layout.answers]
        named = next((r for r in layout.answers if r.name != b"\xc0\x0c"), None)
        add("compression", named is None,
            f"expected each answer name to be c0 0c (pointer to offset 12), got {', '.join(names)}",
            (named.offset, named.offset + len(named.name)) if named else None)
        kinds = {(r.rtype, r.rclass) for r in layout.answers}
        add("type-class", kinds == {(RRType.A, RRClass.IN)},
            "expected type 1 (A) class 1 (IN), got "
            + ", ".join(f"type {t} class {c}" for t, c in sorted(kinds)),
            first(lambda r: (r.rtype, r.rclass) != (RRType.A, RRClass.IN), 0, 4))
        ttls = [r.ttl for r in layout.answers]
        add("ttl", all(t == entry.ttl for t in ttls),
            f"expected TTL {entry.ttl}, got {', '.join(map(str, ttls))}",
            first(lambda r: r.ttl != entry.ttl, 4, 8))

        def wrong_rdata(r: RawRecord) -> bool:
            return len(r.rdata) != 4 or _address(r.rdata) not in entry.addresses

        bad = [r for r in layout.answers if wrong_rdata(r)]
        add("rdata", not bad, "expected RDLENGTH 4 and one of " + ", ".join(entry.addresses)
            + ", got " + ", ".join(f"({len(r.rdata)}) {_address(r.rdata)}" for r in bad),
            first(wrong_rdata, 8, -1))
    # How many records came, each once; their values are the rdata row's business.
    got = [_address(r.rdata) for r in layout.answers]
    add("all-records", an == present == len(entry.addresses) and len(set(got)) == len(got),
        f"expected {len(entry.addresses)} records ({', '.join(entry.addresses)}), "
        f"got ANCOUNT {an} and {present} records ({', '.join(got) or 'none'})", (6, 8))
    return checks


def _decodes(reply: bytes) -> tuple[bool, str]:
    try:
        decode(reply)
    except WireError as exc:
        spelled = hex_text(reply)
        if spelled is not None:
            return False, (f"the reply is {len(reply)} octets of hex text, not DNS octets "
                           f"(send the {len(spelled)} octets it spells, not their text)")
        return False, f"craft cannot decode it: {exc}"
    return True, ""


def _flags(header: Header) -> tuple[bool, str]:
    wrong = []
    if not header.qr:
        wrong.append("QR 0 (expected 1)")
    if header.opcode:
        wrong.append(f"opcode {header.opcode} (expected 0)")
    if not header.aa:
        wrong.append("AA 0 (expected 1: the server is authoritative)")
    if header.tc:
        wrong.append("TC 1 (expected 0)")
    if header.rcode:
        wrong.append(f"RCODE {rcode_text(header.rcode)} (expected NOERROR)")
    return not wrong, "flags " + f"{header.flags:04x}: " + ", ".join(wrong)


def _address(rdata: bytes) -> str:
    return str(ipaddress.IPv4Address(rdata)) if len(rdata) == 4 else rdata.hex(" ") or "empty"


def judge_outside(query: bytes, reply: bytes | None) -> Check:
    """A name outside the table: any well-formed reply to it without addresses will do
    (NXDOMAIN, REFUSED...; its ID is the ID row's business); silence (a crash or a hang)
    or made-up records will not."""
    if reply is None:
        return Check("outside", False, f"{OUTSIDE_NAME}: no reply in time (crashed or hung?)")
    try:
        message = decode(reply)
    except WireError as exc:
        return Check("outside", False, f"{OUTSIDE_NAME}: craft cannot decode the reply: {exc}", reply)
    if not message.header.qr:
        return Check("outside", False, f"{OUTSIDE_NAME}: the reply has QR 0", reply)
    if any(r.rtype == RRType.A for r in message.answer):
        return Check("outside", False, f"{OUTSIDE_NAME}: answered with addresses it does not have", reply)
    return Check("outside", True, f"{OUTSIDE_NAME}: {rcode_text(message.rcode)}")


def judge_printed(exchanges: Sequence[tuple[bytes, bytes | None]], output: str) -> Check:
    """Each query and reply that crossed the wire appears in the server's printed hex."""
    requests, responses = printed_messages(output)
    for query, reply in exchanges:
        if query not in requests:
            return Check("printed-hex", False,
                         f"the query {query.hex(' ')} is not among the {len(requests)} printed "
                         f"after Request:" + _nearest(query, requests))
        if reply is not None and reply not in responses:
            return Check("printed-hex", False,
                         f"the reply sent ({len(reply)} octets) is not among the "
                         f"{len(responses)} printed after Response:" + _nearest(reply, responses),
                         reply)
    return Check("printed-hex", True)


def _nearest(data: bytes, printed: list[bytes]) -> str:
    if not printed:
        return ""
    best = max(printed, key=lambda p: sum(a == b for a, b in zip(p, data, strict=False)))
    return f"; the closest printed: {best.hex(' ')}"


ROBUST_KEYS = ("binary", "question", "rdata")  # a reply a client can use: readable, its own, right


def judge_usable(key: str, entry: Entry, query: bytes, reply: bytes | None, asked: str = "") -> Check:
    """A robustness row: did a usable answer come (readable, the question echoed as sent,
    the table's addresses)? The lab rows judge every other field once already."""
    if reply is None:
        return Check(key, False, f"{asked or entry.name}: no reply in time")
    failed = [c for c in judge_answer(entry, query, reply, asked)
              if not c.passed and c.key in ROBUST_KEYS]
    return Check(key, False, failed[0].detail, reply) if failed else Check(key, True)


def pair_replies(queries: Sequence[bytes], replies: Sequence[bytes]) -> list[bytes | None]:
    """Each query's reply: the one with its ID, else the one echoing its question (a
    server with a wrong ID loses the ID row, not this one too)."""
    left = list(replies)
    paired: list[bytes | None] = []
    for query in queries:
        match = next((r for r in left if r[:2] == query[:2]), None)
        if match is None:
            match = next((r for r in left if query[12:] in r[12 : 12 + len(query)]), None)
        if match is not None:
            left.remove(match)
        paired.append(match)
    return paired


def judge_several(key: str, entries: Sequence[Entry], queries: Sequence[bytes],
                  replies: Sequence[bytes]) -> Check:
    """Each query of a batch got its own usable answer."""
    for entry, query, reply in zip(entries, queries, pair_replies(queries, replies), strict=True):
        check = judge_usable(key, entry, query, reply)
        if not check.passed:
            return check
    return Check(key, True)


# ---- asking ----


@dataclass
class Target:
    host: str
    port: int
    net: Net
    deadline: Deadline
    reached: bool = False  # once the server has answered, a refusal means it died

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def udp(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        return self.net.open_socket(socket.SOCK_DGRAM, family)

    def ask(self, query: bytes) -> bytes | None:
        """One query, the first reply from the server (None after a step's time)."""
        with self.udp() as sock:
            sock.connect(self.address)
            sock.send(query)
            sock.settimeout(max(self.deadline.step(), 0.001))
            try:
                reply = sock.recv(65535)
            except TimeoutError:
                return None
            except ConnectionRefusedError:
                if self.reached:
                    return None  # it was there: it died (the row says no reply)
                raise Unreachable(f"{self.host}:{self.port}", "nothing listens there "
                                  "(UDP port unreachable)") from None
            self.reached = True
            return reply

    def ask_many(self, queries: Sequence[bytes], sockets: int) -> list[bytes]:
        """Send every query before reading any reply, over ``sockets`` sockets (1: several
        queries in a row from one client; n: n clients at once, a query each); every
        reply that came, in order."""
        socks = [self.udp() for _ in range(sockets)]
        replies: list[bytes] = []
        try:
            for sock in socks:
                sock.connect(self.address)
            for index, query in enumerate(queries):
                socks[index % sockets].send(query)
            end = time.monotonic() + self.deadline.step()
            for sock in socks:
                want = len(queries) if sockets == 1 else 1
                for _ in range(want):
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    sock.settimeout(left)
                    try:
                        replies.append(sock.recv(65535))
                    except (TimeoutError, ConnectionRefusedError):
                        break
            return replies
        finally:
            for sock in socks:
                sock.close()


def _ids(count: int) -> list[int]:
    ids: set[int] = set()
    while len(ids) < count:
        ids.add(secrets.randbelow(0xFFFF) + 1)
    return list(ids)


def grade(target: Target, rubric: Rubric, submission: Submission | None) -> list[Row]:
    checks: list[Check] = []
    per_key: dict[str, list[Check]] = {k: [] for k in ANSWER_KEYS}
    exchanges: list[tuple[bytes, bytes | None]] = []
    table = rubric.table
    ids = iter(_ids(len(table) + 8))
    for index, entry in enumerate(table):
        query = query_wire(entry.name, next(ids))
        reply = target.ask(query)
        if index == 0 and reply is None and submission is not None and not submission.alive():
            raise SandboxError(submission.argv[0], f"exited ({submission.exit_text()}) at the first query")
        exchanges.append((query, reply))
        for check in judge_answer(entry, query, reply):
            if check.key != "all-records" or len(entry.addresses) > 1:
                per_key[check.key].append(check)
    if not per_key["all-records"]:  # a table of single records: judged on every name
        per_key["all-records"] = [Check("all-records", True)]
    checks += [merge(per_key[k], k) for k in ANSWER_KEYS]
    checks.append(rubric.port_check(target.port))
    first = table[0]
    upper = first.name.upper()
    query = query_wire(upper, next(ids))
    checks.append(judge_usable("upper-case", first, query, target.ask(query), upper))
    several = list(table[:3])
    queries = [query_wire(e.name, next(ids)) for e in several]
    checks.append(judge_several("in-a-row", several, queries, target.ask_many(queries, 1)))
    pair = list(table[:2]) if len(table) > 1 else [first, first]
    queries = [query_wire(e.name, next(ids)) for e in pair]
    checks.append(judge_several("two-clients", pair, queries, target.ask_many(queries, 2)))
    query = query_wire(OUTSIDE_NAME, next(ids))
    checks.append(judge_outside(query, target.ask(query)))
    query = query_wire(first.name, next(ids))
    checks.append(judge_usable("still-serving", first, query, target.ask(query)))
    if submission is not None:
        submission.wait_output(lambda text: len(printed_messages(text)[1]) >= len(exchanges), 0.5)
        checks.append(judge_printed(exchanges, submission.output()))
    return rubric.rows(COMMAND, ROWS, checks)


