"""Captures craft writes: tshark is the judge (no malformed packets, no expert errors or
warnings, checksums verified, well-formed TCP), fields match craft's reading, and files
survive SIGKILL, appends, threads and unwritable paths."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import craft_process

from craft.capture.reader import CaptureError, Stats, dns_messages
from craft.capture.writer import CaptureWriter
from craft.dns.codec import decode, encode
from craft.dns.message import Edns, Header, Message, Question
from craft.dns.names import Name
from craft.dns.zonefile import parse_record
from craft.dns_client import ask, build_query
from craft.transport import send_bytes
from craft.verify import verify

pytestmark = pytest.mark.skipif(not shutil.which("tshark"), reason="make test installs tshark")

CHECKSUMS = ("-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
             "-o", "tcp.check_checksum:TRUE")


def tshark(path: Path, port: int, *args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["tshark", "-r", str(path), "-d", f"udp.port=={port},dns", "-d", f"tcp.port=={port},dns",
         *CHECKSUMS, *args], capture_output=True, text=True, timeout=60, check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result.stdout


def expert_complaints(path: Path, port: int) -> list[str]:
    """The lines of tshark's expert sections "Errors" and "Warns" (empty when clean)."""
    out = tshark(path, port, "-q", "-z", "expert")
    complaints: list[str] = []
    section = ""
    for line in out.splitlines():
        heading = re.match(r"^(\w+) \(\d+\)$", line)
        if heading:
            section = heading.group(1)
        elif section in ("Errors", "Warns") and line.strip() and not line.startswith(("=", "   Freq")):
            complaints.append(f"{section}: {line.strip()}")
    return complaints


def tshark_clean(path: Path, port: int) -> None:
    assert expert_complaints(path, port) == []
    assert "Malformed" not in tshark(path, port)
    # Retransmission, lost segment, ACKed unseen segment, out of order, zero window...
    assert tshark(path, port, "-Y", "tcp.analysis.flags") == ""


def query(name: str, rtype: int = 1, edns: Edns | None = None) -> bytes:
    return encode(build_query(Name.from_text(name), rtype, edns=edns))


def response(query_bytes: bytes, *records: str) -> bytes:
    q = decode(query_bytes)
    header = Header(id=q.header.id, qr=True, aa=True, rd=q.header.rd)
    answers = tuple(parse_record(text) for text in records)
    return encode(Message(header, q.question, answers, (), q.additional))


# ---- the judge itself ----


def test_the_tshark_checks_can_fail(tmp_path: Path) -> None:
    """A bad UDP checksum and a data segment whose predecessor is missing must show."""
    path = tmp_path / "good.pcap"
    writer = CaptureWriter(str(path))
    client, server = ("127.0.0.1", 40000), ("127.0.0.1", 53)
    q = query("google.com.")
    writer.udp(client, server, q)
    writer.tcp_open(("10.0.0.1", 40001), ("10.0.0.2", 53))
    writer.tcp_data(("10.0.0.1", 40001), ("10.0.0.2", 53), query("google.ca."))
    writer.tcp_data(("10.0.0.1", 40001), ("10.0.0.2", 53), query("amazon.ca."))
    writer.close()
    tshark_clean(path, 53)
    data = bytearray(path.read_bytes())
    data[24 + 16 + 14 + 20 + 6] ^= 0xFF  # the first frame's UDP checksum
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes(data))
    assert any("Bad checksum" in line for line in expert_complaints(bad, 53))
    # Drop the first TCP data frame (frame 5): the next one follows an unseen segment.
    frames, offset = [], 24
    while offset < len(data):
        size = int.from_bytes(data[offset + 8 : offset + 12], "little")
        frames.append(bytes(data[offset : offset + 16 + size]))
        offset += 16 + size
    gap = tmp_path / "gap.pcap"
    gap.write_bytes(bytes(data[:24]) + b"".join(frames[:4] + frames[5:]))
    assert tshark(gap, 53, "-Y", "tcp.analysis.flags") != ""


# ---- what the writer writes ----


