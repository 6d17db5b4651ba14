"""Signed zones reach real secondaries unchanged: NSD and Knot transfer a zone signed by
``dnssec-signzone`` from ``craft dns-serve``, and BIND's ``dnssec-verify`` passes on the zone
file each secondary wrote. Then the zone is re-signed with a higher serial and craft
reloaded: Knot, notified, takes it by IXFR, and its file verifies again."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import pytest
from conftest import craft_process, daemon_path, free_port, running_daemon, wait_until
from dnssec_zones import ORIGIN, signed_zone, tool
from test_transfer import running_knot

from craft.dns.codec import decode
from craft.dns.constants import RRType
from craft.dns.message import Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import SOA, A
from craft.dns.transfer import JOURNAL_RECORDS, LOOPBACK, journaled, transfer_response
from craft.dns.zone import Zone, lab_zone


def soa_serial(port: int) -> int:
    try:
        reply = dns.query.udp(dns.message.make_query(ORIGIN, "SOA"), "127.0.0.1", port=port,
                              timeout=1)
    except (OSError, dns.exception.Timeout):
        return 0
    return reply.answer[0][0].serial if reply.answer else 0


def verify(path: Path) -> str:
    done = subprocess.run([tool("dnssec-verify", "bind9-utils"), "-o", ORIGIN, str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@contextlib.contextmanager
def nsd_secondary(workdir: Path, craft_port: int) -> Iterator[int]:
    """NSD as craft's secondary, writing the zone it received to its file once a second."""
    nsd = daemon_path("nsd", "nsd")
    port = free_port()
    workdir.mkdir()
    (workdir / "nsd.conf").write_text(
        "server:\n"
        f"  port: {port}\n  ip-address: 127.0.0.1\n  username: \"\"\n"
        f"  zonesdir: {workdir}\n  database: \"\"\n  pidfile: {workdir}/nsd.pid\n"
        f"  xfrdfile: {workdir}/xfrd.state\n  zonelistfile: {workdir}/zone.list\n"
        "  verbosity: 1\n  server-count: 1\n  zonefiles-write: 1\n"
        "remote-control:\n  control-enable: no\n"
        f"zone:\n  name: {ORIGIN}\n  zonefile: secondary.zone\n"
        f"  request-xfr: 127.0.0.1@{craft_port} NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n"
    )
    with running_daemon([nsd, "-d", "-c", str(workdir / "nsd.conf")], workdir / "nsd.log"):
        yield port


@pytest.mark.parametrize("kind", ["nsec", "nsec3-optout"])
def test_secondaries_receive_the_signed_zone_unchanged_and_ixfr_a_resigned_one(
        kind: str, tmp_path: Path) -> None:
    zone = signed_zone(tmp_path / "primary", kind)
    verify(zone.path)
    knot_port = free_port()
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--zone", str(zone.path),
                        "--notify", f"127.0.0.1:{knot_port}"]) as (craft, craft_port):
        knot_dir = tmp_path / "knot"
        knot_dir.mkdir()
        conf = (f"remote:\n  - id: craft\n    address: 127.0.0.1@{craft_port}\n"
                "acl:\n  - id: notify\n    address: 127.0.0.1\n    action: notify\n"
                f"zone:\n  - domain: {ORIGIN}\n    master: craft\n    acl: notify\n"
                "    zonefile-sync: 0\n")
        with nsd_secondary(tmp_path / "nsd", craft_port) as nsd_port, \
                running_knot(knot_dir, knot_port, conf) as knot_log:
            knot_file = knot_dir / f"{ORIGIN}zone"
            nsd_file = tmp_path / "nsd" / "secondary.zone"
            for port, path in ((knot_port, knot_file), (nsd_port, nsd_file)):
                wait_until(lambda p=port: soa_serial(p) == 2024010101, f"no transfer to {path}", 30)
                wait_until(path.exists, f"{path} never written", 30)
            assert "Zone fully signed" in verify(knot_file)
            assert "Zone fully signed" in verify(nsd_file)

            zone.resign(2024010102, kind)
            craft.send_signal(signal.SIGHUP)
            wait_until(lambda: soa_serial(knot_port) == 2024010102, "Knot never got the new serial", 30)
            wait_until(lambda: "2024010102" in knot_file.read_text(), "Knot's file not rewritten", 30)
            assert "Zone fully signed" in verify(knot_file)
            log = knot_log.read_text()
            assert "IXFR" in log and "2024010101 -> 2024010102" in log, log[-3000:]
            assert "AXFR-style IXFR" not in log, log[-3000:]
            assert "AXFR, incoming" not in log.split("2024010101 -> 2024010102")[0].split(
                "notify, incoming")[-1], log[-3000:]


def _version(serial: int, *addresses: str) -> Zone:
    return lab_zone("ixfr.test", 60, addresses, serial)


def _ixfr(zone: Zone, serial: int) -> list[Record]:
    soa = Record.make(zone.origin, 0, SOA(Name.root(), Name.root(), serial, 0, 0, 0, 0))
    query = Message(Header(id=1), (Question(zone.origin, RRType.IXFR),), authority=(soa,))
    return [r for wire in transfer_response(query, [zone], "127.0.0.1", LOOPBACK)
            for r in decode(wire).answer]


def _serials(records: list[Record]) -> list[int]:
    return [r.rdata.serial for r in records if isinstance(r.rdata, SOA)]


def test_ixfr_is_incremental_from_a_journaled_serial_and_full_otherwise() -> None:
    v1, v2, v3 = _version(1, "192.0.2.1"), _version(2, "192.0.2.2"), _version(3, "192.0.2.2", "192.0.2.3")
    zone = journaled(journaled(v1, v2), v3)
    records = _ixfr(zone, 1)
    assert _serials(records) == [3, 1, 2, 2, 3, 3]  # RFC 1995 4: two changes, condensed none
    assert [r.rdata for r in records if r.rtype == RRType.A and r.name.equals(zone.origin)] == \
        [A("192.0.2.1"), A("192.0.2.2"), A("192.0.2.3")]  # gone in 1->2, came in 1->2, in 2->3
    assert _serials(_ixfr(zone, 2)) == [3, 2, 3, 3]
    full = _ixfr(zone, 0)  # a serial the journal does not know: the whole zone
    assert _serials(full) == [3, 3] and len(full) == len(v3.records) + 1
    assert journaled(zone, zone).journal == zone.journal  # a reload that changed nothing
    many = Zone(v3.origin, (*v3.records, *(Record.make(Name.from_text(f"h{i}.ixfr.test."), 60,
                                                       A("192.0.2.9"))
                                           for i in range(JOURNAL_RECORDS))))
    bumped = journaled(zone, Zone(many.origin, tuple(
        r if r.rtype != RRType.SOA else _version(4).soa for r in many.records)))
    assert [c.new_soa.rdata.serial for c in bumped.journal] == [4]  # the old changes went
