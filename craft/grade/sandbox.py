"""Running an untrusted lab submission, and stopping all of it afterwards.

This module owns the submission's life: it starts CMD in a process group (a session) of
its own, in a network namespace of its own where the system allows (``craft.grade.jail``),
with standard input on a pipe and its output read by threads into capped buffers. Every
wait is bounded by a per-step limit and by the whole run's deadline. ``stop`` ends the
process group and, with a namespace, every process left in it (a child that made itself a
new session too), SIGTERM first then SIGKILL, and reaps them: nothing of the submission
outlives the grade, and its port is free again.

The grader reaches a namespaced submission through ``Net``: sockets are made by a thread
that has entered the namespace (``setns``); a socket stays in the namespace it was made in,
so it can then be used from any thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from craft.errors import CraftError

CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36
LISTEN_STATES = {"tcp": "0A", "udp": "07"}  # /proc/net: TCP LISTEN, UDP unconnected


class SandboxError(CraftError):
    """The submission could not be started or never became reachable (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Limits:
    step: float = 3.0  # seconds for one step (a reply, a prompt, a start-up)
    total: float = 120.0  # seconds for the whole grade
    output: int = 256 * 1024  # octets of stdout (and of stderr) kept


class Deadline:
    """The whole run's deadline; ``step()`` is one step's timeout within it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.end = time.monotonic() + limits.total

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def step(self, seconds: float | None = None) -> float:
        return min(self.limits.step if seconds is None else seconds, self.left())

    @property
    def expired(self) -> bool:
        return self.left() <= 0


class Net:
    """Makes sockets where the submission lives: its namespace, or the host's network."""

    def __init__(self, ns_fd: int | None = None) -> None:
        self.ns_fd = ns_fd

    def open_socket(self, kind: int = socket.SOCK_DGRAM, family: int = socket.AF_INET) -> socket.socket:
        if self.ns_fd is None:
            return socket.socket(family, kind)
        made: list[socket.socket | OSError] = []

        def inside() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(self.ns_fd, CLONE_NEWNET) != 0:
                made.append(OSError(ctypes.get_errno(), "setns failed"))
                return
            try:
                made.append(socket.socket(family, kind))
            except OSError as exc:
                made.append(exc)

        thread = threading.Thread(target=inside, name="netns")
        thread.start()
        thread.join()
        result = made[0]
        if isinstance(result, OSError):
            raise result
        return result

    def connect(self, address: tuple[str, int], timeout: float) -> socket.socket:
        sock = self.open_socket(socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        return sock


class _Capped:
    """Reads a pipe to its end in a thread, keeping the first ``cap`` octets."""

    def __init__(self, pipe: IO[bytes] | None, cap: int) -> None:
        self.buf = bytearray()
        self.cap = cap
        self.dropped = 0
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe: IO[bytes] | None) -> None:
        assert pipe is not None
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.changed:
                if not chunk:
                    self.changed.notify_all()
                    return
                room = self.cap - len(self.buf)
                self.buf += chunk[:max(room, 0)]
                self.dropped += max(0, len(chunk) - max(room, 0))
                self.changed.notify_all()

    def text(self) -> str:
        with self.changed:
            return self.buf.decode("utf-8", "replace")

    def wait_for(self, check: Callable[[str], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                if check(self.buf.decode("utf-8", "replace")):
                    return True
                left = end - time.monotonic()
                if left <= 0 or not self.thread.is_alive():
                    return check(self.buf.decode("utf-8", "replace"))
                self.changed.wait(min(left, 0.2))


class Submission:
    """One run of a submission's command; use as a context manager so it always stops."""

    def __init__(self, argv: Sequence[str], *, cwd: str | None, limits: Limits,
                 isolate: bool = True) -> None:
        if not argv:
            raise SandboxError("command", "no command to run")
        self.argv = list(argv)
        self.cwd = cwd
        self.limits = limits
        self.want_isolation = isolate
        self.isolated = False
        self.isolation_note = "not tried"
        self.net = Net()
        self.proc: subprocess.Popen[bytes] | None = None
        self.stdout: _Capped | None = None
        self.stderr: _Capped | None = None
        self._ns_inode: int | None = None
        self._start_ticks = 0

    # ---- start ----

    def start(self) -> None:
        _become_subreaper()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        argv = self.argv
        status_r = status_w = -1
        if self.want_isolation:
            status_r, status_w = os.pipe()
            argv = [sys.executable, "-m", "craft.grade.jail", str(status_w), *argv]
            # the jail module must be importable whatever the submission's folder is
            root = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        try:
            self.proc = subprocess.Popen(
                argv, cwd=self.cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
                pass_fds=(status_w,) if status_w >= 0 else (),
            )
        except OSError as exc:
            raise SandboxError(self.argv[0], f"cannot start: {exc.strerror or exc}") from None
        finally:
            if status_w >= 0:
                os.close(status_w)
        self._start_ticks = next((st.start for pid, st in _processes() if pid == self.proc.pid), 0)
        self.stdout = _Capped(self.proc.stdout, self.limits.output)
        self.stderr = _Capped(self.proc.stderr, self.limits.output)
        if status_r >= 0:
            self._read_jail_status(status_r)
        else:
            self.isolation_note = "no: turned off"

    def _read_jail_status(self, fd: int) -> None:
        status = b""
        try:
            with os.fdopen(fd, "rb") as pipe:
                status = pipe.readline()  # the jail writes and closes before exec
        except OSError:
            pass
        if status.startswith(b"1"):
            assert self.proc is not None
            try:
                self.net = Net(os.open(f"/proc/{self.proc.pid}/ns/net", os.O_RDONLY))
                self._ns_inode = os.fstat(self.net.ns_fd or 0).st_ino
                self.isolated = True
                self.isolation_note = "yes: own network namespace, loopback only"
            except OSError as exc:  # it died at once: the start-up check will say so
                self.isolation_note = f"no: {exc.strerror or exc}"
        else:
            why = status[2:].decode(errors="replace").strip() or "the jail did not start"
            self.isolation_note = f"no: {why}"

    def wait_listening(self, port: int, proto: str, deadline: Deadline) -> None:
        """Wait until the submission has a socket bound (UDP) or listening (TCP) on
        ``port``; ``SandboxError`` if it exits first or takes longer than a step."""
        end = time.monotonic() + deadline.step(max(self.limits.step, 5.0))
        while time.monotonic() < end:
            if self.listening(port, proto):
                return
            if not self.alive():
                raise SandboxError(self.argv[0], f"exited ({self.exit_text()}) before "
                                   f"listening on {proto.upper()} port {port}{self._stderr_hint()}")
            time.sleep(0.05)
        raise SandboxError(self.argv[0], f"not listening on {proto.upper()} port {port} after "
                           f"{max(self.limits.step, 5.0):g}s{self._stderr_hint()}")

    def listening(self, port: int, proto: str) -> bool:
        assert self.proc is not None
        state = LISTEN_STATES[proto]
        for table in (proto, proto + "6"):
            try:
                text = Path(f"/proc/{self.proc.pid}/net/{table}").read_text()
            except OSError:
                continue
            for line in text.splitlines()[1:]:
                cols = line.split()
                if len(cols) > 3 and cols[3] == state and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    return True
        return False

    # ---- while it runs ----

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_text(self) -> str:
        code = self.proc.poll() if self.proc is not None else None
        if code is None:
            return "running"
        if code < 0:
            return f"killed by signal {-code}"
        return f"exit code {code}"

    def _stderr_hint(self) -> str:
        tail = self.stderr_tail()
        return f"; its last error line: {tail}" if tail else ""

    def stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        lines = [line for line in self.stderr.text().splitlines() if line.strip()]
        return lines[-1].strip()[:200] if lines else ""

    def output(self) -> str:
        return self.stdout.text() if self.stdout is not None else ""

    def send_line(self, text: str) -> bool:
        """Type one line on the submission's standard input; False if it no longer reads."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(text.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def wait_output(self, check: Callable[[str], bool], timeout: float) -> bool:
        assert self.stdout is not None
        return self.stdout.wait_for(check, timeout)

    # ---- stop ----

    def stop(self) -> None:
        """Stop the submission and everything it started; reap what was ours."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, grace in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 2.0)):
            members = self._members(pgid)
            if not members and self.proc.poll() is not None:
                break
            for pid in members:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + grace
            while time.monotonic() < end and (self._members(pgid) or self.proc.poll() is None):
                self._reap(pgid)
                time.sleep(0.02)
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._reap(pgid)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        for reader in (self.stdout, self.stderr):
            if reader is not None:
                reader.thread.join(1.0)
        if self.net.ns_fd is not None:
            os.close(self.net.ns_fd)
            self.net = Net()

    def _members(self, pgid: int) -> list[int]:
        """Live processes of the submission: its group, anything in its namespace, and
        orphans handed to us (we are their subreaper) that started after it did, such as
        a child that made itself a new session on the host's network."""
        found = []
        me = os.getpid()
        for pid, stat in _processes():
            if stat.state == "Z" or pid == me:
                continue
            orphan = stat.ppid == me and pid != pgid and stat.start >= self._start_ticks
            if stat.pgrp == pgid or orphan or (
                    self._ns_inode is not None and _net_inode(pid) == self._ns_inode):
                found.append(pid)
        return found

    def _reap(self, pgid: int) -> None:
        """Collect the zombies that became ours (we are their subreaper)."""
        me = os.getpid()
        for pid, stat in _processes():
            ours = stat.pgrp == pgid or stat.start >= self._start_ticks
            if stat.ppid == me and stat.state == "Z" and pid != pgid and ours:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass

    def __enter__(self) -> Submission:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True, slots=True)
class _Stat:
    state: str
    ppid: int
    pgrp: int
    start: int  # clock ticks after boot


def _processes() -> list[tuple[int, _Stat]]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2:].split()
        found.append((int(entry), _Stat(fields[0], int(fields[1]), int(fields[2]), int(fields[19]))))
    return found


def _net_inode(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


_subreaper_set = False


def _become_subreaper() -> None:
    """Orphans of the submission become ours, not init's, so ``stop`` can reap them (in a
    container init may never do it, and a zombie keeps its process group alive)."""
    global _subreaper_set
    if not _subreaper_set and sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _subreaper_set = True


@dataclass(frozen=True, slots=True)
class Launch:
    """How to start a submission, for rubrics that run it more than once."""

    argv: tuple[str, ...]
    cwd: str | None
    limits: Limits
    isolate: bool = True

    def submission(self) -> Submission:
        return Submission(self.argv, cwd=self.cwd, limits=self.limits, isolate=self.isolate)