def test_udp_and_tcp_frames_are_clean_and_show_craft_s_fields(tmp_path: Path) -> None:
    path = tmp_path / "w.pcap"
    writer = CaptureWriter(str(path))
    port = 10053
    c4, s4 = ("192.0.2.10", 40000), ("192.0.2.53", port)
    c6, s6 = ("2001:db8::10", 40001), ("2001:db8::53", port)
    q1 = query("google.com.")
    r1 = response(q1, "google.com. 260 IN A 192.165.1.1", "google.com. 260 IN A 192.165.1.10")
    q2 = query("example.test.", 28, edns=Edns(payload=1232))
    r2 = response(q2, "example.test. 300 IN AAAA 2001:db8::1",
                  "example.test. 300 IN MX 10 mail.example.test.")
    # A response of ~5 kB: four TCP segments, reassembled by tshark and by craft.
    q3 = query("big.example.test.", 16)
    r3 = response(q3, *[f'big.example.test. 60 IN TXT "{i:03d}{"x" * 240}"' for i in range(20)])
    writer.udp(c4, s4, q1)
    writer.udp(s4, c4, r1)
    writer.udp(c6, s6, q2)
    writer.udp(s6, c6, r2)
    writer.tcp_open(c4, s4)
    writer.tcp_data(c4, s4, q1)  # two exchanges on one connection
    writer.tcp_data(s4, c4, r1)
    writer.tcp_data(c4, s4, q3)
    writer.tcp_data(s4, c4, r3)
    writer.tcp_close(c4, s4)
    writer.tcp_data(c6, s6, q2)  # opened implicitly, over IPv6
    writer.tcp_data(s6, c6, r2)
    writer.tcp_close(s6, c6)  # either order names the conversation
    writer.close()
    assert len(r3) > 3 * 1460
    tshark_clean(path, port)
    rows = tshark(path, port, "-Y", "dns", "-T", "fields", "-e", "dns.id", "-e", "dns.qry.name",
                  "-e", "dns.a", "-e", "dns.aaaa", "-e", "dns.mx.mail_exchange",
                  "-e", "dns.count.answers").splitlines()
    ours = []
    for item in dns_messages(str(path)):
        m = decode(item.data)
        a = ",".join(r.rdata.to_text() for r in m.answer if r.rtype == 1)
        aaaa = ",".join(r.rdata.to_text() for r in m.answer if r.rtype == 28)
        mx = ",".join(r.rdata.to_text().split()[1].rstrip(".") for r in m.answer if r.rtype == 15)
        name = m.question[0].name.to_text().rstrip(".")
        ours.append(f"{m.header.id:#06x}\t{name}\t{a}\t{aaaa}\t{mx}\t{len(m.answer)}")
    assert rows == ours
    assert len(rows) == 10
    # TCP: the segments tshark saw carry exactly the octets of the length-prefixed messages.
    lengths = tshark(path, port, "-Y", "dns and tcp", "-T", "fields", "-e", "dns.length").split()
    assert [int(n) for n in lengths] == [len(q1), len(r1), len(q3), len(r3), len(q2), len(r2)]
    assert verify(str(path)).ok


