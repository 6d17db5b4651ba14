"""The DNSSEC validator behind ``dns-ask --validate``: pure, no sockets.

Given a response, the DNSKEY RRset of each signer (with its RRSIGs) and trust anchors (DS
or DNSKEY records), it checks every RRSIG over its RRset as RFC 4035 5.3 says (signer,
labels, validity window in serial-number arithmetic, key tag and algorithm, the signature
over ``craft.dns.canonical.signed_data`` through ``craft.dns.sigcrypto``), the DNSKEY
RRset against the anchors (DS digests via ``craft.dns.canonical.ds_digest``), and NXDOMAIN,
NODATA and wildcard answers against the NSEC/NSEC3 proofs of ``craft.dns.denial_check``. Each
RRset gets a ``Verdict``: secure, insecure or bogus, with the reason. Bad input (malformed
keys or signatures, unknown algorithms, unsupported digest types) becomes a verdict, never
an exception.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from craft.dns.canonical import UnsupportedError, ds_digest, key_tag, signed_data
from craft.dns.constants import Rcode, RRType, type_text
from craft.dns.denial_check import (
    Hashed,
    Proof,
    nsec3_nodata,
    nsec3_nxdomain,
    nsec3_wildcard_answer,
    nsec_nodata,
    nsec_nxdomain,
    nsec_wildcard_answer,
)
from craft.dns.message import Message, Record
from craft.dns.names import Name
from craft.dns.rdata import CNAME
from craft.dns.rdtypes.dnssec import DNSKEY, DS, RRSIG
from craft.dns.sigcrypto import SUPPORTED, algorithm_text, check_signature

ZONE_KEY = 0x0100  # DNSKEY flags bit 7 (RFC 4034 2.1.1): only zone keys sign RRsets
SEP = 0x0001


class Security(StrEnum):
    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the validator concluded about one RRset, or (``section`` "denial") the proof that
    the asked name or type does not exist, or ("wildcard") that an answer made from a
    wildcard had no closer name."""

    owner: Name
    rtype: int
    section: str
    security: Security
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"owner": self.owner.to_text(), "type": type_text(self.rtype),
                "section": self.section, "security": self.security.value, "reason": self.reason}

    def to_text(self) -> str:
        what = f"{self.owner} {type_text(self.rtype)}"
        if self.section in ("denial", "wildcard"):
            what += " (wildcard expansion)" if self.section == "wildcard" else " (denial)"
        if self.security is Security.BOGUS:
            return f"{what}: bogus: {self.reason}"
        return f"{what}: {self.security.value} ({self.reason})"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A trust anchor: a DS or DNSKEY record for ``owner``."""

    owner: Name
    rdata: DS | DNSKEY


@dataclass(frozen=True, slots=True)
class Checked:
    """An RRSIG that verified, with the RRset it covers (the hex view shows what it signs)."""

    rrsig: Record
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class KeySet:
    """A zone's DNSKEY RRset after checking it: ``keys`` may sign data when ``verdict`` is
    secure (or, for showing what failed, even when not)."""

    zone: Name
    keys: tuple[DNSKEY, ...]
    verdict: Verdict
    checked: tuple[Checked, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    keysets: tuple[KeySet, ...]
    verdicts: tuple[Verdict, ...]
    checked: tuple[Checked, ...]
    hashes: tuple[Hashed, ...]

    def as_dict(self) -> dict[str, object]:
        """For ``--json``: the key sets' verdicts and the RRsets' verdicts."""
        return {"keys": [k.verdict.as_dict() for k in self.keysets],
                "verdicts": [v.as_dict() for v in self.verdicts], "bogus": self.bogus}

    @property
    def bogus(self) -> bool:
        return any(v.security is Security.BOGUS
                   for v in (*self.verdicts, *(k.verdict for k in self.keysets)))


def when(value: int, now: int) -> int:
    """The absolute time of a 32-bit RRSIG time, read as the serial number nearest ``now``
    (RFC 4034 3.1.5, RFC 1982)."""
    delta = (value - now) & 0xFFFFFFFF
    return now + (delta - (1 << 32) if delta >= 1 << 31 else delta)


def time_text(value: int) -> str:
    moment = datetime.datetime.fromtimestamp(value, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def rrsets(records: Iterable[Record]) -> list[tuple[tuple[Record, ...], tuple[Record, ...]]]:
    """The records grouped into RRsets (owner, type, class), each with the RRSIGs over it,
    in the order they first appear; OPT and orphan RRSIGs are left out."""
    groups: dict[tuple[bytes, int, int], list[Record]] = {}
    sigs: dict[tuple[bytes, int, int], list[Record]] = {}
    for record in records:
        if record.rtype == RRType.OPT:
            continue
        if isinstance(record.rdata, RRSIG):
            sigs.setdefault((record.name.key, record.rdata.type_covered, record.rclass),
                            []).append(record)
        else:
            groups.setdefault((record.name.key, record.rtype, record.rclass), []).append(record)
    return [(tuple(rows), tuple(sigs.get(key, ()))) for key, rows in groups.items()]


def check_rrsig(rrsig: Record, records: Sequence[Record], keys: Sequence[DNSKEY],
                now: int) -> str | None:
    """None when ``rrsig`` is a valid signature over ``records`` by one of ``keys``; else
    the first RFC 4035 5.3.1 condition it fails."""
    sig = rrsig.rdata
    assert isinstance(sig, RRSIG)
    owner = records[0].name
    if not owner.is_subdomain_of(sig.signer):
        return f"signer {sig.signer} is not {owner} or above it"
    labels = len(owner.labels) - (1 if owner.labels[:1] == (b"*",) else 0)
    if sig.labels > labels:
        return f"RRSIG labels field {sig.labels} exceeds the owner's {labels} labels"
    expiration, inception = when(sig.expiration, now), when(sig.inception, now)
    if expiration < now:
        return f"signature expired {time_text(expiration)}"
    if inception > now:
        return f"signature not valid before {time_text(inception)}"
    if sig.algorithm not in SUPPORTED:
        return f"unsupported algorithm {algorithm_text(sig.algorithm)}"
    candidates = [k for k in keys if k.algorithm == sig.algorithm and k.flags & ZONE_KEY
                  and k.protocol == 3 and key_tag(k) == sig.key_tag]
    if not candidates:
        return f"no DNSKEY with key tag {sig.key_tag} alg {sig.algorithm}"
    data = signed_data(sig, records)
    reason = ""
    for key in candidates:
        problem = check_signature(sig.algorithm, key.key, sig.signature, data)
        if problem is None:
            return None
        reason = problem
    return f"key tag {sig.key_tag} alg {sig.algorithm}: {reason}"


def _signature_verdict(records: Sequence[Record], sigs: Sequence[Record],
                       keysets: Sequence[KeySet], section: str,
                       now: int) -> tuple[Verdict, Checked | None]:
    first = records[0]

    def verdict(security: Security, reason: str) -> Verdict:
        return Verdict(first.name, first.rtype, section, security, reason)

    if not sigs:
        return verdict(Security.BOGUS, "no RRSIG covers it"), None
    reasons: list[str] = []
    unsupported = 0
    for rrsig in sigs:
        sig = rrsig.rdata
        assert isinstance(sig, RRSIG)
        keyset = next((k for k in keysets if k.zone.equals(sig.signer)), None)
        if keyset is None:
            reasons.append(f"no DNSKEY RRset for signer {sig.signer}")
            continue
        problem = check_rrsig(rrsig, records, keyset.keys, now)
        if problem is not None:
            unsupported += problem.startswith("unsupported algorithm")
            reasons.append(problem)
            continue
        checked = Checked(rrsig, tuple(records))
        shown = f"key {sig.key_tag} alg {sig.algorithm}, until {time_text(when(sig.expiration, now))}"
        if keyset.verdict.security is Security.SECURE:
            return verdict(Security.SECURE, shown), checked
        if keyset.verdict.security is Security.INSECURE:
            return verdict(Security.INSECURE, f"{shown}; {keyset.verdict.reason}"), checked
        return verdict(Security.BOGUS, f"signature verifies ({shown}) but the DNSKEY RRset "
                                       f"of {keyset.zone} is bogus"), checked
    if unsupported == len(sigs):
        # RFC 4035 5.2: what a validator cannot check is insecure, not bogus.
        return verdict(Security.INSECURE, "; ".join(dict.fromkeys(reasons))), None
    return verdict(Security.BOGUS, "; ".join(dict.fromkeys(reasons))), None


def _anchor_text(anchor: Anchor) -> str:
    rdata = anchor.rdata
    if isinstance(rdata, DS):
        return f"DS {rdata.key_tag} {rdata.algorithm} {rdata.digest_type}"
    return f"DNSKEY {key_tag(rdata)} alg {rdata.algorithm}"


def _anchored(zone: Name, keys: Sequence[DNSKEY],
              anchors: Sequence[Anchor]) -> tuple[list[DNSKEY], str, bool]:
    """The keys the anchors vouch for, why none is when none is, and whether every anchor
    was unusable (unsupported algorithm or digest type: the zone is then insecure)."""
    usable = 0
    problems: list[str] = []
    matched: list[DNSKEY] = []
    for anchor in anchors:
        rdata = anchor.rdata
        if rdata.algorithm not in SUPPORTED:
            problems.append(f"{_anchor_text(anchor)}: unsupported algorithm "
                            f"{algorithm_text(rdata.algorithm)}")
            continue
        if isinstance(rdata, DNSKEY):
            usable += 1
            found = [k for k in keys if k == rdata]
            if not found:
                problems.append(f"no DNSKEY equals the anchor {_anchor_text(anchor)}")
            matched += found
            continue
        tagged = [k for k in keys if k.algorithm == rdata.algorithm and key_tag(k) == rdata.key_tag]
        try:
            digests = [(k, ds_digest(zone, k, rdata.digest_type)) for k in tagged]
        except UnsupportedError:
            problems.append(f"{_anchor_text(anchor)}: unsupported DS digest type {rdata.digest_type}")
            continue
        usable += 1
        found = [k for k, digest in digests if digest == rdata.digest]
        if not tagged:
            problems.append(f"no DNSKEY with key tag {rdata.key_tag} alg {rdata.algorithm} "
                            f"for the anchor {_anchor_text(anchor)}")
        elif not found:
            problems.append(f"DNSKEY {rdata.key_tag}'s digest does not match the anchor "
                            f"{_anchor_text(anchor)}")
        matched += found
    return matched, "; ".join(problems), usable == 0


def validate_keys(zone: Name, records: Sequence[Record], anchors: Sequence[Anchor] | None,
                  now: int) -> KeySet:
    """Check the DNSKEY RRset of ``zone`` (``records``: the DNSKEYs and their RRSIGs).

    With ``anchors`` (those for ``zone`` are used), a key they vouch for must sign the set.
    With None, no anchor was given: the set must sign itself, and is trusted only because
    the server sent it (the verdict's reason says so)."""
    keys = tuple(r.rdata for r in records
                 if isinstance(r.rdata, DNSKEY) and r.name.equals(zone) and r.rtype == RRType.DNSKEY)
    key_records = [r for r in records if isinstance(r.rdata, DNSKEY) and r.name.equals(zone)]
    sigs = [r for r in records if isinstance(r.rdata, RRSIG) and r.name.equals(zone)
            and r.rdata.type_covered == RRType.DNSKEY]

    def verdict(security: Security, reason: str, checked: tuple[Checked, ...] = ()) -> KeySet:
        return KeySet(zone, keys, Verdict(zone, RRType.DNSKEY, "keys", security, reason), checked)

    if not keys:
        return verdict(Security.BOGUS, f"no DNSKEY records for {zone}")
    if anchors is None:
        trusted, note = list(keys), "is trusted only because the server sent it (no trust anchor)"
    else:
        mine = [a for a in anchors if a.owner.equals(zone)]
        if not mine:
            return verdict(Security.BOGUS, f"no trust anchor for {zone}")
        trusted, problems, unusable = _anchored(zone, keys, mine)
        if unusable:
            return verdict(Security.INSECURE, problems)
        if not trusted:
            return verdict(Security.BOGUS, problems)
        note = "matches the trust anchor"
    reasons: list[str] = []
    for rrsig in sigs:
        problem = check_rrsig(rrsig, key_records, trusted, now)
        if problem is None:
            sig = rrsig.rdata
            assert isinstance(sig, RRSIG)
            return verdict(Security.SECURE, f"signed by key {sig.key_tag} alg {sig.algorithm}, "
                                            f"which {note}",
                           (Checked(rrsig, tuple(key_records)),))
        reasons.append(problem)
    if not sigs:
        return verdict(Security.BOGUS, f"no RRSIG over the DNSKEY RRset of {zone}")
    return verdict(Security.BOGUS, "DNSKEY RRset not signed by a trusted key: "
                                   + "; ".join(dict.fromkeys(reasons)))


def signers(message: Message) -> list[Name]:
    """The zones whose keys the response's RRSIGs name, in order of appearance."""
    found: list[Name] = []
    for record in (*message.answer, *message.authority, *message.additional):
        if isinstance(record.rdata, RRSIG) and not any(
                n.equals(record.rdata.signer) for n in found):
            found.append(record.rdata.signer)
    return found


def _target(message: Message) -> tuple[Name, int] | None:
    """The question's name after the answer's CNAMEs, and its type."""
    if not message.question:
        return None
    question = message.question[0]
    name = question.name
    for _ in range(len(message.answer)):
        alias = next((r.rdata for r in message.answer if isinstance(r.rdata, CNAME)
                      and r.name.equals(name) and question.rtype != RRType.CNAME), None)
        if alias is None:
            break
        name = alias.target
    return name, question.rtype


def validate_message(message: Message, keysets: Sequence[KeySet], now: int,
                     expect_signed: bool = True) -> Report:
    """Every RRset of the answer and authority sections (and the signed ones of the
    additional section) checked, then the denial or wildcard proof the response needs.

    A response without a single RRSIG is bogus when ``expect_signed`` (a trust anchor says
    the zone is signed), and insecure otherwise."""
    if not expect_signed and not signers(message):
        reason = "no RRSIG in the response, and no trust anchor says the zone is signed"
        return Report(tuple(keysets), tuple(
            Verdict(rows[0].name, rows[0].rtype, section, Security.INSECURE, reason)
            for section, records in (("answer", message.answer), ("authority", message.authority))
            for rows, _ in rrsets(records)), (), ())
    verdicts: list[Verdict] = []
    checked: list[Checked] = []
    referral = (message.rcode == Rcode.NOERROR and not message.answer
                and any(r.rtype == RRType.NS for r in message.authority)
                and not any(r.rtype == RRType.SOA for r in message.authority))
    by_name: dict[bytes, Security] = {}
    for section, records in (("answer", message.answer), ("authority", message.authority),
                             ("additional", message.additional)):
        for rows, sigs in rrsets(records):
            first = rows[0]
            if not sigs and section == "additional":
                continue  # glue and other unsigned extras
            if not sigs and referral and first.rtype == RRType.NS:
                verdicts.append(Verdict(first.name, first.rtype, section, Security.INSECURE,
                                        "delegation NS, not signed by the parent (RFC 4035 2.2)"))
                continue
            verdict, done = _signature_verdict(rows, sigs, keysets, section, now)
            verdicts.append(verdict)
            if done is not None:
                checked.append(done)
            if first.rtype in (RRType.NSEC, RRType.NSEC3):
                by_name[first.name.key] = verdict.security
    proof = _denial(message, referral)
    hashes: tuple[Hashed, ...] = ()
    if proof is not None:
        subject, proved = proof
        hashes = proved.hashes
        verdicts.append(_proof_verdict(subject, proved, by_name))
    return Report(tuple(keysets), tuple(verdicts), tuple(checked), hashes)


def _denial(message: Message, referral: bool) -> tuple[tuple[Name, int], Proof] | None:
    target = _target(message)
    if target is None:
        return None
    name, qtype = target
    nsec = [r for r in message.authority if r.rtype == RRType.NSEC]
    nsec3 = [r for r in message.authority if r.rtype == RRType.NSEC3]
    if message.rcode == Rcode.NXDOMAIN:
        if nsec3:
            return target, nsec3_nxdomain(name, nsec3)
        if nsec:
            return target, nsec_nxdomain(name, nsec)
        return target, Proof(False, "no NSEC or NSEC3 records prove the NXDOMAIN")
    if message.rcode != Rcode.NOERROR:
        return None
    answered = [r for r in message.answer if r.name.equals(name)
                and (r.rtype == qtype or qtype == RRType.ANY)]
    if answered:
        return _wildcard_proof(message, name, answered, nsec, nsec3)
    if referral:
        if any(r.rtype == RRType.DS for r in message.authority):
            return None  # a signed delegation: the DS RRset has its own verdict
        cut = next(r.name for r in message.authority if r.rtype == RRType.NS)
        target = (cut, RRType.DS)
        if not (nsec or nsec3):
            return target, Proof(False, "unsigned delegation without a proof that no DS exists")
        proved = nsec3_nodata(cut, RRType.DS, nsec3) if nsec3 else nsec_nodata(cut, RRType.DS, nsec)
        return target, proved
    if nsec3:
        return target, nsec3_nodata(name, qtype, nsec3)
    if nsec:
        return target, nsec_nodata(name, qtype, nsec)
    return target, Proof(False, "no NSEC or NSEC3 records prove the NODATA")


def _wildcard_proof(message: Message, name: Name, answered: Sequence[Record],
                    nsec: Sequence[Record], nsec3: Sequence[Record]) -> tuple[tuple[Name, int], Proof] | None:
    sigs = [r.rdata for r in message.answer if isinstance(r.rdata, RRSIG)
            and r.name.equals(name) and r.rdata.type_covered == answered[0].rtype]
    expanded = [s for s in sigs if s.labels < len(name.labels)]
    if not sigs or not expanded:
        return None
    target = (name, -answered[0].rtype)  # negative: the wildcard proof of a positive answer
    if nsec3:
        return target, nsec3_wildcard_answer(name, expanded[0].labels, nsec3)
    if nsec:
        return target, nsec_wildcard_answer(name, nsec)
    return target, Proof(False, "wildcard answer without an NSEC or NSEC3 proof that "
                                f"{name} does not exist")


def _proof_verdict(subject: tuple[Name, int], proof: Proof,
                   by_name: dict[bytes, Security]) -> Verdict:
    name, rtype = subject
    section = "wildcard" if rtype < 0 else "denial"

    def verdict(security: Security, reason: str) -> Verdict:
        return Verdict(name, abs(rtype), section, security, reason)

    if not proof.holds:
        return verdict(Security.INSECURE if proof.insecure else Security.BOGUS, proof.reason)
    states = {r.name.key: by_name.get(r.name.key, Security.BOGUS) for r in proof.used}
    bad = [r.name for r in proof.used if states[r.name.key] is Security.BOGUS]
    if bad:
        return verdict(Security.BOGUS, f"{proof.reason}, but the proof rests on "
                                       f"{type_text(proof.used[0].rtype)} {bad[0]}, which is bogus")
    if proof.insecure or any(s is Security.INSECURE for s in states.values()):
        return verdict(Security.INSECURE, proof.reason)
    return verdict(Security.SECURE, proof.reason)
