"""Stop signals held off while something must finish whole: process policy, not library.

SIGINT and SIGTERM end craft's long runs. A process that records exchanges (a capture)
blocks them around each record so that no stop cuts one in two; a blocked signal is
delivered the moment the block ends. Library classes take this as a hook
(``DnsServer(stops=...)``, ``CaptureWriter(hold=...)``) and never touch the mask themselves.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


@contextmanager
def held_stops(*more: signal.Signals) -> Iterator[None]:
    """SIGINT and SIGTERM (and ``more``) wait until the block ends (in the calling thread)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, *more})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def deflect_stops() -> None:
    """SIGINT and SIGTERM never go to the calling thread (the main thread takes them)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
