"""Checking the proofs of non-existence a response carries: NSEC (RFC 4035 5.4) and NSEC3
(RFC 5155 8), for the validator (``craft.dns.validate``). Pure logic over the records of a response: which
name is covered or matched, the closest encloser, the next closer name, the wildcard, and
opt-out. Whether the records used are themselves signed is the validator's business; a
``Proof`` lists the records it rests on and, for NSEC3, every hash it computed (the hex
view shows them). Building the proofs for answers craft serves is ``craft.dns.denial``'s job.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from craft.dns.canonical import UnsupportedError, hash_label, nsec3_hash, order_key
from craft.dns.constants import RRType, type_text
from craft.dns.denial import OPT_OUT
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import NSEC, NSEC3

# RFC 9276 3.2: above some iteration count a validator treats NSEC3 as insecure; BIND 9.18
# and Unbound use 150. It also bounds the hashing a response can make us do.
MAX_ITERATIONS = 150


@dataclass(frozen=True, slots=True)
class Hashed:
    """One NSEC3 owner hash computed for a proof: ``name`` hashed with ``salt``."""

    name: Name
    salt: bytes
    iterations: int
    digest: bytes

    @property
    def label(self) -> str:
        return hash_label(self.digest)


@dataclass(frozen=True, slots=True)
class Proof:
    """``holds`` when the records prove the denial; ``insecure`` when they prove it only up
    to an opt-out span (an unsigned delegation may hide there). ``reason`` says what was
    proved or what is missing."""

    holds: bool
    reason: str
    used: tuple[Record, ...] = ()
    hashes: tuple[Hashed, ...] = ()
    insecure: bool = False


def _ancestors(name: Name, zone: Name) -> list[Name]:
    """``name``, its parent, ... up to and including ``zone``."""
    out = [name]
    while len(out[-1].labels) > len(zone.labels):
        out.append(out[-1].parent())
    return out


def _wildcard(name: Name) -> Name:
    return Name((b"*", *name.labels))


def _common(a: Name, b: Name) -> Name:
    """The longest common ancestor of two names."""
    la, lb = a.lower().labels, b.lower().labels
    n = 0
    while n < min(len(la), len(lb)) and la[-1 - n] == lb[-1 - n]:
        n += 1
    return Name(a.labels[len(a.labels) - n:])


# ---- NSEC ----

def _nsec_covers(record: Record, name: Name) -> bool:
    """RFC 4034 4.1.1: the owner sorts before ``name`` and its next name after it; the last
    NSEC of the chain, whose next name is the apex, covers everything after its owner."""
    assert isinstance(record.rdata, NSEC)
    owner, after, key = order_key(record.name), order_key(record.rdata.next), order_key(name)
    if owner < after:
        return owner < key < after
    return key > owner or key < after


def _nsec_at(records: Sequence[Record], name: Name) -> Record | None:
    return next((r for r in records if r.name.equals(name)), None)


def _nsec_cover(records: Sequence[Record], name: Name) -> Record | None:
    return next((r for r in records if _nsec_covers(r, name)), None)


def _cut(record: Record) -> str | None:
    """Why names below ``record``'s owner are not its zone's to deny (RFC 6840 4.1): a
    delegation (NS without SOA) or a DNAME; None when they are."""
    types = _types(record)
    if RRType.DNAME in types:
        return "a DNAME"
    if RRType.NS in types and RRType.SOA not in types:
        return "a delegation point"
    return None


def _ancestor_problem(record: Record, qname: Name, kind: str) -> Proof | None:
    if qname.equals(record.name) or not qname.is_subdomain_of(record.name):
        return None
    cut = _cut(record)
    if cut is None:
        return None
    return Proof(False, f"{kind} {record.name} is {cut}: it cannot deny {qname} below it",
                 (record,))


def _types(record: Record) -> tuple[int, ...]:
    rdata = record.rdata
    assert isinstance(rdata, NSEC | NSEC3)
    return rdata.types


def nsec_nxdomain(qname: Name, records: Sequence[Record]) -> Proof:
    """RFC 4035 5.4: an NSEC covers the name, and one covers the wildcard at its closest
    encloser."""
    at = _nsec_at(records, qname)
    if at is not None:
        return Proof(False, f"NSEC at {qname} shows the name exists", (at,))
    cover = _nsec_cover(records, qname)
    if cover is None:
        return Proof(False, f"no NSEC covers {qname}")
    if (problem := _ancestor_problem(cover, qname, "NSEC")) is not None:
        return problem
    assert isinstance(cover.rdata, NSEC)
    encloser = max(_common(qname, cover.name), _common(qname, cover.rdata.next),
                   key=lambda n: len(n.labels))
    wildcard = _wildcard(encloser)
    if _nsec_at(records, wildcard) is not None:
        return Proof(False, f"NSEC at {wildcard} shows the wildcard exists", (cover,))
    wild_cover = _nsec_cover(records, wildcard)
    if wild_cover is None:
        return Proof(False, f"no NSEC covers the wildcard {wildcard}", (cover,))
    return Proof(True, f"NSEC {cover.name} covers {qname}; NSEC {wild_cover.name} covers "
                       f"{wildcard}", (cover, wild_cover))


def nsec_nodata(qname: Name, qtype: int, records: Sequence[Record]) -> Proof:
    """RFC 4035 5.4: an NSEC at the name without the type (nor CNAME); or, for an empty
    non-terminal, an NSEC covering the name whose next name is below it; or a wildcard
    NSEC without the type, with the proof that the name itself does not exist."""
    shown = type_text(qtype)
    at = _nsec_at(records, qname)
    if at is not None:
        return _lacks(at, qtype, f"NSEC at {qname} lists no {shown}", "NSEC")
    cover = _nsec_cover(records, qname)
    if cover is None:
        return Proof(False, f"no NSEC matches or covers {qname}")
    if (problem := _ancestor_problem(cover, qname, "NSEC")) is not None:
        return problem
    assert isinstance(cover.rdata, NSEC)
    if cover.rdata.next.is_subdomain_of(qname):
        return Proof(True, f"{qname} is an empty non-terminal: NSEC {cover.name} -> "
                           f"{cover.rdata.next}", (cover,))
    encloser = max(_common(qname, cover.name), _common(qname, cover.rdata.next),
                   key=lambda n: len(n.labels))
    wild = _nsec_at(records, _wildcard(encloser))
    if wild is None:
        return Proof(False, f"no NSEC matches {qname} (nor its wildcard "
                            f"{_wildcard(encloser)})", (cover,))
    lacks = _lacks(wild, qtype, f"wildcard NSEC at {wild.name} lists no {shown}", "NSEC")
    if not lacks.holds:
        return lacks
    return Proof(True, f"NSEC {cover.name} covers {qname}; {lacks.reason}", (cover, wild))


def _lacks(record: Record, qtype: int, ok: str, kind: str) -> Proof:
    types = _types(record)
    if qtype != RRType.DS and _cut(record) == "a delegation point":
        # The parent's record at a cut speaks for the DS alone (RFC 6840 4.4).
        return Proof(False, f"{kind} at {record.name} is the parent's, at a delegation "
                            f"point: it proves nothing about {type_text(qtype)}", (record,))
    if qtype in types:
        return Proof(False, f"{kind} at {record.name} lists type {type_text(qtype)}", (record,))
    if RRType.CNAME in types:
        return Proof(False, f"{kind} at {record.name} lists CNAME", (record,))
    return Proof(True, ok, (record,))


def nsec_wildcard_answer(qname: Name, records: Sequence[Record]) -> Proof:
    """RFC 4035 5.3.4: an answer made from a wildcard needs an NSEC covering the name."""
    cover = _nsec_cover(records, qname)
    if cover is None:
        return Proof(False, f"wildcard answer, but no NSEC covers {qname}")
    return Proof(True, f"NSEC {cover.name} covers {qname}", (cover,))


# ---- NSEC3 ----

@dataclass(frozen=True, slots=True)
class _Chain:
    zone: Name
    algorithm: int
    iterations: int
    salt: bytes
    rows: tuple[tuple[bytes, Record], ...]  # (owner hash, record)

    def hashed(self, name: Name, seen: list[Hashed]) -> bytes:
        digest = nsec3_hash(name, self.salt, self.iterations, self.algorithm)
        if not any(h.name.equals(name) for h in seen):
            seen.append(Hashed(name, self.salt, self.iterations, digest))
        return digest

    def match(self, digest: bytes) -> Record | None:
        return next((r for h, r in self.rows if h == digest), None)

    def cover(self, digest: bytes) -> Record | None:
        for owner, record in self.rows:
            assert isinstance(record.rdata, NSEC3)
            after = record.rdata.next
            if (owner < digest < after) if owner < after else (digest > owner or digest < after):
                return record
        return None


def _chain(records: Sequence[Record]) -> _Chain | Proof:
    """The NSEC3 records of one zone and parameter set (RFC 5155 8.2: others are ignored)."""
    rows: list[tuple[bytes, Record]] = []
    first: NSEC3 | None = None
    zone = Name.root()
    for record in records:
        rdata = record.rdata
        if not isinstance(rdata, NSEC3) or not record.name.labels:
            continue
        if first is None:
            first, zone = rdata, record.name.parent()
        elif ((rdata.hash_algorithm, rdata.iterations, rdata.salt)
              != (first.hash_algorithm, first.iterations, first.salt)
              or not record.name.parent().equals(zone)):
            continue
        try:
            owner = base64.b32hexdecode(record.name.labels[0].upper())
        except (binascii.Error, ValueError):
            continue
        rows.append((owner, record))
    if first is None or not rows:
        return Proof(False, "no NSEC3 records in the response")
    return _Chain(zone, first.hash_algorithm, first.iterations, first.salt, tuple(rows))


@dataclass(frozen=True, slots=True)
class _Encloser:
    encloser: Name
    next_closer: Name
    match: Record
    cover: Record

    @property
    def opt_out(self) -> bool:
        assert isinstance(self.cover.rdata, NSEC3)
        return bool(self.cover.rdata.flags & OPT_OUT)


def _closest_encloser(qname: Name, chain: _Chain, seen: list[Hashed]) -> _Encloser | str:
    """RFC 5155 8.3: the closest encloser matched by an NSEC3, the next closer name covered."""
    if not qname.is_subdomain_of(chain.zone):
        return f"{qname} is not in the NSEC3 records' zone {chain.zone}"
    names = _ancestors(qname, chain.zone)
    for closer, candidate in itertools.pairwise(names):
        match = chain.match(chain.hashed(candidate, seen))
        if match is None:
            continue
        cut = _cut(match)
        if cut is not None:  # RFC 5155 8.3: such a match is no closest encloser
            return f"NSEC3 {match.name} matching {candidate} is {cut}: no closest encloser"
        digest = chain.hashed(closer, seen)
        cover = chain.cover(digest)
        if cover is None:
            return (f"NSEC3 does not cover the next closer name {closer} "
                    f"(hash {hash_label(digest)}; closest encloser {candidate})")
        return _Encloser(candidate, closer, match, cover)
    return f"no NSEC3 matches any closest encloser of {qname} in {chain.zone}"


def _nsec3_guard(qname: Name, records: Sequence[Record]) -> tuple[_Chain, list[Hashed]] | Proof:
    chain = _chain(records)
    if isinstance(chain, Proof):
        return chain
    try:
        nsec3_hash(qname, chain.salt, 0, chain.algorithm)
    except UnsupportedError as exc:
        return Proof(False, exc.reason, insecure=True)
    if chain.iterations > MAX_ITERATIONS:
        return Proof(False, f"NSEC3 with {chain.iterations} iterations, more than "
                            f"{MAX_ITERATIONS}: not checked (RFC 9276 3.2)", insecure=True)
    return chain, []


def nsec3_nxdomain(qname: Name, records: Sequence[Record]) -> Proof:
    """RFC 5155 8.4: closest encloser proof, and an NSEC3 covering the wildcard at the
    closest encloser. An opt-out span over the next closer name leaves it insecure."""
    guard = _nsec3_guard(qname, records)
    if isinstance(guard, Proof):
        return guard
    chain, seen = guard
    if (hit := chain.match(chain.hashed(qname, seen))) is not None:
        return Proof(False, f"NSEC3 {hit.name} matches {qname}: the name exists", (hit,),
                     tuple(seen))
    found = _closest_encloser(qname, chain, seen)
    if isinstance(found, str):
        return Proof(False, found, (), tuple(seen))
    wildcard = _wildcard(found.encloser)
    wild_cover = chain.cover(chain.hashed(wildcard, seen))
    used = (found.match, found.cover)
    if wild_cover is None:
        return Proof(False, f"NSEC3 does not cover the wildcard {wildcard}", used, tuple(seen))
    reason = (f"closest encloser {found.encloser}; next closer {found.next_closer} and "
              f"wildcard {wildcard} covered")
    if found.opt_out:
        reason += " (opt-out span: an unsigned delegation may exist there)"
    return Proof(True, reason, (*used, wild_cover), tuple(seen), insecure=found.opt_out)


def nsec3_nodata(qname: Name, qtype: int, records: Sequence[Record]) -> Proof:
    """RFC 5155 8.5-8.7: an NSEC3 matching the name without the type (nor CNAME); for DS,
    an opt-out span over the name; or a wildcard NSEC3 without the type."""
    guard = _nsec3_guard(qname, records)
    if isinstance(guard, Proof):
        return guard
    chain, seen = guard
    shown = type_text(qtype)
    at = chain.match(chain.hashed(qname, seen))
    if at is not None:
        lacks = _lacks(at, qtype, f"NSEC3 {at.name} matches {qname} and lists no {shown}",
                       "NSEC3")
        return Proof(lacks.holds, lacks.reason, lacks.used, tuple(seen))
    found = _closest_encloser(qname, chain, seen)
    if isinstance(found, str):
        return Proof(False, f"no NSEC3 matches {qname}; {found}", (), tuple(seen))
    used = (found.match, found.cover)
    if qtype == RRType.DS and found.opt_out:
        return Proof(True, f"opt-out NSEC3 covers {found.next_closer}: an unsigned "
                           "delegation, no DS", used, tuple(seen), insecure=True)
    wildcard = _wildcard(found.encloser)
    wild = chain.match(chain.hashed(wildcard, seen))
    if wild is None:
        return Proof(False, f"no NSEC3 matches {qname} (hash {hash_label(seen[0].digest)}) nor "
                            f"the wildcard {wildcard}", used, tuple(seen))
    lacks = _lacks(wild, qtype, f"wildcard {wildcard}'s NSEC3 lists no {shown}", "NSEC3")
    return Proof(lacks.holds, f"closest encloser {found.encloser}; {lacks.reason}",
                 (*used, wild), tuple(seen), insecure=found.opt_out)


def nsec3_wildcard_answer(qname: Name, labels: int, records: Sequence[Record]) -> Proof:
    """RFC 5155 8.8: an answer from the wildcard at the closest encloser (the RRSIG's
    ``labels`` long) needs an NSEC3 covering the next closer name."""
    guard = _nsec3_guard(qname, records)
    if isinstance(guard, Proof):
        return guard
    chain, seen = guard
    closer = Name(qname.labels[len(qname.labels) - labels - 1:])
    cover = chain.cover(chain.hashed(closer, seen))
    if cover is None:
        return Proof(False, f"wildcard answer, but NSEC3 does not cover the next closer name "
                            f"{closer}", (), tuple(seen))
    return Proof(True, f"NSEC3 {cover.name} covers the next closer name {closer}", (cover,),
                 tuple(seen))