def test_concurrent_writers_keep_every_conversation_whole(tmp_path: Path) -> None:
    """The server writes from several threads; every conversation must stay well formed."""
    path = tmp_path / "threads.pcap"
    writer = CaptureWriter(str(path))
    server = ("127.0.0.1", 10053)
    q = query("youtube.com.")
    r = response(q, "youtube.com. 160 IN A 192.165.1.2")

    def talk(index: int) -> None:
        for round_ in range(5):
            client = ("127.0.0.1", 41000 + index * 10 + round_)  # a new port per connection
            writer.tcp_open(client, server)
            writer.tcp_data(client, server, q)
            writer.tcp_data(server, client, r)
            writer.tcp_close(client, server)
            writer.udp(client, server, q)
            writer.udp(server, client, r)

    threads = [threading.Thread(target=talk, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    writer.close()
    stats = Stats()
    items = list(dns_messages(str(path), stats))
    assert len(items) == 6 * 5 * 4
    assert stats.packets == 6 * 5 * (8 + 2) and stats.notes == []
    assert expert_complaints(path, 10053) == []
    assert tshark(path, 10053, "-Y", "tcp.analysis.flags") == ""
    assert verify(str(path)).ok


def test_timestamps_are_real_and_given_times_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.pcap"
    before = time.time()
    writer = CaptureWriter(str(path))
    q = query("google.ca.")
    writer.udp(("127.0.0.1", 40000), ("127.0.0.1", 53), q)
    writer.udp(("127.0.0.1", 40000), ("127.0.0.1", 53), q, when=1764000000.25)
    writer.close()
    first, second = (item.time for item in dns_messages(str(path)))
    assert before - 1 <= first <= time.time() + 1
    assert second == pytest.approx(1764000000.25, abs=1e-6)


def test_append_continues_after_the_last_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    client, server = ("127.0.0.1", 40000), ("127.0.0.1", 53)
    writer = CaptureWriter(str(path))
    writer.udp(client, server, query("google.com."))
    writer.udp(client, server, query("google.ca."))
    writer.close()
    # A killed writer's half record at the end: appending must cut it off first.
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(CaptureError) as cut:
        list(dns_messages(str(path)))
    assert cut.value.truncated
    writer = CaptureWriter(str(path), append=True)
    writer.udp(client, server, query("amazon.ca."))
    writer.close()
    names = [decode(i.data).question[0].name.to_text() for i in dns_messages(str(path))]
    assert names == ["google.com.", "amazon.ca."]
    tshark_clean(path, 53)
    # Not appending (the default) starts over.
    CaptureWriter(str(path)).close()
    assert list(dns_messages(str(path))) == [] and path.stat().st_size == 24
    # Appending to something craft cannot continue is refused at once.
    from scapy.layers.inet import IP, UDP
    from scapy.utils import wrpcap, wrpcapng

    raw = tmp_path / "raw.pcap"
    wrpcap(str(raw), [IP() / UDP()], linktype=101)
    with pytest.raises(CaptureError, match="link type 101"):
        CaptureWriter(str(raw), append=True)
    ng = tmp_path / "x.pcapng"
    wrpcapng(str(ng), [IP() / UDP()])
    with pytest.raises(CaptureError, match="pcapng"):
        CaptureWriter(str(ng), append=True)


def test_unwritable_paths_fail_at_construction(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such folder"):
        CaptureWriter(str(tmp_path / "no" / "such" / "x.pcap"))
    with pytest.raises(CaptureError, match="Is a directory"):
        CaptureWriter(str(tmp_path))
    if os.path.exists("/dev/full"):  # always full: found before the first packet
        with pytest.raises(CaptureError, match="No space left"):
            CaptureWriter("/dev/full")
    result = subprocess.run(
        [sys.executable, "-m", "craft", "dns-serve", "--port", "0", "--pcap",
         str(tmp_path / "no" / "such" / "dir.pcap")],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 1 and "no such folder" in result.stderr
    assert "Traceback" not in result.stderr


# ---- real processes ----


def wait_for_frames(path: Path, count: int) -> None:
    """Records are written just after each reply is sent: wait (bounded) for them."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = Stats()
        try:
            for _ in dns_messages(str(path), stats):
                pass
        except CaptureError:
            pass
        if stats.packets >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {count} frames")


def test_a_served_session_reads_cleanly_in_tshark(tmp_path: Path) -> None:
    path = tmp_path / "s.pcap"
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--pcap", str(path)]) as (proc, port):
        server = ("127.0.0.1", port)
        for name, edns in (("google.com.", None), ("google.ca.", Edns()), ("nope.amazon.ca.", None)):
            ask(build_query(Name.from_text(name), edns=edns), server)
        ask(build_query(Name.from_text("youtube.com.")), server, tcp=True)
        wait_for_frames(path, 6 + 3 + 2 + 3)  # UDP, handshake, query and answer, FIN exchange
        proc.terminate()
        proc.wait(10)
        assert proc.returncode == 0
    tshark_clean(path, port)
    fields = tshark(path, port, "-Y", "dns", "-T", "fields", "-e", "dns.qry.name", "-e", "dns.a",
                    "-e", "dns.flags.response").splitlines()
    assert fields == [
        "google.com\t\t0", "google.com\t192.165.1.1,192.165.1.10\t1",
        "google.ca\t\t0", "google.ca\t192.165.1.6\t1",
        "nope.amazon.ca\t\t0", "nope.amazon.ca\t\t1",
        "youtube.com\t\t0", "youtube.com\t192.165.1.2\t1",
    ]
    # Each response is stamped when it went out, not with its query's time: Wireshark's
    # round-trip times (dns.time) are real, above zero.
    times = tshark(path, port, "-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.time").split()
    assert len(times) == 4 and all(float(t) > 0 for t in times), times
    assert tshark(path, port, "-T", "fields", "-e", "tcp.flags.str").split() == [
        "··········S·", "·······A··S·", "·······A····", "·······AP···", "·······AP···",
        "·······A···F", "·······A···F", "·······A····",
    ]
    craft_view = [(i.transport, i.is_response) for i in dns_messages(str(path))]
    assert craft_view == [("udp", False), ("udp", True)] * 3 + [("tcp", False), ("tcp", True)]
    assert verify(str(path)).ok


WRITER_LOOP = """
import sys
from craft.capture.writer import CaptureWriter
w = CaptureWriter(sys.argv[1])
q = bytes.fromhex(sys.argv[2])
c, s = ("127.0.0.1", 40000), ("127.0.0.1", 53)
print("ready", flush=True)
n = 0
while True:
    n += 1
    w.udp(c, s, q)
    w.tcp_data((c[0], 30000 + n % 20000), s, q)
    w.tcp_close((c[0], 30000 + n % 20000), s)
"""


def test_sigkill_mid_write_leaves_a_file_read_to_its_last_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "killed.pcap"
    q = query("wikipedia.org.")
    proc = subprocess.Popen([sys.executable, "-c", WRITER_LOOP, str(path), q.hex()],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 10
        while path.stat().st_size < 200_000 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    stats = Stats()
    items = []
    try:
        items.extend(dns_messages(str(path), stats))
    except CaptureError as exc:
        assert exc.truncated and exc.packet == stats.packets
    assert stats.packets > 1000
    result = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert len(result.stdout.split()) == stats.packets  # tshark reads the same whole records
    assert "Traceback" not in result.stderr
    assert all(item.data == q for item in items)


def test_sigkill_of_a_capturing_server(tmp_path: Path) -> None:
    path = tmp_path / "server-killed.pcap"
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--pcap", str(path)]) as (proc, port):
        for _ in range(30):
            ask(build_query(Name.from_text("google.com."), ident=secrets.randbits(16)),
                ("127.0.0.1", port))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # The kill may beat the last record or two; everything written must read back whole.
    frames = tshark(path, port, "-T", "fields", "-e", "frame.number", check=False).split()
    assert 50 <= len(frames) <= 60
    report = verify(str(path))
    assert report.messages == len(frames) and report.malformed == 0 and report.disagreeing == 0
    assert all(p.kind == "file" and "cut short" in p.detail for p in report.problems)


def test_dns_ask_pcap_captures_the_client_side(tmp_path: Path, dns_server: tuple[str, int]) -> None:
    path = tmp_path / "client.pcap"
    for extra in ([], ["--tcp", "--append"]):
        subprocess.run([sys.executable, "-m", "craft", "dns-ask", "google.com", "--port",
                        str(dns_server[1]), "--pcap", str(path), *extra], check=True,
                       capture_output=True, timeout=60)
    items = list(dns_messages(str(path)))
    assert [i.transport for i in items] == ["udp", "udp", "tcp", "tcp"]
    tshark_clean(path, dns_server[1])
    assert verify(str(path)).ok


def test_dns_send_pcap_captures_both_transports(tmp_path: Path,
                                                dns_server: tuple[str, int]) -> None:
    for extra in ([], ["--tcp"]):
        path = tmp_path / f"send{len(extra)}.pcap"
        subprocess.run([sys.executable, "-m", "craft", "dns-send", "--question", "google.com A",
                        "--port", str(dns_server[1]), "--pcap", str(path), *extra], check=True,
                       capture_output=True, timeout=60)
        items = list(dns_messages(str(path)))
        assert [(i.transport, i.is_response) for i in items] == [
            ("tcp" if extra else "udp", False), ("tcp" if extra else "udp", True)]
        tshark_clean(path, dns_server[1])


def test_query_question_is_what_tshark_shows(tmp_path: Path) -> None:
    """Mixed case and an unusual type survive the trip through a capture unchanged."""
    path = tmp_path / "q.pcap"
    writer = CaptureWriter(str(path))
    message = Message(Header(id=0x1A2B), (Question(Name.from_text("GooGLE.Ca."), 99),))
    writer.udp(("127.0.0.1", 40000), ("127.0.0.1", 53), encode(message))
    writer.close()
    assert tshark(path, 53, "-T", "fields", "-e", "dns.qry.name", "-e", "dns.qry.type").split() == [
        "GooGLE.Ca", "99"]


def test_every_worker_writes_whole_records_to_the_one_capture(tmp_path: Path) -> None:
    path = tmp_path / "workers.pcap"
    queries = 200
    args = ["dns-serve", "--port", "0", "--quiet", "--workers", "2", "--pcap", str(path)]
    with craft_process(args) as (proc, port):
        server = ("127.0.0.1", port)
        # Both workers read the parent's one socket: the queries spread over them.
        for i in range(queries):
            reply = send_bytes(query(("google.com.", "youtube.com.", "nope.amazon.ca.")[i % 3]),
                               server, timeout=2).reply
            assert reply is not None
        for _ in range(6):
            assert ask(build_query(Name.from_text("google.ca.")), server, tcp=True).message.answer
        wait_for_frames(path, 2 * queries + 6 * 8)
        proc.terminate()
        proc.wait(10)
        assert proc.returncode == 0
    tshark_clean(path, port)
    ids = tshark(path, port, "-Y", "udp", "-T", "fields", "-e", "ip.id").split()
    assert len(ids) == 2 * queries  # every query and every reply, from whichever process
    # Each worker numbers its frames' IP IDs from where the parent was at the fork: the same
    # IDs twice show that both wrote to the file (one writer would never repeat an ID here).
    assert len(set(ids)) < len(ids)
    report = verify(str(path))
    assert report.ok and report.messages == 2 * queries + 12 and report.malformed == 0
    result = subprocess.run([sys.executable, "-m", "craft", "verify", str(path)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
