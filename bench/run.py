#!/usr/bin/env python3
"""make bench: craft against real peers, measured in one run on this machine.

DNS (dnsperf, UDP): craft dns-serve with 1 and 2 workers against dnslib's zone server, a
minimal pure-Python loop answering from precomputed bytes (one process's ceiling) and NSD.
HTTP (wrk, 50 keep-alive connections): craft web-serve against python3 -m http.server and
nginx (1 worker), on a 1 KB and a 1 MB file. Codec: decode+encode of typical responses
against dnspython, dnslib and Scapy. verify: a generated 100,000-message pcap against
Scapy's rdpcap with dissection; peak memory at 10,000 and 100,000 messages; what verify's
--stats and --html add to its CPU time on the same pcap. TSIG (bench/tsig.py): craft's
CPU time for a signed AXFR of a 100,000-record zone against the same AXFR unsigned.
Scale (bench/scale.py): a
1.1M-record zone against NSD (first answer, memory, AXFR to an NSD secondary, a new TCP
query under 2,000 idle connections), a SIGHUP reload under dnsperf load, and verify with
2 jobs against 1. DNSSEC (bench/dnssec.py): DO=1 queries to craft serving a signed zone
against craft's unsigned figure, and against NSD serving the same signed zone.

Rounds are interleaved (each round measures every peer once) and medians reported with
ratios craft/peer. Writes bench/RESULTS.md and bench/results.png. Exits 1 only if
something could not be measured. Traffic goes to 127.0.0.1 only; every server started here
is stopped here.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench"
BOUNDS = OUT / "bounds.md"  # what bounds each missed target and what was tried, by hand
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
PY = sys.executable
LAB = ["google.com", "youtube.com", "uwaterloo.ca", "wikipedia.org", "amazon.ca", "google.ca"]

from craft.dns.codec import decode, encode  # noqa: E402
from craft.dns.zone import default_zones  # noqa: E402
from craft.dns.zonefile import zone_to_text  # noqa: E402


def free_port() -> int:
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
    raise RuntimeError("no free port")


@contextlib.contextmanager
def service(cmd: list[str], ready: Callable[[], bool], cwd: Path = REPO) -> Iterator[None]:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not start: {' '.join(cmd)}")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def dns_ready(port: int) -> Callable[[], bool]:
    query = bytes.fromhex("beef00000001000000000000" "06676f6f676c6503636f6d00" "00010001")

    def check() -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.3)
            sock.sendto(query, ("127.0.0.1", port))
            try:
                return sock.recv(512)[:2] == b"\xbe\xef"
            except OSError:
                return False
    return check


def tcp_ready(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            return True
        except OSError:
            return False
    return check


# ---- DNS ----

CEILING = '''
import socket, sys
sys.path.insert(0, sys.argv[3])
from craft.dns.answer_cache import Authority
from craft.dns.zone import default_zones
authority = Authority(default_zones())
table = {}
for line in open(sys.argv[2]):
    name, rtype = line.split()
    from craft.dns_client import build_query
    from craft.dns.names import Name
    from craft.dns.constants import type_number
    from craft.dns.codec import encode
    q = encode(build_query(Name.from_text(name + "."), type_number(rtype), ident=0))
    r = authority.respond(q, 512)
    table[q[12:]] = (r[2], r[3:])  # keyed by the question as sent; RD is copied per query
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
recvfrom, sendto, get = sock.recvfrom, sock.sendto, table.get
while True:
    data, addr = recvfrom(512)
    entry = get(data[12:])
    if entry is not None:
        sendto(data[:2] + bytes((entry[0] | (data[2] & 1),)) + entry[1], addr)
'''


def query_file(path: Path) -> None:
    lines = []
    for name in LAB:
        lines += [f"{name} A", f"{name} NS", f"{name.upper()} A"]
    lines += ["google.com MX", "youtube.com AAAA", "nope.google.com A", "www.amazon.ca A",
              "example.org A", "google.ca SOA"]
    path.write_text("\n".join(lines) + "\n")


def dnsperf(port: int, queries: Path, qps: int | None = None) -> tuple[float, int]:
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-l", str(SECONDS),
           "-c", "8", "-q", "200", "-t", "2"]
    if qps:
        cmd += ["-Q", str(qps)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 30, check=True).stdout
    rate = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    return rate, lost


def bench_dns(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    zones = work / "zones"
    zones.mkdir()
    confs = []
    combined = []
    for zone in default_zones():
        text = zone_to_text(zone)
        path = zones / f"{zone.origin.to_text()}zone"
        path.write_text(text)
        combined.append(text.split("\n", 1)[1])
        confs.append(f"zone:\n  name: {zone.origin.to_text()}\n  zonefile: {path}\n")
    (work / "all.zone").write_text("".join(combined))
    (work / "ceiling.py").write_text(CEILING)
    queries = work / "queries.txt"
    query_file(queries)
    ports = {name: free_port() for name in ("craft-1", "craft-2", "dnslib", "ceiling", "nsd")}
    files = [str(p) for p in sorted(zones.glob("*.zone"))]
    nsd_conf = work / "nsd.conf"
    nsd_conf.write_text(
        f"server:\n  port: {ports['nsd']}\n  ip-address: 127.0.0.1\n  username: \"\"\n"
        f"  zonesdir: {work}\n  database: \"\"\n  pidfile: {work}/nsd.pid\n"
        f"  xfrdfile: {work}/xfrd.state\n  zonelistfile: {work}/zone.list\n  server-count: 2\n"
        # Debian builds NSD with response rate limiting on: off, or it measures the limit.
        "  rrl-ratelimit: 0\n"
        "remote-control:\n  control-enable: no\n" + "".join(confs))
    zone_args = [a for f in files for a in ("--zone", f)]
    commands = {
        "craft-1": [PY, "-m", "craft", "dns-serve", "--quiet", "--port", str(ports["craft-1"]), *zone_args],
        "craft-2": [PY, "-m", "craft", "dns-serve", "--quiet", "--workers", "2", "--port",
                    str(ports["craft-2"]), *zone_args],
        "dnslib": [PY, "-m", "dnslib.zoneresolver", "--zone", str(work / "all.zone"),
                   "--port", str(ports["dnslib"]), "--address", "127.0.0.1"],
        "ceiling": [PY, str(work / "ceiling.py"), str(ports["ceiling"]), str(queries), str(REPO)],
        "nsd": ["nsd", "-d", "-c", str(nsd_conf)],
    }
    with contextlib.ExitStack() as stack:
        for name, cmd in commands.items():
            stack.enter_context(service(cmd, dns_ready(ports[name])))
        for _ in range(ROUNDS):
            for name in commands:
                rate, lost = dnsperf(ports[name], queries)
                results.setdefault(f"dns {name}", []).append(rate)
                results.setdefault(f"dns {name} lost", []).append(lost)
        target = int(statistics.median(results["dns craft-1"]) * 0.8)
        rate, lost = dnsperf(ports["craft-1"], queries, qps=target)
        results["dns craft-1 at 80%"] = [rate]
        results["dns craft-1 at 80% lost"] = [lost]
        notes.append(f"80% load: {target} queries/s asked of craft-1 for {SECONDS}s, {lost} lost")


# ---- HTTP ----

def wrk(url: str) -> float:
    out = subprocess.run(["wrk", "-t", "2", "-c", "50", "-d", f"{SECONDS}s", url],
                         capture_output=True, text=True, timeout=SECONDS + 30, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if errors:  # a fast 403 is not a fast server: refuse to report it
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under wrk")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def check_serves(url: str, expected: bytes) -> None:
    """Each server must send the file itself before its speed means anything."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        body = reply.read()
    if reply.status != 200 or body != expected:
        raise RuntimeError(f"{url}: status {reply.status}, {len(body)} octets, not the file")


