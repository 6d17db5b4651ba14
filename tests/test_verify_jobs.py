"""``craft verify --jobs N`` gives the single job's report, to the count and the problem."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

import craft.verify as verify_module
import craft.verify_jobs as verify_jobs_module
from craft.capture.writer import CaptureWriter
from craft.dns.answer_cache import Authority
from craft.dns.codec import encode
from craft.dns.constants import RRType
from craft.dns.names import Name
from craft.dns.zone import LAB_TABLE, default_zones
from craft.dns_client import build_query
from craft.verify import verify
from craft.verify_jobs import verify_jobs

SERVER = ("127.0.0.1", 53)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """UDP exchanges (many repeating a question under a new ID), TCP streams of several
    messages each, and malformed messages, interleaved."""
    path = tmp_path_factory.mktemp("jobs") / "mixed.pcap"
    authority = Authority(default_zones())
    writer = CaptureWriter(str(path))
    names = [f"{domain}." for domain, _, _ in LAB_TABLE] + ["nope.google.com.", "example.org."]
    when = 1764000000.0
    for i in range(1500):
        client = ("127.0.0.1", 20000 + i % 50)
        name = names[i % len(names)] if i % 3 else f"n{i}.google.com."
        query = encode(build_query(Name.from_text(name), RRType.A if i % 4 else RRType.NS,
                                   ident=i & 0xFFFF))
        when += 0.001
        if i % 97 == 0:
            writer.udp(client, SERVER, query[:5] + b"\x02" + query[6:], when)  # malformed
            continue
        if i % 10 == 0:  # a TCP stream of three exchanges
            tcp_client = ("127.0.0.1", 30000 + i)
            writer.tcp_open(tcp_client, SERVER, when)
            for k in range(3):
                q = query[:1] + bytes((k,)) + query[2:]
                writer.tcp_data(tcp_client, SERVER, q, when)
                reply = authority.respond(q, 0xFFFF)
                assert reply is not None
                writer.tcp_data(SERVER, tcp_client, reply, when)
            writer.tcp_close(tcp_client, SERVER, when)
            continue
        writer.udp(client, SERVER, query, when)
        reply = authority.respond(query)
        assert reply is not None
        writer.udp(SERVER, client, reply, when)
    writer.close()
    return path


@pytest.mark.parametrize("memo", [True, False], ids=["memo", "no-memo"])
@pytest.mark.parametrize("jobs", [2, 3])
def test_several_jobs_give_the_single_jobs_report(capture: Path, jobs: int, memo: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_jobs_module, "CHUNK", 64)  # many chunks in flight
    single = verify(str(capture), memo=memo)
    assert single.messages > 3000 and single.malformed > 0 and single.problems
    assert (single.repeats > 0) == memo
    assert verify_jobs(str(capture), jobs, memo=memo) == single


def test_a_cut_capture_gives_the_same_error_and_problems(capture: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_jobs_module, "CHUNK", 64)
    cut = tmp_path / "cut.pcap"
    data = capture.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    single = verify(str(cut))
    assert single.error is not None
    assert verify_jobs(str(cut), 2) == single


def test_the_command_prints_the_same_report_with_jobs(capture: Path) -> None:
    def run(*args: str) -> tuple[int, dict[str, object]]:
        done = subprocess.run([sys.executable, "-m", "craft", "verify", "--json", *args,
                               str(capture)], capture_output=True, text=True, timeout=300,
                              check=False)
        return done.returncode, json.loads(done.stdout)

    assert run("--jobs", "2") == run("--jobs", "1")


def test_the_observer_sees_every_message_in_capture_order_with_jobs(
        capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_jobs_module, "CHUNK", 64)
    single: list[tuple[int, object]] = []
    several: list[tuple[int, object]] = []
    verify(str(capture), observe=lambda item, outcome: single.append((item.packet, outcome)))
    verify_jobs(str(capture), 2,
                observe=lambda item, outcome: several.append((item.packet, outcome)))
    assert len(single) > 3000 and several == single


def test_stats_and_log_are_the_same_with_jobs(capture: Path, tmp_path: Path) -> None:
    def run(jobs: str) -> tuple[int, dict[str, object], str]:
        log = tmp_path / f"{jobs}.log"
        done = subprocess.run([sys.executable, "-m", "craft", "verify", "--json", "--stats",
                               "--log", str(log), "--jobs", jobs, str(capture)],
                              capture_output=True, text=True, timeout=300, check=False)
        return done.returncode, json.loads(done.stdout), log.read_text()

    one, two = run("1"), run("2")
    assert one[2].count("\n") > 1000 and "stats" in one[1]
    assert two == one


def test_a_log_on_stdout_is_the_same_with_jobs(capture: Path) -> None:
    """Workers are forked beside the log: each line once, in capture order."""
    def run(jobs: str) -> list[str]:
        done = subprocess.run([sys.executable, "-m", "craft", "verify", "--log", "-",
                               "--log-format", "zeek", "--jobs", jobs, str(capture)],
                              capture_output=True, text=True, timeout=300, check=False)
        return done.stdout.splitlines()

    one = run("1")
    assert sum(line.startswith("{") for line in one) > 1000
    assert run("2") == one


def test_this_process_and_the_workers_each_check_a_share(capture: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither idles: the reading process checks chunks itself once the workers have
    enough queued. Only this process's calls are counted here (workers count in their
    own copies of the list)."""
    monkeypatch.setattr(verify_jobs_module, "CHUNK", 64)
    here: list[int] = []
    check_chunk = verify_jobs_module._check_chunk

    def counted(datas: list[bytes]) -> list[verify_jobs_module.Outcome]:
        here.append(len(datas))
        return check_chunk(datas)

    monkeypatch.setattr(verify_jobs_module, "_check_chunk", counted)
    report = verify_jobs(str(capture), 2, memo=False)
    assert report == verify(str(capture), memo=False)
    assert 0 < sum(here) < report.messages


