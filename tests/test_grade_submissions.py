"""craft grade against lab-style submissions (tests/data/grade): a correct DNS server,
client and web server, one submission per fault students make, and craft's own servers.
Each gets exactly the score its faults deserve; after grading nothing of it is left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "grade"
WEB = DATA / "web"
PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]


def grade(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([PY, "-m", "craft", "grade", *args], capture_output=True, text=True,
                          timeout=180, check=False, env=env, cwd=cwd)


def graded(*args: str) -> tuple[dict[str, object], int]:
    result = grade(*args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout), result.returncode


def failed(report: dict[str, object]) -> set[str]:
    rows = report["rows"]
    assert isinstance(rows, list)
    return {row["key"] for row in rows if not row["passed"]}


DNS_SERVER_ROWS = {"binary", "id", "flags", "counts", "question", "compression", "type-class",
                   "ttl", "rdata", "all-records", "outside", "port", "printed-hex",
                   "upper-case", "in-a-row", "two-clients", "still-serving"}


@pytest.mark.parametrize(
    ("submission", "score", "fails"),
    [
        ("dns_server_ok.py", 27, set()),
        ("dns_server_hex_text.py", 1, DNS_SERVER_ROWS - {"port"}),
        ("dns_server_fixed_id.py", 25, {"id"}),
        ("dns_server_no_compression.py", 25, {"compression"}),
        ("dns_server_self_pointer.py", 9, {"binary", "counts", "question", "compression",
                                           "type-class", "ttl", "rdata", "all-records",
                                           "upper-case", "in-a-row", "two-clients",
                                           "still-serving"}),
        ("dns_server_crash_outside.py", 24, {"outside", "still-serving"}),
        ("dns_server_wrong_ttl.py", 25, {"ttl"}),
        ("dns_server_wrong_class.py", 26, {"type-class"}),
        ("dns_server_one_google.py", 25, {"all-records"}),
    ],
)
def test_dns_server_submissions(submission: str, score: int, fails: set[str]) -> None:
    report, code = graded("dns-server", "--json", "--", PY, str(DATA / submission), "{port}")
    assert (report["score"], report["max_score"]) == (score, 27)
    assert failed(report) == fails
    assert code == (0 if not fails - {"upper-case", "in-a-row", "two-clients", "still-serving"} else 1)
    assert str(report["network_namespace"]).startswith("yes")


def test_a_hanging_server_that_forks_is_stopped_whole(tmp_path: Path) -> None:
    for extra in ([], ["--no-netns"]):
        pids = tmp_path / f"pids{len(extra)}"
        report, code = graded("dns-server", "--json", *extra, "--", PY,
                              str(DATA / "dns_server_hang_outside.py"), "{port}", str(pids))
        assert (report["score"], code) == (24, 1)
        assert failed(report) == {"outside", "still-serving"}
        main, group, helper = map(int, pids.read_text().split())
        assert main == group  # its own process group
        for pid in (main, helper):  # the helper left the group with setsid: stopped too
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)


def test_craft_dns_serve_gets_full_marks() -> None:
    report, code = graded("dns-server", "--json", "--", PY, "-m", "craft", "dns-serve",
                          "--port", "{port}")
    assert (report["score"], report["max_score"], code) == (27, 27, 0)


@pytest.mark.parametrize(
    ("command", "score", "fails"),
    [
        ([str(DATA / "dns_client_ok.py"), "{port}"], 17, set()),
        ([str(DATA / "dns_client_fixed_id.py"), "{port}"], 13, {"fresh-id", "wrong-id", "lost"}),
        (["-m", "craft", "dns-ask", "--port", "{port}"], 17, set()),
    ],
    ids=["ok", "fixed-id", "craft-dns-ask"],
)
def test_dns_client_submissions(command: list[str], score: int, fails: set[str]) -> None:
    report, code = graded("dns-client", "--json", "--", PY, *command)
    assert (report["score"], report["max_score"]) == (score, 17)
    assert failed(report) == fails
    assert code == (0 if "fresh-id" not in fails else 1)


@pytest.mark.parametrize(
    ("command", "score", "fails"),
    [
        ([str(DATA / "web_server_ok.py"), "{port}"], 19, set()),
        ([str(DATA / "web_server_no_date.py"), "{port}"], 16, {"headers", "date"}),
        ([str(DATA / "web_server_bad_length.py"), "{port}"], 17, {"content-length"}),
        ([str(DATA / "web_server_closes.py"), "{port}"], 2,
         {"get", "headers", "content-length", "date", "last-modified", "content-type", "crlf",
          "head", "not-found", "malformed", "several", "cut"}),
        (["-m", "craft", "web-serve", "--port", "{port}", "--root", "."], 19, set()),
    ],
    ids=["ok", "no-date", "bad-length", "closes", "craft-web-serve"],
)
def test_web_server_submissions(command: list[str], score: int, fails: set[str]) -> None:
    report, code = graded("web-server", "--json", "--root", str(WEB), "--", PY, *command)
    assert (report["score"], report["max_score"]) == (score, 19)
    assert failed(report) == fails
    assert code == (0 if not fails else 1)


def test_a_failed_row_shows_the_raw_response() -> None:
    result = grade("web-server", "--root", str(WEB), "--", PY,
                   str(DATA / "web_server_bad_length.py"), "{port}")
    assert result.returncode == 1
    assert "FAIL    0/2   Content-Length equals the body" in result.stdout
    assert "expected Content-Length 120 (the body's octets), got 118" in result.stdout
    assert "      HTTP/1.1 200 OK\\r\\n" in result.stdout


def test_a_failed_dns_row_shows_the_annotated_reply_and_scapy() -> None:
    result = grade("dns-server", "--", PY, str(DATA / "dns_server_self_pointer.py"), "{port}")
    assert result.returncode == 1
    assert "self compression pointer to 12" in result.stdout
    assert "NOT DECODED  32 octets" in result.stdout
    assert "scapy: craft rejects at offset 12" in result.stdout


def test_gradescope_and_rubric_file(tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('port_range = [20000, 20010]\n[points.dns-server]\nid = 10\n'
                      '"two-clients" = 0\n')
    results = tmp_path / "results.json"
    report, code = graded("dns-server", "--json", "--rubric", str(rubric), "--gradescope",
                          str(results), "--", PY, str(DATA / "dns_server_fixed_id.py"), "{port}")
    assert (report["score"], report["max_score"], code) == (24, 34, 1)
    scope = json.loads(results.read_text())
    assert scope["score"] == 24
    tests = {t["name"]: t for t in scope["tests"]}
    assert tests["ID echoed"]["status"] == "failed"
    assert tests["ID echoed"]["max_score"] == 10
    assert "expected ID 0x" in tests["ID echoed"]["output"]
    assert tests["port in the lab's range"]["status"] == "passed"  # {port} from 20000-20010


def test_exit_2_when_the_submission_cannot_start_or_be_reached(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    result = grade("dns-server", "--port", "10500", "--gradescope", str(results), "--", PY, "-c",
                   "import sys; print('oops', file=sys.stderr); sys.exit(3)")
    assert result.returncode == 2
    assert "exited (exit code 3) before listening on UDP port" in result.stderr
    assert "oops" in result.stderr
    assert json.loads(results.read_text())["score"] == 0
    result = grade("web-server", "--port", "1", "--root", str(WEB))
    assert result.returncode == 2 and "connection refused" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[points.dns-server]\ntll = 3\n")
    result = grade("dns-server", "--rubric", str(bad), "--port", "10053")
    assert result.returncode == 2 and "no such row" in result.stderr


def test_a_running_server_is_graded_without_the_printed_hex_row() -> None:
    from conftest import craft_process

    with craft_process(["dns-serve", "--port", "0"]) as (_, port):
        report, code = graded("dns-server", "--json", "--port", str(port))
    assert (report["score"], report["max_score"], code) == (24, 25, 1)
    assert failed(report) == {"port"}  # an ephemeral port is outside 10000-11000
    assert report["network_namespace"] == "not used (craft did not start the submission)"


def test_the_total_time_limit_ends_a_grade_of_a_silent_server() -> None:
    silent = ("import socket, sys, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
              "s.bind(('127.0.0.1', int(sys.argv[1]))); time.sleep(3600)")
    report, code = graded("dns-server", "--json", "--time-limit", "4", "--", PY, "-c", silent,
                          "{port}")
    assert (report["score"], code) == (1, 1)  # only the port row
    rows = report["rows"]
    assert isinstance(rows, list)
    assert rows[0]["detail"].startswith("google.com: no reply in time")