def bench_http(work: Path, results: dict[str, list[float]]) -> None:
    site = work / "site"
    shutil.copytree(REPO / "site", site)
    (site / "big.bin").write_bytes(os.urandom(1 << 20))
    for folder in (work, *work.parents):  # nginx's workers run as nobody when we are root
        if folder == Path(tempfile.gettempdir()):
            break
        folder.chmod(0o755)
    ports = {name: free_port() for name in ("craft", "http.server", "nginx")}
    (work / "nginx").mkdir()
    conf = work / "nginx" / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {work}/nginx/nginx.pid;\n"
        f"error_log {work}/nginx/error.log;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n  access_log off;\n  sendfile on;\n  client_body_temp_path {work}/nginx;\n"
        f"  proxy_temp_path {work}/nginx;\n  fastcgi_temp_path {work}/nginx;\n"
        f"  uwsgi_temp_path {work}/nginx;\n  scgi_temp_path {work}/nginx;\n"
        f"  server {{ listen 127.0.0.1:{ports['nginx']}; root {site}; }}\n}}\n")
    commands = {
        "craft": [PY, "-m", "craft", "web-serve", "--quiet", "--port", str(ports["craft"]),
                  "--root", str(site)],
        "http.server": [PY, "-m", "http.server", str(ports["http.server"]), "--bind", "127.0.0.1",
                        "--directory", str(site)],
        "nginx": ["nginx", "-c", str(conf), "-e", str(work / "nginx" / "error.log")],
    }
    with contextlib.ExitStack() as stack:
        for name, cmd in commands.items():
            stack.enter_context(service(cmd, tcp_ready(ports[name])))
        for name in commands:
            for path in ("/HelloWorld.html", "/big.bin"):
                check_serves(f"http://127.0.0.1:{ports[name]}{path}", (site / path[1:]).read_bytes())
        for _ in range(ROUNDS):
            for name in commands:
                for label, path in (("1KB", "/HelloWorld.html"), ("1MB", "/big.bin")):
                    rate = wrk(f"http://127.0.0.1:{ports[name]}{path}")
                    results.setdefault(f"http {label} {name}", []).append(rate)


