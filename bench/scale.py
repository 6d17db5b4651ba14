"""make bench, scale part: craft and NSD on one zone of 1.1 million records (issue 21).

Measured in the same run, each as a ratio: time until the first answer (``ROUNDS``
interleaved cold starts of each server, ``BENCH_SCALE_ROUNDS``, default 3) and resident
memory (a server's whole process tree) against NSD; queries lost during a SIGHUP reload
under 1,000 queries/s from dnsperf; whether a new TCP query is answered while 2,000 idle
TCP connections are open, as NSD answers it; the time an NSD secondary takes to transfer
the zone from craft against from NSD (``ROUNDS`` interleaved transfers); ``craft verify`` on 100,000 messages with 2 jobs
against 1; the reload again with ``--workers 2`` (``BENCH_SCALE_ONLY=workers``, or ``workersN`` for
N processes: that part alone). ``BENCH_SCALE_RECORDS`` sets the zone's size (default 1,100,000). Every
server started here is stopped here; traffic goes to 127.0.0.1 only.

Run alone: ``python3 bench/scale.py`` prints the figures (``run.py`` calls ``bench_scale``).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_zone import ORIGIN, write_zone  # noqa: E402
from run import PY, REPO, free_port, write_pcap  # noqa: E402

RECORDS = int(os.environ.get("BENCH_SCALE_RECORDS", "1100000"))
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "3"))  # cold starts and transfers, each server
IDLE = 2000
RELOAD_QPS = 1000
LOAD_LIMIT = 900.0  # seconds a server may take to load the zone before the bench gives up


def dns_query(name: str, rtype: int = 1, ident: int = 0x5CA1) -> bytes:
    wire = b"".join(bytes((len(p),)) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + wire + struct.pack("!HH", rtype, 1)


def answered(port: int, name: str, timeout: float = 0.3) -> bool:
    """Whether ``name`` (a TXT name of the zone) gets its TXT answer on ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(dns_query(name, 16), ("127.0.0.1", port))
        try:
            reply = sock.recv(4096)
        except OSError:
            return False
        return reply[3] & 0xF == 0 and reply[6:8] != b"\0\0"  # NOERROR with an answer


def tree_rss(pid: int) -> int:
    """Resident kB of a process and all its descendants (NSD: main, xfrd and servers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    total = 0
    for member in family:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


@contextlib.contextmanager
def started(cmd: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def first_answer(proc: subprocess.Popen[bytes], port: int, name: str, since: float) -> float:
    """Seconds from ``since`` until ``name`` is answered on ``port``."""
    while not answered(port, name):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited {proc.returncode} while loading")  # type: ignore[index]
        if time.monotonic() - since > LOAD_LIMIT:
            raise RuntimeError(f"no answer within {LOAD_LIMIT:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - since


def nsd_conf(work: Path, name: str, port: int, zone: str) -> list[str]:
    """An NSD in the foreground on ``port`` with its files in ``work/name``; ``zone`` is
    its ``zone:`` clause."""
    home = work / name
    home.mkdir(exist_ok=True)
    conf = home / "nsd.conf"
    conf.write_text(
        f"server:\n  port: {port}\n  ip-address: 127.0.0.1\n  username: \"\"\n"
        f"  zonesdir: {home}\n  database: \"\"\n  pidfile: {home}/nsd.pid\n"
        f"  xfrdfile: {home}/xfrd.state\n  zonelistfile: {home}/zone.list\n  server-count: 1\n"
        "  rrl-ratelimit: 0\n  tcp-count: 1000\n"
        "remote-control:\n  control-enable: no\n" + zone)
    return ["nsd", "-d", "-c", str(conf)]


def idle_then_tcp(port: int, idle: int = IDLE, timeout: float = 5.0) -> tuple[bool, float]:
    """Open ``idle`` TCP connections that send nothing, then ask one query over a new one:
    whether it was answered, and how long that took."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, idle * 2 + 256)), hard))
    held: list[socket.socket] = []
    try:
        for _ in range(idle):
            # Non-blocking: a connection the server has not accepted yet still counts
            # against it (the listen queue), and the bench does not wait on each.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            held.append(sock)
        time.sleep(1.0)  # let the server take what it takes
        start = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                query = dns_query(f"host1.{ORIGIN}")
                sock.sendall(struct.pack("!H", len(query)) + query)
                head = sock.recv(2, socket.MSG_WAITALL)
                ok = len(head) == 2 and len(sock.recv(struct.unpack("!H", head)[0],
                                                      socket.MSG_WAITALL)) > 12
        except OSError:
            ok = False
        return ok, time.monotonic() - start
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def transfer_time(work: Path, name: str, primary: int, last: str) -> float:
    """Seconds an NSD secondary takes, from its start, to answer the zone's last name after
    transferring the zone from ``primary``."""
    port = free_port()
    cmd = nsd_conf(work, name, port, f"zone:\n  name: {ORIGIN}\n  zonefile: sec.zone\n"
                   f"  request-xfr: 127.0.0.1@{primary} NOKEY\n")
    start = time.monotonic()
    with started(cmd, work / f"{name}.log") as proc:
        return first_answer(proc, port, last, start)


