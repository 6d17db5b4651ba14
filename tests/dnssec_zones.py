"""Signed zones for the DNSSEC serving tests, made fresh in a temporary folder by BIND's
``dnssec-keygen`` and ``dnssec-signzone``: one zone with every case a denial proof has
(wildcards, empty non-terminals, secure and insecure delegations, a CNAME into a missing
name), signed with NSEC, with NSEC3, or with NSEC3 and opt-out (the insecure delegation has no
NSEC3 then)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ORIGIN = "example.test."
UNSIGNED = """\
$ORIGIN example.test.
$TTL 3600
@ IN SOA ns1 hostmaster ( {serial} 3600 900 604800 300 )
@ NS ns1
@ MX 10 mail
@ TXT "signed zone"
ns1 A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::2
mail A 192.0.2.3
*.wild A 192.0.2.4
*.wild TXT "from the wildcard"
a.b.ent A 192.0.2.5
alias CNAME www
dangling CNAME missing
wcname CNAME host.wild
secure NS ns.secure
ns.secure A 192.0.2.6
secure DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE49FD46E6C4B45C55D4AC69CB
insecure NS ns.insecure
ns.insecure A 192.0.2.7
_sip._udp SRV 0 5 5060 www
"""


@dataclass(frozen=True)
class SignedZone:
    path: Path  # the signed zone file
    unsigned: Path  # the zone before signing, keys included
    keys: tuple[str, str]  # KSK and ZSK file stems, for re-signing
    ksk: str  # the KSK's DNSKEY record text: the trust anchor

    def resign(self, serial: int, kind: str) -> None:
        """Sign again with a higher serial, over the same file (what a re-signing does)."""
        text = self.unsigned.read_text()
        self.unsigned.write_text(text.replace(text.split("(")[1].split()[0], str(serial), 1))
        _sign(self.unsigned, self.path, self.keys, kind)


def tool(name: str, package: str) -> str:
    path = shutil.which(name) or f"/usr/sbin/{name}"
    if not Path(path).exists():
        pytest.skip(f"{name} missing: `make test` installs it (Debian package {package})")
    return path


def run(cmd: list[str], cwd: Path) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


KINDS = ("nsec", "nsec3", "nsec3-optout")


def _sign(unsigned: Path, out: Path, keys: tuple[str, str], kind: str) -> None:
    signzone = tool("dnssec-signzone", "bind9-utils")
    # NSEC3: no extra iterations (RFC 9276), a salt to hash with; opt-out is -A.
    extra = {"nsec": [], "nsec3": ["-3", "ABCDEF", "-H", "0"],
             "nsec3-optout": ["-3", "ABCDEF", "-H", "0", "-A"]}[kind]
    run([signzone, "-q", *extra, "-o", ORIGIN, "-f", str(out), str(unsigned), *keys],
        unsigned.parent)


def signed_zone(folder: Path, kind: str, serial: int = 2024010101) -> SignedZone:
    keygen = tool("dnssec-keygen", "bind9-utils")
    folder.mkdir(parents=True, exist_ok=True)
    ksk = run([keygen, "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", ORIGIN], folder)
    zsk = run([keygen, "-q", "-a", "ECDSAP256SHA256", ORIGIN], folder)
    keys = "".join((folder / f"{k}.key").read_text() for k in (ksk, zsk))
    unsigned = folder / "example.test.unsigned"
    unsigned.write_text(UNSIGNED.format(serial=serial) + keys)
    out = folder / "example.test.zone"
    _sign(unsigned, out, (ksk, zsk), kind)
    anchor = next(line for line in (folder / f"{ksk}.key").read_text().splitlines()
              if line and not line.startswith(";"))
    return SignedZone(out, unsigned, (ksk, zsk), anchor)
