"""``craft verify --jobs N``: the same report as ``craft.verify.verify``, on several cores.

Reading a capture is cheap and stays in this process, in order, so TCP streams are
reassembled whole and every capture note is the one a single job makes. Checking each
message (Scapy's dissection, craft's decode and re-encode) is where the time goes: it is
independent per message, so chunks of message octets go to worker processes (forked,
Scapy already imported) and their outcomes come back in order; the observer of
``--stats``, ``--log`` and ``--html`` sees them here, in capture order. The memo of clean outcomes
is applied here, in capture order, exactly as the single job applies it, so the report is
the same to the count; a message sent to a worker whose outcome the memo then supplied
was only checked twice, never counted twice. At most ``2 * jobs`` chunks are in flight:
memory stays flat whatever the capture's size.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable
from functools import partial
from multiprocessing.pool import AsyncResult

from craft.capture.reader import CaptureError, DnsItem, Stats, dns_messages
from craft.verify import Outcome, Report, Tally, capture_error, check_data, finish, recall, verify

CHUNK = 1000  # messages per piece of work


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_chunk(datas: list[bytes]) -> list[Outcome]:
    return [check_data(data) for data in datas]


Pending = tuple[list[DnsItem], list[bytes], "AsyncResult[list[Outcome]]"]


def verify_jobs(path: str, jobs: int, progress: Callable[[int], None] | None = None,
                memo: bool = True,
                observe: Callable[[DnsItem, Outcome], None] | None = None) -> Report:
    """``verify(path, progress, memo, observe)`` with the checking spread over ``jobs``
    processes; ``observe`` is called here, in capture order, as the single job calls it."""
    if jobs <= 1:
        return verify(path, progress, memo, observe)
    from craft.oracle import check  # imported once here, inherited by every worker

    del check
    tally = Tally()
    stats = Stats()
    error: str | None = None
    outcomes: dict[bytes, Outcome] = {}
    repeats = 0
    pending: deque[Pending] = deque()

    def settle(items: list[DnsItem], keys: list[bytes], result: AsyncResult[list[Outcome]]) -> None:
        nonlocal repeats
        computed = dict(zip(keys, result.get(), strict=True))
        for item in items:
            key = item.data[2:]
            outcome, repeated = recall(outcomes, key, memo, partial(computed.__getitem__, key))
            repeats += repeated
            tally.add(item.packet, outcome)
            if observe is not None:
                observe(item, outcome)
        if progress is not None:
            progress(stats.offset)

    # A worker flushes the standard streams as it exits: whatever sat in their buffers at
    # the fork (with --log -, the log is stdout) would be written once more by each of them.
    sys.stdout.flush()
    sys.stderr.flush()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        def send(items: list[DnsItem]) -> None:
            # Each message once per chunk; none whose clean outcome is already known.
            work = {item.data[2:]: item.data for item in items
                    if not (memo and item.data[2:] in outcomes)}
            keys = list(work)
            pending.append((items, keys, pool.apply_async(_check_chunk, (list(work.values()),))))
            while len(pending) > 2 * jobs:
                settle(*pending.popleft())

        try:
            chunk: list[DnsItem] = []
            for item in dns_messages(path, stats):
                chunk.append(item)
                if len(chunk) >= CHUNK:
                    send(chunk)
                    chunk = []
            if chunk:
                send(chunk)
        except CaptureError as exc:
            if chunk:
                send(chunk)
            while pending:
                settle(*pending.popleft())
            error = capture_error(exc, stats, tally)
        while pending:
            settle(*pending.popleft())
    return finish(tally, stats, error, repeats)
