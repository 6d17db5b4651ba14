"""``craft verify`` and the capture reader: captures craft never wrote (Scapy's), every link
type, TCP reassembly and IP fragments, corruption by packet number, cut files, the CLI's
output and exit codes, worker processes, and replay against live servers."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import craft_process, running_server

import craft.verify as verify_module
from craft.capture.reader import CaptureError, Stats, dns_messages, looks_like_dns
from craft.capture.writer import CaptureWriter
from craft.dns.codec import decode, encode
from craft.dns.message import Edns, Header, Message
from craft.dns.names import Name
from craft.dns.zonefile import parse_record
from craft.dns_client import build_query
from craft.verify import exchanges, replay, udp_limit, verify

REPO = Path(__file__).resolve().parent.parent
LAB_QUERY = bytes.fromhex("1a2b04000001000000000000" "06676f6f676c6503636f6d00" "00010001")


def run_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "craft", "verify", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def ether() -> Any:
    """Ethernet with both MACs given: left empty, Scapy would ask the network (ARP/ND)."""
    from scapy.layers.l2 import Ether

    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def scapy_messages() -> tuple[Any, Any]:
    """A query and a rich response built by Scapy alone (craft never built these bytes)."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRMX, DNSRROPT, DNSRRSOA, DNSRRSRV

    query = DNS(id=7, rd=1, qd=[DNSQR(qname="example.test", qtype="MX")],
                ar=[DNSRROPT(rclass=1232, z=0)])
    answer = DNS(id=7, qr=1, aa=1, rd=1, qd=[DNSQR(qname="example.test", qtype="MX")],
                 an=[DNSRRMX(rrname="example.test", ttl=300, preference=10,
                             exchange="mail.example.test")],
                 ns=[DNSRRSOA(rrname="example.test", mname="ns1.example.test",
                              rname="hostmaster.example.test", serial=5, ttl=3600)],
                 ar=[DNSRR(rrname="mail.example.test", type="AAAA", rdata="2001:db8::1"),
                     DNSRR(rrname="mail.example.test", type="TXT", rdata=["one", "two"]),
                     DNSRRSRV(rrname="_sip._udp.example.test", priority=1, weight=2, port=5060,
                              target="sip.example.test"),
                     DNSRROPT(rclass=1232, z=0)])
    return query.compress(), answer.compress()


def tcp_frames(ip: Any, client: tuple[int, int], messages: list[tuple[bool, bytes]],
               split: int = 0) -> list[Any]:
    """A whole TCP conversation built with Scapy: handshake, the messages (each split into
    ``split``-octet segments when given), FIN exchange."""
    from scapy.layers.inet import TCP
    from scapy.packet import Raw

    cport, sport = client
    seq = {True: 5000, False: 9000}  # key: from the client

    def seg(from_client: bool, flags: str, data: bytes = b"") -> Any:
        ports = (cport, sport) if from_client else (sport, cport)
        src, dst = ip(from_client)
        frame = src / TCP(sport=ports[0], dport=ports[1], flags=flags, seq=seq[from_client],
                          ack=seq[not from_client] if "A" in flags else 0)
        if data:
            frame = frame / Raw(data)
        seq[from_client] += len(data) + ("S" in flags) + ("F" in flags)
        return dst(frame)

    frames = [seg(True, "S"), seg(False, "SA"), seg(True, "A")]
    runs: list[tuple[bool, bytes]] = []  # consecutive messages one way: one run of octets
    for from_client, message in messages:
        data = struct.pack("!H", len(message)) + message
        if runs and runs[-1][0] == from_client:
            runs[-1] = (from_client, runs[-1][1] + data)
        else:
            runs.append((from_client, data))
    for from_client, data in runs:
        step = split or len(data)
        frames.extend(seg(from_client, "PA", data[i : i + step]) for i in range(0, len(data), step))
    frames += [seg(True, "FA"), seg(False, "FA"), seg(True, "A")]
    return frames


