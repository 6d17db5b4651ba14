"""DNSSEC's canonical forms and the digests built on them, as pure functions.

What both the signing side (serving proofs) and the checking side (``dns-ask --validate``)
must agree on octet for octet: canonical name order (RFC 4034 6.1), canonical rdata and
RRset form (RFC 4034 6.2-6.3, with RFC 6840 5.1's correction that NSEC's names keep their
case), the data an RRSIG signs (RFC 4034 3.1.8.1, RFC 4035 5.3.2 for wildcards), the key tag
(RFC 4034 appendix B), DS digests (RFC 4034 5.1.4, RFC 4509, RFC 6605) and NSEC3 owner
hashes (RFC 5155 5). Digests come from ``hashlib``; nothing here is hand-written crypto.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import struct
from collections.abc import Iterable

from craft.dns.constants import RRType
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdata import DomainName, Rdata
from craft.dns.rdtypes.dnssec import DNSKEY, RRSIG
from craft.dns.wire import Writer
from craft.errors import CraftError


class UnsupportedError(CraftError):
    """A digest or hash algorithm craft does not implement; ``where`` names the field."""


# RFC 4034 6.2 item 3, less NSEC (RFC 6840 5.1): types whose rdata names are lower-cased.
_LOWERED_TYPES = frozenset({
    RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG,
    RRType.MR, RRType.PTR, RRType.HINFO, RRType.MINFO, RRType.MX, RRType.RP, RRType.AFSDB,
    RRType.RT, RRType.SIG, RRType.PX, RRType.NXT, RRType.NAPTR, RRType.KX, RRType.SRV,
    RRType.DNAME, RRType.A6, RRType.RRSIG,
})

_DS_DIGESTS = {1: "sha1", 2: "sha256", 4: "sha384"}


def order_key(name: Name) -> tuple[bytes, ...]:
    """Sorting by this key is RFC 4034 6.1's canonical order: labels compared right to left,
    case-folded, as octet strings where a missing octet sorts first."""
    return tuple(reversed(name.lower().labels))


def canonical_rdata(rdata: Rdata) -> Rdata:
    """``rdata`` with the names inside it lower-cased where RFC 4034 6.2 (as RFC 6840 5.1
    amends it) says so; other types come back unchanged."""
    if rdata.rtype not in _LOWERED_TYPES:
        return rdata
    lowered = {name: getattr(rdata, name).lower() for name, kind in rdata.fields
               if isinstance(kind, DomainName)}
    return dataclasses.replace(rdata, **lowered) if lowered else rdata


def rdata_wire(rdata: Rdata) -> bytes:
    """The canonical rdata octets: uncompressed, names lower-cased where the type says so."""
    w = Writer()
    canonical_rdata(rdata).encode(w, False)
    return w.getvalue()


def signed_owner(owner: Name, labels: int) -> Name:
    """The owner an RRSIG with ``labels`` covers: ``owner`` itself, or for an answer made
    from a wildcard, the wildcard (RFC 4035 5.3.2)."""
    lowered = owner.lower()
    if labels >= len(lowered.labels):
        return lowered
    return Name((b"*", *lowered.labels[len(lowered.labels) - labels:]))


def rrset_wire(owner: Name, rtype: int, rclass: int, ttl: int, rdatas: Iterable[Rdata]) -> bytes:
    """RFC 4034 6.3: each record in canonical form with the given TTL, sorted by canonical
    rdata, duplicates dropped."""
    head = owner.lower().to_wire() + struct.pack("!HHI", rtype, rclass, ttl)
    bodies = sorted({rdata_wire(rdata) for rdata in rdatas})
    return b"".join(head + struct.pack("!H", len(body)) + body for body in bodies)


def rrsig_prefix(rrsig: RRSIG) -> bytes:
    """The RRSIG's rdata without its signature, signer lower-cased: the first part of what
    it signs (RFC 4034 3.1.8.1)."""
    return rdata_wire(dataclasses.replace(rrsig, signature=b""))  # RRSIG's names are lowered


def signed_data(rrsig: RRSIG, records: Iterable[Record]) -> bytes:
    """The octets ``rrsig`` signs over the RRset ``records`` (all of one owner, type and
    class): the RRSIG prefix, then the RRset at the RRSIG's original TTL."""
    rows = list(records)
    if not rows:
        return rrsig_prefix(rrsig)
    first = rows[0]
    owner = signed_owner(first.name, rrsig.labels)
    return rrsig_prefix(rrsig) + rrset_wire(
        owner, first.rtype, first.rclass, rrsig.original_ttl, (r.rdata for r in rows))


def key_tag(dnskey: DNSKEY) -> int:
    """RFC 4034 appendix B; algorithm 1 (RSA/MD5) takes the key's third-to-last two octets."""
    wire = rdata_wire(dnskey)
    if dnskey.algorithm == 1:
        return int.from_bytes(wire[-3:-1], "big") if len(wire) >= 3 else 0
    total = sum(int.from_bytes(wire[i:i + 2].ljust(2, b"\0"), "big") for i in range(0, len(wire), 2))
    return (total + (total >> 16)) & 0xFFFF


def ds_digest(owner: Name, dnskey: DNSKEY, digest_type: int) -> bytes:
    """The DS digest of ``dnskey`` at ``owner`` (RFC 4034 5.1.4): hash of the canonical owner
    and the key's rdata. ``UnsupportedError`` for digest types other than 1, 2 and 4."""
    algorithm = _DS_DIGESTS.get(digest_type)
    if algorithm is None:
        raise UnsupportedError("DS digest type", f"{digest_type} is not supported (1, 2 and 4 are)")
    return hashlib.new(algorithm, owner.lower().to_wire() + rdata_wire(dnskey)).digest()


def nsec3_hash(name: Name, salt: bytes, iterations: int, algorithm: int = 1) -> bytes:
    """RFC 5155 5: SHA-1 of the canonical name and salt, then ``iterations`` more rounds of
    SHA-1 over the previous digest and salt. ``UnsupportedError`` for other algorithms."""
    if algorithm != 1:
        raise UnsupportedError("NSEC3 hash algorithm", f"{algorithm} is not supported (1 is)")
    digest = hashlib.sha1(name.lower().to_wire() + salt).digest()
    for _ in range(iterations):
        digest = hashlib.sha1(digest + salt).digest()
    return digest


def hash_label(digest: bytes) -> str:
    """An NSEC3 hash as its owner label is written: base32hex, lower case, no padding
    (RFC 5155 3.3)."""
    return base64.b32hexencode(digest).decode().rstrip("=").lower()
