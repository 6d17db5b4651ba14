"""``dns-serve --workers N``: a parent that serves nothing and keeps generations of workers.

The parent binds the sockets, reads the zones (at start and on each reload: once, not once
per worker) and forks N workers that share its very sockets. On a reload it forks a new
generation from the newly loaded zones (copy-on-write) and then retires the old one: an old
worker takes no new query, answers the one in hand and lets its TCP exchanges finish
(``craft.dns_server.DnsServer.retire``). The sockets are never closed while the parent
lives, so a query waiting in one is read by whichever worker comes next: none is lost to
the swap. Every fork happens here, in the parent's main thread, while the parent has no
other thread (NOTIFY threads are joined first), so no child copies a lock some thread held.

A worker that ends on its own (a crash, a kill) is forked again from the same zones, with
its number (its NSID), as NSD restarts a dead server process; one that keeps ending is
forked again less and less often (``RESPAWN_FIRST`` doubling up to ``RESPAWN_MOST``).

Stops: SIGTERM or SIGINT end the parent, which first ends every worker of every
generation, stop signals held meanwhile; each fork runs with stops held until the child's
PID is recorded; each worker asks for SIGTERM when the parent dies (``craft.stops``).
The parent's own stderr lines say when a generation takes over.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn, Protocol

from craft.dns.server_edns import ServerEdns
from craft.dns.zone import Zone
from craft.dns_group import ServerGroup
from craft.dns_server import PROGRAM, ServerError
from craft.errors import warn
from craft.stops import STOP_SIGNALS, Stopped, held_stops, stop_with_parent

RETIRE = signal.SIGUSR1  # parent to worker: leave the sockets to the next generation
READY_WAIT = 30.0  # seconds a new generation has to say it serves before the old one retires
NOTIFY_WAIT = 30.0  # seconds a reload waits for the last one's NOTIFY threads before forking
WATCH = 1.0  # seconds between two looks at the zone files' times, with --watch
RESPAWN_FIRST = 1.0  # seconds from a worker's start before it may be forked again
RESPAWN_MOST = 60.0  # the longest wait, for a worker that ends again and again


class Reloads(Protocol):
    """What the parent needs of ``craft.dns_service.Reloader`` (which imports this module)."""

    wanted: threading.Event
    notifying: list[threading.Thread]

    def look(self) -> None: ...

    def renew(self) -> Sequence[Zone] | None: ...

    def announce(self, changed: Sequence[Zone]) -> None: ...


class Supervisor:
    """The parent of ``count`` workers serving ``server``'s sockets with ``reloader``'s
    zones; ``explain`` is the server's EDNS policy, numbered per worker for NSID."""

    def __init__(self, server: ServerGroup, reloader: Reloads, count: int,
                 explain: ServerEdns, farewell: Callable[[int], None] | None = None) -> None:
        self.server, self.reloader, self.count, self.explain = server, reloader, count, explain
        self.farewell = farewell  # a worker's last words, given its number
        self.serving: list[int] = []  # the current generation
        self.retiring: list[int] = []  # told to retire, not yet reaped
        self.starting: list[int] = []  # forked, not yet serving
        self.generation = 0
        self.numbers: dict[int, int] = {}  # a worker's PID -> its number (1 to count)
        # Numbers of the current generation whose worker ended on its own: when each may
        # be forked again, and how long its next wait will be if it ends once more.
        self.lost: dict[int, float] = {}
        self.delays: dict[int, float] = {}
        self.started: dict[int, float] = {}
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)

    def run(self, watch: bool = False) -> None:
        """Fork the first generation, then reload on SIGHUP (and file changes with
        ``watch``) until a stop signal; every worker is ended before this returns."""

        def stop(signum: int, frame: FrameType | None) -> None:
            raise Stopped

        def nothing(signum: int, frame: FrameType | None) -> None:
            pass  # the wake-up descriptor is what counts

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGCHLD, nothing)
        signal.set_wakeup_fd(self._wake_w)
        self.server.share()
        try:
            first = self._spawn()
            if first is None:
                raise ServerError(PROGRAM, "no worker started")
            self.serving = first
            while True:
                self._reap()
                self._respawn()
                if watch:
                    self.reloader.look()
                if self.reloader.wanted.is_set():
                    self.reloader.wanted.clear()
                    try:
                        self._reload()
                    except Exception as exc:  # a reload must never end serving
                        warn(PROGRAM, f"reload failed, still serving the old zones: "
                                      f"{type(exc).__name__}: {exc}")
                    continue
                select.select([self._wake_r], [], [], self._wait(watch))
                while _drained(self._wake_r):
                    pass
        except Stopped:
            pass
        finally:
            with held_stops():
                self._end_all()
            signal.set_wakeup_fd(-1)

    def _reload(self) -> None:
        # Here, in the main thread: this process serves nothing. The old zones are freed
        # before the fork: the new workers' memory need not hold them.
        changed = self.reloader.renew()
        if changed is None:
            return
        if not changed:  # the workers already serve these very records, as NSD and BIND see it
            warn(PROGRAM, f"reload: no zone changed; generation {self.generation} serves on")
            return
        for thread in self.reloader.notifying:  # no fork beside another thread
            thread.join(NOTIFY_WAIT)
        new = self._spawn()
        if new is None:
            warn(PROGRAM, "reload: no worker of the new generation started; the old one serves on")
            return
        old, self.serving = self.serving, new
        self.lost.clear()  # the new generation is whole
        for pid in old:
            try:
                os.kill(pid, RETIRE)
            except ProcessLookupError:
                pass
        self.retiring += old
        warn(PROGRAM, f"reload: zones loaded once; generation {self.generation} "
                      f"({len(self.serving)} workers) serves them, {len(old)} old workers "
                      "finish what they hold")
        self.reloader.announce(changed)

    def _wait(self, watch: bool) -> float | None:
        """Seconds the main loop may sleep: until the next look at the files, or the next
        worker due to be forked again."""
        waits = [WATCH] if watch else []
        if self.lost:
            # At least a little: a NOTIFY thread still running puts the fork off.
            waits.append(max(0.05, min(self.lost.values()) - time.monotonic()))
        return min(waits) if waits else None

    def _respawn(self) -> None:
        """Fork again each worker of this generation that ended on its own, once it is due."""
        now = time.monotonic()
        due = sorted(number for number, when in self.lost.items() if when <= now)
        if not due or any(thread.is_alive() for thread in self.reloader.notifying):
            return  # no fork beside another thread: the next wake-up tries again
        for number in due:
            del self.lost[number]
        new = self._spawn(due, generation=False)
        if new is None:
            for number in due:
                self._lose(number)
            return
        self.serving += new
        warn(PROGRAM, "worker " + ", ".join(f"{self.numbers[pid]} forked again as PID {pid}"
                                            for pid in new) + f"; {len(self.serving)} serve")

    def _lose(self, number: int) -> None:
        """Worker ``number`` ended: it is forked again after its wait, which doubles when
        it had not lived for the wait it was given before."""
        now = time.monotonic()
        delay = self.delays.get(number, RESPAWN_FIRST)
        lived = now - self.started.get(number, now)
        delay = RESPAWN_FIRST if lived > 2 * delay else min(RESPAWN_MOST, delay * 2)
        self.delays[number] = delay
        self.lost[number] = max(now, self.started.get(number, now) + delay)

    def _spawn(self, numbers: Sequence[int] | None = None,
               generation: bool = True) -> list[int] | None:
        """Fork workers (``numbers``, by default 1 to ``count``: a new generation) from this
        process's zones: their PIDs once at least one said it serves (within
        ``READY_WAIT``); None when none did (those forked are ended)."""
        if generation:
            self.generation += 1
        ready_r, ready_w = os.pipe()
        me = os.getpid()
        ready = 0
        try:
            try:
                for number in numbers or range(1, self.count + 1):
                    # A stop waits until the child is recorded; SIGHUP and RETIRE wait in
                    # the child until its own handlers are set.
                    with held_stops(signal.SIGHUP, RETIRE):
                        pid = os.fork()
                        if pid == 0:
                            os.close(ready_r)
                            self._worker(number, ready_w, me)
                        self.starting.append(pid)
                        self.numbers[pid] = number
                        self.started[number] = time.monotonic()
            finally:
                os.close(ready_w)
            while ready < len(self.starting):
                readable, _, _ = select.select([ready_r], [], [], READY_WAIT)
                said = os.read(ready_r, 64) if readable else b""
                if not said:
                    break  # every worker gone, or too long
                ready += len(said)
        except Exception:
            self._end(self.starting)
            self.starting = []
            raise
        finally:
            os.close(ready_r)
        new, self.starting = self.starting, []
        if not ready:
            self._end(new)
            return None
        return new

    def _worker(self, number: int, ready: int, parent: int) -> NoReturn:
        """A forked worker's life (its stop signals, SIGHUP and RETIRE held, as at the fork)."""
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            os.close(self._wake_r)
            os.close(self._wake_w)
            stop_with_parent(parent)
            server = self.server
            # This process's own copy of the answerer: the NSID says which worker answered.
            server.authority.answerer.explain = self.explain.for_worker(number)

            def stop(signum: int, frame: FrameType | None) -> None:
                server.stop()
                raise Stopped

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
            signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent reloads
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(RETIRE, lambda signum, frame: server.retire())
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {*STOP_SIGNALS, signal.SIGHUP, RETIRE})
            os.write(ready, b"r")
            os.close(ready)
            try:
                server.serve_forever()
            finally:
                if self.farewell is not None:
                    with held_stops():
                        self.farewell(number)
        except Exception as exc:  # a worker must never leave a traceback behind
            warn(f"{PROGRAM} worker", str(exc))
            code = 1
        finally:
            os._exit(code)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            number = self.numbers.pop(pid, 0)
            if pid in self.retiring:
                self.retiring.remove(pid)
            elif pid in self.serving:
                self.serving.remove(pid)
                self._lose(number)
                wait = self.lost[number] - time.monotonic()
                warn(PROGRAM, f"worker {number} (PID {pid}) ended ({_status(status)}); "
                              f"{len(self.serving)} serve on; forked again in {max(0.0, wait):.1f} s")

    def _end_all(self) -> None:
        self._end(self.serving + self.retiring + self.starting)
        self.serving, self.retiring, self.starting = [], [], []

    def _end(self, pids: list[int]) -> None:
        """SIGTERM to each of ``pids``, then wait for them all."""
        for pid in pids:
            self.numbers.pop(pid, None)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _drained(fd: int) -> bool:
    try:
        return bool(os.read(fd, 512))
    except BlockingIOError:
        return False


def _status(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"exit {code}" if code >= 0 else f"signal {-code}"
