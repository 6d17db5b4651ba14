"""make bench, DNSSEC part: signed answers cost no more than unsigned ones (issue 17).

One zone (tests/dnssec_zones.py: positive names, a wildcard, NXDOMAIN and NODATA cases),
signed with NSEC3 by ``dnssec-signzone``. dnsperf sends the same questions with DO set to
craft serving the signed zone, with EDNS but no DO to craft serving the zone unsigned
(craft's unsigned figure), and with DO set to NSD (1 server, like craft's 1 worker) serving
the signed zone. Rounds are interleaved; medians. Every server started here is stopped
here; traffic goes to 127.0.0.1 only.

Run alone: ``python3 bench/dnssec.py`` prints the figures (``run.py`` calls ``bench_dnssec``).
"""

from __future__ import annotations

import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from dnssec_zones import ORIGIN, UNSIGNED, signed_zone  # noqa: E402
from run import PY, ROUNDS, SECONDS, dns_ready, free_port, service  # noqa: E402

QUESTIONS = ["@ SOA", "@ MX", "@ DNSKEY", "www A", "www AAAA", "mail A", "alias A",
             "host.wild A", "a.b.wild TXT", "nope A", "x.nope A", "www TXT", "ent A",
             "www.insecure A", "secure DS"]


def _queries(path: Path) -> None:
    lines = []
    for question in QUESTIONS:
        name, rtype = question.split()
        lines.append(f"{ORIGIN if name == '@' else name + '.' + ORIGIN} {rtype}")
    path.write_text("\n".join(lines) + "\n")


def _dnsperf(port: int, queries: Path, flags: list[str]) -> tuple[float, int]:
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-l", str(SECONDS),
           "-c", "8", "-q", "200", "-t", "2", *flags]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 30, check=True).stdout
    rate = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    return rate, lost


def bench_dnssec(work: Path, results: dict[str, list[float]], notes: list[str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    zone = signed_zone(work / "zone", "nsec3")
    unsigned = work / "unsigned.zone"
    unsigned.write_text(UNSIGNED.format(serial=2024010101))
    queries = work / "queries.txt"
    _queries(queries)
    ports = {name: free_port() for name in ("signed", "unsigned", "nsd")}
    nsd_conf = work / "nsd.conf"
    nsd_conf.write_text(
        f"server:\n  port: {ports['nsd']}\n  ip-address: 127.0.0.1\n  username: \"\"\n"
        f"  zonesdir: {work}\n  database: \"\"\n  pidfile: {work}/nsd.pid\n"
        f"  xfrdfile: {work}/xfrd.state\n  zonelistfile: {work}/zone.list\n  server-count: 1\n"
        "  rrl-ratelimit: 0\n"  # Debian's NSD limits response rates: off, or we measure that
        "remote-control:\n  control-enable: no\n"
        f"zone:\n  name: {ORIGIN}\n  zonefile: {zone.path}\n")
    runs = {  # name: (command, dnsperf flags)
        "signed": ([PY, "-m", "craft", "dns-serve", "--quiet", "--port", str(ports["signed"]),
                    "--zone", str(zone.path)], ["-D"]),
        "unsigned": ([PY, "-m", "craft", "dns-serve", "--quiet", "--port", str(ports["unsigned"]),
                      "--zone", str(unsigned)], ["-e"]),
        "nsd": (["nsd", "-d", "-c", str(nsd_conf)], ["-D"]),
    }
    with contextlib.ExitStack() as stack:
        for name, (cmd, _) in runs.items():
            stack.enter_context(service(cmd, dns_ready(ports[name])))
        for _ in range(ROUNDS):
            for name, (_, flags) in runs.items():
                rate, lost = _dnsperf(ports[name], queries, flags)
                results.setdefault(f"dnssec {name}", []).append(rate)
                results.setdefault(f"dnssec {name} lost", []).append(lost)
    lost = {name: int(max(results[f"dnssec {name} lost"])) for name in runs}
    notes.append(f"DNSSEC: {len(QUESTIONS)} questions (positive, wildcard, NXDOMAIN, NODATA, ENT, "
                 f"referral, DS) on an NSEC3-signed zone; queries lost: craft signed "
                 f"{lost['signed']}, craft unsigned {lost['unsigned']}, NSD {lost['nsd']}")


def main() -> int:
    results: dict[str, list[float]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        bench_dnssec(Path(tmp), results, notes)
    med = {key: statistics.median(values) for key, values in results.items()}
    print(f"craft DO=1 signed {med['dnssec signed']:,.0f} q/s, craft unsigned "
          f"{med['dnssec unsigned']:,.0f} q/s: ratio {med['dnssec signed'] / med['dnssec unsigned']:.2f}"
          f" (target 0.8); NSD DO=1 signed {med['dnssec nsd']:,.0f} q/s: craft/NSD "
          f"{med['dnssec signed'] / med['dnssec nsd']:.2f}")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
