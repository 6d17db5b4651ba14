"""DNS compliance as resolvers probe it (RFC 6891, 7766, 8906; ISC's EDNS compliance
cases), through real sockets with dig as an independent client. One test per behaviour."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("dig"), reason="make test installs dig")


def dig(port: int, *args: str) -> str:
    return subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+norecurse", "+time=2",
                           "+tries=1", *args], capture_output=True, text=True, timeout=30,
                          check=False).stdout


def status(out: str) -> str:
    match = re.search(r"status: (\w+)", out)
    assert match, out
    return match.group(1)


def flags(out: str) -> set[str]:
    match = re.search(r";; flags: ([a-z ]*);", out)
    assert match, out
    return set(match.group(1).split())


def edns_line(out: str) -> str:
    match = re.search(r"; EDNS: (.*)", out)
    return match.group(1) if match else ""


def test_plain_dns(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+noedns")
    assert status(out) == "NOERROR" and "aa" in flags(out) and "OPT PSEUDOSECTION" not in out


def test_edns_version_0(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+edns=0", "+nocookie")
    assert status(out) == "NOERROR" and edns_line(out).startswith("version: 0")


def test_edns_version_1_is_badvers(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+edns=1", "+noednsneg", "+nocookie")
    assert status(out) == "BADVERS" and edns_line(out).startswith("version: 0")
    assert "ANSWER: 0" in out


def test_unknown_edns_option_ignored(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+ednsopt=100", "+nocookie")
    assert status(out) == "NOERROR" and "ANSWER: 1" in out and "100" not in edns_line(out)


def test_unknown_edns_flag_ignored_not_echoed(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+ednsflags=0x40", "+nocookie")
    assert status(out) == "NOERROR" and "MBZ" not in out
    assert edns_line(out).startswith("version: 0, flags:;")


def test_edns_version_1_with_unknown_option(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+edns=1", "+noednsneg", "+ednsopt=100",
              "+nocookie")
    assert status(out) == "BADVERS"


def test_header_z_bit_cleared(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+zflag", "+noedns")
    assert status(out) == "NOERROR" and "MBZ" not in out


def test_unknown_opcode_notimp(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+opcode=15", "+noedns")
    assert status(out) == "NOTIMP"


def test_unknown_type_nodata_with_soa(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "TYPE1000", "+noedns")
    assert status(out) == "NOERROR" and "ANSWER: 0" in out and "AUTHORITY: 1" in out
    assert "\tSOA\t" in out


@pytest.mark.parametrize("rtype", ["DNSKEY", "DS", "RRSIG", "NSEC", "NSEC3PARAM"])
def test_dnssec_types_nodata(dns_server: tuple[str, int], rtype: str) -> None:
    out = dig(dns_server[1], "google.com", rtype, "+dnssec", "+nocookie")
    assert status(out) == "NOERROR" and "ANSWER: 0" in out and "\tSOA\t" in out


def test_do_bit_echoed(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+dnssec", "+nocookie")
    assert status(out) == "NOERROR" and "flags: do;" in edns_line(out)


def test_tcp(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+tcp")
    assert status(out) == "NOERROR" and "(TCP)" in out


def test_tcp_with_edns_version_1(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "SOA", "+tcp", "+edns=1", "+noednsneg", "+nocookie")
    assert status(out) == "BADVERS"


def test_edns_512_and_cookie_option(dns_server: tuple[str, int]) -> None:
    out = dig(dns_server[1], "google.com", "ANY", "+bufsize=512", "+cookie")
    assert status(out) == "NOERROR" and "MSG SIZE  rcvd:" in out
    size = int(re.search(r"MSG SIZE  rcvd: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert size <= 512
