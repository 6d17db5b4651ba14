"""The lab's Task 2 client rubric: craft plays the lab's server and types at the prompts.

Two runs of the client. The first is the lab: every table name, a name outside the table,
then ``end``; every query is judged (fresh ID, flags, counts, QNAME labels, QTYPE A, QCLASS
IN) and every printed line against the lab's format. The second goes beyond the lab: an
answer without compression pointers, a wrong-ID reply before the right one, a slow reply
and a lost one. The judgements (``judge_queries``, ``judge_lines`` ...) are pure; the fake
server (``FakeServer``) answers with ``craft.dns.answer_cache`` from the rubric's table.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from craft.dns.answer_cache import Authority
from craft.dns.codec import decode, encode
from craft.dns.constants import RRClass, RRType
from craft.dns.message import Header
from craft.dns.rdata import A
from craft.dns.wire import WireError
from craft.dns.zone import DEFAULT_SERIAL, lab_zone
from craft.grade.rubric import Check, Entry, Row, RowSpec, Rubric, merge
from craft.grade.sandbox import Deadline, Launch, SandboxError, Submission

COMMAND = "dns-client"
ROWS = (
    RowSpec("sent", "one query sent for each name typed", 1),
    RowSpec("fresh-id", "a fresh ID for each query", 2),
    RowSpec("flags", "query flags: QR 0, opcode QUERY, TC 0, RCODE 0", 1),
    RowSpec("counts", "query counts: QDCOUNT 1, the others 0", 1),
    RowSpec("qname", "QNAME: the typed name's labels", 2),
    RowSpec("qtype", "QTYPE A, QCLASS IN", 1),
    RowSpec("lines", "printed lines as the lab's (name: type A, class IN, TTL, addr)", 3),
    RowSpec("outside", "a name outside the table: no address printed, prompts again", 1),
    RowSpec("end", "`end` sends nothing, prints Session ended and exits", 1),
    RowSpec("no-compression", "an answer without compression pointers", 1, False),
    RowSpec("wrong-id", "a reply with a wrong ID ignored for the right one", 1, False),
    RowSpec("slow", "a slow reply (1.5 s) still printed", 1, False),
    RowSpec("lost", "a lost reply: asks again or says so, then prompts again", 1, False),
)
PROMPT = re.compile(r"enter domain name\s*:", re.IGNORECASE)
ANSWER_LINE = re.compile(r"^\s*\S+\s*:\s*type\b", re.IGNORECASE)
OUTSIDE_NAME = "not-in-the-table.example"
DECOY = "10.9.9.9"
SLOW = 1.5

# ---- pure judgements ----


def expected_lines(entry: Entry, typed: str) -> list[str]:
    return [f"{typed}: type A, class IN, TTL {entry.ttl}, addr (4) {a}" for a in entry.addresses]


def answer_lines(segment: str) -> list[str]:
    return [line.strip() for line in segment.splitlines() if ANSWER_LINE.match(line)]


def judge_lines(key: str, entry: Entry, typed: str, segment: str) -> Check:
    want = expected_lines(entry, typed)
    got = answer_lines(segment)
    if got == want:
        return Check(key, True)
    shown = "\n".join(segment.strip().splitlines()[:8]) or "(nothing)"
    return Check(key, False, f"{typed}: expected\n  " + "\n  ".join(want) + f"\ngot\n  {shown}")


def judge_query(typed: str, wire: bytes) -> list[Check]:
    """The checks on one query the client sent for ``typed``."""
    def check(key: str, ok: bool, detail: str) -> Check:
        return Check(key, ok, "" if ok else f"{typed}: {detail}", None if ok else wire)

    if len(wire) < 12:
        short = f"a query of {len(wire)} octets, less than a header"
        return [check(k, False, short) for k in ("flags", "counts", "qname", "qtype")]
    header = Header.from_flags(0, int.from_bytes(wire[2:4], "big"))
    wrong = [w for w, bad in (("QR 1", header.qr), (f"opcode {header.opcode}", header.opcode),
                              ("TC 1", header.tc), (f"RCODE {header.rcode}", header.rcode)) if bad]
    out = [check("flags", not wrong, f"flags {wire[2:4].hex()}: " + ", ".join(wrong))]
    counts = tuple(int.from_bytes(wire[i : i + 2], "big") for i in (4, 6, 8, 10))
    out.append(check("counts", counts == (1, 0, 0, 0),
                     f"expected counts 1, 0, 0, 0, got {', '.join(map(str, counts))}"))
    try:
        message = decode(wire)
    except WireError as exc:
        out += [check("qname", False, f"craft cannot decode the query: {exc}"),
                check("qtype", False, "the query does not decode")]
        return out
    if not message.question:
        return [*out, check("qname", False, "no question"), check("qtype", False, "no question")]
    q = message.question[0]
    want = tuple(label.encode() for label in typed.strip(".").split("."))
    out.append(check("qname", q.name.labels == want,
                     f"expected labels {[w.decode() for w in want]}, got "
                     f"{[lab.decode(errors='replace') for lab in q.name.labels]}"))
    out.append(check("qtype", (q.rtype, q.rclass) == (RRType.A, RRClass.IN),
                     f"expected QTYPE 1 QCLASS 1, got QTYPE {q.rtype} QCLASS {q.rclass}"))
    return out


def judge_ids(queries: Sequence[bytes]) -> Check:
    ids = [q[:2].hex() for q in queries if len(q) >= 2]
    if len(ids) < 2:
        return Check("fresh-id", False, f"only {len(ids)} queries seen: cannot tell")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        return Check("fresh-id", False, f"IDs {', '.join('0x' + i for i in ids)}: "
                     f"{', '.join('0x' + i for i in repeated)} used again", queries[0])
    return Check("fresh-id", True)


# ---- craft as the lab's server ----


@dataclass
class Step:
    mode: str = "normal"  # normal, plain, wrong-id, slow, lost
    queries: list[bytes] | None = None


class FakeServer:
    """The lab's server on a socket in the client's namespace, answering per the step's
    mode; every query is kept for judging."""

    def __init__(self, sock: socket.socket, table: Sequence[Entry]) -> None:
        self.sock = sock
        zones = [lab_zone(e.name, e.ttl, e.addresses, DEFAULT_SERIAL) for e in table]
        self.authority = Authority(zones)
        self.step = Step(queries=[])
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.timers: list[threading.Timer] = []
        self.thread = threading.Thread(target=self._serve, daemon=True, name="fake-dns")
        self.sock.settimeout(0.1)
        self.thread.start()

    def begin(self, mode: str) -> Step:
        with self.lock:
            self.step = Step(mode, [])
            return self.step

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                query, client = self.sock.recvfrom(65535)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                return
            with self.lock:
                step = self.step
                assert step.queries is not None
                step.queries.append(query)
                first = len(step.queries) == 1
            reply = self.authority.respond(query)
            if reply is None:
                continue
            self._answer(step.mode, first, query, reply, client)

    def _answer(self, mode: str, first: bool, query: bytes, reply: bytes,
                client: tuple[str, int]) -> None:
        if mode == "lost" and first:
            return
        if mode == "plain":
            reply = _uncompressed(reply)
        if mode == "wrong-id" and first:
            self._send(_decoy(reply), client)
            self._later(0.2, reply, client)
            return
        if mode == "slow":
            self._later(SLOW, reply, client)
            return
        self._send(reply, client)

    def _later(self, delay: float, data: bytes, client: tuple[str, int]) -> None:
        timer = threading.Timer(delay, self._send, (data, client))
        timer.daemon = True
        self.timers.append(timer)
        timer.start()

    def _send(self, data: bytes, client: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, client)
        except OSError:
            pass

    def close(self) -> None:
        self.done.set()
        for timer in self.timers:
            timer.cancel()
        self.thread.join(2)
        self.sock.close()


def _uncompressed(reply: bytes) -> bytes:
    try:
        return encode(decode(reply), compress=False)
    except WireError:
        return reply


def _decoy(reply: bytes) -> bytes:
    """The reply with another ID and another address: a client that takes it prints 10.9.9.9."""
    message = decode(reply)
    answers = tuple(replace(r, rdata=A(DECOY)) if r.rtype == RRType.A else r for r in message.answer)
    header = replace(message.header, id=message.header.id ^ 0x5A5A)
    return encode(replace(message, header=header, answer=answers))


# ---- a session ----


class Session:
    """One run of the client: type a line, wait for its next prompt, read what it printed."""

    def __init__(self, sub: Submission, server: FakeServer, deadline: Deadline) -> None:
        self.sub, self.server, self.deadline = sub, server, deadline
        self.typed = 0

    def prompts(self) -> int:
        return len(PROMPT.findall(self.sub.output()))

    def start(self) -> None:
        self.sub.wait_output(lambda t: len(PROMPT.findall(t)) >= 1,
                             self.deadline.step(max(self.deadline.limits.step, 5.0)))

    def type(self, text: str, mode: str = "normal", wait: float | None = None) -> tuple[Step, str]:
        """Type ``text``; the step's queries and what the client printed before its next prompt."""
        step = self.server.begin(mode)
        self.typed += 1
        want = self.typed + 1
        if self.sub.send_line(text):
            self.sub.wait_output(lambda t: len(PROMPT.findall(t)) >= want or "session ended" in t.lower(),
                                 self.deadline.step(wait))
        return step, self.segment(self.typed)

    def segment(self, index: int) -> str:
        parts = PROMPT.split(self.sub.output())
        return parts[index] if index < len(parts) else ""


