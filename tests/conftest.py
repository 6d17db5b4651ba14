"""Shared fixtures: a craft DNS server on 127.0.0.1 (in-process or as a real process)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, settings

from craft.dns.answer_cache import Authority
from craft.dns.zone import Zone, default_zones
from craft.dns_server import DnsServer

# The suite shares its machine (CI, helpers, servers it starts): a draw that is slow because
# the machine is busy says nothing of craft, so the "too slow" checks never fail a run.
settings.register_profile(
    "craft", deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)
settings.load_profile("craft")


class Servable(Protocol):
    def bind(self) -> tuple[str, int]: ...
    def serve_forever(self) -> None: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=Servable)


@contextlib.contextmanager
def serving(server: S) -> Iterator[tuple[S, tuple[str, int]]]:
    """A DnsServer or WebServer bound and serving in a thread; stopped and joined on exit."""
    address = server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, address
    finally:
        server.stop()
        thread.join(5)
        assert not thread.is_alive(), "server thread did not stop"


@contextlib.contextmanager
def running_server(zones: Sequence[Zone] | None = None) -> Iterator[DnsServer]:
    """A DnsServer on a free port in a thread; stopped and joined on exit."""
    with serving(DnsServer(Authority(list(zones) if zones is not None else default_zones()),
                           "127.0.0.1", 0)) as (server, _):
        yield server


@pytest.fixture
def dns_server() -> Iterator[tuple[str, int]]:
    with running_server() as server:
        yield server.address


@contextlib.contextmanager
def craft_process(args: Sequence[str], ready: str = r"127\.0\.0\.1:(\d+)",
                  timeout: float = 20.0) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Run ``python -m craft ARGS`` until its start-up line (on stderr) names the port.

    The process is stopped with SIGTERM (then SIGKILL) when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "craft", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            match = re.search(ready, line)
            if match:
                yield proc, int(match.group(1))
                break
            if not line and proc.poll() is not None:
                raise AssertionError(f"craft {' '.join(args)} exited: {proc.returncode}")
        else:
            raise AssertionError(f"no start-up line from craft {' '.join(args)}: {line!r}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def free_port() -> int:
    """A port free for both UDP and TCP right now (for servers that cannot take port 0)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise AssertionError("no free port")


def wait_until(check: Callable[[], bool], message: str, timeout: float = 20.0) -> None:
    """Poll ``check`` (bounded in time) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(message)


@contextlib.contextmanager
def running_daemon(cmd: Sequence[str], log: Path | None = None,
                   settle: float = 0.3) -> Iterator[subprocess.Popen[bytes]]:
    """A server run in the foreground in its own process group, its output to ``log``.

    Fails if it exits within ``settle`` seconds. On exit: SIGTERM to the process group,
    then SIGKILL, and the process is always waited for."""
    with open(log if log is not None else os.devnull, "wb") as out:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(settle)
        if proc.poll() is not None:
            output = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise AssertionError(f"{Path(cmd[0]).name} exited with {proc.returncode}\n{output}")
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def daemon_path(name: str, package: str) -> str:
    """Where a server binary from Debian's ``package`` is (/usr/sbin is often off a user's
    PATH); the test is skipped when it is not installed."""
    path = shutil.which(name) or f"/usr/sbin/{name}"
    if not os.path.exists(path):
        pytest.skip(f"{name} missing: `make test` installs it (Debian package {package})")
    return path


@contextlib.contextmanager
def running_nsd(workdir: Path, zones_conf: str) -> Iterator[int]:
    """A real NSD on 127.0.0.1 with ``zones_conf`` (``zone:`` clauses); stopped on exit."""
    nsd = daemon_path("nsd", "nsd")
    port = free_port()
    conf = workdir / "nsd.conf"
    conf.write_text(
        "server:\n"
        f"  port: {port}\n  ip-address: 127.0.0.1\n  username: \"\"\n"
        f"  zonesdir: {workdir}\n  database: \"\"\n  pidfile: {workdir}/nsd.pid\n"
        f"  xfrdfile: {workdir}/xfrd.state\n  zonelistfile: {workdir}/zone.list\n"
        "  verbosity: 1\n  server-count: 1\n  tcp-count: 10\n"
        "remote-control:\n  control-enable: no\n" + zones_conf
    )
    with running_daemon([nsd, "-d", "-c", str(conf)]):
        yield port


def pseudosection(text: str) -> list[str]:
    """The lines of an OPT PSEUDOSECTION in dig's or craft's output (header excluded)."""
    lines = text.splitlines()
    start = lines.index(";; OPT PSEUDOSECTION:") + 1
    out = []
    for line in lines[start:]:
        if not line.startswith("; "):
            break
        out.append(line.rstrip())
    return out
