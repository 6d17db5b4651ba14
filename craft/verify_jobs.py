"""``craft verify --jobs N``: the same report as ``craft.verify.verify``, on several cores.

Reading a capture is cheap and stays in this process, in order, so TCP streams are
reassembled whole and every capture note is the one a single job makes. Checking each
message (Scapy's dissection, craft's decode and re-encode) is where the time goes: it is
independent per message, so chunks of message octets go to ``N - 1`` worker processes
(forked, Scapy already imported) and their outcomes come back by chunk number. This
process is the N-th: whenever the workers have enough queued, it checks the next chunk
itself instead of waiting, so no core idles while this one reads and tallies, and the
split balances itself whatever the observer costs here. Outcomes are settled here, in
capture order, and the observer of ``--stats``, ``--log`` and ``--html`` sees them so. The
memo of clean outcomes is applied here, in capture order, exactly as the single job applies
it, so the report is the same to the count. No message is checked that the single job would
not check: one that repeats (ID aside) a message still being checked waits for it, and takes
the memo's outcome when that one's is clean, else is checked here as it is settled. A bounded
number of chunks is in flight: memory stays flat whatever the capture's size.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

from craft.capture.reader import CaptureError, DnsItem, Stats, dns_messages
from craft.errors import CraftError
from craft.verify import Outcome, Report, Settling, capture_error, check_data, finish, verify

CHUNK = 250  # messages per piece of work: about a tenth of a second of checking
AHEAD = 2  # chunks given to each worker at once: one to check, one waiting for it
WAIT = 0.5  # seconds between looks at the workers while waiting for their outcomes

Task = tuple[int, list[bytes]] | None  # a chunk's number and octets; None: stop
Done = tuple[int, list[Outcome]]


class WorkerError(CraftError):
    """A checking process ended before returning its outcomes (killed, out of memory):
    the capture could not be verified."""

    exit_code = 2


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_chunk(datas: list[bytes]) -> list[Outcome]:
    return [check_data(data) for data in datas]


def _work(tasks: Queue[Task], results: Queue[Done]) -> None:
    """A worker's life: chunks in, outcomes out, until the None that stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops us
    while (task := tasks.get()) is not None:
        number, datas = task
        results.put((number, _check_chunk(datas)))


def _own(computed: dict[bytes, Outcome], data: bytes) -> Outcome:
    """A message's outcome: the one checked for its chunk, taken once; else (it repeats,
    ID aside, a message whose outcome was not clean, so not remembered) checked here and
    now, as the single job checks it."""
    outcome = computed.pop(data[2:], None)
    return outcome if outcome is not None else check_data(data)


@dataclass(frozen=True, slots=True)
class _Pending:
    number: int
    items: list[DnsItem]
    keys: list[bytes]  # the messages checked (ID aside), in the order of their outcomes


def verify_jobs(path: str, jobs: int, progress: Callable[[int], None] | None = None,
                memo: bool = True,
                observe: Callable[[DnsItem, Outcome], None] | None = None) -> Report:
    """``verify(path, progress, memo, observe)`` with the checking spread over ``jobs``
    processes (this one included); ``observe`` is called here, in capture order, as the
    single job calls it."""
    if jobs <= 1:
        return verify(path, progress, memo, observe)
    from craft.oracle import scapy

    with contextlib.suppress(Exception):  # a missing Scapy is each verdict's to say
        scapy()  # imported once here, inherited by every worker
    settling = Settling(memo, observe)
    stats = Stats()
    error: str | None = None
    pending: deque[_Pending] = deque()
    done: dict[int, list[Outcome]] = {}
    checking: set[bytes] = set()  # with the memo: the work of the chunks not yet settled
    given = 0  # chunks given to the workers and not yet back
    numbered = 0
    workers = jobs - 1
    limit = 4 * jobs  # chunks held here at most (read, not yet settled)

    context = multiprocessing.get_context("fork")
    tasks: Queue[Task] = context.Queue()
    results: Queue[Done] = context.Queue()
    # A worker flushes the standard streams as it exits: whatever sat in their buffers at
    # the fork (with --log -, the log is stdout) would be written once more by each of them.
    sys.stdout.flush()
    sys.stderr.flush()
    processes: list[BaseProcess] = [context.Process(target=_work, args=(tasks, results),
                                                    daemon=True) for _ in range(workers)]

    def collect(block: bool) -> None:
        """Take the outcomes the workers have sent back; with ``block``, at least one."""
        nonlocal given
        while given:
            try:
                number, got = results.get(timeout=WAIT) if block else results.get_nowait()
            except queue.Empty:
                if not block:
                    return
                for process in processes:
                    code = process.exitcode
                    if code is not None:
                        how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
                        raise WorkerError("", f"a checking process ended early ({how})") from None
                continue
            done[number] = got
            given -= 1
            block = False

    def settle_ready() -> None:
        while pending and pending[0].number in done:
            chunk = pending.popleft()
            computed = dict(zip(chunk.keys, done.pop(chunk.number), strict=True))
            checking.difference_update(chunk.keys)
            for item in chunk.items:
                settling.take(item, partial(_own, computed, item.data))
            if progress is not None:
                progress(stats.offset)

    def dispatch(items: list[DnsItem]) -> None:
        nonlocal given, numbered
        collect(block=False)
        settle_ready()  # first, so the memo is as fresh as it can be
        # Each message once per chunk; with the memo, none whose clean outcome is known
        # or will be by the time this chunk is settled (it is in an earlier chunk's work).
        work: dict[bytes, bytes] = {}
        for item in items:
            key = item.data[2:]
            if not (settling.known(key) or (memo and key in checking)):
                work.setdefault(key, item.data)
        if memo:
            checking.update(work)
        numbered += 1
        pending.append(_Pending(numbered, items, list(work)))
        if not work:
            done[numbered] = []
        elif given < AHEAD * workers:
            tasks.put((numbered, list(work.values())))
            given += 1
        else:  # the workers have enough to do: this process takes its share
            done[numbered] = _check_chunk(list(work.values()))
        settle_ready()
        while len(pending) > limit:
            collect(block=True)
            settle_ready()

    def drain() -> None:
        while pending:
            if pending[0].number not in done:
                assert given, "every chunk not settled is here or with a worker"
                collect(block=True)
            settle_ready()

    try:
        for process in processes:
            process.start()
        chunk: list[DnsItem] = []
        try:
            for item in dns_messages(path, stats):
                chunk.append(item)
                if len(chunk) >= CHUNK:
                    dispatch(chunk)
                    chunk = []
            if chunk:
                dispatch(chunk)
        except CaptureError as exc:
            if chunk:
                dispatch(chunk)
            drain()
            error = capture_error(exc, stats, settling.tally)
        drain()
        for _ in processes:
            tasks.put(None)
        for process in processes:
            process.join(WAIT)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
        for channel in (tasks, results):
            channel.close()
            channel.cancel_join_thread()  # what is still queued matters to no one now
    return finish(settling.tally, stats, error, settling.repeats)
