"""Running ``craft.dns_server`` as a service: the process-wide parts of ``dns-serve``.

Owns what a library server must not decide for the process it lives in: the stop signals
(SIGINT and SIGTERM end the loop; while an exchange is being recorded they wait), SIGHUP
and ``--watch`` reloads of zone files (all or nothing, serials bumped, NOTIFY sent), and
extra worker processes sharing the port with SO_REUSEPORT. Loading zone files lives here
too, as the one way both the start and a reload read them. Everything it says goes to
stderr as one line; the command (``craft.commands.dns``) only parses and prints.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import FrameType
from typing import NoReturn

from craft.dns.answer_cache import Authority
from craft.dns.names import Name
from craft.dns.transfer import Network, bump_serial, journaled, notify_message
from craft.dns.tsig import Key
from craft.dns.zone import Zone, ZoneError, default_zones
from craft.dns.zone_signatures import zone_problems
from craft.dns_client import send_notify
from craft.dns_group import ServerGroup
from craft.dns_server import PROGRAM, DnsServer, Observer, Stopped, StopPolicy
from craft.errors import CraftError, warn
from craft.stops import STOP_SIGNALS, deflect_stops, held_stops, stop_with_parent
from craft.zone_loader import bulk_objects, load_zone

RELEASE_GRACE = 0.5  # seconds the old zones stay whole after a reload's swap
RELOAD_SWITCH_INTERVAL = 0.0005  # seconds: the interpreter's slice while a reload runs


def load_zones(paths: Sequence[str], strict: bool = False) -> list[Zone]:
    """The zones of ``paths`` (the lab's table when there are none); ZoneError when a file
    cannot be read or served, or two files have the same origin. A signed zone's problems
    (``craft.dns.zone_signatures``) are warned of, one line each with file and owner name;
    with ``strict`` they are a ZoneError too."""
    if not paths:
        return default_zones()
    zones = []
    for path in paths:
        try:
            zone = load_zone(path)
        except OSError as exc:
            raise ZoneError(path, exc.strerror or str(exc)) from None
        problems = zone_problems(zone, int(time.time()))
        for problem in problems:
            warn(PROGRAM, f"{path}: {problem.to_text()}")
        if problems and strict:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ZoneError(path, f"{problems[0].to_text()}{more}; not served with --strict")
        zones.append(zone)
    origins = [z.origin.key for z in zones]
    if len(set(origins)) != len(origins):
        raise ZoneError("", "two zone files have the same origin")
    return zones


def file_times(paths: Sequence[str]) -> list[float]:
    return [os.stat(p).st_mtime if os.path.exists(p) else 0.0 for p in paths]


class SignalStops(StopPolicy):
    """Stops come as signals, and the handler raises ``Stopped`` in the main thread: the
    main thread holds them off while an exchange is recorded, and the server's other
    threads never take them (the main thread, blocked in a receive, must be the one
    interrupted)."""

    def hold(self) -> AbstractContextManager[object]:
        return held_stops()

    def deflect(self) -> None:
        deflect_stops()


def remember_reloads() -> list[int]:
    """Until ``Reloader.on_signal``: a SIGHUP is noted in the list returned (to be served
    once the service runs) instead of ending the process by its default action. For the
    time the zones take to load, which is long for big zones."""
    early: list[int] = []
    signal.signal(signal.SIGHUP, lambda signum, frame: early.append(signum))
    return early


def stop_on_signals(server: DnsServer | ServerGroup) -> None:
    """SIGTERM and SIGINT end the serving loop cleanly."""

    def handler(signum: int, frame: FrameType | None) -> None:
        server.stop()
        raise Stopped

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class Reloader:
    """Reloads zone files on SIGHUP or when ``--watch`` sees them change: all or nothing,
    serials bumped where content changed without a newer serial, NOTIFY sent to each
    secondary for every changed zone, the signal passed on to worker processes.

    A reload runs in a thread of its own: the new zones are built beside the old ones,
    which answer until one reference is swapped, and the old ones are then freed a piece
    at a time. No reload starts before ``begin()`` (called once the workers are forked, so
    that no fork copies a reload in progress)."""

    def __init__(self, server: DnsServer | ServerGroup, paths: Sequence[str], zones: list[Zone],
                 allowed: Sequence[Network | Name],
                 notify: Sequence[tuple[str, int, Key | None]],
                 mtimes: list[float] | None = None, strict: bool = False) -> None:
        """``mtimes``: the files' times from *before* ``zones`` were read, so that an edit
        made while they loaded is still seen as a change. ``strict``: a signed zone with
        problems fails to load (the old zones keep serving)."""
        self.server, self.paths, self.zones = server, list(paths), zones
        self.strict = strict
        self.allowed, self.notify = list(allowed), list(notify)
        self.children: list[int] = []
        self.lock = threading.Lock()
        self.mtimes = file_times(self.paths) if mtimes is None else mtimes
        self.wanted = threading.Event()
        self._begun = False
        self._worker: threading.Thread | None = None

    def request(self) -> None:
        """Ask for a reload without waiting for it (safe in a signal handler: no lock);
        requests made while one runs are served by one more reload after it."""
        self.wanted.set()
        if self._begun and self._worker is None:
            self._worker = threading.Thread(target=self._reloads, daemon=True, name="reload")
            self._worker.start()

    def begin(self) -> None:
        """From now on requests are served; one made before is served now."""
        self._begun = True
        if self.wanted.is_set():
            self.request()

    def _reloads(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGHUP})
        while True:
            self.wanted.wait()
            self.wanted.clear()
            # The serving thread needs the interpreter within a fraction of a millisecond
            # of a datagram, not after the default 5 ms slice of a long load.
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, RELOAD_SWITCH_INTERVAL))
            try:
                self.reload()
            except Exception as exc:  # a reload must never end serving
                warn(PROGRAM, f"reload failed, still serving the old zones: "
                              f"{type(exc).__name__}: {exc}")
            finally:
                sys.setswitchinterval(interval)

    def reload(self) -> None:
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                pass
        if not self.paths:
            warn(PROGRAM, "reload: the embedded table has no files to reread")
            return
        with self.lock:
            self.mtimes = file_times(self.paths)
            try:
                with bulk_objects():
                    fresh = load_zones(self.paths, self.strict)
            except CraftError as exc:
                warn(PROGRAM, f"reload failed, still serving the old zones: {exc}")
                return
            old = {z.origin.key: z for z in self.zones}
            changed = []
            zones = []
            before: Zone | None = None
            for zone in fresh:
                before = old.get(zone.origin.key)
                if before is not None:
                    zone = journaled(before, bump_serial(before, zone))
                if before is None or set(before.records) != set(zone.records):
                    changed.append(zone)
                    was = before.serial if before is not None else "new"
                    warn(PROGRAM, f"reloaded {zone.origin.to_text()} serial {was} -> {zone.serial}")
                zones.append(zone)
            try:
                with bulk_objects():
                    authority = self.server.authority.with_zones(zones)
            except CraftError as exc:
                warn(PROGRAM, f"reload failed, still serving the old zones: {exc}")
                return
            retired, self.server.authority = self.server.authority, authority
            self.zones = zones
            del old, fresh, before
        for zone in changed:
            for target in self.notify:
                threading.Thread(target=self._notify, args=(zone, target), daemon=True).start()
        # Queries that took the old zones just before the swap finish first; then the old
        # zones are freed a piece at a time, the serving thread answering in between.
        time.sleep(RELEASE_GRACE)
        for _ in retired.release():
            time.sleep(0)

    def _notify(self, zone: Zone, target: tuple[str, int, Key | None]) -> None:
        message = notify_message(zone, secrets.randbits(16))
        acknowledged = send_notify(message, target[:2], key=target[2])
        state = "acknowledged" if acknowledged else "not acknowledged after retries"
        warn(PROGRAM, f"NOTIFY {zone.origin.to_text()} serial {zone.serial} "
                      f"to {target[0]}:{target[1]}: {state}")

    def watch(self, interval: float = 1.0) -> None:
        def loop() -> None:
            signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGHUP})
            while True:
                time.sleep(interval)
                now = file_times(self.paths)
                if now != self.mtimes:
                    self.mtimes = now  # seen: one reload for this change
                    self.request()

        threading.Thread(target=loop, daemon=True, name="watch").start()

    def on_signal(self) -> None:
        """SIGHUP reloads."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.request()  # in the background: this thread goes on answering

        signal.signal(signal.SIGHUP, handler)


class Service:
    """One ``dns-serve``: the server with its signals, reloads and worker processes.

    ``start()`` binds and makes SIGHUP reload (before anyone is told the address: a reload
    asked for at once must reload, not kill the server); ``run()`` forks the workers and
    serves until a stop signal, then ends the workers."""

    def __init__(self, authority: Authority, hosts: Sequence[str], port: int,
                 observers: list[Observer],
                 paths: Sequence[str], zones: list[Zone], allowed: Sequence[Network | Name],
                 notify: Sequence[tuple[str, int, Key | None]], mtimes: list[float] | None = None,
                 workers: int = 1, strict: bool = False) -> None:
        self.workers = workers
        # Numbered for NSID: the parent is worker 1, the forked ones 2..N. One cookie
        # secret for all: made before the fork, every worker holds a copy.
        self.explain = authority.answerer.explain
        if workers > 1:
            authority.answerer.explain = self.explain.for_worker(1)
        self.observers = observers
        self.hosts = tuple(hosts)
        self.server = ServerGroup(authority, self.hosts, port, observers,
                                  reuse_port=workers > 1, stops=SignalStops())
        self.reloader = Reloader(self.server, paths, zones, allowed, notify, mtimes, strict)

    def start(self) -> tuple[str, int]:
        stop_on_signals(self.server)
        address = self.server.bind()
        self.reloader.on_signal()
        return address

    def run(self, watch: bool = False) -> None:
        try:
            # Forked while this is the only thread (no reload yet, no connection): a fork
            # copies no lock another thread holds.
            self._fork_workers(self.workers - 1)
            self.reloader.begin()
            if watch:
                self.reloader.watch()
            self.server.serve_forever()
        finally:
            for pid in self.reloader.children:
                _terminate(pid)

    def _fork_workers(self, count: int) -> None:
        """Fork ``count`` more serving processes on the same addresses and port
        (SO_REUSEPORT), each recorded in ``reloader.children`` before a stop signal can
        end this process (no worker left behind). Each inherits the observers, a capture
        included: its records go whole, each in one write, to the file the parent opened
        (O_APPEND: at its end, whichever process writes)."""
        parent = self.reloader
        port = self.server.address[1]
        me = os.getpid()
        for number in range(2, count + 2):
            # SIGHUP is held too: one reaching the worker before its own handler is set
            # would go to the inherited handler, whose reloader never runs there, and the
            # worker would go on serving the old zones.
            with held_stops(signal.SIGHUP):
                pid = os.fork()
                if pid == 0:
                    stop_with_parent(me)
                    self._worker(parent, port, number)
                parent.children.append(pid)

    def _worker(self, parent: Reloader, port: int, number: int) -> NoReturn:
        """A forked worker's life (its stop signals and SIGHUP still held, as at the fork)."""
        code = 0
        try:
            # This process's own copy of the answerer: the NSID says which worker answered.
            self.server.authority.answerer.explain = self.explain.for_worker(number)
            child = ServerGroup(self.server.authority, self.hosts, port,
                                self.observers, reuse_port=True, stops=SignalStops())
            stop_on_signals(child)
            # Reloads reach workers as SIGHUP from the parent; only the parent notifies.
            reloader = Reloader(child, parent.paths, parent.zones, parent.allowed, ())
            reloader.on_signal()
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {*STOP_SIGNALS, signal.SIGHUP})
            reloader.begin()
            child.bind()
            child.serve_forever()
        except Exception as exc:  # a worker must never leave a traceback behind
            warn(f"{PROGRAM} worker", str(exc))
            code = 1
        finally:
            os._exit(code)


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
