"""Reliability under hostile input and load: bounded fuzzing of the DNS and web servers and
of verify, idle-connection floods, and stopping a capturing server mid-load."""

from __future__ import annotations

import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import craft_process, wait_until

from craft.dns.codec import encode
from craft.dns.names import Name
from craft.dns_client import build_query
from craft.verify import verify

REPO = Path(__file__).resolve().parent.parent


def fuzz(target: str, count: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "scripts" / "fuzz.py"), target,
                           "--count", str(count)], capture_output=True, text=True, timeout=600,
                          check=False)


def test_fuzzed_dns_never_breaks_the_server() -> None:
    result = fuzz("dns", 3000)
    assert result.returncode == 0, result.stderr
    assert "replies all decodable and within size" in result.stdout
    assert "server answered after the storm" in result.stdout


def test_ten_thousand_hostile_web_requests() -> None:
    result = fuzz("web", 10000)
    assert result.returncode == 0, result.stderr
    assert "no file outside the root served" in result.stdout
    assert "every response framed by h11" in result.stdout


def test_corrupted_captures_never_crash_verify() -> None:
    result = fuzz("pcap", 2000)  # 20 captures
    assert result.returncode == 0, result.stderr


def test_500_idle_connections_do_not_block_a_new_client() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 700:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with craft_process(["web-serve", "--port", "0", "--quiet", "--root", str(REPO / "site")],
                       ready=r"127\.0\.0\.1:(\d+)") as (_, port):
        idle = []
        try:
            for _ in range(500):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                sock.sendall(b"GET /HelloWorld.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert sock.recv(64).startswith(b"HTTP/1.1 200 OK")  # within the 1 s timeout
        finally:
            for sock in idle:
                sock.close()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_a_capturing_server_mid_load_keeps_the_capture_whole(
    tmp_path: Path, stop: signal.Signals
) -> None:
    path = tmp_path / "load.pcap"
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--pcap", str(path)]) as (proc, port):
        running = threading.Event()
        running.set()

        def load() -> None:  # UDP queries as fast as one thread sends them, bounded
            query = encode(build_query(Name.from_text("google.com.")))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for _ in range(200000):
                    if not running.is_set():
                        return
                    try:
                        sock.sendto(query, ("127.0.0.1", port))
                    except OSError:
                        return

        threads = [threading.Thread(target=load) for _ in range(2)]
        for thread in threads:
            thread.start()
        # Stop mid-load once the capture holds well over 100 messages (a record here is
        # under 100 octets): a loaded machine may take longer to get there than a quiet one.
        wait_until(lambda: path.exists() and path.stat().st_size > 16000,
                   "the capture never grew past 100 messages")
        proc.send_signal(stop)
        proc.wait(15)
        running.clear()
        for thread in threads:
            thread.join(10)
        assert proc.returncode == 0
    report = verify(str(path))
    assert report.messages > 100 and report.ok, report.problems[:3]
    assert report.queries == report.responses  # every query recorded has its response
    if shutil.which("tshark"):
        out = subprocess.run(["tshark", "-r", str(path), "-q", "-z", "expert"],
                             capture_output=True, text=True, timeout=120, check=True).stdout
        assert "Malformed" not in out and "Error" not in out
