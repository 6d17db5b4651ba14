"""Scale and load, functionally (never timed): reloads that keep answering, a failed reload
that keeps the old zone, start-up in order, and idle TCP connections that cannot shut
new TCP clients out."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import craft_process, free_port, running_server, wait_until

from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode, RRType
from craft.dns.message import Header, Message, Question
from craft.dns.names import Name
from craft.dns_supervisor import RESPAWN_FIRST, Supervisor

ORIGIN = "scale.test."
RECORDS = 30000  # over the answer cache's precompute limit: the big-zone path


def zone_text(marker: str, records: int = RECORDS) -> str:
    lines = [f"$ORIGIN {ORIGIN}", "$TTL 300", "@ SOA ns1 hostmaster 1 3600 600 86400 300",
             "@ NS ns1", "ns1 A 127.0.0.1", f"marker A {marker}"]
    lines += [f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(records)]
    return "\n".join(lines) + "\n"


def query(name: str, ident: int = 1) -> bytes:
    return encode(Message(Header(id=ident, rd=True),
                          (Question(Name.from_text(name), RRType.A, 1),)))


def ask_udp(port: int, name: str, timeout: float = 2.0, ident: int = 1) -> Message | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.bind(("127.0.0.1", 0))
        if sock.getsockname()[1] == port:
            # The port is free (craft is still loading) and the kernel gave it to this
            # socket: the query would come back to it as if it were an answer.
            time.sleep(timeout)
            return None
        sock.sendto(query(name, ident), ("127.0.0.1", port))
        try:
            return decode(sock.recv(65535))
        except TimeoutError:
            return None


def marker(port: int) -> str | None:
    reply = ask_udp(port, "marker." + ORIGIN)
    return reply.answer[0].rdata.to_text() if reply is not None and reply.answer else None


class StderrLines:
    """Collects a process's stderr lines in a thread, so a test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        stream = proc.stderr
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")),
                         daemon=True).start()

    def having(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]


def test_a_reload_keeps_answering_every_query_until_the_swap(tmp_path: Path) -> None:
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1"))
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--zone", str(path)],
                       timeout=120) as (proc, port):
        wait_until(lambda: marker(port) == "192.0.2.1", "the zone is not served", 60)
        path.write_text(zone_text("192.0.2.2"))
        asked = unanswered = 0
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            asked += 1
            reply = ask_udp(port, f"h{asked % RECORDS}.{ORIGIN}", ident=asked & 0xFFFF)
            if reply is None or reply.rcode != Rcode.NOERROR or not reply.answer:
                unanswered += 1
            if asked % 20 == 0 and marker(port) == "192.0.2.2":
                break
        assert marker(port) == "192.0.2.2", "the new zone never came"
        assert asked >= 20 and unanswered == 0, f"{unanswered} of {asked} unanswered"


def test_a_failed_reload_keeps_the_old_zone_with_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--zone", str(path)]) as (proc, port):
        err = StderrLines(proc)
        path.write_text(zone_text("192.0.2.2", 100) + "broken A 999.1.1.1\n")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: bool(err.having("reload failed")), "no reload error line")
        assert proc.poll() is None and marker(port) == "192.0.2.1"
        (line,) = err.having("reload failed")
        assert "still serving the old zones" in line and "scale.zone:" in line
        path.write_text(zone_text("192.0.2.3", 100))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: marker(port) == "192.0.2.3", "a good reload after a bad one failed")


def sighup_caught(pid: int) -> bool:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & 1 << (signal.SIGHUP - 1))
    return False