def grade(launch: Launch, host: str, port: int, rubric: Rubric, deadline: Deadline,
          isolation: list[str]) -> list[Row]:
    """Both runs' rows; each run's namespace note is appended to ``isolation`` as it
    starts, so the report can say it even when a run fails to start."""
    checks = _lab_run(launch, host, port, rubric, deadline, isolation)
    checks += _robustness_run(launch, host, port, rubric, deadline, isolation)
    return rubric.rows(COMMAND, ROWS, checks)


def _open(host: str, port: int, rubric: Rubric, sub: Submission, isolation: list[str]) -> FakeServer:
    isolation.append(sub.isolation_note)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = sub.net.open_socket(socket.SOCK_DGRAM, family)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SandboxError(f"{host}:{port}", f"craft cannot play the server there: "
                           f"{exc.strerror or exc}") from None
    return FakeServer(sock, rubric.table)


def _lab_run(launch: Launch, host: str, port: int, rubric: Rubric, deadline: Deadline,
             isolation: list[str]) -> list[Check]:
    with launch.submission() as sub:
        server = _open(host, port, rubric, sub, isolation)
        try:
            session = Session(sub, server, deadline)
            session.start()
            if not sub.alive() and not sub.output():
                raise SandboxError(launch.argv[0], f"exited ({sub.exit_text()}) at once"
                                   + (f": {sub.stderr_tail()}" if sub.stderr_tail() else ""))
            sent: list[Check] = []
            per_key: dict[str, list[Check]] = {k: [] for k in ("flags", "counts", "qname", "qtype", "lines")}
            all_queries: list[bytes] = []
            for entry in rubric.table:
                step, segment = session.type(entry.name)
                assert step.queries is not None
                all_queries += step.queries
                sent.append(Check("sent", len(step.queries) == 1,
                                  f"{entry.name}: {len(step.queries)} queries sent"))
                for query in step.queries[:1]:
                    for check in judge_query(entry.name, query):
                        per_key[check.key].append(check)
                per_key["lines"].append(judge_lines("lines", entry, entry.name, segment))
            step, segment = session.type(OUTSIDE_NAME)
            assert step.queries is not None
            all_queries += step.queries
            prompted = session.prompts() > session.typed
            printed = answer_lines(segment)
            outside = Check("outside", prompted and not printed and sub.alive(),
                            f"{OUTSIDE_NAME}: " + ("printed " + "; ".join(printed) if printed
                                                   else "no prompt after it" if sub.alive()
                                                   else f"the client ended ({sub.exit_text()})"))
            step, segment = session.type("end")
            assert step.queries is not None
            sub.wait_output(lambda t: "session ended" in t.lower(), deadline.step())
            exited = _wait_exit(sub, deadline.step())
            ended = "Session ended" in segment or "Session ended" in session.segment(session.typed)
            end_ok = ended and exited and not step.queries
            end_detail = ", ".join(w for w, bad in (
                ("no `Session ended` line", not ended), ("still running", not exited),
                (f"{len(step.queries)} queries sent for `end`", bool(step.queries))) if bad)
            checks = [merge(sent, "sent"), judge_ids(all_queries)]
            checks += [merge(v, k) if v else Check(k, False, "no query seen") for k, v in per_key.items()]
            checks += [outside, Check("end", end_ok, end_detail)]
            return checks
        finally:
            server.close()


