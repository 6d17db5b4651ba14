"""Interop with code we did not write: dig and kdig against craft, craft against NSD."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import running_nsd, wait_until

from craft.dns.zone import LAB_TABLE, default_zones

pytestmark = pytest.mark.skipif(
    not shutil.which("dig"), reason="dig missing: `make test` installs bind9-dnsutils"
)


def dig(tool: str, port: int, name: str, rtype: str = "A", *extra: str) -> list[tuple[str, str, str, str, str]]:
    limits = ["+time=2", "+tries=1"] if tool == "dig" else ["+timeout=2", "+retry=0"]
    out = subprocess.run(
        [tool, "@127.0.0.1", "-p", str(port), name, rtype, "+norecurse", "+noall", "+answer",
         *limits, *extra],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    records = []
    for line in out.splitlines():
        if line.strip() and not line.startswith(";"):
            owner, ttl, cls, typ, *rdata = line.split()
            records.append((owner.lower(), ttl, cls, typ, " ".join(rdata)))
    return records


def craft_ask(port: int, name: str, rtype: str = "A") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "craft", "dns-ask", name, "-t", rtype, "--port", str(port)],
        capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def lines_from_dig(records: list[tuple[str, str, str, str, str]]) -> list[str]:
    return [
        f"{owner.rstrip('.')}: type {typ}, class {cls}, TTL {ttl}, addr (4) {rdata}"
        for owner, ttl, cls, typ, rdata in records
    ]


@pytest.mark.parametrize("tool", ["dig", "kdig"])
def test_dig_and_kdig_see_the_same_records_as_craft(dns_server: tuple[str, int], tool: str) -> None:
    if not shutil.which(tool):
        pytest.skip(f"{tool} missing")
    port = dns_server[1]
    for domain, _, _ in LAB_TABLE:
        records = dig(tool, port, domain)
        assert records, f"{tool} got nothing for {domain}"
        assert lines_from_dig(records) == craft_ask(port, domain).stdout.splitlines()
    for extra in ([], ["+tcp"], ["+noedns"]):
        assert dig(tool, port, "google.com", "A", *extra)[0][4] == "192.165.1.1"
    soa = dig(tool, port, "uwaterloo.ca", "SOA")
    assert soa[0][3] == "SOA" and "ns1.uwaterloo.ca." in soa[0][4]


def test_dig_reports_authoritative_nxdomain(dns_server: tuple[str, int]) -> None:
    out = subprocess.run(
        ["dig", "@127.0.0.1", "-p", str(dns_server[1]), "missing.google.com", "+norecurse"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    assert "status: NXDOMAIN" in out and "flags: qr aa" in out
    assert "google.com.\t\t300\tIN\tSOA\tns1.google.com. hostmaster.google.com." in out


@pytest.fixture
def nsd_lab(tmp_path: Path) -> Iterator[int]:
    """NSD serving the same lab zones as craft's embedded default, on 127.0.0.1."""
    zone_conf = []
    for zone in default_zones():
        name = zone.origin.to_text()
        path = tmp_path / f"{name}zone"
        path.write_text("".join(r.to_text() + "\n" for r in zone.records))
        zone_conf.append(f"zone:\n  name: {name}\n  zonefile: {path}\n")
    with running_nsd(tmp_path, "".join(zone_conf)) as port:
        wait_until(lambda: craft_ask(port, "google.com").returncode == 0, "nsd did not answer")
        yield port


def test_craft_ask_gets_the_same_output_from_nsd_and_craft(
    nsd_lab: int, dns_server: tuple[str, int]
) -> None:
    questions = [(d, "A") for d, _, _ in LAB_TABLE] + [
        ("google.com", "NS"), ("amazon.ca", "SOA"), ("nope.google.com", "A"),
        ("google.com", "MX"), ("example.org", "A"),
    ]
    for name, rtype in questions:
        from_nsd = craft_ask(nsd_lab, name, rtype)
        from_craft = craft_ask(dns_server[1], name, rtype)
        assert (from_nsd.returncode, from_nsd.stdout.replace(str(nsd_lab), "P")) == (
            from_craft.returncode, from_craft.stdout.replace(str(dns_server[1]), "P")
        ), (name, rtype)