def test_start_up_is_in_order_and_sighup_while_loading_is_not_fatal(tmp_path: Path) -> None:
    """SIGHUP during the load reloads afterwards; no query is answered before the start-up
    line is written (read from the pipe right after the first answer, it must be there)."""
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1"))
    port = free_port()  # free for TCP too: a UDP-only probe once chose a port a TCP client held
    proc = subprocess.Popen([sys.executable, "-m", "craft", "dns-serve", "--port", str(port),
                             "--quiet", "--zone", str(path)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    try:
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        err = b""
        wait_until(lambda: sighup_caught(proc.pid), "SIGHUP never handled")
        hups = 0
        answered = None
        deadline = time.monotonic() + 120
        while answered is None and time.monotonic() < deadline and proc.poll() is None:
            if b"listening" not in err and hups < 20:
                proc.send_signal(signal.SIGHUP)
                hups += 1
            answered = ask_udp(port, "marker." + ORIGIN, timeout=0.2)
            err += proc.stderr.read() or b""
        assert proc.poll() is None, f"craft died: {proc.returncode}: {err[-600:]!r}"
        assert answered is not None and answered.answer
        assert b"listening on udp+tcp" in err, "answered before its start-up line"
        assert hups >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert proc.returncode == 0


@pytest.fixture
def many_files() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 4500:
        pytest.skip("cannot open enough files for 2,000 idle connections")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def tcp_ask(address: tuple[str, int], name: str, timeout: float = 10.0) -> Message:
    with socket.create_connection(address, timeout=timeout) as sock:
        data = query(name, 7)
        sock.sendall(struct.pack("!H", len(data)) + data)
        head = sock.recv(2, socket.MSG_WAITALL)
        assert len(head) == 2, "the connection was closed without an answer"
        body = sock.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
        return decode(body)


def test_a_new_tcp_query_is_answered_whatever_the_idle_connections(many_files: None) -> None:
    with running_server() as server:
        idle: list[socket.socket] = []
        try:
            for _ in range(2000):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(10)
                sock.connect(server.address)
                idle.append(sock)
            for attempt in range(3):  # a fresh client, three times over
                reply = tcp_ask(server.address, "google.com.")
                assert reply.rcode == Rcode.NOERROR and reply.answer, attempt
            # The idlest were closed to make room (RFC 7766 6.2.2): the oldest read the end.
            idle[0].settimeout(5)
            assert idle[0].recv(1) == b""
        finally:
            for sock in idle:
                sock.close()


def test_a_big_transfer_is_built_as_it_is_sent() -> None:
    from craft.dns.answer_cache import Authority
    from craft.dns.zonefile import parse_zone

    zone = parse_zone(zone_text("192.0.2.1"))
    authority = Authority([zone])
    axfr = encode(Message(Header(id=9), (Question(Name.from_text(ORIGIN), RRType.AXFR, 1),)))
    stream = iter(authority.respond_stream(axfr, "127.0.0.1"))
    first = decode(next(stream))  # built before any later message exists
    assert first.question and first.answer[0].rtype == RRType.SOA
    rest = [decode(m) for m in stream]
    records = [r for m in (first, *rest) for r in m.answer]
    assert len(records) == len(zone.records) + 1 and records[-1].rtype == RRType.SOA
    assert {r.to_text() for r in records} == {r.to_text() for r in zone.records}
    assert all(not m.question and m.header.id == 9 for m in rest)


def workers_of(pid: int) -> list[str]:
    return subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True,
                          text=True, check=False).stdout.split()


def test_a_worker_stops_when_its_parent_is_killed_outright() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2"]) as (proc, _):
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "no workers")
        workers = [int(pid) for pid in workers_of(proc.pid)]
        proc.kill()
        proc.wait(10)
        try:
            wait_until(lambda: all(gone_or_zombie(w) for w in workers),
                       "a worker serves on after its parent was killed")
        finally:
            for worker in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker, signal.SIGKILL)  # only if the test failed


def gone_or_zombie(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return True


@contextlib.contextmanager
def two_workers(path: Path, *more: str) -> Iterator[tuple[subprocess.Popen[str], int, StderrLines]]:
    """``dns-serve --workers 2`` on the zone file ``path``, once both workers are forked."""
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2", "--zone",
                        str(path), *more]) as (proc, port):
        err = StderrLines(proc)
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "no workers")
        yield proc, port, err


def test_with_workers_the_zones_load_once_and_every_worker_swaps(tmp_path: Path) -> None:
    """The parent reads the files once (one "reloaded" line: every process that read them
    would say it) and a new generation of workers takes over; the old one ends."""
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    with two_workers(path) as (proc, port, err):
        before = set(workers_of(proc.pid))
        path.write_text(zone_text("192.0.2.2", 100))
        proc.send_signal(signal.SIGHUP)
        # Each query from a new socket: either worker may take it.
        wait_until(lambda: {marker(port) for _ in range(40)} == {"192.0.2.2"},
                   "a process still answers from the old zone")
        wait_until(lambda: not before & set(workers_of(proc.pid)), "the old workers did not end")
        assert len(workers_of(proc.pid)) == 2
        wait_until(lambda: bool(err.having("zones loaded once")), "no generation line")
        assert len(err.having(f"reloaded {ORIGIN} serial 1 -> 2")) == 1, err.lines
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        assert proc.returncode == 0 and not workers_of(proc.pid)