def v4(link: Any = None) -> Any:
    from scapy.layers.inet import IP

    def ip(from_client: bool) -> tuple[Any, Any]:
        a, b = ("192.0.2.1", "192.0.2.53") if from_client else ("192.0.2.53", "192.0.2.1")
        head = IP(src=a, dst=b)
        return head, (lambda frame: (link or ether)() / frame)

    return ip


# ---- captures others wrote ----


def test_scapy_written_captures_of_every_link_type_pass(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1Q, Loopback
    from scapy.packet import Raw
    from scapy.utils import wrpcap, wrpcapng

    query, answer = scapy_messages()

    def udp(head: Any, a: str, b: str, sport: int, dport: int, dns: Any) -> Any:
        return head / (IPv6 if ":" in a else IP)(src=a, dst=b) / UDP(sport=sport, dport=dport) / Raw(bytes(dns))

    def pair(head: Any, a: str = "127.0.0.1", b: str = "127.0.0.1", port: int = 53) -> list[Any]:
        return [udp(head, a, b, 4000, port, query), udp(head, b, a, port, 4000, answer)]

    cases: dict[str, tuple[list[Any], int | None]] = {
        "ether.pcap": (pair(ether()), None),
        "ipv6.pcap": (pair(ether(), "2001:db8::1", "2001:db8::53"), None),
        "vlan.pcap": (pair(ether() / Dot1Q(vlan=7)), None),
        "sll.pcap": (pair(CookedLinux()), 113),
        "sll2.pcap": (pair(CookedLinuxV2()), 276),
        "null.pcap": (pair(Loopback()), 0),
        "mdns.pcap": (pair(ether(), port=5353), None),
        "oddport.pcap": (pair(ether(), port=7777), None),  # found because it decodes
    }
    cases["raw.pcap"] = ([frame[IP] for frame in pair(ether())], 101)  # bare IPv4
    for name, (frames, linktype) in cases.items():
        path = tmp_path / name
        wrpcap(str(path), frames, linktype=linktype)
        report = verify(str(path))
        assert report.ok and report.messages == 2, (name, report)
        assert [i.packet for i in dns_messages(str(path))] == [1, 2]
    ng = tmp_path / "all.pcapng"
    wrpcapng(str(ng), pair(ether()) + pair(ether(), "::1", "::1"))
    report = verify(str(ng))
    assert report.ok and report.messages == 4
    # Over TCP, Scapy's own segments, IPv4 and IPv6, on port 53 and on a lab port.
    tcp = tmp_path / "tcp.pcap"
    frames = tcp_frames(v4(), (40000, 53), [(True, bytes(query)), (False, bytes(answer))])

    def ip6(from_client: bool) -> tuple[Any, Any]:
        a, b = ("2001:db8::1", "2001:db8::53") if from_client else ("2001:db8::53", "2001:db8::1")
        return IPv6(src=a, dst=b), (lambda frame: ether() / frame)

    frames += tcp_frames(ip6, (40001, 10053), [(True, bytes(query)), (False, bytes(answer))])
    wrpcap(str(tcp), frames)
    items = list(dns_messages(str(tcp)))
    assert [(i.packet, i.transport, i.src[1]) for i in items] == [
        (4, "tcp", 40000), (5, "tcp", 53), (12, "tcp", 40001), (13, "tcp", 10053)]
    assert verify(str(tcp)).ok


def _block(kind: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


@pytest.mark.parametrize("kind", [6, 2])  # enhanced packet block, obsolete packet block
def test_pcapng_packet_blocks_by_hand(tmp_path: Path, kind: int) -> None:
    """Both pcapng blocks that carry an interface and a time give the same message."""
    from scapy.layers.inet import IP, UDP

    query = bytes(scapy_messages()[0])
    frame = bytes(ether() / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=4000, dport=53)
                  / query)
    stamp = 1_700_000_000_250_000  # microseconds
    head = (struct.pack("<IIII", 0, stamp >> 32, stamp & 0xFFFFFFFF, len(frame)) if kind == 6
            else struct.pack("<HHIII", 0, 0, stamp >> 32, stamp & 0xFFFFFFFF, len(frame)))
    path = tmp_path / "hand.pcapng"
    path.write_bytes(
        _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        + _block(1, struct.pack("<HHI", 1, 0, 0))
        + _block(kind, head + struct.pack("<I", len(frame)) + frame)
    )
    (item,) = dns_messages(str(path))
    assert (item.data, item.src, item.dst, item.transport) == (
        query, ("192.0.2.1", 4000), ("192.0.2.2", 53), "udp")
    assert item.time == pytest.approx(1_700_000_000.25)


def test_tcp_reassembly_out_of_order_retransmitted_overlapping(tmp_path: Path) -> None:
    from scapy.utils import wrpcap

    query, answer = scapy_messages()
    second = bytes(query)[:1] + b"\x08" + bytes(query)[2:]
    frames = tcp_frames(v4(), (40000, 53), [(True, bytes(query)), (True, second),
                                            (False, bytes(answer))], split=17)
    # frames: 3 handshake, then the client's data in 17-octet segments, then the answer's.
    client_data = [f for f in frames[3:] if f.sport == 40000 and bytes(f.payload.payload.payload)]
    first, rest = client_data[0], client_data[1:]
    from scapy.packet import Raw

    overlap = first.copy()  # a retransmission covering the first segment and part of the next
    overlap[Raw].load = bytes(first[Raw].load) + bytes(rest[0][Raw].load)[:5]
    shuffled = frames[:3] + [rest[1], rest[0], first, first, overlap] + rest[2:] + [
        f for f in frames[3:] if f not in client_data]
    path = tmp_path / "shuffled.pcap"
    wrpcap(str(path), shuffled)
    stats = Stats()
    items = list(dns_messages(str(path), stats))
    assert [i.data for i in items] == [bytes(query), second, bytes(answer)]
    assert stats.notes == []
    report = verify(str(path))
    assert report.ok and report.messages == 3


def test_missing_tcp_data_is_reported_not_guessed(tmp_path: Path) -> None:
    from scapy.utils import wrpcap

    query, answer = scapy_messages()
    frames = tcp_frames(v4(), (40000, 53), [(True, bytes(query)), (False, bytes(answer))],
                        split=20)
    answer_segments = [i for i, f in enumerate(frames) if f.sport == 53 and len(f.payload.payload.payload)]
    del frames[answer_segments[1]]
    path = tmp_path / "gap.pcap"
    wrpcap(str(path), frames)
    report = verify(str(path))
    assert report.messages == 1 and not report.ok
    assert [p.kind for p in report.problems] == ["incomplete"]
    assert "make no whole DNS message" in report.problems[0].detail


def test_ip_fragments_are_reassembled(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP, fragment
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    q = build_query(Name.from_text("big.example.test."), 16, edns=Edns(payload=4096))
    records = tuple(parse_record(f'big.example.test. 60 IN TXT "{i:02d}{"y" * 200}"')
                    for i in range(12))
    big = encode(Message(Header(id=q.header.id, qr=True, aa=True), q.question, records, (),
                         q.additional))
    assert len(big) > 2400
    v4_frames = fragment(IP(src="192.0.2.53", dst="192.0.2.1") / UDP(sport=53, dport=4000)
                         / Raw(big), fragsize=1000)
    v6 = fragment6(IPv6(src="2001:db8::53", dst="2001:db8::1") / IPv6ExtHdrFragment()
                   / UDP(sport=53, dport=4000) / Raw(big), 1280)
    assert len(v4_frames) >= 3 and len(v6) >= 2
    frames = [ether() / f for f in reversed(v4_frames)] + [ether() / f for f in v6]
    path = tmp_path / "frag.pcap"
    wrpcap(str(path), frames)
    items = list(dns_messages(str(path)))
    assert [i.data for i in items] == [big, big]
    assert [i.packet for i in items] == [len(v4_frames), len(frames)]
    assert verify(str(path)).ok


def test_which_traffic_counts_as_dns(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    def frame(sport: int, dport: int, payload: bytes) -> Any:
        return ether() / IP() / UDP(sport=sport, dport=dport) / Raw(payload)

    bad = LAB_QUERY[:-5] + b"\x3f" + LAB_QUERY[-4:]  # the last label now overruns
    frames = [
        frame(5000, 6000, b"\x00" * 40),  # 1 not DNS: zero header, then junk
        frame(5000, 7777, bad),  # 2 DNS-shaped, unknown port, does not decode: skipped
        frame(5000, 7777, LAB_QUERY),  # 3 decodes: DNS, and 7777 on that host is a server
        frame(5000, 7777, bad),  # 4 the same server: now reported as malformed
        frame(5000, 10080, bad),  # 5 the lab's range: the shape is enough
        frame(5000, 53, b"\xff"),  # 6 port 53: whatever it carries
        frame(5000, 443, os.urandom(8) + b"\x00" * 20),  # 7 not DNS
    ]
    path = tmp_path / "ports.pcap"
    wrpcap(str(path), frames)
    assert [i.packet for i in dns_messages(str(path))] == [3, 4, 5, 6]
    report = verify(str(path))
    assert (report.messages, report.malformed, report.skipped) == (4, 3, 3)
    assert [p.packet for p in report.problems] == [4, 5, 6]
    assert looks_like_dns(LAB_QUERY) and not looks_like_dns(b"\x00" * 40)


# ---- verdicts and the command ----


def test_sample_pcaps_in_the_repository() -> None:
    session = run_verify(str(REPO / "pcaps" / "session.pcap"))
    assert session.returncode == 0, session.stdout
    assert "verdict: craft and Scapy agree on every message" in session.stdout
    result = run_verify(str(REPO / "pcaps" / "malformed.pcap"), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [(p["packet"], p["kind"]) for p in data["problems"]] == [
        (3, "malformed"), (4, "malformed"), (5, "malformed"), (6, "malformed"),
        (7, "malformed"), (8, "disagree")]
    assert (data["malformed"], data["disagreeing"], data["agreeing"]) == (5, 1, 2)
    assert data["ok"] is False and "More than 20 jumps" in data["problems"][5]["detail"]
    assert "craft rejects at offset 12: self compression pointer to 12" in data["problems"][0]["detail"]
    assert "Scapy reads:" in data["problems"][0]["detail"]


def test_the_sample_script_rebuilds_malformed_pcap(tmp_path: Path) -> None:
    out = tmp_path / "malformed.pcap"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make-sample-pcaps.py"), str(out)],
                   check=True, capture_output=True, timeout=60)
    assert out.read_bytes() == (REPO / "pcaps" / "malformed.pcap").read_bytes()


def test_corrupted_dns_is_reported_with_its_packet_number(tmp_path: Path) -> None:
    good = tmp_path / "good.pcap"
    writer = CaptureWriter(str(good))
    client, server = ("127.0.0.1", 40000), ("127.0.0.1", 53)
    for ident in (1, 2, 3, 4):
        writer.udp(client, server, ident.to_bytes(2, "big") + LAB_QUERY[2:])
    writer.close()
    data = bytearray(good.read_bytes())
    frame = 16 + 14 + 20 + 8 + len(LAB_QUERY)
    at = 24 + 2 * frame + frame - 9  # packet 3: the length octet of "com"
    assert data[at] == 3
    data[at] = 0x3F
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes(data))
    result = run_verify(str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("packet ")] == ["packet 3"]
    assert "packet 3: malformed: craft rejects at offset 19" in result.stdout
    assert re.search(r"^malformed +1$", result.stdout, re.M)


def test_unreadable_cut_and_corrupt_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    for path, words in ((junk, "bad magic"), (tmp_path / "none.pcap", "No such file"),
                        (tmp_path, "Is a directory")):
        result = run_verify(str(path))
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    with pytest.raises(CaptureError, match="bad magic"):
        list(dns_messages(str(junk)))
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    with pytest.raises(CaptureError, match="empty"):
        verify(str(empty))
    whole = (REPO / "pcaps" / "session.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[: len(whole) - 7])
    result = run_verify(str(cut))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "packet 26: file: record cut short (truncated file); frames 1-25 were read and " \
           "checked" in result.stdout
    assert re.search(r"^packets +25$", result.stdout, re.M)
    with pytest.raises(CaptureError) as cut_short:
        list(dns_messages(str(cut)))
    assert cut_short.value.truncated and cut_short.value.packet == 25
    with pytest.raises(CaptureError) as bad_magic:
        list(dns_messages(str(junk)))
    assert not bad_magic.value.truncated
    corrupt = bytearray(whole)
    corrupt[24 + 8 : 24 + 12] = (0x7FFFFFFF).to_bytes(4, "little")  # first record's length
    (tmp_path / "corrupt.pcap").write_bytes(bytes(corrupt))
    with pytest.raises(CaptureError, match="corrupt file"):
        verify(str(tmp_path / "corrupt.pcap"))
    # pcapng cut inside a block
    from scapy.layers.inet import IP, UDP
    from scapy.packet import Raw
    from scapy.utils import wrpcapng

    ng = tmp_path / "cut.pcapng"
    wrpcapng(str(ng), [ether() / IP() / UDP(sport=4000, dport=53) / Raw(LAB_QUERY)] * 3)
    ng.write_bytes(ng.read_bytes()[:-10])
    report = verify(str(ng))
    assert report.messages == 2 and report.error is not None and "cut short" in report.error


def test_json_and_text_say_the_same(tmp_path: Path) -> None:
    text = run_verify(str(REPO / "pcaps" / "malformed.pcap"))
    data = json.loads(run_verify(str(REPO / "pcaps" / "malformed.pcap"), "--json").stdout)
    for label, key in (("packets", "packets"), ("DNS messages", "dns_messages"),
                       ("agreeing", "agreeing"), ("disagreeing", "disagreeing"),
                       ("malformed", "malformed"), ("skipped non-DNS", "skipped_non_dns"),
                       ("repeats, ID aside", "repeats_id_aside")):
        assert re.search(rf"^{re.escape(label)} +{data[key]}$", text.stdout, re.M), label
    for problem in data["problems"]:
        assert f"packet {problem['packet']}: {problem['kind']}: {problem['detail']}" in text.stdout


def test_repeats_but_for_the_id_are_checked_once_with_the_same_result(tmp_path: Path) -> None:
    path = tmp_path / "many.pcap"
    writer = CaptureWriter(str(path))
    client, server = ("127.0.0.1", 40000), ("127.0.0.1", 53)
    for ident in range(700):
        data = ident.to_bytes(2, "big") + LAB_QUERY[2:]
        writer.udp(client, server, data if ident % 97 else data[:-3], when=1764000000 + ident)
    writer.close()
    remembered, every = verify(str(path)), verify(str(path), memo=False)
    assert remembered.repeats == 700 - 8 - 1 and every.repeats == 0
    assert replace(remembered, repeats=0) == every
    assert every.malformed == 8 and [p.packet for p in every.problems] == list(range(1, 701, 97))
    no_memo = run_verify(str(path), "--no-memo", "--json")
    assert json.loads(no_memo.stdout)["repeats_id_aside"] == 0


def test_the_id_never_changes_a_clean_outcome() -> None:
    """Why remembering is exact: over many kinds of valid message, any other ID gives the
    same outcome (craft rejects names pointing into the header, where the ID is)."""
    query, answer = scapy_messages()
    wires = [bytes(query), bytes(answer), LAB_QUERY]
    wires += [i.data for i in dns_messages(str(REPO / "pcaps" / "session.pcap"))]
    for wire in wires:
        outcome = verify_module.check_data(wire)
        assert outcome.role != "malformed" and not outcome.problems
        for ident in (b"\x00\x00", b"\xc0\x0c", b"\xff\xff", os.urandom(2)):
            assert verify_module.check_data(ident + wire[2:]) == outcome
    # A pointer into the header makes the ID part of a name: such a message is malformed
    # for craft, and never remembered.
    pointing = bytes.fromhex("0141000000010000000000000006676f6f676c65c00000010001")
    assert verify_module.check_data(pointing).role == "malformed"


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "long.pcap"
    writer = CaptureWriter(str(path))
    big = encode(Message(Header(id=1, qr=True), decode(LAB_QUERY).question, tuple(
        parse_record(f'google.com. 1 IN TXT "{"z" * 250}"') for _ in range(40))))
    for _ in range(110):  # over 1 MiB
        writer.udp(("127.0.0.1", 53), ("127.0.0.1", 40000), big)
    writer.close()
    piped = run_verify(str(path))
    assert piped.returncode == 0 and piped.stderr == ""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "craft", "verify", str(path)],
                              stdout=subprocess.PIPE, stderr=follower, timeout=120, check=False)
        os.close(follower)
        seen = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(leader, 4096):
                seen += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0 and b"verifying" in seen


# ---- replay ----


@contextlib.contextmanager
def responder(answers: dict[bytes, bytes]) -> Iterator[tuple[str, int]]:
    """A UDP server on 127.0.0.1 answering from ``answers`` (query less its ID -> answer);
    stopped when the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except OSError:
                continue
            answer = answers.get(data[2:])
            if answer is not None:
                sock.sendto(data[:2] + answer[2:], peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[:2]
    finally:
        stop.set()
        thread.join(5)
        sock.close()
    assert not thread.is_alive()


def test_replay_compares_live_answers_with_captured_ones(tmp_path: Path) -> None:
    def exchange(name: str, *records: str, edns: Edns | None = None) -> tuple[bytes, bytes]:
        q = build_query(Name.from_text(name), 16 if "TXT" in "".join(records) else 1, edns=edns)
        r = Message(Header(id=q.header.id, qr=True, aa=True), q.question,
                    tuple(parse_record(t) for t in records), (), q.additional)
        return encode(q), encode(r)

    same = exchange("google.com.", "google.com. 260 IN A 192.165.1.1")
    changed = exchange("youtube.com.", "youtube.com. 160 IN A 192.165.1.2")
    txt = [f'long.test. 60 IN TXT "{"t" * 200}"'] * 3
    oversized = exchange("long.test.", *txt)  # ~650 octets with no EDNS: over 512
    allowed = exchange("long.test.", *txt, edns=Edns(payload=1232))
    silent = exchange("amazon.ca.", "amazon.ca. 160 IN A 192.165.1.5")
    path = tmp_path / "replay.pcap"
    writer = CaptureWriter(str(path))
    client = ("127.0.0.1", 40000)
    server = ("127.0.0.1", 10053)
    for q, r in (same, changed, oversized, allowed, silent):
        writer.udp(client, server, q)
        writer.udp(server, client, r)
    writer.udp(client, server, exchange("wikipedia.org.")[0])  # never answered in the capture
    writer.close()
    assert [p.response is not None for p in exchanges(str(path))] == [True] * 5 + [False]
    assert udp_limit(oversized[0]) == 512 and udp_limit(allowed[0]) == 1232
    live_changed = exchange("youtube.com.", "youtube.com. 99 IN A 192.165.1.2")[1]
    answers = {q[2:]: r for q, r in (same, oversized, allowed)}
    answers[changed[0][2:]] = live_changed
    answers[exchange("wikipedia.org.")[0][2:]] = exchange("wikipedia.org.")[1]
    with responder(answers) as address:
        report = replay(str(path), address, rate=1000, max_time=30, timeout=0.3)
    assert (report.sent, report.matched, report.differing, report.unanswered,
            report.no_capture) == (6, 3, 1, 1, 1)
    details = {p.packet: p.detail for p in report.problems}
    assert "answer: captured ['youtube.com. 160 IN A 192.165.1.2'], live " \
           "['youtube.com. 99 IN A 192.165.1.2']" in details[3]
    assert "exceeds the query's limit of 512" in details[5]
    assert "no answer" in details[9]
    assert set(details) == {3, 5, 9}


def test_replay_against_dns_serve(tmp_path: Path) -> None:
    session = str(REPO / "pcaps" / "session.pcap")
    with craft_process(["dns-serve", "--port", "0", "--quiet"]) as (_, port):
        result = run_verify(session, "--replay", f"127.0.0.1:{port}", "--rate", "500",
                            "--json")
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["replay"]["sent"] == 10 and data["replay"]["matched"] == 10
    with running_server() as server:  # the same, in-process
        assert replay(session, server.address, rate=500, max_time=30).ok
    refused = run_verify(session, "--replay", "192.0.2.1:53")
    assert refused.returncode == 2 and "127.0.0.1 or ::1 only" in refused.stderr


def test_a_faulty_round_trip_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The round-trip check is live: an encoder that changes one octet is reported."""
    answer = bytes.fromhex("1a2b84000001000200000000" "06676f6f676c6503636f6d00" "00010001"
                           "c00c000100010000010400" "04c0a50101" "c00c000100010000010400"
                           "04c0a5010a")
    assert verify_module.check_data(answer) == verify_module.Outcome("response")
    real = verify_module.encode

    def lossy(message: Message) -> bytes:
        wire = bytearray(real(message))
        wire[-1] ^= 1  # 192.165.1.10 becomes 192.165.1.11
        return bytes(wire)

    monkeypatch.setattr(verify_module, "encode", lossy)
    outcome = verify_module.check_data(answer)
    assert outcome.role == "response"
    assert outcome.problems == (("roundtrip", "craft's re-encoding decodes to another message"),)


def test_case_randomised_questions_pass(tmp_path: Path) -> None:
    """A resolver's 0x20 question (wWw.ExAmPlE.cOm) and the zone's lower-case names after it:
    craft's re-encoding may point the lower-case names at the question's spelling, which is
    the same name (RFC 4343), not another message."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.layers.inet import IP, UDP
    from scapy.utils import wrpcap

    qname = "wWw.ExAmPlE.cOm"
    response = DNS(id=0x5A5A, qr=1, aa=1, qd=DNSQR(qname=qname),
                   an=[DNSRR(rrname=qname, rdata="192.0.2.9")],
                   ns=[DNSRR(rrname="example.com", type="NS", rdata="ns1.example.com")])
    frames = [ether() / IP(src="127.0.0.1", dst="127.0.0.2") / UDP(sport=40000, dport=53)
              / DNS(id=0x5A5A, qd=DNSQR(qname=qname)),
              ether() / IP(src="127.0.0.2", dst="127.0.0.1") / UDP(sport=53, dport=40000) / response]
    path = tmp_path / "case.pcap"
    wrpcap(str(path), frames)
    result = run_verify(str(path))
    assert result.returncode == 0, result.stdout
    assert "agreeing                  2" in result.stdout


def _dns_count(path: Path) -> tuple[int, int, list[str]]:
    stats = Stats()
    items = list(dns_messages(str(path), stats))
    return len(items), sum(item.is_response for item in items), [n.kind for n in stats.notes]


def test_tcp_endings_fast_open_and_header_chains(tmp_path: Path) -> None:
    """Found by a review against tshark: each capture holds one query and one response."""
    from scapy.layers.dns import DNS, DNSQR
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
    from scapy.layers.l2 import Dot1Q
    from scapy.utils import wrpcap

    query = bytes(DNS(id=9, qd=DNSQR(qname="example.test")))
    answer = bytes(DNS(id=9, qr=1, qd=DNSQR(qname="example.test")))
    q_wire, a_wire = len(query).to_bytes(2, "big") + query, len(answer).to_bytes(2, "big") + answer
    c, s = IP(src="10.0.0.1", dst="10.0.0.2"), IP(src="10.0.0.2", dst="10.0.0.1")

    def to_server(flags: str, seq: int, data: bytes = b"") -> Any:
        return ether() / c / TCP(sport=4000, dport=53, flags=flags, seq=seq, ack=501) / data

    def to_client(flags: str, seq: int, data: bytes = b"") -> Any:
        return ether() / s / TCP(sport=53, dport=4000, flags=flags, seq=seq, ack=101) / data

    half = len(a_wire) // 2
    tcp_cases = {
        # the response sent with FIN and resent (its ACK lost): one response, not two
        "retransmission after FIN": [to_server("S", 99), to_client("SA", 500), to_server("PA", 100, q_wire),
                                     to_client("FPA", 501, a_wire), to_client("FPA", 501, a_wire)],
        # the second half, with the FIN, captured before the first half
        "FIN out of order": [to_server("S", 99), to_client("SA", 500), to_server("PA", 100, q_wire),
                             to_client("FPA", 501 + half, a_wire[half:]), to_client("PA", 501, a_wire[:half])],
        # TCP Fast Open: the query rides in the SYN (RFC 7413)
        "data in the SYN": [to_server("S", 99, q_wire), to_client("SA", 500), to_client("PA", 501, a_wire)],
        # a RST carrying text after the exchange is no DNS data
        "RST with data": [to_server("S", 99), to_client("SA", 500), to_server("PA", 100, q_wire),
                          to_client("PA", 501, a_wire), to_client("RA", 501 + len(a_wire), b"reset by peer")],
    }
    for what, frames in tcp_cases.items():
        path = tmp_path / "tcp.pcap"
        wrpcap(str(path), frames)
        assert _dns_count(path) == (2, 1, []), what
    c6, s6 = IPv6(src="::1", dst="::2"), IPv6(src="::2", dst="::1")
    other_cases = {
        # RFC 8200 4.1 order: fragment header, then destination options
        "IPv6 destination options after a fragment header": [
            ether() / c6 / IPv6ExtHdrFragment(offset=0, m=0, id=5) / IPv6ExtHdrDestOpt()
            / UDP(sport=4000, dport=53) / query,
            ether() / s6 / IPv6ExtHdrDestOpt() / UDP(sport=53, dport=4000) / answer],
        "VLAN tag": [ether() / Dot1Q(vlan=7) / c / UDP(sport=4000, dport=53) / query,
                     ether() / Dot1Q(vlan=7) / s / UDP(sport=53, dport=4000) / answer],
    }
    for what, frames in other_cases.items():
        path = tmp_path / "other.pcap"
        wrpcap(str(path), frames)
        assert _dns_count(path) == (2, 1, []), what


def test_frames_cut_by_the_snapshot_length_are_noted(tmp_path: Path) -> None:
    """IPv4 total length 0 (offloaded sends) or a cut first fragment: the record's original
    length tells, and the message is reported, not silently lost."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.layers.inet import IP, UDP, fragment

    def wrpcap(name: str, frames: list[Any], snaplen: int) -> None:
        """A pcap whose records keep ``snaplen`` octets and say the frame's whole length."""
        out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)
        for frame in frames:
            data = bytes(frame)
            out += struct.pack("<IIII", 0, 0, min(len(data), snaplen), len(data)) + data[:snaplen]
        Path(name).write_bytes(out)

    big = DNS(id=3, qr=1, qd=DNSQR(qname="big.test"),
              an=[DNSRR(rrname="big.test", type="TXT", rdata=["x" * 200]) for _ in range(20)])
    datagram = IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=53, dport=4000) / big
    path = tmp_path / "cut.pcap"
    wrpcap(str(path), [ether() / f for f in fragment(datagram, fragsize=1000)], snaplen=600)
    assert _dns_count(path) == (0, 0, ["snaplen"])
    whole = ether() / IP(src="10.0.0.2", dst="10.0.0.1", len=0) / UDP(sport=53, dport=4000) / big
    wrpcap(str(path), [whole], snaplen=300)
    assert _dns_count(path) == (0, 0, ["snaplen"])
