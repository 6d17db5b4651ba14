"""Authenticated denial for a signed zone we serve: which NSEC or NSEC3 records (with their
RRSIGs) prove that a name or a type does not exist (RFC 4035 3.1.3, RFC 5155 7.2).

``Denial`` is built once per signed zone from its NSEC chain, or from its NSEC3 chain and
NSEC3PARAM; each method takes what ``craft.dns.answering`` found and gives the records the
authority section needs. Names are ordered and hashed by ``craft.dns.canonical``. NSEC3
records live here alone: their hashed owners are not names of the zone (RFC 5155 7.2.9),
so the answerer never sees them as nodes. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from craft.dns.canonical import nsec3_hash, order_key
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import NSEC3, NSEC3PARAM, RRSIG

OPT_OUT = 0x01  # RFC 5155 3.1.2.1: the NSEC3 flag saying unsigned delegations may be skipped


def covers(rrsig: Record, rtype: int) -> bool:
    """Whether ``rrsig`` is an RRSIG over the RRset of type ``rtype``."""
    return isinstance(rrsig.rdata, RRSIG) and rrsig.rdata.type_covered == rtype


@dataclass(frozen=True, slots=True)
class Nsec3Params:
    algorithm: int
    iterations: int
    salt: bytes


class Denial:
    """The proofs of one signed zone. ``nsec`` holds the zone's NSEC records (their RRSIGs
    are added with every other RRset's); NSEC3 records come with their RRSIGs."""

    def __init__(self, origin: Name, nsec: Iterable[Record], nsec3: Iterable[Record],
                 nsec3_sigs: Iterable[Record], nsec3param: Record | None) -> None:
        self.origin = origin
        rows = sorted(((order_key(r.name), r) for r in nsec), key=lambda row: row[0])
        self._nsec_keys = [key for key, _ in rows]
        self._nsec = [record for _, record in rows]
        sigs: dict[bytes, list[Record]] = {}
        for sig in nsec3_sigs:
            sigs.setdefault(sig.name.key, []).append(sig)
        chain: list[tuple[bytes, tuple[Record, ...]]] = []
        for record in nsec3:
            digest = _hash_label(record.name, origin)
            if digest is not None:
                chain.append((digest, (record, *sigs.get(record.name.key, ()))))
        chain.sort(key=lambda row: row[0])
        self._hashes = [digest for digest, _ in chain]
        self._nsec3 = [records for _, records in chain]
        self.params: Nsec3Params | None = None
        if nsec3param is not None and isinstance(nsec3param.rdata, NSEC3PARAM):
            p = nsec3param.rdata
            self.params = Nsec3Params(p.hash_algorithm, p.iterations, p.salt)
        elif self._nsec3 and isinstance(self._nsec3[0][0].rdata, NSEC3):
            first = self._nsec3[0][0].rdata
            self.params = Nsec3Params(first.hash_algorithm, first.iterations, first.salt)

    @property
    def uses_nsec3(self) -> bool:
        return bool(self._hashes) and self.params is not None

    # -- the answers' proofs -------------------------------------------------------------

    def nxdomain(self, qname: Name, encloser: Name) -> list[Record]:
        """RFC 4035 3.1.3.2 / RFC 5155 7.2.2: qname does not exist, nor does the wildcard
        that could have made it."""
        if self.uses_nsec3:
            ce, proof = self._closest_encloser(qname)
            return _unique(proof + self._nsec3_covering(_wild(ce)))
        return _unique(self._nsec_covering(qname) + self._nsec_covering(_wild(encloser)))

    def nodata(self, name: Name) -> list[Record]:
        """RFC 4035 3.1.3.1 / RFC 5155 7.2.3-7.2.4: ``name`` exists (perhaps as an empty
        non-terminal, or an unsigned delegation: no DS) but not with the type asked."""
        if self.uses_nsec3:
            match = self._nsec3_matching(name)
            if match:
                return match
            return self._closest_encloser(name)[1]  # opt-out: no NSEC3 of its own
        own = self._nsec_at(name)
        return own if own else self._nsec_covering(name)  # an empty non-terminal

    def wildcard_answer(self, qname: Name, encloser: Name) -> list[Record]:
        """RFC 4035 3.1.3.3 / RFC 5155 7.2.6: no closer name than the wildcard exists."""
        if self.uses_nsec3:
            return self._nsec3_covering(_next_closer(qname, encloser))
        return self._nsec_covering(qname)

    def wildcard_nodata(self, qname: Name, encloser: Name) -> list[Record]:
        """RFC 4035 3.1.3.4 / RFC 5155 7.2.5: no closer name, and the wildcard lacks the type."""
        wild = _wild(encloser)
        if self.uses_nsec3:
            ce_match = self._nsec3_matching(encloser)
            return _unique(ce_match + self._nsec3_covering(_next_closer(qname, encloser))
                           + self._nsec3_matching(wild))
        return _unique(self._nsec_covering(qname) + self._nsec_at(wild))

    # -- chain lookups ---------------------------------------------------------------

    def _nsec_at(self, name: Name) -> list[Record]:
        key = order_key(name)
        i = bisect.bisect_left(self._nsec_keys, key)
        return [self._nsec[i]] if i < len(self._nsec_keys) and self._nsec_keys[i] == key else []

    def _nsec_covering(self, name: Name) -> list[Record]:
        """The NSEC whose owner sorts last at or before ``name`` (the chain wraps around)."""
        if not self._nsec:
            return []
        i = bisect.bisect_right(self._nsec_keys, order_key(name)) - 1
        return [self._nsec[i]]  # i == -1 is the last one: the chain's wrap-around

    def _digest(self, name: Name) -> bytes:
        assert self.params is not None
        return nsec3_hash(name, self.params.salt, self.params.iterations, self.params.algorithm)

    def _nsec3_matching(self, name: Name) -> list[Record]:
        digest = self._digest(name)
        i = bisect.bisect_left(self._hashes, digest)
        return list(self._nsec3[i]) if i < len(self._hashes) and self._hashes[i] == digest else []

    def _nsec3_covering(self, name: Name) -> list[Record]:
        if not self._hashes:
            return []
        i = bisect.bisect_right(self._hashes, self._digest(name)) - 1
        return list(self._nsec3[i])

    def _closest_encloser(self, name: Name) -> tuple[Name, list[Record]]:
        """RFC 5155 7.2.1: the closest provable encloser of ``name`` (the nearest ancestor
        with an NSEC3 of its own) with its NSEC3 and the NSEC3 covering the next closer name."""
        labels = name.labels
        depth = len(self.origin.labels)
        for cut in range(1, len(labels) - depth + 1):
            ancestor = Name(labels[cut:])
            match = self._nsec3_matching(ancestor)
            if match or cut == len(labels) - depth:
                closer = Name(labels[cut - 1:])
                return ancestor, _unique(match + self._nsec3_covering(closer))
        return name, []


def _hash_label(owner: Name, origin: Name) -> bytes | None:
    """The hash an NSEC3 owner's first label spells in base32hex, or None for a malformed one."""
    if len(owner.labels) != len(origin.labels) + 1:
        return None
    label = owner.labels[0].upper()
    try:
        return base64.b32hexdecode(label + b"=" * (-len(label) % 8))
    except ValueError:
        return None


def _wild(encloser: Name) -> Name:
    return Name((b"*", *encloser.labels))


def _next_closer(qname: Name, encloser: Name) -> Name:
    return Name(qname.labels[len(qname.labels) - len(encloser.labels) - 1:])


def _unique(records: Sequence[Record]) -> list[Record]:
    seen: set[tuple[bytes, int, object]] = set()
    out = []
    for record in records:
        key = (record.name.key, record.rtype, record.rdata)
        if key not in seen:
            seen.add(key)
            out.append(record)
    return out