def test_with_workers_a_failed_reload_keeps_the_generation_serving(tmp_path: Path) -> None:
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    with two_workers(path) as (proc, port, err):
        before = set(workers_of(proc.pid))
        path.write_text(zone_text("192.0.2.2", 100) + "broken A 999.1.1.1\n")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: bool(err.having("reload failed")), "no reload error line")
        assert set(workers_of(proc.pid)) == before
        assert {marker(port) for _ in range(20)} == {"192.0.2.1"}
        assert len(err.having("reload failed")) == 1 and not err.having("zones loaded once")


def test_with_workers_watch_reloads_once_for_every_worker(tmp_path: Path) -> None:
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    with two_workers(path, "--watch") as (_, port, err):
        time.sleep(1.1)  # a later modification time than the first load saw
        path.write_text(zone_text("192.0.2.2", 100))
        wait_until(lambda: {marker(port) for _ in range(40)} == {"192.0.2.2"},
                   "a process still answers from the old zone")
        wait_until(lambda: bool(err.having("zones loaded once")), "no generation line")
        assert len(err.having(f"reloaded {ORIGIN} serial")) == 1, err.lines


def test_with_workers_no_query_is_lost_across_the_swap(tmp_path: Path) -> None:
    """A steady stream of UDP queries while the parent loads a zone over the precompute
    limit and the generations change: every query answered, the new zone by the end."""
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1"))
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2", "--zone",
                        str(path)], timeout=120) as (proc, port):
        err = StderrLines(proc)
        wait_until(lambda: marker(port) == "192.0.2.1", "the zone is not served", 60)
        path.write_text(zone_text("192.0.2.2"))
        streams = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
        asked = unanswered = 0
        try:
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 120
            swapped_at = None
            # Until the old generation is told to retire, and 2 s more.
            while time.monotonic() < deadline:
                sock = streams[asked % len(streams)]
                sock.settimeout(3.0)
                asked += 1
                sock.sendto(query(f"h{asked % RECORDS}.{ORIGIN}", asked & 0xFFFF),
                            ("127.0.0.1", port))
                try:
                    reply = decode(sock.recv(65535))
                    if reply.header.id != asked & 0xFFFF or not reply.answer:
                        unanswered += 1
                except TimeoutError:
                    unanswered += 1
                if swapped_at is None and err.having("zones loaded once"):
                    swapped_at = time.monotonic()
                if swapped_at is not None and time.monotonic() > swapped_at + 2:
                    break
        finally:
            for sock in streams:
                sock.close()
        assert swapped_at is not None, f"no new generation: {err.lines[-5:]}"
        assert asked >= 20 and unanswered == 0, f"{unanswered} of {asked} unanswered"
        wait_until(lambda: {marker(port) for _ in range(20)} == {"192.0.2.2"},
                   "a process still answers from the old zone")


def big_records_zone(marker: str, names: int = 4000) -> str:
    """A zone whose transfer (about 8 MB) is more than the kernel buffers a connection."""
    text = " ".join(f'"{i:03d}{"x" * 240}"' for i in range(8))
    lines = [f"$ORIGIN {ORIGIN}", "$TTL 300", "@ SOA ns1 hostmaster 1 3600 600 86400 300",
             "@ NS ns1", "ns1 A 127.0.0.1", f"marker A {marker}"]
    lines += [f"t{i} TXT {text}" for i in range(names)]
    return "\n".join(lines) + "\n"