# ---- codec ----

def bench_codec(results: dict[str, list[float]]) -> None:
    import dns.message
    import dnslib
    from scapy.layers.dns import DNS

    from craft.dns.answer_cache import Authority
    from craft.dns.names import Name
    from craft.dns_client import build_query

    authority = Authority(default_zones())
    samples = [authority.respond(encode(build_query(Name.from_text(n), t, ident=7)), 512)
               for n, t in (("google.com.", 1), ("nope.google.com.", 1), ("youtube.com.", 2))]
    assert all(samples)
    wires = [s for s in samples if s]

    def craft_op() -> None:
        for w in wires:
            encode(decode(w))

    def dnspython_op() -> None:
        for w in wires:
            dns.message.from_wire(w).to_wire()

    def dnslib_op() -> None:
        for w in wires:
            dnslib.DNSRecord.parse(w).pack()

    def scapy_op() -> None:
        for w in wires:
            packet = DNS(w)
            packet.clear_cache()  # make Scapy build, not hand back the bytes it read
            bytes(packet)

    signed = dnssec_answer()

    def craft_dnssec() -> None:
        encode(decode(signed))

    def dnspython_dnssec() -> None:
        dns.message.from_wire(signed).to_wire()

    for _ in range(ROUNDS):
        for name, op in (("craft", craft_op), ("dnspython", dnspython_op), ("dnslib", dnslib_op),
                         ("scapy", scapy_op)):
            number = 300
            seconds = min(timeit.repeat(op, number=number, repeat=3))
            results.setdefault(f"codec {name}", []).append(number * len(wires) / seconds)
        for name, op in (("craft", craft_dnssec), ("dnspython", dnspython_dnssec)):
            seconds = min(timeit.repeat(op, number=300, repeat=3))
            results.setdefault(f"codec dnssec {name}", []).append(300 / seconds)


