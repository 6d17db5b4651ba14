"""Checks a signed zone gets at load, as ``dnssec-verify`` makes them, without validating a
signature (an authoritative server serves what the signer made): signatures outside their
validity window, NSEC3 records without an NSEC3PARAM at the apex, a broken NSEC or NSEC3
chain, and an authoritative RRset without an RRSIG.

``zone_problems(zone, now)`` gives one ``Problem`` per finding, with its owner name;
``craft.dns_service`` reports them with the file's name and decides (``--strict``) whether
the zone is served. A zone with neither DNSKEY nor RRSIG is not signed: one pass over its
types and nothing more. Names are ordered by ``craft.dns.canonical``. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass

from craft.dns.canonical import hash_label, order_key
from craft.dns.constants import RRType, type_text
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import NSEC, NSEC3, RRSIG
from craft.dns.zone import Zone

_SIGNED_MARKS = frozenset({RRType.DNSKEY, RRType.RRSIG})
# Types an authoritative RRset may have unsigned: the signatures themselves, and at a zone
# cut the delegation's NS (glue below a cut is never signed, RFC 4035 2.2).
_NEVER_SIGNED = frozenset({RRType.RRSIG})


@dataclass(frozen=True, slots=True)
class Problem:
    owner: Name
    text: str

    def to_text(self) -> str:
        return f"{self.owner.to_text()}: {self.text}"


def is_signed(zone: Zone) -> bool:
    return any(record.rtype in _SIGNED_MARKS for record in zone.records)


def zone_problems(zone: Zone, now: int) -> list[Problem]:
    """Every finding in ``zone`` at time ``now`` (seconds since the epoch); none for an
    unsigned zone."""
    if not is_signed(zone):
        return []
    return [*_windows(zone, now), *_nsec3param(zone), *_nsec_chain(zone),
            *_nsec3_chain(zone), *_unsigned(zone)]


def _serial_before(a: int, b: int) -> bool:
    """RFC 4034 3.1.5: signature times compare in 32-bit serial arithmetic (RFC 1982)."""
    return a != b and (b - a) % 2**32 < 2**31


def _time_text(value: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))


def _windows(zone: Zone, now: int) -> Iterator[Problem]:
    clock = now % 2**32
    for record in zone.records:
        sig = record.rdata
        if not isinstance(sig, RRSIG):
            continue
        covered = type_text(sig.type_covered)
        if _serial_before(sig.expiration, clock):
            yield Problem(record.name, f"RRSIG over {covered} (key {sig.key_tag}) expired "
                                       f"at {_time_text(sig.expiration)}")
        elif _serial_before(clock, sig.inception):
            yield Problem(record.name, f"RRSIG over {covered} (key {sig.key_tag}) not valid "
                                       f"before {_time_text(sig.inception)}")


def _nsec3param(zone: Zone) -> Iterator[Problem]:
    records = zone.records
    if any(r.rtype == RRType.NSEC3 for r in records) and not any(
            r.rtype == RRType.NSEC3PARAM and r.name.equals(zone.origin) for r in records):
        yield Problem(zone.origin, "NSEC3 records but no NSEC3PARAM at the apex")


def _nsec_chain(zone: Zone) -> Iterator[Problem]:
    """Each NSEC's next name is the owner of the next NSEC in canonical order; the last
    points back to the apex (RFC 4034 4.1.1)."""
    chain = sorted((r for r in zone.records if isinstance(r.rdata, NSEC)),
                   key=lambda r: order_key(r.name))
    if not chain:
        return
    if not chain[0].name.equals(zone.origin):
        yield Problem(zone.origin, "NSEC chain does not start at the apex")
    for i, record in enumerate(chain):
        assert isinstance(record.rdata, NSEC)
        expected = chain[(i + 1) % len(chain)].name
        if not record.rdata.next.equals(expected):
            yield Problem(record.name, f"broken NSEC chain: next name "
                                       f"{record.rdata.next.to_text()}, expected {expected.to_text()}")


def _nsec3_chain(zone: Zone) -> Iterator[Problem]:
    """Each NSEC3's next hashed owner is the hash of the next one in order, the last
    wrapping to the first (RFC 5155 3.1.7)."""
    rows: list[tuple[bytes, Record]] = []
    for record in zone.records:
        if isinstance(record.rdata, NSEC3) and record.name.labels:
            label = record.name.labels[0].upper()
            try:
                digest = base64.b32hexdecode(label + b"=" * (-len(label) % 8))
            except ValueError:
                yield Problem(record.name, "NSEC3 owner is not a base32hex hash")
                continue
            rows.append((digest, record))
    rows.sort(key=lambda row: row[0])
    for i, (_, record) in enumerate(rows):
        assert isinstance(record.rdata, NSEC3)
        expected = rows[(i + 1) % len(rows)][0]
        if record.rdata.next != expected:
            yield Problem(record.name, f"broken NSEC3 chain: next hash "
                                       f"{hash_label(record.rdata.next)}, expected {hash_label(expected)}")


def _unsigned(zone: Zone) -> Iterator[Problem]:
    """Authoritative RRsets without an RRSIG over them: all but the signatures, the NS of a
    zone cut and everything below a cut (glue)."""
    cuts = {r.name.key for r in zone.records
            if r.rtype == RRType.NS and not r.name.equals(zone.origin)}
    depth = len(zone.origin.labels)
    covered: set[tuple[bytes, int]] = set()
    owners: dict[tuple[bytes, int], Name] = {}
    for record in zone.records:
        if isinstance(record.rdata, RRSIG):
            covered.add((record.name.key, record.rdata.type_covered))
        elif record.rtype not in _NEVER_SIGNED:
            owners.setdefault((record.name.key, record.rtype), record.name)
    for (key, rtype), name in owners.items():
        if (key, rtype) in covered:
            continue
        if key in cuts and rtype not in (RRType.DS, RRType.NSEC):
            continue  # the delegation's NS (and any glue at the cut)
        if any(Name(name.labels[i:]).key in cuts for i in range(1, len(name.labels) - depth)):
            continue  # below a cut: glue
        yield Problem(name, f"{type_text(rtype)} RRset has no RRSIG")
