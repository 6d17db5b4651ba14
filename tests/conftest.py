"""Shared fixtures: a craft DNS server on 127.0.0.1 (in-process or as a real process)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from craft.answer import Authority
from craft.dns_server import DnsServer
from craft.zone import Zone, default_zones


@contextlib.contextmanager
def running_server(zones: Sequence[Zone] | None = None) -> Iterator[DnsServer]:
    """A DnsServer on a free port in a thread; stopped and joined on exit."""
    server = DnsServer(Authority(list(zones) if zones is not None else default_zones()),
                       "127.0.0.1", 0)
    server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(5)
        assert not thread.is_alive(), "server thread did not stop"


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
