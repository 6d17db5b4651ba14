"""make bench, TSIG part: what signing costs craft on a large zone transfer (issue 22).

One zone of ``BENCH_TSIG_RECORDS`` records (default 100,000, written by bench/make_zone.py)
served by one ``craft dns-serve`` that allows transfers from loopback and with a TSIG key.
Each round transfers it once unsigned and once signed (hmac-sha256: every message carries
its chained MAC), the two interleaved; the figure is the median of craft's CPU seconds
(user + system, from /proc, steadier than wall time on a shared machine) signed /
unsigned; wall times are noted. The client reads the framed messages and counts answer
records, nothing more; once, ``dig -y`` checks every MAC of a signed transfer. Every server
started here is stopped here; traffic goes to 127.0.0.1 only.

Run alone: ``python3 bench/tsig.py`` prints the figures (``run.py`` calls ``bench_tsig``).
"""

from __future__ import annotations

import base64
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_zone import ORIGIN, write_zone  # noqa: E402
from run import PY, REPO, ROUNDS, free_port  # noqa: E402

sys.path.insert(0, str(REPO))
from craft.dns.tsig import parse_dig_key, sign  # noqa: E402

RECORDS = int(os.environ.get("BENCH_TSIG_RECORDS", "100000"))
SECRET = base64.b64encode(bytes(range(32))).decode()
KEY = f"hmac-sha256:bench-xfr:{SECRET}"


def axfr_query(ident: int = 0x7A5C) -> bytes:
    name = b"".join(bytes((len(p),)) + p.encode() for p in ORIGIN.rstrip(".").split(".")) + b"\0"
    return struct.pack("!HHHHHH", ident, 0, 1, 0, 0, 0) + name + struct.pack("!HH", 252, 1)


def read_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise RuntimeError("transfer cut short")
        data += chunk
    return data


def transfer(port: int, records: int, signed: bool) -> tuple[float, int]:
    """Seconds to receive a whole AXFR (``records`` + 1 answer records) and its messages."""
    wire = axfr_query()
    if signed:
        wire = sign(wire, parse_dig_key(KEY), int(time.time()))[0]
    start = time.perf_counter()
    seen = messages = 0
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        while seen < records + 1:
            (size,) = struct.unpack("!H", read_exact(sock, 2))
            message = read_exact(sock, size)
            if message[3] & 0xF:
                raise RuntimeError(f"transfer refused: rcode {message[3] & 0xF}")
            seen += struct.unpack_from("!H", message, 6)[0]
            messages += 1
    return time.perf_counter() - start, messages


def soa_answered(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_tsig(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    zone = work / "tsig.zone"
    with open(zone, "w", encoding="ascii") as out:
        total = write_zone(out, RECORDS)
    port = free_port()
    cmd = [PY, "-m", "craft", "dns-serve", "--quiet", "--port", str(port), "--zone", str(zone),
           "--tsig-key", f"bench-xfr:hmac-sha256:{SECRET}",
           "--allow-transfer", "127.0.0.1", "--allow-transfer", "KEY:bench-xfr"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not soa_answered(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"craft did not start: {' '.join(cmd)}")
            time.sleep(0.2)
        transfer(port, total, False)  # warm: bodies built, pages touched
        messages = 0
        for _ in range(max(ROUNDS, 3)):
            for signed in (False, True):
                kind = "signed" if signed else "plain"
                before = cpu_seconds(proc.pid)
                seconds, messages = transfer(port, total, signed)
                results.setdefault(f"tsig axfr {kind} cpu ms", []).append(
                    1000 * (cpu_seconds(proc.pid) - before))
                results.setdefault(f"tsig axfr {kind} s", []).append(seconds)
        dig = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "-y", KEY, ORIGIN, "AXFR",
                              "+noall", "+answer"], capture_output=True, text=True, timeout=300,
                             check=False).stdout
        lines = dig.count("\n")
        if "Couldn't verify" in dig or "Transfer failed" in dig or lines < total:
            raise RuntimeError(f"dig -y did not verify the signed transfer ({lines} lines)")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    wall = {kind: statistics.median(results[f"tsig axfr {kind} s"]) for kind in ("plain", "signed")}
    notes.append(f"tsig: AXFR of a {total:,}-record zone ({messages} messages, each signed "
                 "with hmac-sha256 and chained) against the same transfer unsigned, "
                 f"{max(ROUNDS, 3)} interleaved rounds; wall time {wall['plain']:.2f} s unsigned, "
                 f"{wall['signed']:.2f} s signed; dig -y verified every message")


def main() -> int:
    import tempfile

    results: dict[str, list[float]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench_tsig(Path(tmp), results, notes)
    plain = statistics.median(results["tsig axfr plain cpu ms"])
    signed = statistics.median(results["tsig axfr signed cpu ms"])
    print(f"AXFR craft CPU unsigned {plain:.0f} ms, signed {signed:.0f} ms, ratio {signed / plain:.2f}")
    for key, values in results.items():
        print(key, ", ".join(f"{v:.3f}" for v in values))
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
