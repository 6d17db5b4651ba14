"""``craft dns-ask --dnssec / --validate`` against a real BIND (named) on loopback serving
zones signed by ``dnssec-signzone``: one NSEC zone, one NSEC3 zone, and a copy of the NSEC
zone with one signature corrupted in the file (named serves a pre-signed zone as given: no
dnssec-policy, no inline signing).

Keys are made fresh in a temporary folder; the trust anchors are the signer's ``dsset-``
files and the KSK's ``K*.key`` file. Positive, NXDOMAIN and NODATA answers are secure, the
corrupted signature is bogus with exit code 10, a wrong anchor is bogus too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import craft_process, daemon_path
from test_bind import running_named
from test_validate import ZONE_BODY

# origin: (NSEC3?, algorithm), three of the six algorithms checked (all six: test_validate.py)
ZONES = {"nsec.test.": (False, "ECDSAP256SHA256"), "nsec3.test.": (True, "ED25519"),
         "broken.test.": (False, "RSASHA256")}


def _run(cmd: list[str], cwd: Path) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _sign(workdir: Path, origin: str, nsec3: bool, algorithm: str) -> Path:
    keygen = daemon_path("dnssec-keygen", "bind9-utils")
    signzone = daemon_path("dnssec-signzone", "bind9-utils")
    zone = origin.rstrip(".")
    ksk = _run([keygen, "-q", "-a", algorithm, "-f", "KSK", zone], workdir)
    zsk = _run([keygen, "-q", "-a", algorithm, zone], workdir)
    (workdir / f"{zone}.ksk").write_text(ksk)
    keys = "".join((workdir / f"{k}.key").read_text() for k in (ksk, zsk))
    source = workdir / f"{zone}.unsigned"
    source.write_text(f"$ORIGIN {origin}\n" + ZONE_BODY + keys)
    out = workdir / f"{zone}.signed"
    extra = ["-3", "ABCDEF", "-H", "0"] if nsec3 else []
    _run([signzone, "-q", *extra, "-o", zone, "-f", str(out), str(source), ksk, zsk], workdir)
    return out


def _corrupt(path: Path) -> None:
    """Change one base64 character of the signature over www's A RRset. dnssec-signzone
    writes it as ``www... IN A ...``, then ``ttl RRSIG A 13 3 ttl (``, the times, key tag
    and signer, then the base64 lines."""
    lines = path.read_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("www.broken.test.\t"))
    head = next(i for i in range(start, len(lines)) if re.search(r"\sRRSIG\s+A\s", lines[i]))
    target = head + 2
    text = lines[target]
    position = len(text) - len(text.lstrip()) + 3
    lines[target] = text[:position] + ("B" if text[position] != "B" else "C") + text[position + 1:]
    path.write_text("\n".join(lines))


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    workdir = tmp_path_factory.mktemp("dnssec")
    clauses = []
    for origin, (nsec3, algorithm) in ZONES.items():
        path = _sign(workdir, origin, nsec3, algorithm)
        if origin == "broken.test.":
            _corrupt(path)
        clauses.append(f'zone "{origin}" {{ type primary; file "{path}"; }};\n')
    plain = workdir / "plain.test.zone"
    plain.write_text("$ORIGIN plain.test.\n" + ZONE_BODY)
    clauses.append(f'zone "plain.test." {{ type primary; file "{plain}"; }};\n')
    with running_named(workdir, "".join(clauses), [*ZONES, "plain.test."]) as port:
        yield port, workdir


def _ask(port: int, *args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "craft", "dns-ask", "--port", str(port), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


def _verdicts(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.search(r": (secure|insecure|bogus)\b", line)]


CASES = [
    ("www", "A", 0, ""), ("nope", "A", 3, "(denial): secure"), ("www", "MX", 4, "(denial): secure"),
    ("b.c", "A", 4, "(denial): secure"), ("x.wild", "TXT", 0, "(wildcard expansion): secure"),
    ("x.wild", "A", 4, "(denial): secure"), ("x.y.nope", "A", 3, "(denial): secure"),
]


@pytest.mark.parametrize("zone", ["nsec.test", "nsec3.test"])
@pytest.mark.parametrize(("name", "qtype", "code", "words"), CASES)
def test_validate_says_secure(signed: tuple[int, Path], zone: str, name: str, qtype: str,
                              code: int, words: str) -> None:
    port, workdir = signed
    anchor = str(workdir / f"dsset-{zone}.")
    status, out = _ask(port, f"{name}.{zone}", "-t", qtype, "--validate", "--trust-anchor", anchor)
    assert status == code, out
    verdicts = _verdicts(out)
    assert verdicts and all(": secure" in v for v in verdicts if "NS: insecure" not in v), out
    assert f";; {zone}. DNSKEY: secure" in out
    assert words in out


def test_validate_with_the_ksk_file_and_with_text(signed: tuple[int, Path]) -> None:
    port, workdir = signed
    ksk = (workdir / "nsec.test.ksk").read_text().strip()
    status, out = _ask(port, "www.nsec.test", "--trust-anchor", str(workdir / f"{ksk}.key"))
    assert status == 0 and "www.nsec.test. A: secure" in out, out
    ds = (workdir / "dsset-nsec.test.").read_text().strip()
    status, out = _ask(port, "www.nsec.test", "--trust-anchor", ds)
    assert status == 0 and "www.nsec.test. A: secure" in out, out


def test_without_anchor_it_says_where_the_key_came_from(signed: tuple[int, Path]) -> None:
    port, _ = signed
    status, out = _ask(port, "www.nsec3.test", "--validate")
    assert status == 0, out
    assert "trusted only because the server sent it" in out


def test_corrupted_signature_is_bogus(signed: tuple[int, Path]) -> None:
    port, workdir = signed
    status, out = _ask(port, "www.broken.test", "--trust-anchor", str(workdir / "dsset-broken.test."))
    assert status == 10, out
    assert "www.broken.test. A: bogus: key tag" in out and "signature does not verify" in out
    # The rest of the zone still validates.
    status, out = _ask(port, "www.broken.test", "-t", "AAAA", "--trust-anchor",
                       str(workdir / "dsset-broken.test."))
    assert status == 0 and "AAAA: secure" in out, out


def test_wrong_anchor_is_bogus(signed: tuple[int, Path]) -> None:
    port, workdir = signed
    status, out = _ask(port, "www.nsec.test", "--trust-anchor", str(workdir / "dsset-nsec3.test."))
    assert status == 10 and "no trust anchor for nsec.test." in out, out
    status, out = _ask(port, "www.nsec.test", "--trust-anchor", "nsec.test. DS 1 13 2 " + "00" * 32)
    assert status == 10 and "no DNSKEY with key tag 1 alg 13" in out, out


def test_bad_anchor_text_is_a_usage_error(signed: tuple[int, Path]) -> None:
    port, _ = signed
    status, out = _ask(port, "www.nsec.test", "--trust-anchor", "nsec.test. A 192.0.2.1")
    assert status == 2, out
    assert "Error: Invalid value for --trust-anchor: text:1: a trust anchor is a DS or DNSKEY record" in out
    status, out = _ask(port, "www.nsec.test", "--trust-anchor", "/no/such/anchor")
    assert status == 2 and "no such file /no/such/anchor" in out, out


def test_hex_shows_the_signed_octets_and_nsec3_hashes(signed: tuple[int, Path]) -> None:
    port, workdir = signed
    status, out = _ask(port, "nope.nsec3.test", "--hex", "--trust-anchor",
                       str(workdir / "dsset-nsec3.test."))
    assert status == 3, out
    assert ";; signed data of RRSIG SOA nsec3.test." in out
    assert "RRSIG RDATA (no signature)" in out and "CANONICAL RR 1" in out
    assert ";; NSEC3 hash of nope.nsec3.test." in out and "NSEC3 HASH INPUT" in out
    assert re.search(r";; output [0-9a-f]{40} = base32hex [0-9a-v]{32}", out)


def test_dnssec_prints_the_signatures_and_the_proof(signed: tuple[int, Path]) -> None:
    port, _ = signed
    status, out = _ask(port, "www.nsec.test", "--dnssec")
    assert status == 0 and "type RRSIG" in out and "flags: do" in out, out
    status, out = _ask(port, "nope.nsec.test", "--dnssec")
    assert status == 3 and "type NSEC," in out and "type RRSIG" in out, out


def test_unsigned_zone_is_insecure_without_an_anchor_and_bogus_with_one(
        signed: tuple[int, Path]) -> None:
    port, _ = signed
    status, out = _ask(port, "www.plain.test", "--validate")
    assert status == 0, out
    assert "www.plain.test. A: insecure (no RRSIG in the response" in out
    status, out = _ask(port, "www.plain.test", "--trust-anchor", "plain.test. DS 1 13 2 " + "00" * 32)
    assert status == 10 and "www.plain.test. A: bogus: no RRSIG covers it" in out, out


def test_json_carries_the_verdicts(signed: tuple[int, Path]) -> None:
    port, workdir = signed
    status, out = _ask(port, "nope.nsec3.test", "--json", "--trust-anchor",
                       str(workdir / "dsset-nsec3.test."))
    assert status == 3, out
    dnssec = json.loads(out)["dnssec"]
    assert dnssec["bogus"] is False and dnssec["keys"][0]["security"] == "secure"
    assert dnssec["verdicts"][-1]["section"] == "denial"
    assert {v["security"] for v in dnssec["verdicts"]} == {"secure"}
    status, out = _ask(port, "www.broken.test", "--json", "--trust-anchor",
                       str(workdir / "dsset-broken.test."))
    assert status == 10 and json.loads(out)["dnssec"]["bogus"] is True


@pytest.fixture(scope="module")
def craft_signed(signed: tuple[int, Path]) -> Iterator[tuple[int, Path]]:
    """craft dns-serve on the same signed NSEC and NSEC3 zones; skipped while craft does
    not answer the DO bit with signatures (the "Serving" half of issue #17)."""
    _, workdir = signed
    files = [arg for zone in ("nsec.test", "nsec3.test") for arg in ("--zone", str(workdir / f"{zone}.signed"))]
    with craft_process(["dns-serve", "--port", "0", "--quiet", *files]) as (_, port):
        _, out = _ask(port, "www.nsec.test", "--dnssec")
        if "type RRSIG" not in out:
            pytest.skip("craft dns-serve does not send RRSIGs for DO queries on this branch")
        yield port, workdir


@pytest.mark.parametrize("zone", ["nsec.test", "nsec3.test"])
@pytest.mark.parametrize(("name", "qtype", "code", "words"), CASES)
def test_validate_says_secure_against_craft_serving(
        craft_signed: tuple[int, Path], zone: str, name: str, qtype: str, code: int,
        words: str) -> None:
    port, workdir = craft_signed
    anchor = str(workdir / f"dsset-{zone}.")
    status, out = _ask(port, f"{name}.{zone}", "-t", qtype, "--trust-anchor", anchor)
    assert status == code, out
    assert all(": secure" in v for v in _verdicts(out)), out
    assert words in out


def test_validate_over_tcp(signed: tuple[int, Path]) -> None:
    """The DNSKEY question goes the way the first did: --tcp for both."""
    port, workdir = signed
    status, out = _ask(port, "www.nsec3.test", "--tcp", "--trust-anchor",
                       str(workdir / "dsset-nsec3.test."))
    assert status == 0 and "www.nsec3.test. A: secure (key" in out and "alg 15" in out, out


KEY_SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy"  # base64 of 32 octets


def test_validate_with_y_signs_the_dnskey_question_too(tmp_path: Path) -> None:
    """A server that answers only TSIG-signed queries (BIND's allow-query with a key):
    the DNSKEY question -y brings is signed as the first one is, so the answer validates;
    without the key even the first question is refused."""
    path = _sign(tmp_path, "keyed.test.", False, "ECDSAP256SHA256")
    conf = (f'key "ask-key" {{ algorithm hmac-sha256; secret "{KEY_SECRET}"; }};\n'
            f'zone "keyed.test." {{ type primary; file "{path}"; allow-query {{ key "ask-key"; }}; }};\n'
            f'zone "plain.test." {{ type primary; file "{tmp_path / "plain.zone"}"; }};\n')
    (tmp_path / "plain.zone").write_text("$ORIGIN plain.test.\n" + ZONE_BODY)
    with running_named(tmp_path, conf, ["plain.test."]) as port:
        anchor = str(tmp_path / "dsset-keyed.test.")
        status, out = _ask(port, "www.keyed.test", "--trust-anchor", anchor,
                           "-y", f"hmac-sha256:ask-key:{KEY_SECRET}")
        assert status == 0, out
        assert ";; TSIG: verified with key ask-key." in out
        assert "www.keyed.test. A: secure" in out and "bogus" not in out
        refused, out = _ask(port, "www.keyed.test", "--trust-anchor", anchor)
        assert refused == 5, out