def _robustness_run(launch: Launch, host: str, port: int, rubric: Rubric,
                    deadline: Deadline, isolation: list[str]) -> list[Check]:
    entry = next((e for e in rubric.table if len(e.addresses) > 1), rubric.table[0])
    plan = (("no-compression", "plain", None), ("wrong-id", "wrong-id", None),
            ("slow", "slow", deadline.limits.step + SLOW),
            ("lost", "lost", max(8.0, 2.5 * deadline.limits.step)))
    checks: list[Check] = []
    with launch.submission() as sub:
        server = _open(host, port, rubric, sub, isolation)
        try:
            session = Session(sub, server, deadline)
            session.start()
            for key, mode, wait in plan:
                if not sub.alive():
                    checks.append(Check(key, False, f"the client ended earlier ({sub.exit_text()})"))
                    continue
                step, segment = session.type(entry.name, mode, wait)
                check = judge_lines(key, entry, entry.name, segment)
                if key == "wrong-id" and DECOY in segment:
                    check = Check(key, False, f"printed the wrong-ID reply's address {DECOY}:\n"
                                  + segment.strip())
                if key == "lost":
                    assert step.queries is not None
                    # Either it asked again and printed that answer, or it gave up
                    # saying so (no answer lines); answer lines after one query come from
                    # some older reply still queued on its socket.
                    asked_again = len(step.queries) > 1 and check.passed
                    gave_up = (session.prompts() > session.typed and sub.alive()
                               and not answer_lines(segment))
                    check = Check(key, asked_again or gave_up, (
                        "printed answers with no second query: an older reply, not this one's"
                        if answer_lines(segment) and len(step.queries) < 2 else
                        "no second query and no new prompt: the client waits forever for a "
                        "lost reply (set a socket timeout)"))
                checks.append(check)
        finally:
            server.close()
    return checks


def _wait_exit(sub: Submission, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not sub.alive():
            return True
        time.sleep(0.05)
    return not sub.alive()
