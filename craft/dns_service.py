"""Running ``craft.dns_server`` as a service: the process-wide parts of ``dns-serve``.

Owns what a library server must not decide for the process it lives in: the stop signals
(SIGINT and SIGTERM end the loop; while an exchange is being recorded they wait), SIGHUP
and ``--watch`` reloads of zone files (all or nothing, serials bumped, NOTIFY sent); with
``--workers`` it hands the process to ``craft.dns_supervisor``. Loading zone files lives here
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
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import FrameType

from craft.dns.answer_cache import Authority
from craft.dns.names import Name
from craft.dns.transfer import Network, notify_message, reloaded
from craft.dns.tsig import Key
from craft.dns.zone import Zone, ZoneError, default_zones
from craft.dns.zone_signatures import zone_problems
from craft.dns_client import send_notify
from craft.dns_group import ServerGroup
from craft.dns_server import PROGRAM, DnsServer, Observer, StopPolicy
from craft.errors import CraftError, warn
from craft.stops import STOP_SIGNALS, Stopped, deflect_stops, held_stops
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


@dataclass(frozen=True)
class Fresh:
    """Zones read again for a reload, with the authority built on them, not yet served."""

    zones: list[Zone]
    authority: Authority
    changed: list[Zone]  # new, or with other records than before: their secondaries are told


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
    secondary for every changed zone.

    Serving alone, a reload runs in a thread of its own: the new zones are built beside
    the old ones, which answer until one reference is swapped, and the old ones are then
    freed a piece at a time. No reload starts before ``begin()``. With workers, the parent
    (``craft.dns_supervisor``) calls ``renew`` in its main thread instead."""

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
        self.lock = threading.Lock()
        self.mtimes = file_times(self.paths) if mtimes is None else mtimes
        self.wanted = threading.Event()
        self.notifying: list[threading.Thread] = []
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
        fresh = self.prepare()
        if fresh is None:
            return
        retired = self.swap(fresh)
        self.announce(fresh.changed)
        # Queries that took the old zones just before the swap finish first; then the old
        # zones are freed a piece at a time, the serving thread answering in between.
        time.sleep(RELEASE_GRACE)
        for _ in retired.release():
            time.sleep(0)

    def prepare(self) -> Fresh | None:
        """Read the files again and build the new zones and authority beside the old ones
        (serials bumped, journals kept); None, with one line on stderr, when they cannot
        be served (the old ones go on)."""
        if not self.paths:
            warn(PROGRAM, "reload: the embedded table has no files to reread")
            return None
        with self.lock:
            self.mtimes = file_times(self.paths)
            try:
                with bulk_objects():
                    fresh = load_zones(self.paths, self.strict)
            except CraftError as exc:
                warn(PROGRAM, f"reload failed, still serving the old zones: {exc}")
                return None
            old = {z.origin.key: z for z in self.zones}
            changed = []
            zones = []
            before: Zone | None = None
            for zone in fresh:
                before = old.get(zone.origin.key)
                differs = True
                if before is not None:
                    zone, differs = reloaded(before, zone)
                if differs:
                    changed.append(zone)
                    was = before.serial if before is not None else "new"
                    warn(PROGRAM, f"reloaded {zone.origin.to_text()} serial {was} -> {zone.serial}")
                zones.append(zone)
            try:
                with bulk_objects():
                    authority = self.server.authority.with_zones(zones)
            except CraftError as exc:
                warn(PROGRAM, f"reload failed, still serving the old zones: {exc}")
                return None
            return Fresh(zones, authority, changed)

    def swap(self, fresh: Fresh) -> Authority:
        """Serve ``fresh`` from now on; the authority it replaces."""
        with self.lock:
            retired, self.server.authority = self.server.authority, fresh.authority
            self.zones = fresh.zones
        return retired

    def renew(self) -> list[Zone] | None:
        """``prepare`` and ``swap`` at once, for a process that serves nothing itself (the
        old authority is dropped at once): the changed zones, or None when the old ones
        stay."""
        fresh = self.prepare()
        if fresh is None:
            return None
        self.swap(fresh)
        return fresh.changed

    def announce(self, changed: Sequence[Zone]) -> None:
        """NOTIFY every secondary of each changed zone, each in a thread of its own."""
        self.notifying = [t for t in self.notifying if t.is_alive()]
        for zone in changed:
            for target in self.notify:
                thread = threading.Thread(target=self._notify, args=(zone, target), daemon=True)
                thread.start()
                self.notifying.append(thread)

    def _notify(self, zone: Zone, target: tuple[str, int, Key | None]) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGHUP})
        message = notify_message(zone, secrets.randbits(16))
        acknowledged = send_notify(message, target[:2], key=target[2])
        state = "acknowledged" if acknowledged else "not acknowledged after retries"
        warn(PROGRAM, f"NOTIFY {zone.origin.to_text()} serial {zone.serial} "
                      f"to {target[0]}:{target[1]}: {state}")

    def look(self) -> None:
        """Ask for a reload when the files' times changed since the last look or load."""
        now = file_times(self.paths)
        if now != self.mtimes:
            self.mtimes = now  # seen: one reload for this change
            self.request()

    def watch(self, interval: float = 1.0) -> None:
        def loop() -> None:
            signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGHUP})
            while True:
                time.sleep(interval)
                self.look()

        threading.Thread(target=loop, daemon=True, name="watch").start()

    def on_signal(self) -> None:
        """SIGHUP reloads."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.request()  # in the background: this thread goes on answering

        signal.signal(signal.SIGHUP, handler)


class Service:
    """One ``dns-serve``: the server with its signals, reloads and worker processes.

    ``start()`` binds and makes SIGHUP reload (before anyone is told the address: a reload
    asked for at once must reload, not kill the server); ``run()`` serves until a stop
    signal, or with workers leaves serving to them (``craft.dns_supervisor``)."""

    def __init__(self, authority: Authority, hosts: Sequence[str], port: int,
                 observers: list[Observer],
                 paths: Sequence[str], zones: list[Zone], allowed: Sequence[Network | Name],
                 notify: Sequence[tuple[str, int, Key | None]], mtimes: list[float] | None = None,
                 workers: int = 1, strict: bool = False,
                 farewell: Callable[[int], None] | None = None) -> None:
        """``farewell``: what each worker does as it ends, given its number (its own
        counts, which the parent never sees)."""
        self.workers = workers
        self.farewell = farewell
        # Numbered for NSID, 1..N, in each generation (``craft.dns_supervisor``). One cookie
        # secret for all: made before the fork, every worker holds a copy.
        self.explain = authority.answerer.explain
        self.observers = observers
        self.hosts = tuple(hosts)
        # With workers, they all read the sockets this process binds (no SO_REUSEPORT).
        self.server = ServerGroup(authority, self.hosts, port, observers, stops=SignalStops())
        self.reloader = Reloader(self.server, paths, zones, allowed, notify, mtimes, strict)

    def start(self) -> tuple[str, int]:
        stop_on_signals(self.server)
        address = self.server.bind()
        self.reloader.on_signal()
        return address

    def run(self, watch: bool = False) -> None:
        if self.workers > 1:
            # This process serves nothing: it loads the zones, once per reload, and keeps
            # generations of workers on its sockets.
            from craft.dns_supervisor import Supervisor

            Supervisor(self.server, self.reloader, self.workers, self.explain,
                       self.farewell).run(watch)
            return
        self.reloader.begin()
        if watch:
            self.reloader.watch()
        self.server.serve_forever()

