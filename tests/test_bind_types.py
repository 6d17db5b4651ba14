"""Every record type BIND 9.18 loads, served by BIND and by craft from one zone file.

The zone holds one RRset of each type craft models (tests/test_rdtypes.py's samples) but MD
and MF (named refuses them as obsolete) and the meta types TSIG and TKEY. named-checkzone
accepts it; ``craft dns-ask`` prints the same lines for every RRset from both servers; and
dig prints the same answers from both, so craft's wire for each type is what BIND sends.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import craft_process
from test_bind import ask_session, running_named
from test_rdtypes import SAMPLES

ORIGIN = "types.test."
# named refuses MD and MF ("obsolete"); TSIG and TKEY never sit in a zone.
LEFT_OUT = frozenset({"MD", "MF", "TSIG", "TKEY", "NS", "SOA"})
# An NSEC3 owner is a hashed name (named's check-names refuses others).
OWNER = {"NSEC3": "2vptu5timamqttgl4luu9kg21e0aor3s"}
# Types BIND 9.18 does not know yet (it loads them only as \# data and dig prints them so):
# still served by both and compared, through dns-ask.
NOT_IN_BIND_918 = frozenset({"DSYNC", "RESINFO", "WALLET"})


def _rrsets() -> list[tuple[str, str, str]]:
    """(owner label, type, rdata text): the first sample of each type."""
    seen: dict[str, tuple[str, str, str]] = {}
    for line in SAMPLES:
        rtype, _, text = line.partition(" ")
        if rtype not in LEFT_OUT and rtype not in seen:
            seen[rtype] = (OWNER.get(rtype, rtype.lower()), rtype, text)
    return list(seen.values())


RRSETS = _rrsets()
# BIND keeps NSEC3 records in a tree of their own and answers NXDOMAIN for their owner, where
# craft serves them as data: the octets of NSEC3 are judged in test_signed_zones.py instead.
ASKED = [(owner, rtype) for owner, rtype, _ in RRSETS if rtype != "NSEC3"]


def _zone_text() -> str:
    lines = [f"$ORIGIN {ORIGIN}", "$TTL 300", "@ SOA ns1 hostmaster 1 3600 900 604800 300",
             "@ NS ns1", "ns1 A 192.0.2.1"]
    for owner, rtype, text in RRSETS:
        if rtype in NOT_IN_BIND_918:
            # BIND 9.18 reads only RFC 3597 text for types it does not know.
            from craft.dns.wire import Writer
            from craft.dns.zonefile import parse_record

            writer = Writer()
            parse_record(f"x. {rtype} {text}").rdata.encode(writer, compress=False)
            data = writer.getvalue()
            lines.append(f"{owner} TYPE{_number(rtype)} \\# {len(data)} {data.hex()}")
        else:
            lines.append(f"{owner} {rtype} {text}")
    return "\n".join(lines) + "\n"


def _number(rtype: str) -> int:
    from craft.dns.constants import type_number

    return type_number(rtype)


@pytest.fixture(scope="module")
def zone_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("types") / "types.test.zone"
    path.write_text(_zone_text())
    return path


@pytest.fixture(scope="module")
def servers(zone_file: Path) -> Iterator[tuple[int, int]]:
    conf = f'zone "{ORIGIN}" {{ type primary; file "{zone_file}"; }};\n'
    with running_named(zone_file.parent, conf, [ORIGIN]) as bind, craft_process(
        ["dns-serve", "--port", "0", "--quiet", "--zone", str(zone_file)]
    ) as (_, craft):
        yield bind, craft


def test_named_checkzone_accepts_every_type(zone_file: Path) -> None:
    checkzone = shutil.which("named-checkzone")
    if checkzone is None:
        pytest.skip("named-checkzone missing: `make test` installs bind9")
    done = subprocess.run([checkzone, ORIGIN, str(zone_file)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(RRSETS) >= 68


def test_dns_ask_prints_the_same_for_every_rrset(servers: tuple[int, int]) -> None:
    jobs = [(port, rtype, [f"{owner}.{ORIGIN}".rstrip(".")]) for owner, rtype in ASKED
            for port in servers]
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda job: ask_session(*job), jobs))
    for (_, rtype, _names), from_bind, from_craft in zip(jobs[::2], sessions[::2],
                                                        sessions[1::2], strict=True):
        assert from_bind == from_craft, rtype
        assert any(f"type {rtype}," in line for line in from_craft[0]), (rtype, from_craft)


def test_dig_prints_the_same_answers_from_bind_and_craft(servers: tuple[int, int]) -> None:
    dig = shutil.which("dig")
    if dig is None:
        pytest.skip("dig missing: `make test` installs bind9-dnsutils")
    questions = [arg for owner, rtype in ASKED for arg in (f"{owner}.{ORIGIN}", rtype)]
    answers = []
    for port in servers:
        done = subprocess.run(
            [dig, "@127.0.0.1", "-p", str(port), "+norec", "+noall", "+answer", "+nocookie",
             "+nottlid", *questions],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert done.returncode == 0, done.stderr
        answers.append(sorted(done.stdout.splitlines()))
    assert answers[0] == answers[1]
    shown = {line.split()[2] for line in answers[1]}
    assert len(shown) == len(ASKED), sorted(shown)
