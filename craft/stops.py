"""Stop signals held off while something must finish whole: process policy, not library.

SIGINT and SIGTERM end craft's long runs. A process that records exchanges (a capture)
blocks them around each record so that no stop cuts one in two; a blocked signal is
delivered the moment the block ends. Library classes take this as a hook
(``DnsServer(stops=...)``, ``CaptureWriter(hold=...)``) and never touch the mask themselves.
A forked worker asks for SIGTERM when its parent dies (``stop_with_parent``), so that no
worker serves on alone after its parent was killed outright.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class Stopped(BaseException):
    """Raised from a signal handler to end a serving loop (``craft.dns_server``),
    interrupting a blocked receive, which a wake-up datagram cannot do when a worker process
    reading the same socket may take it. A BaseException, like KeyboardInterrupt, so that
    no ``except Exception`` on the way (fault guards, library code) can swallow it; one
    that escapes (a second stop while the first winds down) ends ``craft.cli`` quietly."""


PR_SET_PDEATHSIG = 1  # linux/prctl.h


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


def stop_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent process ends, even by SIGKILL (Linux
    only; elsewhere nothing changes). A parent already gone means SIGTERM now."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request took hold
        os.kill(os.getpid(), signal.SIGTERM)