def dnssec_answer() -> bytes:
    """A signed NXDOMAIN as an NSEC3 zone gives it (RFC 5155 7.2.2): SOA, three NSEC3 and
    their four RRSIGs, with a DO-bit OPT."""
    from craft.dns.message import Edns, Header, Message, Question
    from craft.dns.names import Name
    from craft.dns.zonefile import parse_record

    sig = ("13 2 300 20261229231750 20261129231750 9490 example.test. "
           "H2F0NoCV9wjRUlRPu27bjaHlA0oar3EJNuYpg9SL/cgK9/1mCthLAsfc8+JioSQazoSsuA+91fgkNPmkSGaBbw==")
    hashes = ("0CL6S3PTJ1G0DNLB2VRCUOV8QE7IPL7J", "4OGFT6V0RUMEELCR1QD1767EK95VDCVH",
              "M65AG6HCA9QV9TUD13TRQK8MJMPBO4Q6", "312HJPSMELG47LD4TC8NQSIU3VD3MGI3")
    lines = ["example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 "
             "604800 300", f"example.test. 300 IN RRSIG SOA {sig}"]
    for owner, following in itertools.pairwise(hashes):
        lines.append(f"{owner}.example.test. 300 IN NSEC3 1 0 0 ABCDEF {following} A NS SOA "
                     f"MX TXT AAAA RRSIG DNSKEY NSEC3PARAM")
        lines.append(f"{owner}.example.test. 300 IN RRSIG NSEC3 {sig.replace(' 2 ', ' 3 ', 1)}")
    message = Message(Header(id=7, qr=True, aa=True, rcode=3),
                      (Question(Name.from_text("nope.example.test."), 1),),
                      authority=tuple(parse_record(line) for line in lines))
    return encode(message.with_edns(Edns(do=True)))


# ---- verify ----

