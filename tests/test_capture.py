"""Captures: what craft writes opens cleanly in tshark; verify reads what others write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import craft_process, running_server

from craft.capture import CaptureError, dns_messages
from craft.dns_client import ask, build_query
from craft.message import Edns
from craft.names import Name
from craft.pcap import CaptureWriter
from craft.verify import replay, verify

REPO = Path(__file__).resolve().parent.parent
tshark_missing = pytest.mark.skipif(not shutil.which("tshark"), reason="make test installs tshark")


def tshark(path: Path, port: int, *args: str) -> str:
    return subprocess.run(
        ["tshark", "-r", str(path), "-d", f"udp.port=={port},dns", "-d", f"tcp.port=={port},dns",
         *args], capture_output=True, text=True, timeout=60, check=True,
    ).stdout


def run_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "craft", "verify", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def capture_session(path: Path) -> int:
    """A live session through a capturing server: UDP, EDNS, NXDOMAIN, TCP, truncation."""
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--pcap", str(path)]) as (proc, port):
        server = ("127.0.0.1", port)
        for name, edns in (("google.com.", None), ("google.ca.", Edns()), ("nope.amazon.ca.", None)):
            ask(build_query(Name.from_text(name), edns=edns), server)
        ask(build_query(Name.from_text("youtube.com.")), server, tcp=True)
        proc.terminate()
        proc.wait(10)
        assert proc.returncode == 0
    return port


@tshark_missing
def test_tshark_reads_our_capture_cleanly_with_the_same_fields(tmp_path: Path) -> None:
    path = tmp_path / "s.pcap"
    port = capture_session(path)
    expert = tshark(path, port, "-q", "-z", "expert")
    assert "Warning" not in expert and "Error" not in expert, expert
    assert "Malformed" not in tshark(path, port)
    fields = tshark(path, port, "-Y", "dns", "-T", "fields", "-e", "dns.qry.name", "-e", "dns.a",
                    "-e", "dns.flags.response").splitlines()
    assert fields == [
        "google.com\t\t0", "google.com\t192.165.1.1,192.165.1.10\t1",
        "google.ca\t\t0", "google.ca\t192.165.1.6\t1",
        "nope.amazon.ca\t\t0", "nope.amazon.ca\t\t1",
        "youtube.com\t\t0", "youtube.com\t192.165.1.2\t1",
    ]
    craft_view = [(i.transport, i.data[2] >> 7) for i in dns_messages(str(path))]
    assert craft_view == [("udp", 0), ("udp", 1)] * 3 + [("tcp", 0), ("tcp", 1)]
    assert verify(str(path)).ok


def test_verify_accepts_a_pcap_written_by_scapy(tmp_path: Path) -> None:
    from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRMX, DNSRRSOA
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import CookedLinux, Ether
    from scapy.utils import wrpcap, wrpcapng

    dns = DNS(id=7, qr=1, aa=1, rd=0, qd=[DNSQR(qname="example.test", qtype="MX")],
              an=[DNSRRMX(rrname="example.test", preference=10, exchange="mail.example.test")],
              ns=[DNSRRSOA(rrname="example.test", mname="ns1.example.test",
                           rname="hostmaster.example.test", serial=5)],
              ar=[DNSRR(rrname="mail.example.test", type="AAAA", rdata="2001:db8::1"),
                  DNSRR(rrname="mail.example.test", type="TXT", rdata=["one", "two"])])
    query = DNS(id=7, rd=0, qd=[DNSQR(qname="example.test", qtype="MX")])
    v4 = [Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=4000, dport=53) / query,
          Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=53, dport=4000) / dns]
    v6 = [Ether() / IPv6(src="::1", dst="::1") / UDP(sport=4000, dport=53) / query]
    cooked = [CookedLinux() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=53, dport=9) / dns]
    raw = [IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=53, dport=9) / dns]
    cases = {"v4.pcap": (v4, None), "v6.pcap": (v6, None), "sll.pcap": (cooked, 113),
             "raw.pcap": (raw, 101)}
    for name, (packets, linktype) in cases.items():
        path = tmp_path / name
        wrpcap(str(path), packets, linktype=linktype)
        report = verify(str(path))
        assert report.ok and report.messages == len(packets), (name, report.problems)
    ng = tmp_path / "all.pcapng"
    wrpcapng(str(ng), v4 + v6)
    report = verify(str(ng))
    assert report.ok and report.messages == 3


def test_sample_pcaps_in_the_repository() -> None:
    assert run_verify(str(REPO / "pcaps" / "session.pcap")).returncode == 0
    result = run_verify(str(REPO / "pcaps" / "malformed.pcap"), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [p["packet"] for p in data["problems"]] == [3, 4, 5, 6, 7]
    assert data["malformed"] == 5 and data["agreeing"] == 2
    assert "self compression pointer to 12" in data["problems"][0]["detail"]


def test_corrupted_dns_is_reported_with_its_packet_number(tmp_path: Path) -> None:
    good = tmp_path / "good.pcap"
    writer = CaptureWriter(str(good))
    client, server = ("127.0.0.1", 40000), ("127.0.0.1", 53)
    lab = bytes.fromhex("1a2b04000001000000000000" "06676f6f676c6503636f6d00" "00010001")
    for _ in range(3):
        writer.udp(client, server, lab)
    writer.close()
    data = bytearray(good.read_bytes())
    at = data.rfind(b"\x03com\x00")
    data[at] = 0x3F  # the last packet's label length now overruns the message
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes(data))
    result = run_verify(str(bad))
    assert result.returncode == 1
    assert "packet 3: malformed: craft rejects at offset 19" in result.stdout


def test_unreadable_and_truncated_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    result = run_verify(str(junk))
    assert result.returncode == 2 and "bad magic" in result.stderr and "Traceback" not in result.stderr
    missing = run_verify(str(tmp_path / "none.pcap"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
    whole = (REPO / "pcaps" / "session.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[: len(whole) - 7])
    result = run_verify(str(cut))
    assert result.returncode == 1 and "truncated" in result.stdout
    assert "Traceback" not in result.stderr
    with pytest.raises(CaptureError):
        list(dns_messages(str(junk)))


@tshark_missing
def test_sigkill_mid_capture_leaves_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.pcap"
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--pcap", str(path)]) as (proc, port):
        for i in range(30):
            ask(build_query(Name.from_text("google.com."), ident=i), ("127.0.0.1", port))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # Records are written just after each reply is sent, so the kill may beat the last
    # one or two; what must hold is that everything written reads back whole.
    frames = tshark(path, port, "-T", "fields", "-e", "frame.number").split()
    assert 50 <= len(frames) <= 60
    report = verify(str(path))
    assert report.messages == len(frames) and report.malformed == 0 and report.disagreeing == 0
    assert all(p.kind == "truncated" for p in report.problems)


def test_unwritable_capture_path_is_a_clear_startup_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "craft", "dns-serve", "--port", "0", "--pcap",
         str(tmp_path / "no" / "such" / "dir.pcap")],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 1 and "no such folder" in result.stderr
    assert "Traceback" not in result.stderr
    if os.path.exists("/dev/full"):  # a disk that is always full: found at start-up too
        full = subprocess.run(
            [sys.executable, "-m", "craft", "dns-serve", "--port", "0", "--pcap", "/dev/full"],
            capture_output=True, text=True, timeout=30, check=False,
        )
        assert full.returncode == 1 and "No space left" in full.stderr, full.stderr


def test_replay_against_a_running_server_matches() -> None:
    with running_server() as server:
        host, port = server.address
        report = replay(str(REPO / "pcaps" / "session.pcap"), (host, port), rate=500, max_time=30)
    assert report.sent == 10 and report.matched == 10 and report.ok, report.problems
    result = run_verify(str(REPO / "pcaps" / "session.pcap"), "--replay", "192.0.2.1:53")
    assert result.returncode == 2 and "127.0.0.1 or ::1 only" in result.stderr


def test_dns_ask_pcap_captures_the_client_side(tmp_path: Path, dns_server: tuple[str, int]) -> None:
    path = tmp_path / "client.pcap"
    for extra in ([], ["--tcp", "--append"]):
        subprocess.run([sys.executable, "-m", "craft", "dns-ask", "google.com", "--port",
                        str(dns_server[1]), "--pcap", str(path), *extra], check=True,
                       capture_output=True, timeout=60)
    items = list(dns_messages(str(path)))
    assert [i.transport for i in items] == ["udp", "udp", "tcp", "tcp"]
    assert verify(str(path)).ok
