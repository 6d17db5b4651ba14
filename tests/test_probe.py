"""craft dns-probe against craft (every row passes) and against a real NSD (rows run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import running_nsd, wait_until

from craft.dns.codec import decode, encode
from craft.dns.message import Edns
from craft.dns.names import Name
from craft.dns.wire import Layout
from craft.dns.zone import default_zones
from craft.dns_client import build_query
from craft.probe import build_probes, run_probes
from craft.transport import send_bytes


def probe(port: int, zone: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "craft", "dns-probe", f"127.0.0.1:{port}", zone,
                           "--json"], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "NO_COLOR": "1"})


def test_every_probe_passes_against_craft(dns_server: tuple[str, int]) -> None:
    result = probe(dns_server[1], "google.com")
    rows = json.loads(result.stdout)
    assert result.returncode == 0, [r for r in rows if not r["ok"]]
    assert len(rows) == len(build_probes(Name.from_text("google.com."))) >= 20
    assert all(row["ok"] for row in rows)


def test_probes_fail_where_the_server_is_wrong(dns_server: tuple[str, int]) -> None:
    # craft is not authoritative for example.org: the zone probes must notice.
    results = run_probes(dns_server, Name.from_text("example.org."), timeout=1)
    failed = {r.name for r in results if not r.ok}
    assert {"plain query", "SOA at apex", "NXDOMAIN"} <= failed
    assert "out of zone" not in failed


def test_probes_run_against_nsd(tmp_path: Path) -> None:
    zone = default_zones()[0]
    path = tmp_path / "google.com.zone"
    path.write_text("".join(r.to_text() + "\n" for r in zone.records))
    with running_nsd(tmp_path, f"zone:\n  name: google.com.\n  zonefile: {path}\n") as port:
        wait_until(lambda: probe(port, "google.com").stdout.strip().startswith("["), "nsd silent")
        rows = json.loads(probe(port, "google.com").stdout)
        # NSD's own compression, kept byte for byte by a layout-preserving decode.
        for name, rtype in (("google.com.", 1), ("google.com.", 2), ("google.com.", 255),
                            ("nope.google.com.", 1), ("ns1.google.com.", 1)):
            query = encode(build_query(Name.from_text(name), rtype, edns=Edns()))
            reply = send_bytes(query, ("127.0.0.1", port), timeout=2).reply
            assert reply is not None
            layout = Layout()
            assert encode(decode(reply, layout=layout), layout=layout) == reply
    assert len(rows) == len(build_probes(Name.from_text("google.com.")))
    assert all(row["observed"] for row in rows)
    by_name = {row["probe"]: row for row in rows}
    assert by_name["plain query"]["ok"] and by_name["NXDOMAIN"]["ok"]