def write_pcap(path: Path, messages: int) -> None:
    """``messages`` DNS messages (query/response pairs) on UDP port 53, written directly."""
    from craft.dns.answer_cache import Authority
    from craft.dns.names import Name
    from craft.dns_client import build_query

    authority = Authority(default_zones())
    ether = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"

    def frame(payload: bytes, sport: int, dport: int) -> bytes:
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload  # no checksum
        total = 20 + len(udp)
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0,
                             b"\x7f\x00\x00\x01", b"\x7f\x00\x00\x01")
        words = struct.unpack("!10H", header)
        checksum = sum(words)
        checksum = (checksum & 0xFFFF) + (checksum >> 16)
        checksum = ~((checksum & 0xFFFF) + (checksum >> 16)) & 0xFFFF
        header = header[:10] + struct.pack("!H", checksum) + header[12:]
        return ether + header + udp

    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(messages // 2):
            # Every pair asks another name, so no reader can get by on repeated messages.
            name = Name.from_text(f"host{i}.{LAB[i % len(LAB)]}.")
            query = encode(build_query(name, ident=i & 0xFFFF))
            response = authority.respond(query, 512) or b""
            for data, ports in ((query, (40000 + i % 1000, 53)),
                                (response, (53, 40000 + i % 1000))):
                raw = frame(data, *ports)
                f.write(struct.pack("<IIII", 1764000000 + i // 1000, i % 1000, len(raw), len(raw)))
                f.write(raw)


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (kB) and exit code of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, int(usage.ru_maxrss), proc.returncode


def bench_verify(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    small, big = work / "10k.pcap", work / "100k.pcap"
    write_pcap(small, 10_000)
    write_pcap(big, 100_000)
    scapy = [PY, "-c", "import sys; from scapy.utils import rdpcap; from scapy.layers.dns import DNS; "
             "n = sum(1 for p in rdpcap(sys.argv[1]) if DNS in p); sys.exit(0 if n else 1)"]
    rounds = 1 if ROUNDS < 5 else 2  # the slowest figure: one round keeps make bench bounded
    for _ in range(rounds):
        seconds, rss, code = timed([PY, "-m", "craft", "verify", str(big)])
        if code != 0:
            raise RuntimeError(f"craft verify exited {code} on the generated pcap")
        results.setdefault("verify craft pps", []).append(100_000 / seconds)
        results.setdefault("verify craft rss 100k", []).append(rss)
        seconds, rss, code = timed([*scapy, str(big)])
        results.setdefault("verify scapy pps", []).append(100_000 / seconds)
        results.setdefault("verify scapy rss 100k", []).append(rss)
    _, rss_small, _ = timed([PY, "-m", "craft", "verify", str(small)])
    results["verify craft rss 10k"] = [rss_small]
    notes.append("verify's figure includes Scapy: it dissects every message with Scapy too "
                 "(the oracle) besides decoding, comparing and re-encoding it with craft")


def cpu_timed(cmd: list[str]) -> tuple[float, int]:
    """CPU seconds (user + system) and exit code of one child process: steadier than wall
    time when other work shares the cores, and what a ratio of two runs of one program needs."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def bench_report(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    """What --stats and --html add to verify, as ratios of CPU time on one 100,000-message
    pcap, the three runs interleaved."""
    big = work / "100k.pcap"
    if not big.exists():
        write_pcap(big, 100_000)
    page = work / "100k.html"
    plain = [PY, "-m", "craft", "verify", str(big)]
    rounds = 1 if ROUNDS < 5 else 2  # 100,000 messages three times: minutes a round
    for _ in range(rounds):
        for key, cmd in (("report plain", plain), ("report stats", [*plain, "--stats"]),
                         ("report html", [*plain, "--html", str(page)])):
            seconds, code = cpu_timed(cmd)
            if code != 0:
                raise RuntimeError(f"{' '.join(cmd[2:])} exited {code} on the generated pcap")
            results.setdefault(key, []).append(seconds)
    size = page.stat().st_size
    results["report html octets per message"] = [size / 100_000]
    notes.append(f"verify --html on the 100,000-message pcap wrote {size / 1e6:,.0f} MB "
                 f"({size / 100_000:,.0f} octets a message)")


def med(results: dict[str, list[float]], key: str) -> float:
    return statistics.median(results[key])


Row = tuple[str, str, str, str, str, str]


def report(results: dict[str, list[float]], notes: list[str], started: float) -> tuple[str, list[Row]]:
    rows: list[Row] = []

    def ratio(label: str, ours: str, peer: str, target: float | None, unit: str,
              at_most: bool = False) -> None:
        """``at_most``: a cost, whose ratio must stay at or below the target."""
        value = med(results, ours) / med(results, peer)
        met = target is not None and (value <= target if at_most else value >= target)
        verdict = "" if target is None else ("met" if met else "MISSED")
        shown = "-" if target is None else (f"<={target:g}" if at_most else f"{target:g}")
        rows.append((label, f"{med(results, ours):,.0f} {unit}", f"{med(results, peer):,.0f} {unit}",
                     f"{value:.2f}", shown, verdict))

    ratio("DNS craft 1 worker / dnslib", "dns craft-1", "dns dnslib", 10, "q/s")
    ratio("DNS craft 1 worker / pure-Python ceiling", "dns craft-1", "dns ceiling", 0.9, "q/s")
    ratio("DNS craft 2 workers / NSD (2 servers)", "dns craft-2", "dns nsd", 0.5, "q/s")
    ratio("HTTP 1 KB craft / http.server", "http 1KB craft", "http 1KB http.server", 5, "req/s")
    ratio("HTTP 1 KB craft / nginx", "http 1KB craft", "http 1KB nginx", 0.3, "req/s")
    ratio("HTTP 1 MB craft / http.server", "http 1MB craft", "http 1MB http.server", 5, "req/s")
    ratio("HTTP 1 MB craft / nginx", "http 1MB craft", "http 1MB nginx", 0.3, "req/s")
    ratio("codec craft / dnspython (decode+encode)", "codec craft", "codec dnspython", 3, "op/s")
    ratio("codec craft / dnslib", "codec craft", "codec dnslib", None, "op/s")
    ratio("codec craft / Scapy", "codec craft", "codec scapy", None, "op/s")
    ratio("codec DNSSEC answer craft / dnspython", "codec dnssec craft", "codec dnssec dnspython",
          None, "op/s")
    ratio("verify craft / Scapy rdpcap+dissect", "verify craft pps", "verify scapy pps", 1, "msg/s")
    ratio("verify --stats / verify (CPU time)", "report stats", "report plain", 1.1, "s", at_most=True)
    ratio("verify --html / verify (CPU time)", "report html", "report plain", 2, "s", at_most=True)
    if "dnssec signed" in results:  # bench/dnssec.py: issue 17's figures
        ratio("DNSSEC: craft DO=1 signed zone / craft unsigned", "dnssec signed",
              "dnssec unsigned", 0.8, "q/s")
        ratio("DNSSEC: craft DO=1 / NSD DO=1 (1 server), same signed zone", "dnssec signed",
              "dnssec nsd", None, "q/s")
    if "tsig axfr plain cpu ms" in results:  # bench/tsig.py: issue 22's figure
        ratio("AXFR of a 100k zone: TSIG-signed / unsigned (craft CPU time)",
              "tsig axfr signed cpu ms", "tsig axfr plain cpu ms", 1.25, "ms", at_most=True)
    if "scale craft first answer s" in results:  # bench/scale.py: issue 21's figures
        ratio("1.1M zone: time to first answer craft / NSD", "scale craft first answer s",
              "scale nsd first answer s", 10, "s", at_most=True)
        ratio("1.1M zone: resident memory craft / NSD", "scale craft rss kB", "scale nsd rss kB",
              2, "kB", at_most=True)
        ratio("new TCP query with 2,000 idle connections: answered craft / NSD",
              "scale craft tcp with idle", "scale nsd tcp with idle", 1, "")
        ratio("AXFR of the 1.1M zone to NSD: craft / NSD (time)", "scale craft axfr s",
              "scale nsd axfr s", 3, "s", at_most=True)
        ratio("verify 100k messages: 2 jobs / 1 job", "verify jobs 2 pps", "verify jobs 1 pps",
              1.6, "msg/s")
        lost = med(results, "scale reload lost")
        # A run the reload did not finish in proves nothing: it counts as missed.
        swapped = med(results, "scale reload swapped") if "scale reload swapped" in results else 1
        rows.append(("1.1M zone: SIGHUP reload under 1,000 q/s from dnsperf, queries lost",
                     f"{lost:.0f}", "-", f"{lost:.0f}", "0",
                     "met" if lost == 0 and swapped else "MISSED"
                     + ("" if swapped else " (no swap within the run)")))
        if "scale reload lost, 2 workers" in results:
            lost = med(results, "scale reload lost, 2 workers")
            rows.append(("the same reload with --workers 2 (zones read once), queries lost",
                         f"{lost:.0f}", "-", f"{lost:.0f}", "0", "met" if lost == 0 else "MISSED"))
    lost = int(med(results, "dns craft-1 at 80% lost"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines = [
        "# make bench: craft against its peers, one run, one machine", "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}",
        f"- machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
        f"{ROUNDS} interleaved rounds of {SECONDS} s, medians",
        "- DNS: `dnsperf -s 127.0.0.1 -p PORT -d queries -l 5 -c 8 -q 200` over lab names (A, NS,"
        " upper case), NODATA, NXDOMAIN and out-of-zone names; craft `dns-serve --quiet --zone ...`"
        " with 1 and 2 workers; `python -m dnslib.zoneresolver`; a minimal pure-Python loop"
        " answering from precomputed bytes; NSD with `server-count: 2`",
        "- HTTP: `wrk -t2 -c50 -d5s` on HelloWorld.html (1 KB) and a 1 MB file; craft `web-serve"
        " --quiet`, `python3 -m http.server`, nginx with 1 worker, sendfile on, no access log",
        "- codec: decode + encode of three typical responses (2 A, NXDOMAIN with SOA, NS with glue);"
        " and of a signed NXDOMAIN (SOA, three NSEC3, four RRSIG, OPT with DO) against dnspython",
        "- verify: `craft verify` against `rdpcap` + DNS dissection, on a generated 100,000-message pcap",
        "- DNSSEC: the same dnsperf run with `-D` (DO set) against craft (1 worker) and NSD"
        " (`server-count: 1`) serving an NSEC3-signed zone, and with `-e` (EDNS, no DO) against"
        " craft serving that zone unsigned",
        "- verify --stats and --html: CPU seconds of `craft verify` with each against without, on"
        " the same pcap (a cost: the ratio must stay at or under its target)",
        "", "| figure | craft | peer | ratio | target | |", "|---|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows), "",
        f"- lost queries in the throughput runs: craft-1 {int(max(results['dns craft-1 lost']))}, "
        f"craft-2 {int(max(results['dns craft-2 lost']))}, NSD {int(max(results['dns nsd lost']))}",
        f"- at 80% of craft-1's measured maximum: {lost} lost",
        f"- nginx's own ratio to http.server, same run: 1 KB "
        f"{med(results, 'http 1KB nginx') / med(results, 'http 1KB http.server'):.2f}, 1 MB "
        f"{med(results, 'http 1MB nginx') / med(results, 'http 1MB http.server'):.2f}",
        f"- verify peak memory: {med(results, 'verify craft rss 10k'):,.0f} kB at 10,000 messages, "
        f"{med(results, 'verify craft rss 100k'):,.0f} kB at 100,000 (Scapy's rdpcap: "
        f"{med(results, 'verify scapy rss 100k'):,.0f} kB at 100,000)",
        *(f"- {note}" for note in notes),
        f"- the whole run took {time.monotonic() - started:.0f} s",
        "", BOUNDS.read_text() if BOUNDS.exists() else "",
    ]
    return "\n".join(lines) + "\n", rows


def plot(rows: list[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if float(r[3]) > 0]  # a count of lost queries is no ratio to plot
    labels = [r[0] for r in rows]
    values = [float(r[3]) for r in rows]
    targets = [float(r[4].removeprefix("<=")) if r[4] != "-" else None for r in rows]
    fig, ax = plt.subplots(figsize=(10, 6))
    colors = ["tab:green" if r[5] != "MISSED" else "tab:red" for r in rows]
    ax.barh(labels, values, color=colors)
    for i, t in enumerate(targets):
        if t is not None:
            ax.plot([t, t], [i - 0.4, i + 0.4], color="black", linewidth=2)
    ax.set_xscale("log")
    ax.set_xlabel("ratio craft / peer (log scale); black marks: targets")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(OUT / "results.png", dpi=100)


def bench_scale(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    from scale import bench_scale as scale  # bench/scale.py, beside this file

    scale(work, results, notes)


def bench_dnssec(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    from dnssec import bench_dnssec as dnssec  # bench/dnssec.py, beside this file

    dnssec(work, results, notes)
def bench_tsig(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    from tsig import bench_tsig as tsig  # bench/tsig.py, beside this file

    tsig(work, results, notes)


def main() -> int:
    started = time.monotonic()
    for tool in ("dnsperf", "wrk", "nsd", "nginx"):
        if not shutil.which(tool):
            print(f"bench: {tool} missing (make bench installs it)", file=sys.stderr)
            return 1
    results: dict[str, list[float]] = {}
    notes: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for name, step in (("dns", lambda: bench_dns(work / "d", results, notes)),
                               ("http", lambda: bench_http(work / "h", results)),
                               ("codec", lambda: bench_codec(results)),
                               ("verify", lambda: bench_verify(work / "v", results, notes)),
                               ("report", lambda: bench_report(work / "v", results, notes)),
                               ("dnssec", lambda: bench_dnssec(work / "k", results, notes)),
                               ("tsig", lambda: bench_tsig(work / "t", results, notes)),
                               ("scale", lambda: bench_scale(work / "s", results, notes))):
                folder = {"report": "v", "dnssec": "k"}.get(name, name[0])
                (work / folder).mkdir(exist_ok=True)
                print(f"bench: {name} ...", flush=True)
                step()
    except (RuntimeError, subprocess.SubprocessError, OSError, AttributeError) as exc:
        print(f"bench: could not measure: {exc}", file=sys.stderr)
        return 1
    text, rows = report(results, notes, started)
    (OUT / "RESULTS.md").write_text(text)
    plot(rows)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