def test_a_worker_that_dies_is_an_error_not_a_hang(capture: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_jobs_module, "CHUNK", 64)
    monkeypatch.setattr(verify_jobs_module, "WAIT", 0.05)
    parent = os.getpid()
    check_chunk = verify_jobs_module._check_chunk

    def dying(datas: list[bytes]) -> list[verify_jobs_module.Outcome]:
        if os.getpid() != parent:
            os._exit(9)
        return check_chunk(datas)

    monkeypatch.setattr(verify_jobs_module, "_check_chunk", dying)
    with pytest.raises(verify_jobs_module.WorkerError, match="exit 9"):
        verify_jobs(str(capture), 3)
    assert not multiprocessing.active_children()  # none left behind


@pytest.mark.parametrize("memo", [True, False], ids=["memo", "no-memo"])
def test_no_message_is_checked_that_the_single_job_would_not_check(
        capture: Path, tmp_path: Path, memo: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeats (ID aside) of a message still in flight wait for its outcome instead of
    being checked again; a repeat of a malformed one is checked, as one job checks it.
    Every check, in any process, appends a line to a file."""
    monkeypatch.setattr(verify_jobs_module, "CHUNK", 64)
    counts = tmp_path / "checks"
    check_data = verify_module.check_data

    def counting(module: object) -> None:
        def counted(data: bytes) -> verify_module.Outcome:
            with counts.open("a") as out:
                out.write(f"{data[2:].hex()}\n")
            return check_data(data)

        monkeypatch.setattr(module, "check_data", counted)

    counting(verify_module)
    single = verify(str(capture), memo=memo)
    one = sorted(counts.read_text().splitlines())
    counts.unlink()
    counting(verify_jobs_module)
    assert verify_jobs(str(capture), 3, memo=memo) == single
    assert sorted(counts.read_text().splitlines()) == one
    assert len(set(one)) < len(one) if not memo else single.repeats > 0