def test_with_workers_a_transfer_under_way_finishes_when_its_worker_retires(
        tmp_path: Path) -> None:
    """An AXFR begun before a reload, larger than the socket buffers and read only after
    the old generation was told to retire (its sender waiting on the full socket): the
    old worker stays until it is sent, and it arrives whole."""
    from craft.transport import framed, recv_framed

    path = tmp_path / "scale.zone"
    path.write_text(big_records_zone("192.0.2.1"))
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2", "--zone",
                        str(path), "--allow-transfer", "127.0.0.1"], timeout=120) as (proc, port):
        err = StderrLines(proc)
        wait_until(lambda: marker(port) == "192.0.2.1", "the zone is not served", 60)
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "no workers")
        old = set(workers_of(proc.pid))
        axfr = encode(Message(Header(id=5), (Question(Name.from_text(ORIGIN), RRType.AXFR, 1),)))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window
            sock.settimeout(30)
            sock.connect(("127.0.0.1", port))
            sock.sendall(framed(axfr))
            first = recv_framed(sock)
            assert first is not None
            path.write_text(big_records_zone("192.0.2.2"))
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: bool(err.having("zones loaded once")), "no new generation", 60)
            # The old workers' loops have seen the retirement by now (they poll twice a
            # second); the one sending the transfer waits for it to be read.
            wait_until(lambda: len(old & set(workers_of(proc.pid))) == 1,
                       "not only the old worker sending the transfer is left")
            records = len(decode(first).answer)
            while True:
                message = recv_framed(sock)
                assert message is not None, f"the transfer broke off after {records} records"
                answer = decode(message).answer
                records += len(answer)
                if answer and answer[-1].rtype == RRType.SOA:
                    break
        assert records == 4000 + 4 + 1  # every record, the SOA twice
        wait_until(lambda: not old & set(workers_of(proc.pid)), "the old worker did not end")


def test_with_workers_a_capture_across_reloads_holds_whole_records(tmp_path: Path) -> None:
    """With --pcap, two generations (the old one finishing) write to the one file: every
    query and every response recorded, each whole."""
    from craft.capture.reader import Stats, dns_messages
    from craft.verify import verify

    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    capture = tmp_path / "reload.pcap"
    asked = 0
    with two_workers(path, "--pcap", str(capture)) as (proc, port, err):
        for generation in (2, 3):
            path.write_text(zone_text(f"192.0.2.{generation}", 100))
            proc.send_signal(signal.SIGHUP)
            while not err.having(f"generation {generation} "):
                asked += 1
                assert ask_udp(port, f"h{asked % 100}.{ORIGIN}", ident=asked) is not None
                assert asked < 20000, "no new generation"
        for _ in range(20):
            asked += 1
            assert ask_udp(port, f"h{asked % 100}.{ORIGIN}", ident=asked) is not None

        def recorded() -> int:
            stats = Stats()
            for _ in dns_messages(str(capture), stats):
                pass
            return stats.packets

        wait_until(lambda: recorded() >= 2 * asked, "not every exchange was recorded")
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    report = verify(str(capture))
    assert report.ok and report.malformed == 0 and report.messages == 2 * asked


def test_with_workers_a_stop_at_any_point_of_a_reload_leaves_no_worker(tmp_path: Path) -> None:
    """SIGTERM at random moments of a reload (loading, forking the new generation, old one
    retiring): the parent exits 0 and no process of the server is left."""
    import random

    rng = random.Random(2111)
    path = tmp_path / "scale.zone"
    for round_ in range(6):
        path.write_text(zone_text(f"192.0.2.{round_ + 1}", 3000))
        with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2", "--zone",
                            str(path)]) as (proc, _):
            wait_until(lambda: len(workers_of(proc.pid)) == 2, "no workers")
            path.write_text(zone_text("192.0.2.99", 3000))
            proc.send_signal(signal.SIGHUP)
            time.sleep(rng.uniform(0.0, 1.0))
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            assert proc.returncode == 0, round_
        try:
            wait_until(lambda: not serving_from(path), f"a worker was left (round {round_})", 10)
        finally:
            for pid in serving_from(path):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # only if the test failed


