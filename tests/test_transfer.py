"""Zone transfers: AXFR framing, access, serials, and real NSD and Knot as craft's secondaries."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import (
    craft_process,
    daemon_path,
    free_port,
    running_daemon,
    running_nsd,
    running_server,
    wait_until,
)

from craft.dns.codec import decode, encode, record_wire
from craft.dns.constants import Rcode, RRType
from craft.dns.message import Header, Message, Record
from craft.dns.names import Name
from craft.dns.rdata import MX, SOA, TXT, A
from craft.dns.transfer import (
    LOOPBACK,
    bump_serial,
    journaled,
    reloaded,
    serial_newer,
    transfer_response,
)
from craft.dns.transfer_wire import MESSAGE_BUDGET, TransferWriter
from craft.dns.zone import LAB_TABLE, Zone, default_zones, lab_zone
from craft.dns_client import axfr, build_query

ZONES = Path(__file__).resolve().parent.parent / "zones"


def big_zone(count: int) -> Zone:
    base = lab_zone("big.test", 60, ("10.0.0.1",), 7)
    extra = tuple(Record.make(Name.from_text(f"host{i}.big.test."), 60, A(f"10.1.{i // 250}.{i % 250}"))
                  for i in range(count))
    return Zone(base.origin, base.records + extra)


def test_axfr_is_split_with_soa_first_and_last() -> None:
    zone = big_zone(3000)
    query = build_query(zone.origin, RRType.AXFR)
    messages = [decode(m) for m in transfer_response(query, [zone], "127.0.0.1", LOOPBACK)]
    assert len(messages) > 1 and all(len(encode(m)) <= 65535 for m in messages)
    records = [r for m in messages for r in m.answer]
    assert records[0].rtype == RRType.SOA and records[-1].rtype == RRType.SOA
    assert set(records[1:-1]) | {records[0]} == set(zone.records)
    assert messages[0].question and not messages[1].question
    assert all(m.header.aa and m.header.id == query.header.id for m in messages)


def test_transfer_refused_outside_the_allow_list_and_notauth_for_other_zones() -> None:
    zone = default_zones()[0]
    query = build_query(zone.origin, RRType.AXFR)
    (refused,) = transfer_response(query, [zone], "192.0.2.9", LOOPBACK)
    assert decode(refused).rcode == Rcode.REFUSED
    (other,) = transfer_response(build_query(Name.from_text("x.test."), RRType.AXFR), [zone],
                                 "127.0.0.1", LOOPBACK)
    assert decode(other).rcode == Rcode.NOTAUTH


def test_serials() -> None:
    assert serial_newer(2, 1) and not serial_newer(1, 2)
    assert serial_newer(0, 0xFFFFFFFF)  # RFC 1982 wrap-around
    old = default_zones()[0]
    www = Record.make(Name.from_text("www.google.com."), 60, A("1.2.3.4"))
    changed = Zone(old.origin, (*old.records, www))
    assert bump_serial(old, changed).serial == old.serial + 1
    assert bump_serial(old, old).serial == old.serial


def test_dig_axfr_matches_the_zone() -> None:
    if not shutil.which("dig"):
        pytest.skip("dig missing")
    zone = default_zones()[0]
    with running_server() as server:
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.address[1]), "google.com", "AXFR",
                              "+nocmd", "+nostats", "+nocomments"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        ours = axfr(zone.origin, server.address)
    lines = [" ".join(line.split()) for line in out.splitlines() if line and not line.startswith(";")]
    assert lines[0] == lines[-1]  # SOA first and last
    assert sorted(lines[:-1]) == sorted(" ".join(r.to_text().split()) for r in zone.records)
    assert set(ours) == set(zone.records)


def test_ixfr_from_dns_ask_and_dig() -> None:
    zone = default_zones()[0]
    with running_server() as server:
        port = str(server.address[1])

        def ask(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "craft", "dns-ask", "google.com", "-t", "IXFR",
                                   "--port", port, *args], capture_output=True, text=True, timeout=30,
                                  check=False)

        whole, current = ask(), ask("--serial", str(zone.serial))
        newer = ask("--serial", str((zone.serial + 5) % 2**32))
        dig_now = subprocess.run(["dig", "@127.0.0.1", "-p", port, "google.com", f"IXFR={zone.serial}",
                                  "+noall", "+answer"], capture_output=True, text=True, timeout=30,
                                 check=True).stdout if shutil.which("dig") else None
    texts = sorted(r.to_text() for r in zone.records)
    assert whole.returncode == 0 and sorted(whole.stdout.splitlines()[1:]) == texts
    soa = zone.soa.to_text()
    assert current.returncode == 0 and current.stdout.splitlines()[1:] == [soa]
    assert newer.stdout == current.stdout
    if dig_now is not None:  # dig's view of the same: the SOA alone
        assert [" ".join(line.split()) for line in dig_now.splitlines()] == [" ".join(soa.split())]


def test_incremental_ixfr_answers_are_read_to_their_closing_soa() -> None:
    from craft.dns.zonefile import parse_record
    from craft.dns_client import _until_closing_soa

    def soa(serial: int) -> Record:
        return parse_record(f"z. 60 IN SOA ns.z. h.z. {serial} 1 1 1 1")

    a1, a2, a3 = (parse_record(f"x.z. 60 IN A 192.0.2.{i}") for i in (1, 2, 3))
    # RFC 1995 4: current SOA, (old SOA, deleted, new SOA, added) per version, current SOA
    incremental = [soa(3), soa(1), a1, soa(2), a2, soa(2), a2, soa(3), a3, soa(3)]
    stream = iter([(record, False) for record in incremental] + [(a1, False)])
    assert _until_closing_soa(stream, ixfr=True) == incremental[:-1]
    axfr_style = [soa(3), a1, a2, soa(3)]
    assert _until_closing_soa(iter([(r, False) for r in axfr_style]), ixfr=True) == axfr_style[:-1]
    assert _until_closing_soa(iter([(soa(3), True)]), ixfr=True) == [soa(3)]


def ask_text(port: int, name: str) -> str:
    return subprocess.run([sys.executable, "-m", "craft", "dns-ask", name, "--port", str(port)],
                          capture_output=True, text=True, timeout=30, check=False).stdout


def lab_primary(tmp_path: Path) -> tuple[Path, list[str]]:
    """The lab zone files copied to tmp_path/primary, and the --zone options that load them."""
    primary = tmp_path / "primary"
    primary.mkdir()
    files = []
    for domain, _, _ in LAB_TABLE:
        shutil.copy(ZONES / f"{domain}.zone", primary)
        files += ["--zone", str(primary / f"{domain}.zone")]
    return primary, files


def test_nsd_secondary_transfers_the_lab_zones_and_follows_a_notify(tmp_path: Path) -> None:
    primary, files = lab_primary(tmp_path)
    secondary = tmp_path / "nsd"
    secondary.mkdir()
    with craft_process(["dns-serve", "--port", "0", "--quiet", *files]) as (craft, craft_port):
        conf = "".join(
            f"zone:\n  name: {domain}.\n  zonefile: {domain}.zone\n"
            f"  request-xfr: 127.0.0.1@{craft_port} NOKEY\n  allow-notify: 127.0.0.1 NOKEY\n"
            for domain, _, _ in LAB_TABLE
        )
        with running_nsd(secondary, conf) as nsd_port:
            for domain, _, _ in LAB_TABLE:
                wait_until(lambda d=domain: ask_text(nsd_port, d) == ask_text(craft_port, d) != "",
                           f"NSD never served {domain} as craft does")
            # Change a zone without touching its serial: craft bumps it and notifies NSD.
            zone_file = primary / "google.com.zone"
            zone_file.write_text(zone_file.read_text() + "www IN A 192.165.1.99\n")
            craft.terminate()  # restart with --notify, now that NSD's port is known
            craft.wait(10)
            with craft_process(["dns-serve", "--port", str(craft_port), "--quiet", *files,
                                "--notify", f"127.0.0.1:{nsd_port}"]) as (again, _):
                # the restarted primary serves the old serial until told to reload
                zone_file.write_text(zone_file.read_text().replace("192.165.1.99", "192.165.1.98"))
                again.send_signal(signal.SIGHUP)
                wait_until(lambda: "192.165.1.98" in ask_text(nsd_port, "www.google.com"),
                           "NSD did not pick up the change after NOTIFY", timeout=30)
                assert "192.165.1.98" in ask_text(craft_port, "www.google.com")
                again.terminate()
                _, err = again.communicate(timeout=10)
            assert "reloaded google.com. serial 2022101401 -> 2022101402" in err
            assert "NOTIFY google.com. serial 2022101402" in err and "acknowledged" in err
            assert "not acknowledged" not in err


def test_watch_reloads_a_changed_zone_and_keeps_serving_on_a_broken_one(tmp_path: Path) -> None:
    zone_file = tmp_path / "google.com.zone"
    shutil.copy(ZONES / "google.com.zone", zone_file)
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--watch", "--zone",
                        str(zone_file)]) as (proc, port):
        zone_file.write_text(zone_file.read_text() + "www IN A 192.165.1.77\n")
        wait_until(lambda: "192.165.1.77" in ask_text(port, "www.google.com"), "no reload")
        zone_file.write_text(zone_file.read_text() + "broken IN A 999.0.0.1\n")
        time.sleep(2.5)  # the watcher polls once a second
        assert proc.poll() is None and "192.165.1.77" in ask_text(port, "www.google.com")
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "reload failed, still serving the old zones" in err and "google.com.zone:" in err


@contextlib.contextmanager
def running_knot(workdir: Path, port: int, zones_conf: str) -> Iterator[Path]:
    """A real knotd on 127.0.0.1@``port`` in the foreground, its configuration, storage,
    rundir and timer database in ``workdir``, with ``zones_conf`` (``remote:``, ``acl:``
    and ``zone:`` sections); yields its log file; stopped on exit."""
    knotd = daemon_path("knotd", "knot")
    conf = workdir / "knot.conf"
    conf.write_text(
        f"server:\n  listen: 127.0.0.1@{port}\n  rundir: {workdir}\n"
        "log:\n  - target: stderr\n    any: info\n"
        f"database:\n  storage: {workdir}\n  timer-db: {workdir}/timers\n"
        f"template:\n  - id: default\n    storage: {workdir}\n" + zones_conf
    )
    log = workdir / "knotd.log"
    with running_daemon([knotd, "-c", str(conf)], log=log):
        yield log


def test_knot_secondary_transfers_the_lab_zones_and_follows_a_notify(tmp_path: Path) -> None:
    primary, files = lab_primary(tmp_path)
    secondary = tmp_path / "knot"
    secondary.mkdir()
    knot_port = free_port()  # known before craft starts, so craft can notify it
    with craft_process(["dns-serve", "--port", "0", "--quiet", *files,
                        "--notify", f"127.0.0.1:{knot_port}"]) as (craft, craft_port):
        conf = (
            f"remote:\n  - id: craft\n    address: 127.0.0.1@{craft_port}\n"
            "acl:\n  - id: notify-from-craft\n    address: 127.0.0.1\n    action: notify\n"
            "zone:\n" + "".join(f"  - domain: {domain}\n    master: craft\n"
                                "    acl: notify-from-craft\n" for domain, _, _ in LAB_TABLE)
        )
        with running_knot(secondary, knot_port, conf) as log:

            def knot_serves(check: Callable[[], bool], message: str) -> None:
                try:
                    wait_until(check, message, timeout=30)
                except AssertionError:
                    raise AssertionError(f"{message}; knotd's log:\n{log.read_text()}") from None

            for domain, _, _ in LAB_TABLE:
                knot_serves(lambda d=domain: ask_text(knot_port, d) == ask_text(craft_port, d) != "",
                            f"Knot never served {domain} as craft does")
            # Change a zone without touching its serial: craft bumps it and notifies Knot.
            zone_file = primary / "google.com.zone"
            zone_file.write_text(zone_file.read_text() + "www IN A 192.165.1.99\n")
            craft.send_signal(signal.SIGHUP)
            knot_serves(lambda: "192.165.1.99" in ask_text(knot_port, "www.google.com"),
                        "Knot did not pick up the change after NOTIFY")
            assert ask_text(knot_port, "www.google.com") == ask_text(craft_port, "www.google.com")
            craft.terminate()
            _, err = craft.communicate(timeout=10)
            knot_log = log.read_text()
    assert "reloaded google.com. serial 2022101401 -> 2022101402" in err
    assert f"NOTIFY google.com. serial 2022101402 to 127.0.0.1:{knot_port}: acknowledged" in err
    assert "not acknowledged" not in err
    assert "[google.com.] notify, incoming" in knot_log  # the transfer followed the NOTIFY
    assert "2022101401 -> 2022101402" in knot_log


ODD_RECORDS = {
    "a": Record.make(Name.from_text("Host7.Big.TEST."), 300, A("10.0.255.7")),
    "deep": Record.make(Name.from_text("a.b.c.big.test."), 0, A("0.0.0.0")),
    "root": Record.make(Name.root(), 60, A("255.255.255.255")),
    "apex": Record.make(Name.from_text("big.test."), 60, A("10.9.9.9")),
    "txt": Record.make(Name.from_text("t.big.test."), 60, TXT((b"x", b""))),
    "txt-long": Record.make(Name.from_text("T.Big.test."), 60, TXT((b"y" * 255, b"\x00\xff"))),
    "txt-root": Record.make(Name.root(), 60, TXT((b"root",))),
    "mx": Record.make(Name.from_text("mx.big.test."), 60, MX(10, Name.from_text("Mail.big.test."))),
    "label-63": Record.make(Name((b"x" * 63, b"big", b"test")), 60, A("10.1.1.1")),
    "ttl-max": Record.make(Name.from_text("m.big.test."), 2**31 - 1, A("10.1.1.2")),
}
FAULTY_RECORDS = {  # the codec refuses them, and so does a transfer
    "leading-zero": Record.make(Name.from_text("odd.big.test."), 60, A("10.0.0.010")),
    "three-octets": Record.make(Name.from_text("short.big.test."), 60, A("10.0.1")),
    "five-octets": Record.make(Name.from_text("long.big.test."), 60, A("10.0.1.2.3")),
    "octet-256": Record.make(Name.from_text("big.big.test."), 60, A("10.0.1.256")),
    "label-64": Record.make(Name((b"x" * 64, b"big", b"test")), 60, A("10.1.1.1")),
}


def _neighbours(record: Record, count: int = 3) -> list[Record]:
    """``count`` records alike ``record`` under the same parent (so they form a run)."""
    labels = record.name.labels
    parent = labels[1:] if labels else (b"big", b"test")
    return [replace(record, name=Name((f"n{i}".encode(), *parent))) for i in range(count)]


def _sent(zone: Zone, budget: int = MESSAGE_BUDGET) -> list[bytes]:
    """The messages of an AXFR of ``zone`` (by ``transfer_response`` at the usual budget,
    by a writer of its own otherwise)."""
    query = build_query(zone.origin, RRType.AXFR)
    if budget == MESSAGE_BUDGET:
        return list(transfer_response(query, [zone], "127.0.0.1", LOOPBACK))
    header = Header(id=query.header.id, qr=True, aa=True)
    writer = TransferWriter(encode(Message(header, query.question)), encode(Message(header)), b"",
                            zone.origin, budget)
    soa = zone.soa
    return list(writer.messages([soa, *(r for r in zone.records if r is not soa), soa]))


def _records_of(messages: list[bytes]) -> list[Record]:
    return [r for m in messages for r in decode(m).answer]


@pytest.mark.parametrize("budget", [MESSAGE_BUDGET, 120, 1])
@pytest.mark.parametrize("name", list(ODD_RECORDS))
def test_a_transfer_sends_every_record_as_it_is_alone_and_in_runs(name: str, budget: int) -> None:
    record = ODD_RECORDS[name]
    base = lab_zone("big.test", 60, ("10.0.0.1",), 7)
    extra = (record, *_neighbours(record), record, *_neighbours(record, 2))
    zone = Zone(base.origin, base.records + extra)
    messages = _sent(zone, budget)
    records = _records_of(messages)
    expected = [zone.soa, *[r for r in zone.records if r is not zone.soa], zone.soa]
    assert records == expected
    assert [r.name.labels for r in records] == [r.name.labels for r in expected]  # case kept
    question = 12 + len(zone.origin.to_wire()) + 4
    for message in messages:  # within the budget, unless one record alone is over it
        if len(decode(message).answer) > 1:
            assert len(message) <= question + budget


@pytest.mark.parametrize("budget", [MESSAGE_BUDGET, 200, 1])
def test_txt_runs_with_the_same_and_with_different_numbers_of_strings(budget: int) -> None:
    base = lab_zone("big.test", 60, ("10.0.0.1",), 7)
    def txt(name: str, *strings: bytes) -> Record:
        return Record.make(Name.from_text(f"{name}.big.test."), 60, TXT(strings))
    same = [txt(f"s{i}", b"a" * i, b"", b"c" * (255 - i)) for i in range(30)]
    mixed = [txt(f"m{i}", *[b"%d" % j for j in range(i % 4 + 1)]) for i in range(30)]
    zone = Zone(base.origin, base.records + tuple(same + mixed))
    expected = [zone.soa, *[r for r in zone.records if r is not zone.soa], zone.soa]
    assert _records_of(_sent(zone, budget)) == expected


def test_names_under_the_root_and_the_root_itself_are_sent_as_they_are() -> None:
    records = [Record.make(Name.from_text(name), 60, rdata)
               for rdata in (A("10.0.0.1"), TXT((b"x",)))
               for name in ("com.", ".", "net.", "org.", ".", "a.com.")]
    header = encode(Message(Header(id=3, qr=True, aa=True)))
    writer = TransferWriter(header, header, b"", Name.root())
    assert _records_of(list(writer.messages(records))) == records


@pytest.mark.parametrize(("run", "memo"), [(3, 2), (4096, 16384)])
def test_long_runs_are_cut_and_the_address_memo_refills(run: int, memo: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("craft.dns.transfer_wire.RUN", run)
    monkeypatch.setattr("craft.dns.transfer_wire.PREFIX_MEMO", memo)
    zone = big_zone(5000)
    records = _records_of(_sent(zone))
    assert records == [zone.soa, *[r for r in zone.records if r is not zone.soa], zone.soa]


@pytest.mark.parametrize("name", list(FAULTY_RECORDS))
def test_a_transfer_refuses_what_the_codec_refuses(name: str) -> None:
    record = FAULTY_RECORDS[name]
    with pytest.raises(ValueError):
        record_wire(record)
    base = lab_zone("big.test", 60, ("10.0.0.1",), 7)
    for extra in ((record,), (*_neighbours(record), record), (record, *_neighbours(record))):
        zone = Zone(base.origin, base.records + extra)
        with pytest.raises(ValueError):
            _sent(zone)


def test_a_big_transfer_is_compressed_and_cut_as_the_budget_says() -> None:
    zone = big_zone(3000)
    zone = Zone(zone.origin, zone.records + tuple(
        Record.make(Name.from_text(f"t{i}.Sub.big.test."), 30, TXT((b"v=%d" % i, b"x" * (i % 40))))
        for i in range(500)))
    messages = _sent(zone)
    records = _records_of(messages)
    assert records[1:-1] == [r for r in zone.records if r is not zone.soa]
    plain = sum(len(record_wire(r)) for r in records)
    assert sum(len(m) for m in messages) < plain * 0.8  # the owners' parents are pointers
    assert all(len(m) <= 12 + len(zone.origin.to_wire()) + 4 + MESSAGE_BUDGET for m in messages)
    assert all(len(m) > MESSAGE_BUDGET - 100 for m in messages[:-1])  # full before the next


def _soa_with(zone: Zone, serial: int, refresh: int | None = None) -> Zone:
    soa = zone.soa
    assert isinstance(soa.rdata, SOA)
    rdata = replace(soa.rdata, serial=serial, refresh=soa.rdata.refresh if refresh is None else refresh)
    return Zone(zone.origin, tuple(replace(r, rdata=rdata) if r is soa else r for r in zone.records))


def _reload_cases() -> list[tuple[str, Zone, Zone]]:
    old = default_zones()[0]
    www = Record.make(Name.from_text("www.google.com."), 60, A("1.2.3.4"))
    grown = Zone(old.origin, (*old.records, www))
    shrunk = Zone(old.origin, tuple(r for r in old.records if r.rdata != A("192.165.1.10")))
    return [
        ("same", old, old),
        ("added, serial kept", old, grown),
        ("removed, serial kept", old, shrunk),
        ("added, serial moved on", old, _soa_with(grown, old.serial + 5)),
        ("added, serial moved back", old, _soa_with(grown, old.serial - 5)),
        ("SOA alone changed", old, _soa_with(old, old.serial, refresh=7)),
        ("journal carried", journaled(old, _soa_with(grown, old.serial + 1)),
         _soa_with(shrunk, old.serial + 2)),
    ]


@pytest.mark.parametrize(("case", "old", "new"), _reload_cases())
def test_a_reload_compares_once_what_bump_serial_and_journaled_compare(
        case: str, old: Zone, new: Zone) -> None:
    zone, differs = reloaded(old, new)
    expected = journaled(old, bump_serial(old, new))
    assert (zone.records, zone.journal, zone.serial) == (
        expected.records, expected.journal, expected.serial), case
    assert differs == (set(old.records) != set(expected.records)), case
