"""The sandbox on its own: output is capped, a flooding or forking program is stopped
whole, a program that cannot start says why, and a namespaced one is reached from inside."""

from __future__ import annotations

import os
import re
import socket
import sys

import pytest

from craft.grade.sandbox import Deadline, Limits, SandboxError, Submission

PY = sys.executable


def test_output_is_capped_and_a_flood_is_stopped() -> None:
    flood = "import os\nos.fork()\nwhile True: print('x' * 999)"
    sub = Submission([PY, "-c", flood], cwd=None, limits=Limits(output=5000))
    with sub:
        assert sub.wait_output(lambda text: len(text) >= 5000, 10)
        group = sub.proc.pid if sub.proc is not None else 0
    assert len(sub.output()) == 5000
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)


def test_a_program_that_exits_at_once_is_a_sandbox_error() -> None:
    sub = Submission([PY, "-c", "raise SystemExit('no table file')"], cwd=None, limits=Limits())
    with sub, pytest.raises(SandboxError, match=re.escape(
            "exited (exit code 1) before listening on UDP port 10999; "
            "its last error line: no table file")):
        sub.wait_listening(10999, "udp", Deadline(Limits()))
    missing = Submission(["/nonexistent/prog"], cwd=None, limits=Limits(), isolate=False)
    with pytest.raises(SandboxError, match="cannot start"):
        missing.start()


def test_a_namespaced_submission_is_reached_on_its_own_loopback() -> None:
    echo = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('127.0.0.1', 10777))\nwhile True:\n    d, a = s.recvfrom(99)\n"
            "    s.sendto(d.upper(), a)\n")
    with Submission([PY, "-c", echo], cwd=None, limits=Limits()) as sub:
        if not sub.isolated:
            pytest.skip(f"no network namespace here: {sub.isolation_note}")
        sub.wait_listening(10777, "udp", Deadline(Limits()))
        with sub.net.open_socket() as inside:
            inside.settimeout(5)
            inside.sendto(b"hi", ("127.0.0.1", 10777))
            assert inside.recv(10) == b"HI"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as host:  # not on the host's
            host.connect(("127.0.0.1", 10777))
            host.settimeout(0.5)
            host.send(b"hi")
            with pytest.raises(OSError):
                host.recv(10)