def serving_from(path: Path) -> list[int]:
    """Processes whose command line names ``path``: this test's servers, whoever their parent."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if str(path).encode() in (entry / "cmdline").read_bytes() and not gone_or_zombie(
                        int(entry.name)):
                    found.append(int(entry.name))
    return found


def test_with_workers_a_sighup_while_loading_reloads_every_process(tmp_path: Path) -> None:
    """A SIGHUP as soon as it is handled (while the zones load, on most runs: then
    remembered and served once the workers are forked, none forked in the middle of a
    reload): every process then answers from the new zone, and a stop leaves no worker."""
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1"))
    port = free_port()  # free for TCP too: a UDP-only probe once chose a port a TCP client held
    errors = tmp_path / "stderr"
    with errors.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "craft", "dns-serve", "--port", str(port),
                                 "--quiet", "--workers", "2", "--zone", str(path)],
                                stderr=sink, stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: sighup_caught(proc.pid), "SIGHUP never handled")
        path.write_text(zone_text("192.0.2.2"))
        proc.send_signal(signal.SIGHUP)
        try:
            wait_until(lambda: {marker(port) for _ in range(40)} == {"192.0.2.2"},
                       "a process still answers from the old zone", 120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; craft said: {errors.read_bytes()[-600:]!r}") from None
        # The old generation ends once it has seen its retirement (within a second).
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "the old workers did not end")
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert proc.returncode == 0 and not workers_of(proc.pid)


def test_with_workers_a_worker_that_dies_is_forked_again_from_the_same_zones(
        tmp_path: Path) -> None:
    """As NSD restarts a dead server process: a worker killed outright is replaced, with
    its number, and answers from the zones the parent holds; the parent keeps two."""
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    with two_workers(path) as (proc, port, err):
        before = [int(pid) for pid in workers_of(proc.pid)]
        os.kill(before[0], signal.SIGKILL)
        wait_until(lambda: bool(err.having("forked again as PID")), "no worker forked again")
        (line,) = err.having("ended (signal 9)")
        assert "1 serve on" in line, err.lines
        now = [int(pid) for pid in workers_of(proc.pid)]
        assert len(now) == 2 and before[1] in now and before[0] not in now
        assert {marker(port) for _ in range(20)} == {"192.0.2.1"}
        os.kill(before[1], signal.SIGKILL)  # the other one too
        wait_until(lambda: len(err.having("forked again as PID")) == 2, "no second replacement")
        assert len(workers_of(proc.pid)) == 2
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        assert proc.returncode == 0 and not workers_of(proc.pid)


def test_a_worker_that_keeps_dying_is_forked_again_less_and_less_often() -> None:
    supervisor = Supervisor.__new__(Supervisor)
    supervisor.lost, supervisor.delays, supervisor.started = {}, {}, {}
    now = time.monotonic()
    supervisor.started[1] = now  # died at once: each wait twice the one before
    waits = []
    for _ in range(8):
        supervisor._lose(1)
        waits.append(round(supervisor.delays[1]))
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    supervisor.started[1] = now - 1000  # lived long: the wait starts over, and is due now
    supervisor._lose(1)
    assert supervisor.delays[1] == RESPAWN_FIRST and supervisor.lost[1] <= time.monotonic()


def test_with_workers_a_second_stop_while_the_workers_end_is_no_traceback() -> None:
    """The parent holds stops while it ends its workers; one that came meanwhile is let in
    when it is done and must end it as quietly as the first (it raised out of the cleanup,
    a traceback, before). A stopped worker makes the wait long enough to send it."""
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--workers", "2"]) as (proc, _):
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "no workers")
        worker, other = (int(pid) for pid in workers_of(proc.pid))
        os.kill(worker, signal.SIGSTOP)
        try:
            proc.send_signal(signal.SIGTERM)
            wait_until(lambda: gone_or_zombie(other), "the other worker did not end")
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.2)
        finally:
            os.kill(worker, signal.SIGCONT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "stopped" in err


def test_with_workers_each_worker_says_what_its_oracle_checked() -> None:
    """The parent serves nothing, so its own count is always 0 (it used to print that);
    each worker prints its own as it ends, and together they count every message."""
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--oracle", "--workers",
                        "2"]) as (proc, port):
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "no workers")
        asked = sum(ask_udp(port, "google.com.", ident=i) is not None for i in range(10))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    counts = [int(n) for n in re.findall(r"worker \d: oracle: (\d+) messages checked", err)]
    assert len(counts) == 2 and sum(counts) == 2 * asked == 20, err
    assert "\noracle:" not in err and not err.startswith("oracle:")


def test_with_workers_a_reload_that_changes_nothing_keeps_the_generation(tmp_path: Path) -> None:
    path = tmp_path / "scale.zone"
    path.write_text(zone_text("192.0.2.1", 100))
    with two_workers(path) as (proc, port, err):
        before = set(workers_of(proc.pid))
        path.write_text(zone_text("192.0.2.1", 100) + "; only a comment more\n")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: bool(err.having("no zone changed; generation 1 serves on")),
                   "no line for the reload")
        assert set(workers_of(proc.pid)) == before and not err.having("zones loaded once")
        assert marker(port) == "192.0.2.1"
        path.write_text(zone_text("192.0.2.2", 100))  # a real change still takes over
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: bool(err.having("generation 2 (2 workers)")), "no new generation")
