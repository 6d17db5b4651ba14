"""craft's one rule for errors on the command line: any CraftError a command lets out is one
line on stderr, ``craft COMMAND: where: reason``, with its class's exit code; click's usage
errors keep exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from craft.capture.reader import CaptureError
from craft.capture.writer import CaptureWriteError
from craft.dns.zone import ZoneError
from craft.dns_server import ServerError
from craft.errors import CraftError


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "craft", *args], capture_output=True, text=True,
                          timeout=60, check=False)


# (arguments, with {tmp} for a scratch folder; exit code; the whole stderr line)
CASES = [
    (["verify", "{tmp}/junk.pcap"], 2,
     "craft verify: capture {tmp}/junk.pcap: not a pcap or pcapng file (bad magic number)"),
    (["verify", "{tmp}/none.pcap"], 2,
     "craft verify: capture {tmp}/none.pcap: No such file or directory"),
    (["dns-serve", "--zone", "{tmp}/none.zone"], 1,
     "craft dns-serve: {tmp}/none.zone: No such file or directory"),
    (["dns-serve", "--zone", "{tmp}/bad.zone"], 1,
     "craft dns-serve: {tmp}/bad.zone:1: relative name 'bad' with no $ORIGIN"),
    (["dns-serve", "--port", "0", "--host", "192.0.2.1"], 1,
     "craft dns-serve: cannot listen on 192.0.2.1:0: Cannot assign requested address"),
    (["dns-serve", "--port", "0", "--pcap", "{tmp}/no/x.pcap"], 1,
     "craft dns-serve: capture {tmp}/no/x.pcap: no such folder {tmp}/no"),
    (["dns-ask", "a.b", "--pcap", "{tmp}"], 1, "craft dns-ask: capture {tmp}: Is a directory"),
    (["dns-send", "--question", "a.b", "--pcap", "{tmp}"], 1,
     "craft dns-send: capture {tmp}: Is a directory"),
    (["decode", "1234"], 1,
     "craft decode: not a valid DNS message: offset 2: truncated FLAGS: needs 2 octets, 0 left"),
]


@pytest.mark.parametrize(("args", "code", "line"), CASES)
def test_one_line_and_the_exit_code_of_the_class(tmp_path: Path, args: list[str], code: int,
                                                 line: str) -> None:
    (tmp_path / "junk.pcap").write_bytes(b"not a capture")
    (tmp_path / "bad.zone").write_text("bad zone\n")
    result = run(*(a.format(tmp=tmp_path) for a in args))
    assert (result.returncode, result.stderr) == (code, line.format(tmp=tmp_path) + "\n")


def test_mutation_errors_name_the_fault() -> None:
    result = run("dns-send", "--mutate", "bogus", "--question", "a.b")
    assert result.returncode == 1
    assert result.stderr.startswith("craft dns-send: --mutate bogus: unknown; one of ")
    assert result.stderr.count("\n") == 1


def test_usage_errors_stay_clicks() -> None:
    result = run("dns-ask", "a.b", "-t", "BOGUS")
    assert result.returncode == 2 and "unknown type 'BOGUS'" in result.stderr


def test_exit_codes_by_class() -> None:
    assert CraftError.exit_code == ZoneError.exit_code == ServerError.exit_code == 1
    assert CaptureError.exit_code == 2  # verify: the file cannot be read
    assert CaptureWriteError.exit_code == 1 and issubclass(CaptureWriteError, CaptureError)
