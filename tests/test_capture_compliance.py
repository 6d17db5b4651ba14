"""verify's second compliance round (issue 18): empty UDP datagrams on DNS ports are noted,
not malformed; a capture without DNS is reported as such and exits 0; IP fragments are
put back together in work linear in their number."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from craft.capture.reader import _Fragments, dns_messages
from craft.dns.codec import encode
from craft.dns.names import Name
from craft.dns_client import build_query
from craft.verify import verify


def run_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "craft", "verify", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def udp(sport: int, dport: int, payload: bytes) -> Any:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP(src="192.0.2.1", dst="192.0.2.53") / UDP(sport=sport, dport=dport) / Raw(payload))


def test_empty_datagrams_on_dns_ports_are_noted_not_malformed(tmp_path: Path) -> None:
    from scapy.utils import wrpcap

    query = encode(build_query(Name.from_text("example.test.")))
    path = tmp_path / "empty.pcap"
    wrpcap(str(path), [udp(40000, 53, b""), udp(40001, 53, query), udp(40002, 5353, b""),
                       udp(40003, 53, b"")])
    report = verify(str(path))
    assert report.ok and report.messages == 1 and report.malformed == 0
    assert report.empty == 3 and not report.problems
    assert [(n.packet, n.kind) for n in report.notes] == [(1, "empty")]
    assert "and 2 more" in report.notes[0].detail
    assert [item.packet for item in dns_messages(str(path))] == [2]
    shown = run_verify(str(path))
    assert shown.returncode == 0, shown.stdout
    assert "packet 1: empty: UDP 192.0.2.1:40000 -> 192.0.2.53:53" in shown.stdout
    assert "  empty UDP datagrams         3" in shown.stdout
    data = json.loads(run_verify(str(path), "--json").stdout)
    assert data["ok"] is True and data["empty_udp_datagrams"] == 3
    assert data["notes"][0]["kind"] == "empty" and data["problems"] == []


def test_a_malformed_message_still_fails_next_to_empty_datagrams(tmp_path: Path) -> None:
    from scapy.utils import wrpcap

    path = tmp_path / "mixed.pcap"
    wrpcap(str(path), [udp(40000, 53, b""), udp(40001, 53, b"\x12\x34\x01")])
    report = verify(str(path))
    assert not report.ok and report.malformed == 1 and report.empty == 1
    assert run_verify(str(path)).returncode == 1


def test_a_capture_without_dns_says_so_and_exits_0(tmp_path: Path) -> None:
    from scapy.utils import wrpcap

    path = tmp_path / "web.pcap"
    wrpcap(str(path), [udp(40000, 9999, b"not dns at all"), udp(40001, 8080, os.urandom(30))])
    report = verify(str(path))
    assert report.ok and report.messages == 0 and report.skipped == 2
    shown = run_verify(str(path))
    assert shown.returncode == 0
    assert "verdict: no DNS messages found, so nothing to check" in shown.stdout
    assert json.loads(run_verify(str(path), "--json").stdout)["ok"] is True


def test_a_cut_capture_without_dns_still_fails(tmp_path: Path) -> None:
    from scapy.utils import wrpcap

    path = tmp_path / "cut.pcap"
    wrpcap(str(path), [udp(40000, 9999, b"x" * 100), udp(40001, 9999, b"y" * 100)])
    path.write_bytes(path.read_bytes()[:-20])
    result = run_verify(str(path))
    assert result.returncode == 1 and "cut short" in result.stdout


def fragments_of(datagram: bytes, size: int) -> list[tuple[int, bool, bytes]]:
    """(offset, more, octets) for ``datagram`` cut into ``size``-octet fragments."""
    return [(at, at + size < len(datagram), datagram[at:at + size])
            for at in range(0, len(datagram), size)]


def test_fragment_reassembly_is_done_once_per_datagram() -> None:
    # 8000 fragments of 8 octets, the largest count a datagram can have. The old reader
    # rebuilt the datagram from every fragment held each time one came once the last had
    # been seen (quadratic: about 32 million piece copies here, in reverse order).
    datagram = os.urandom(64000)
    pieces = fragments_of(datagram, 8)
    assert len(pieces) == 8000
    for order in ("forward", "reverse", "shuffled"):
        frags = _Fragments()
        arriving = list(pieces)
        if order == "reverse":
            arriving.reverse()
        elif order == "shuffled":
            random.Random(7).shuffle(arriving)
        results = [frags.add(("k",), at, more, data) for at, more, data in arriving]
        assert results[-1] == datagram and all(r is None for r in results[:-1]), order
        assert frags.assembled == 1 and not frags.held, order


def test_fragments_with_duplicates_overlaps_and_holes() -> None:
    datagram = bytes(range(256)) * 4
    frags = _Fragments()
    pieces = fragments_of(datagram, 64)
    for at, more, data in pieces[:5] + pieces[:5] + pieces[6:]:  # duplicates, one hole
        assert frags.add(("a",), at, more, data) is None
    assert frags.assembled == 0  # nothing put together while a hole remains
    overlap = (5 * 64 - 8, False, datagram[5 * 64 - 8:6 * 64])  # fills the hole, overlapping
    assert frags.add(("a",), overlap[0], True, overlap[2]) == datagram
    assert frags.assembled == 1
    # A datagram over 65535 octets is dropped, not returned.
    assert frags.add(("b",), 65528, False, b"z" * 100) is None
    for at, _, data in fragments_of(bytes(65528), 1480):
        frags.add(("b",), at, True, data)
    assert "b" not in {key[0] for key in frags.held}


def test_a_capture_of_many_fragments_reads_whole(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP, fragment
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    query = encode(build_query(Name.from_text("example.test.")))
    packet = IP(src="192.0.2.1", dst="192.0.2.53") / UDP(sport=40000, dport=53) / Raw(query)
    frames = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / f
              for f in fragment(packet, fragsize=8)]
    assert len(frames) > 4
    path = tmp_path / "frags.pcap"
    wrpcap(str(path), list(reversed(frames)))
    assert [item.data for item in dns_messages(str(path))] == [query]