def dnsperf_during_reload(port: int, proc: subprocess.Popen[bytes], zone: Path, log: Path,
                          seconds: int, hosts: int) -> tuple[int, int, float | None]:
    """dnsperf at ``RELOAD_QPS`` for ``seconds`` while craft reloads a changed ``zone``
    (SIGHUP one second in): queries sent, queries lost, and the seconds from the SIGHUP
    until the new zone was swapped in (None: not within the run)."""
    queries = zone.parent / "reload-queries.txt"
    rng = random.Random(21)
    queries.write_text("".join(f"host{rng.randrange(hosts)}.{ORIGIN} A\n" for _ in range(20000)))
    with open(zone, "a", encoding="ascii") as out:  # a new name each time: a real change
        out.write(f"bench-reload-{time.monotonic_ns()} IN A 192.0.2.21\n")
    before = log.read_text(errors="replace").count("reloaded ")
    run = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries),
                            "-l", str(seconds), "-Q", str(RELOAD_QPS), "-c", "4", "-t", "2"],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    signalled = time.monotonic()
    proc.send_signal(signal.SIGHUP)
    swapped: float | None = None
    while run.poll() is None:  # the line is looked for while dnsperf runs, 0.2 s apart
        if swapped is None and log.read_text(errors="replace").count("reloaded ") > before:
            swapped = time.monotonic() - signalled
        time.sleep(0.2)
    out, _ = run.communicate(timeout=60)
    sent = int(re.search(r"Queries sent:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    return sent, lost, swapped


def verify_jobs(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    pcap = work / "100k.pcap"
    write_pcap(pcap, 100_000)
    for jobs in (1, 2):
        start = time.perf_counter()
        proc = subprocess.Popen([PY, "-m", "craft", "verify", "--jobs", str(jobs), str(pcap)],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"craft verify --jobs {jobs} failed on the generated pcap")
        results[f"verify jobs {jobs} pps"] = [100_000 / seconds]
        notes.append(f"verify --jobs {jobs} on 100,000 messages: {seconds:.1f} s wall, "
                     f"{usage.ru_utime + usage.ru_stime:.1f} s CPU (workers included), "
                     f"peak {usage.ru_maxrss / 1024:.0f} MB in the largest process; load "
                     f"average {os.getloadavg()[0]:.1f}")


def reload_with_workers(work: Path, zone: Path, hosts: int, last: str,
                        results: dict[str, list[float]], notes: list[str],
                        workers: int = 2) -> None:
    """The same reload under dnsperf with ``--workers 2``: the parent loads the zone once
    and a new generation of workers takes over from the old one on the same sockets."""
    port = free_port()
    log = work / f"craft-workers-{workers}.log"
    cmd = [PY, "-m", "craft", "dns-serve", "--quiet", "--port", str(port), "--workers",
           str(workers), "--zone", str(zone)]
    print(f"bench: scale: craft --workers {workers} reload ...", flush=True)
    start = time.monotonic()
    with started(cmd, log) as proc:
        load = first_answer(proc, port, last, start)
        time.sleep(1.0)
        rss = tree_rss(proc.pid)
        seconds_run = int(min(600, load * 2 + 10))  # the parent loads; the workers serve on
        sent, lost, swapped = dnsperf_during_reload(port, proc, zone, log, seconds_run, hosts)
        text = log.read_text(errors="replace")
    results[f"scale reload lost, {workers} workers"] = [lost]
    notes.append(f"--workers {workers}: first answer {load:.1f} s, RSS {rss / 1024:,.0f} MB "
                 f"(process tree); SIGHUP reload under {RELOAD_QPS} queries/s for {seconds_run} s: "
                 f"{sent:,} sent, {lost} lost; zones loaded {text.count('reloaded ')} time(s), "
                 + ("NOT within the run" if swapped is None else f"{swapped:.1f} s after SIGHUP")
                 + f"; new generation: {'yes' if 'zones loaded once' in text else 'NO'} "
                 f"(load average {os.getloadavg()[0]:.1f})")


def running(work: Path, zone: Path, servers: tuple[tuple[str, list[str], int], ...],
            procs: dict[str, subprocess.Popen[bytes]], hosts: int, last: str,
            results: dict[str, list[float]], notes: list[str]) -> None:
    """The figures taken with both servers loaded: memory, idle TCP, transfers (rounds
    interleaved, NSD's then craft's), then craft's reload under dnsperf."""
    time.sleep(1.0)  # settled: buffers the first answers allocated count too
    for name, _, port in servers:
        results[f"scale {name} rss kB"] = [tree_rss(procs[name].pid)]
        ok, seconds = idle_then_tcp(port)
        results[f"scale {name} tcp with idle"] = [1.0 if ok else 0.0]
        notes.append(f"{name}: a new TCP query with {IDLE:,} idle connections open "
                     f"{'answered' if ok else 'NOT answered'} in {seconds:.2f} s")
    for round_ in range(ROUNDS):
        # The order alternates; each secondary gets a fresh home (one that finds its old
        # zone file only checks the SOA, and transfers nothing).
        for name, _, port in servers[::-1] if round_ % 2 else servers:
            print(f"bench: scale: AXFR from {name}, round {round_ + 1} of {ROUNDS} ...", flush=True)
            results.setdefault(f"scale {name} axfr s", []).append(
                transfer_time(work, f"sec-{name}-{round_}", port, last))
    notes.append("AXFR to an NSD secondary, craft / NSD per round: " + ", ".join(
        f"{c:.2f} / {n:.2f} s = {c / n:.2f}" for n, c in zip(
            results["scale nsd axfr s"], results["scale craft axfr s"], strict=True))
        + f" (load average {os.getloadavg()[0]:.1f})")
    craft_port = servers[1][2]
    load = statistics.median(results["scale craft first answer s"])
    # Long enough for the reload, which shares the interpreter with the serving thread
    # (about 2.5 times a cold start at 1,000 queries/s), with room for the machine's load.
    seconds_run = int(min(600, load * 4 + 20))
    sent, lost, swapped = dnsperf_during_reload(craft_port, procs["craft"], zone,
                                                work / "craft.log", seconds_run, hosts)
    results["scale reload lost"] = [lost]
    results["scale reload swapped"] = [0.0 if swapped is None else 1.0]
    notes.append(f"SIGHUP reload under {RELOAD_QPS} queries/s for {seconds_run} s: "
                 f"{sent:,} sent, {lost} lost; new zone swapped in "
                 + ("NOT within the run" if swapped is None else f"{swapped:.1f} s after SIGHUP"))


def bench_scale(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    zone = work / "big.zone"
    with open(zone, "w", encoding="ascii") as out:
        total = write_zone(out, RECORDS)
    if os.environ.get("BENCH_SCALE_ONLY", "").startswith("workers"):  # this part alone
        reload_with_workers(work, zone, total - total // 11, f"txt{RECORDS // 11 - 1}.{ORIGIN}",
                            results, notes, int(os.environ["BENCH_SCALE_ONLY"][7:] or "2"))
        return
    hosts = total - total // 11
    last = f"txt{RECORDS // 11 - 1}.{ORIGIN}"
    nsd_port, craft_port = free_port(), free_port()
    nsd_cmd = nsd_conf(work, "nsd-primary", nsd_port,
                       f"zone:\n  name: {ORIGIN}\n  zonefile: {zone}\n  provide-xfr: 127.0.0.1 NOKEY\n")
    craft_cmd = [PY, "-m", "craft", "dns-serve", "--quiet", "--port", str(craft_port),
                 "--zone", str(zone)]
    notes.append(f"scale: one zone of {total:,} records ({hosts:,} A, {total - hosts - 5:,} TXT), "
                 "written by bench/make_zone.py")
    servers = (("nsd", nsd_cmd, nsd_port), ("craft", craft_cmd, craft_port))
    # Interleaved cold starts, NSD then craft: the machine's other load moves one start
    # by a factor of two, and the report takes medians. The last round's servers keep
    # running for the figures taken with the zone loaded.
    with contextlib.ExitStack() as keep:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        for round_ in range(ROUNDS):
            for name, cmd, port in servers:
                print(f"bench: scale: {name} start, round {round_ + 1} of {ROUNDS} ...", flush=True)
                with contextlib.ExitStack() as this:
                    start = time.monotonic()
                    proc = this.enter_context(started(cmd, work / f"{name}.log"))
                    results.setdefault(f"scale {name} first answer s", []).append(
                        first_answer(proc, port, last, start))
                    if round_ == ROUNDS - 1:
                        keep.push(this.pop_all())  # the last round's servers keep running
                procs[name] = proc
        running(work, zone, servers, procs, hosts, last, results, notes)
    starts = {name: ", ".join(f"{s:.1f}" for s in results[f"scale {name} first answer s"])
              for name, _, _ in servers}
    notes.append(f"first answers over {ROUNDS} interleaved cold starts: NSD {starts['nsd']} s; "
                 f"craft {starts['craft']} s (ratios per round: " + ", ".join(
                     f"{c / n:.2f}" for n, c in zip(results["scale nsd first answer s"],
                                                    results["scale craft first answer s"],
                                                    strict=True)) + ")")
    reload_with_workers(work, zone, hosts, last, results, notes)
    verify_jobs(work, results, notes)


def main() -> int:
    results: dict[str, list[float]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench_scale(Path(tmp), results, notes)
    for key, values in results.items():
        print(f"{key}: {values[0]:,.2f}")
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
