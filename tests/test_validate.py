"""The DNSSEC validator (craft.dns.validate, craft.dns.denial_check, craft.dns.sigcrypto,
craft.dns.anchors) on messages made in memory.

dnspython is the independent signer: it makes the keys' DNSKEY and DS records and the
RRSIGs (``dns.dnssec.sign``, ``dns.dnssec.sign_zone`` for an NSEC zone; the NSEC3 chain is
laid out here with dnspython's ``nsec3_hash`` and each RRset signed by dnspython). craft
must call each signature secure, and bogus (with the reason) once an octet is flipped,
the time is outside the window, a key or anchor is wrong; each algorithm 8, 10, 13, 14,
15 and 16 verifies; NXDOMAIN, NODATA and wildcard answers are proved from NSEC and NSEC3,
and a proof with a record left out is bogus.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from craft.dns.anchors import AnchorError, parse_anchors
from craft.dns.canonical import order_key
from craft.dns.constants import Rcode, RRType
from craft.dns.message import Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import DNSKEY, DS, NSEC3, RRSIG
from craft.dns.validate import (
    Anchor,
    KeySet,
    Report,
    Security,
    check_rrsig,
    validate_keys,
    validate_message,
    when,
)
from craft.dns.zonefile import parse_record

NOW = 1_800_000_000  # 2027-01-15
INCEPTION, EXPIRATION = NOW - 3600, NOW + 30 * 86400
ORIGIN = "example.test."
ZONE = Name.from_text(ORIGIN)
# The zone both this file and test_dnssec_ask.py sign (there under three origins).
ZONE_BODY = """\
$TTL 3600
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::2
a.b.c A 192.0.2.5
*.wild TXT "wild"
alias CNAME www
sub NS ns.sub
ns.sub A 192.0.2.9
"""
UNSIGNED = f"$ORIGIN {ORIGIN}\n" + ZONE_BODY


def _private(algorithm: int) -> Any:
    if algorithm in (8, 10):
        return rsa.generate_private_key(65537, 2048)
    if algorithm == 13:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == 14:
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate() if algorithm == 15 else ed448.Ed448PrivateKey.generate()


@functools.cache
def _keys(algorithm: int) -> tuple[Any, Any, Any, Any]:
    """(KSK private, KSK DNSKEY, ZSK private, ZSK DNSKEY) in dnspython's types."""
    ksk, zsk = _private(algorithm), _private(algorithm)
    return (ksk, dns.dnssec.make_dnskey(ksk.public_key(), algorithm, flags=257),
            zsk, dns.dnssec.make_dnskey(zsk.public_key(), algorithm, flags=256))


def _craft(name: dns.name.Name, ttl: int, rdata: dns.rdata.Rdata) -> Record:
    return parse_record(f"{name} {ttl} IN {dns.rdatatype.to_text(rdata.rdtype)} {rdata.to_text()}")


def _sign(rrset: dns.rrset.RRset, key: Any, dnskey: Any) -> Record:
    sig = dns.dnssec.sign(rrset, key, dns.name.from_text(ORIGIN), dnskey,
                          inception=INCEPTION, expiration=EXPIRATION)
    return _craft(rrset.name, rrset.ttl, sig)


def _keyset_records(algorithm: int) -> list[Record]:
    ksk, ksk_key, _, zsk_key = _keys(algorithm)
    rrset = dns.rrset.from_rdata(ORIGIN, 3600, ksk_key, zsk_key)
    return [*(_craft(rrset.name, 3600, r) for r in rrset), _sign(rrset, ksk, ksk_key)]


def _ds(algorithm: int, digest: str = "SHA256") -> Anchor:
    ds = dns.dnssec.make_ds(ORIGIN, _keys(algorithm)[1], digest, policy=dns.dnssec.allow_all_policy)
    record = _craft(dns.name.from_text(ORIGIN), 0, ds)
    assert isinstance(record.rdata, DS)
    return Anchor(record.name, record.rdata)


def _flip(record: Record, field: str = "signature", at: int = 5) -> Record:
    value = bytearray(getattr(record.rdata, field))
    value[at] ^= 0x40
    return dataclasses.replace(record, rdata=dataclasses.replace(record.rdata, **{field: bytes(value)}))


def _retime(record: Record, inception: int, expiration: int) -> Record:
    return dataclasses.replace(record, rdata=dataclasses.replace(
        record.rdata, inception=inception & 0xFFFFFFFF, expiration=expiration & 0xFFFFFFFF))


def _answer(algorithm: int) -> tuple[list[Record], Record]:
    _, _, zsk, zsk_key = _keys(algorithm)
    rrset = dns.rrset.from_text("www." + ORIGIN, 3600, "IN", "A", "192.0.2.2", "192.0.2.3")
    return [_craft(rrset.name, 3600, r) for r in rrset], _sign(rrset, zsk, zsk_key)


def _keyset(algorithm: int, anchors: Sequence[Anchor] | None = None) -> KeySet:
    return validate_keys(ZONE, _keyset_records(algorithm),
                         [_ds(algorithm)] if anchors is None else anchors, NOW)


# ---- signatures, algorithms, time ----

@pytest.mark.parametrize("algorithm", [8, 10, 13, 14, 15, 16])
def test_each_algorithm_verifies_and_a_flipped_octet_is_bogus(algorithm: int) -> None:
    keyset = _keyset(algorithm)
    assert keyset.verdict.security is Security.SECURE, keyset.verdict.reason
    rows, sig = _answer(algorithm)
    assert check_rrsig(sig, rows, keyset.keys, NOW) is None
    assert "does not verify" in (check_rrsig(_flip(sig), rows, keyset.keys, NOW) or "")
    changed = [rows[0], dataclasses.replace(rows[1], rdata=rows[0].rdata)]
    assert "does not verify" in (check_rrsig(sig, changed, keyset.keys, NOW) or "")


def test_the_rrset_is_checked_in_canonical_form() -> None:
    """Order, owner case and duplicates do not change what was signed (RFC 4034 6.3)."""
    keyset = _keyset(13)
    rows, sig = _answer(13)
    shouted = [dataclasses.replace(r, name=Name.from_text("WWW.Example.TEST.")) for r in rows]
    assert check_rrsig(sig, [*reversed(shouted), shouted[0]], keyset.keys, NOW) is None


@pytest.mark.parametrize(("inception", "expiration", "reason"), [
    (NOW - 100, NOW - 10, "signature expired 2027-01-15 07:59:50 UTC"),
    (NOW + 10, NOW + 100, "signature not valid before 2027-01-15 08:00:10 UTC"),
    (NOW - 10, NOW + 10, None),
])
def test_validity_window(inception: int, expiration: int, reason: str | None) -> None:
    keyset = _keyset(15)
    rows, sig = _answer(15)
    # Re-timed, the signature no longer verifies; the window is checked first.
    problem = check_rrsig(_retime(sig, inception, expiration), rows, keyset.keys, NOW)
    if reason is None:
        assert problem is not None and "does not verify" in problem
    else:
        assert problem == reason


@pytest.mark.parametrize(("value", "now", "absolute"), [
    (100, 2**32 + 50, 2**32 + 100),        # after the 2106 wrap, a small value is later
    (2**32 - 10, 2**32 + 50, 2**32 - 10),   # and a large one earlier
    (NOW + 5, NOW, NOW + 5),
    ((NOW - 2**31 + 1) & 0xFFFFFFFF, NOW, NOW - 2**31 + 1),
])
def test_times_are_serial_numbers(value: int, now: int, absolute: int) -> None:
    assert when(value, now) == absolute


def test_unknown_algorithm_is_insecure_with_the_reason() -> None:
    keyset = _keyset(13)
    rows, sig = _answer(13)
    odd = dataclasses.replace(sig, rdata=dataclasses.replace(sig.rdata, algorithm=3))
    report = validate_message(_message([*rows, odd]), [keyset], NOW)
    assert report.verdicts[0].security is Security.INSECURE
    assert report.verdicts[0].reason == "unsupported algorithm 3 (DSA)"


@pytest.mark.parametrize(("mangle", "reason"), [
    (lambda k: dataclasses.replace(k, key=k.key[:10]), "malformed ECDSA key: 10 octets"),
    (lambda k: dataclasses.replace(k, key=b"\x04" * 64), "malformed key or signature"),
])
def test_malformed_key_is_bogus_not_a_traceback(mangle: Callable[[DNSKEY], DNSKEY],
                                                reason: str) -> None:
    rows, sig = _answer(13)
    zsk = next(k for k in _keyset(13).keys if k.flags == 256)
    broken = mangle(zsk)
    assert isinstance(sig.rdata, RRSIG)
    broken_sig = dataclasses.replace(sig, rdata=dataclasses.replace(
        sig.rdata, key_tag=_tag(broken)))
    problem = check_rrsig(broken_sig, rows, [broken], NOW) or ""
    assert reason in problem


def _tag(key: DNSKEY) -> int:
    from craft.dns.canonical import key_tag
    return key_tag(key)


@pytest.mark.parametrize(("algorithm", "key", "signature", "reason"), [
    (8, b"", b"x", "malformed RSA key: empty"),
    (8, b"\x00\x01", b"x", "malformed RSA key: no exponent length"),
    (8, b"\x05\x01\x00", b"x", "malformed RSA key"),
    (13, b"\x01" * 64, b"\x01" * 10, "malformed ECDSA signature: 10 octets"),
    (15, b"\x01" * 32, b"\x01" * 10, "malformed EdDSA signature: 10 octets"),
    (16, b"\x01" * 10, b"", "malformed EdDSA key: 10 octets"),
    (253, b"", b"", "unsupported algorithm 253 (PRIVATEDNS)"),
])
def test_bad_key_and_signature_octets(algorithm: int, key: bytes, signature: bytes,
                                      reason: str) -> None:
    from craft.dns.sigcrypto import check_signature

    assert reason in (check_signature(algorithm, key, signature, b"data") or "")


def test_missing_signature_and_unknown_key_tag() -> None:
    keyset = _keyset(13)
    rows, sig = _answer(13)
    assert isinstance(sig.rdata, RRSIG)
    report = validate_message(_message(rows), [keyset], NOW)
    assert (report.verdicts[0].security, report.verdicts[0].reason) == (
        Security.BOGUS, "no RRSIG covers it")
    other = dataclasses.replace(sig, rdata=dataclasses.replace(sig.rdata, key_tag=1234))
    assert check_rrsig(other, rows, keyset.keys, NOW) == "no DNSKEY with key tag 1234 alg 13"
    assert report.bogus


# ---- the DNSKEY RRset against trust anchors ----

@pytest.mark.parametrize("digest", ["SHA1", "SHA256", "SHA384"])
def test_ds_digest_types_1_2_4(digest: str) -> None:
    keyset = _keyset(13, [_ds(13, digest)])
    assert keyset.verdict.security is Security.SECURE, keyset.verdict.reason


def test_anchor_checks() -> None:
    good = _ds(13)
    assert isinstance(good.rdata, DS)
    wrong = dataclasses.replace(good, rdata=dataclasses.replace(
        good.rdata, digest=bytes(32)))
    verdict = _keyset(13, [wrong]).verdict
    assert verdict.security is Security.BOGUS and "digest does not match" in verdict.reason
    gost = dataclasses.replace(good, rdata=dataclasses.replace(good.rdata, digest_type=3))
    verdict = _keyset(13, [gost]).verdict
    assert verdict.security is Security.INSECURE
    assert "unsupported DS digest type 3" in verdict.reason
    dsa = dataclasses.replace(good, rdata=dataclasses.replace(good.rdata, algorithm=3))
    assert _keyset(13, [dsa]).verdict.security is Security.INSECURE
    elsewhere = Anchor(Name.from_text("other.test."), good.rdata)
    assert _keyset(13, [elsewhere]).verdict.reason == "no trust anchor for example.test."
    # A DNSKEY anchor: the KSK itself.
    ksk = next(r.rdata for r in _keyset_records(13) if isinstance(r.rdata, DNSKEY)
               and r.rdata.flags == 257)
    assert isinstance(ksk, DNSKEY)
    assert _keyset(13, [Anchor(ZONE, ksk)]).verdict.security is Security.SECURE
    # An anchor for the ZSK: it does not sign the DNSKEY RRset.
    zsk = next(k for k in _keyset(13).keys if k.flags == 256)
    verdict = _keyset(13, [Anchor(ZONE, zsk)]).verdict
    assert verdict.security is Security.BOGUS and "not signed by a trusted key" in verdict.reason


def test_without_anchor_the_key_set_is_trusted_as_sent_and_says_so() -> None:
    keyset = validate_keys(ZONE, _keyset_records(13), None, NOW)
    assert keyset.verdict.security is Security.SECURE
    assert "only because the server sent it" in keyset.verdict.reason
    records = _keyset_records(13)
    tampered = [*records[:-1], _flip(records[-1])]
    assert validate_keys(ZONE, tampered, None, NOW).verdict.security is Security.BOGUS


def test_a_bogus_key_set_makes_its_data_bogus() -> None:
    records = _keyset_records(13)
    keyset = validate_keys(ZONE, [*records[:-1], _flip(records[-1])], [_ds(13)], NOW)
    rows, sig = _answer(13)
    verdict = validate_message(_message([*rows, sig]), [keyset], NOW).verdicts[0]
    assert verdict.security is Security.BOGUS
    assert "DNSKEY RRset of example.test. is bogus" in verdict.reason


# ---- trust anchor text ----

def test_anchor_text_forms() -> None:
    ds = _ds(13)
    assert isinstance(ds.rdata, DS)
    line = f"example.test. IN DS {ds.rdata.to_text()}"
    assert parse_anchors(line) == [ds]
    key = "AwEAAc3K"
    bind = (f'trust-anchors {{ /* c */ "example.test." static-ds {ds.rdata.to_text()};\n'
            f'  example.test initial-key 257 3 15 "{key}"; }};  // end\n')
    parsed = parse_anchors(bind)
    assert parsed[0] == ds and isinstance(parsed[1].rdata, DNSKEY) and parsed[1].rdata.flags == 257
    old = f'trusted-keys {{ "example.test." 257 3 15 "{key}"; }};'
    assert isinstance(parse_anchors(old)[0].rdata, DNSKEY)
    for bad, reason in [("", "no DS or DNSKEY"), ("example.test. A 192.0.2.1", "a trust anchor is"),
                        ("x. DS 1 2", "not a DS or DNSKEY record"),
                        ('trust-anchors { x. bogus 1 2 3 "aa"; };', "static-key")]:
        with pytest.raises(AnchorError, match=reason):
            parse_anchors(bad)


# ---- zones and denial proofs ----

def _message(answer: Sequence[Record], authority: Sequence[Record] = (), qname: str = "www",
             qtype: int = RRType.A, rcode: int = Rcode.NOERROR) -> Message:
    name = Name.from_text(qname, ZONE) if not qname.endswith(".") else Name.from_text(qname)
    return Message(Header(id=1, qr=True, aa=True, rcode=rcode), (Question(name, qtype),),
                   tuple(answer), tuple(authority))


def _zone_records(zone: dns.zone.Zone) -> list[Record]:
    return [_craft(name, rdataset.ttl, rdata) for name, rdataset in zone.iterate_rdatasets()
            for rdata in rdataset]


@functools.cache
def _nsec_zone() -> tuple[Record, ...]:
    ksk, ksk_key, zsk, zsk_key = _keys(13)
    zone = dns.zone.from_text(UNSIGNED, ORIGIN, relativize=False)
    with zone.writer() as txn:
        dns.dnssec.sign_zone(zone, txn, keys=[(ksk, ksk_key), (zsk, zsk_key)],
                             inception=INCEPTION, expiration=EXPIRATION)
    return tuple(_zone_records(zone))


@functools.cache
def _nsec3_zone(opt_out: bool) -> tuple[Record, ...]:
    """The zone with an NSEC3 chain (salt ABCD, 2 iterations) laid out here, as RFC 5155
    7.1 says: every authoritative name and empty non-terminal, the delegation only
    without opt-out; each RRset signed by dnspython."""
    ksk, ksk_key, zsk, zsk_key = _keys(13)
    zone = dns.zone.from_text(UNSIGNED, ORIGIN, relativize=False)
    origin = zone.origin
    assert origin is not None
    cut = dns.name.from_text("sub." + ORIGIN)
    names: dict[dns.name.Name, set[int]] = {}
    for name, rdataset in zone.iterate_rdatasets():
        if name.is_subdomain(cut) and name != cut:
            continue  # glue
        names.setdefault(name, set()).add(rdataset.rdtype)
        parent = name.parent()
        while parent != origin and parent.is_subdomain(origin):
            names.setdefault(parent, set())  # empty non-terminals
            parent = parent.parent()
    names[origin] |= {RRType.DNSKEY, RRType.NSEC3PARAM}
    if opt_out:
        del names[cut]
    chain = sorted((dns.dnssec.nsec3_hash(n, "ABCD", 2, 1).lower(), n) for n in names)
    with zone.writer() as txn:
        txn.add(origin, 3600, dns.rdata.from_text("IN", "DNSKEY", ksk_key.to_text()))
        txn.add(origin, 3600, dns.rdata.from_text("IN", "DNSKEY", zsk_key.to_text()))
        txn.add(origin, 0, dns.rdata.from_text("IN", "NSEC3PARAM", "1 0 2 ABCD"))
        for index, (label, name) in enumerate(chain):
            after = chain[(index + 1) % len(chain)][0]
            types = sorted(names[name] | ({RRType.RRSIG} if names[name] - {RRType.NS} or name == origin else set()))
            bitmap = " ".join(dns.rdatatype.to_text(t) for t in types)
            text = f"1 {int(opt_out)} 2 ABCD {after.upper()} {bitmap}"
            txn.add(dns.name.from_text(label, origin), 300, dns.rdata.from_text("IN", "NSEC3", text))
    signed: list[Record] = []
    for name, rdataset in zone.iterate_rdatasets():
        rows = [_craft(name, rdataset.ttl, rdata) for rdata in rdataset]
        signed += rows
        delegated = name.is_subdomain(cut) and rdataset.rdtype != RRType.DS
        if delegated:
            continue  # delegation NS and glue are not signed
        key, dnskey = (ksk, ksk_key) if rdataset.rdtype == RRType.DNSKEY else (zsk, zsk_key)
        signed.append(_sign(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)),
                            key, dnskey))
    return tuple(signed)


def _with_sigs(zone: Sequence[Record], name: Name, rtype: int) -> list[Record]:
    rows = [r for r in zone if r.name.equals(name) and r.rtype == rtype]
    return rows + [r for r in zone if r.name.equals(name) and isinstance(r.rdata, RRSIG)
                   and r.rdata.type_covered == rtype]


def _nsec_covering(zone: Sequence[Record], name: Name) -> Name:
    """The owner of the NSEC at or before ``name`` in canonical order (independent of
    craft.dns.denial_check: a plain search over the sorted chain)."""
    owners = sorted((r.name for r in zone if r.rtype == RRType.NSEC), key=order_key)
    before = [o for o in owners if order_key(o) <= order_key(name)]
    return before[-1] if before else owners[-1]


def _nsec3_owner(zone: Sequence[Record], name: Name, match: bool) -> Name:
    label = dns.dnssec.nsec3_hash(dns.name.from_text(name.to_text()), "ABCD", 2, 1).lower()
    owners = sorted((r.name for r in zone if r.rtype == RRType.NSEC3),
                    key=lambda n: n.labels[0].lower())
    if match:
        return next(o for o in owners if o.labels[0].lower().decode() == label)
    before = [o for o in owners if o.labels[0].lower().decode() < label]
    return before[-1] if before else owners[-1]


def _names(texts: Sequence[str]) -> list[Name]:
    return [Name.from_text(t, ZONE) for t in texts]


def _proof(zone: Sequence[Record], nsec3: bool, match: Sequence[str],
           cover: Sequence[str]) -> list[Record]:
    owners: list[Name] = []
    if nsec3:
        owners += [_nsec3_owner(zone, n, True) for n in _names(match)]
        owners += [_nsec3_owner(zone, n, False) for n in _names(cover)]
    else:
        owners += [_nsec_covering(zone, n) for n in _names([*match, *cover])]
    unique = list({o.key: o for o in owners}.values())
    rtype = RRType.NSEC3 if nsec3 else RRType.NSEC
    return [r for o in unique for r in _with_sigs(zone, o, rtype)]


def _report(nsec3: bool, qname: str, qtype: int, rcode: int, match: Sequence[str],
            cover: Sequence[str], opt_out: bool = False,
            answer: Sequence[Record] = ()) -> Report:
    zone = _nsec3_zone(opt_out) if nsec3 else _nsec_zone()
    soa = _with_sigs(zone, ZONE, RRType.SOA) if not answer else []
    authority = soa + _proof(zone, nsec3, match, cover)
    keyset = validate_keys(ZONE, [r for r in zone if r.name.equals(ZONE)], [_ds(13)], NOW)
    assert keyset.verdict.security is Security.SECURE, keyset.verdict.reason
    return validate_message(_message(answer, authority, qname, qtype, rcode), [keyset], NOW)


NX, OK = Rcode.NXDOMAIN, Rcode.NOERROR
# (qname, qtype, rcode, names matched, names covered, expected, words in the reason).
# For NSEC, "matched" and "covered" both pick the NSEC at or before the name.
NSEC3_CASES = [
    ("nope", RRType.A, NX, ["@"], ["nope", "*"], Security.SECURE, "closest encloser example.test."),
    ("x.y.nope", RRType.A, NX, ["@"], ["nope", "*"], Security.SECURE, "next closer nope.example.test."),
    ("nope", RRType.A, NX, ["@"], ["nope"], Security.BOGUS, "does not cover the wildcard *.example.test."),
    ("nope", RRType.A, NX, ["@"], ["*"], Security.BOGUS,
     "NSEC3 does not cover the next closer name nope.example.test."),
    ("nope", RRType.A, NX, [], ["nope", "*"], Security.BOGUS, "no NSEC3 matches any closest encloser"),
    ("www", RRType.MX, OK, ["www"], [], Security.SECURE, "lists no MX"),
    ("www", RRType.A, OK, ["www"], [], Security.BOGUS, "lists type A"),
    ("b.c", RRType.A, OK, ["b.c"], [], Security.SECURE, "lists no A"),
    ("x.wild", RRType.A, OK, ["wild", "*.wild"], ["x.wild"], Security.SECURE, "lists no A"),
    ("x.wild", RRType.A, OK, ["wild"], ["x.wild"], Security.BOGUS, "nor the wildcard"),
    ("sub", RRType.DS, OK, ["sub"], [], Security.SECURE, "lists no DS"),
    ("www", RRType.MX, OK, [], [], Security.BOGUS, "no NSEC or NSEC3 records prove the NODATA"),
    ("sub", RRType.A, OK, ["sub"], [], Security.BOGUS, "it proves nothing about A"),
    ("x.sub", RRType.A, NX, ["sub"], ["x.sub", "*.sub"], Security.BOGUS,
     "matching sub.example.test. is a delegation point: no closest encloser"),
]
NSEC_CASES = [
    ("nope", RRType.A, NX, [], ["nope", "*"], Security.SECURE, "covers *.example.test."),
    ("nope", RRType.A, NX, [], ["nope"], Security.BOGUS, "no NSEC covers the wildcard *.example.test."),
    ("nope", RRType.A, NX, [], [], Security.BOGUS, "no NSEC or NSEC3 records prove the NXDOMAIN"),
    ("www", RRType.MX, OK, ["www"], [], Security.SECURE, "lists no MX"),
    ("www", RRType.A, OK, ["www"], [], Security.BOGUS, "lists type A"),
    ("b.c", RRType.A, OK, [], ["b.c"], Security.SECURE, "empty non-terminal"),
    ("x.wild", RRType.A, OK, ["*.wild"], ["x.wild"], Security.SECURE, "lists no A"),
    ("alias", RRType.A, OK, ["alias"], [], Security.BOGUS, "lists CNAME"),
    ("x.sub", RRType.A, NX, [], ["x.sub", "*"], Security.BOGUS,
     "NSEC sub.example.test. is a delegation point: it cannot deny x.sub.example.test."),
    ("sub", RRType.A, OK, ["sub"], [], Security.BOGUS, "it proves nothing about A"),
    ("sub", RRType.DS, OK, ["sub"], [], Security.SECURE, "lists no DS"),
]


@pytest.mark.parametrize(("nsec3", "case"), [(True, c) for c in NSEC3_CASES]
                         + [(False, c) for c in NSEC_CASES])
def test_denial_proofs(nsec3: bool, case: tuple[Any, ...]) -> None:
    qname, qtype, rcode, match, cover, security, words = case
    report = _report(nsec3, qname, qtype, rcode, match, cover)
    denial = report.verdicts[-1]
    assert denial.section == "denial"
    assert (denial.security, words in denial.reason) == (security, True), denial.to_text()
    others = [v for v in report.verdicts if v.section != "denial"]
    assert all(v.security is Security.SECURE for v in others), [v.to_text() for v in others]
    assert report.bogus is (security is Security.BOGUS)


def test_nsec3_hashes_are_kept_for_the_hex_view() -> None:
    report = _report(True, "nope", RRType.A, NX, ["@"], ["nope", "*"])
    labels = {h.name.to_text(): h.label for h in report.hashes}
    for name in ("nope.example.test.", "example.test.", "*.example.test."):
        assert labels[name] == dns.dnssec.nsec3_hash(name, "ABCD", 2, 1).lower()


def test_opt_out_nxdomain_and_ds_are_insecure() -> None:
    report = _report(True, "x.sub", RRType.A, NX, ["@"], ["sub", "*"], opt_out=True)
    assert report.verdicts[-1].security is Security.INSECURE
    assert "opt-out" in report.verdicts[-1].reason
    report = _report(True, "sub", RRType.DS, OK, ["@"], ["sub"], opt_out=True)
    assert report.verdicts[-1].security is Security.INSECURE, report.verdicts[-1].to_text()


def test_a_denial_resting_on_a_bogus_nsec_is_bogus() -> None:
    zone = _nsec_zone()
    owner = _nsec_covering(zone, Name.from_text("nope", ZONE))
    broken = [_flip(r) if isinstance(r.rdata, RRSIG) and r.name.equals(owner) else r
              for r in _proof(zone, False, [], ["nope", "*"])]
    keyset = validate_keys(ZONE, [r for r in zone if r.name.equals(ZONE)], [_ds(13)], NOW)
    report = validate_message(_message([], broken, "nope", RRType.A, NX), [keyset], NOW)
    assert report.verdicts[-1].security is Security.BOGUS
    assert "which is bogus" in report.verdicts[-1].reason


@pytest.mark.parametrize("nsec3", [True, False])
def test_wildcard_answer_needs_the_no_closer_name_proof(nsec3: bool) -> None:
    zone = _nsec3_zone(False) if nsec3 else _nsec_zone()
    qname = Name.from_text("x.wild", ZONE)
    answer = [dataclasses.replace(r, name=qname)
              for r in _with_sigs(zone, Name.from_text("*.wild", ZONE), RRType.TXT)]
    cover = ["x.wild"]
    good = _report(nsec3, "x.wild", RRType.TXT, OK, [], cover, answer=answer)
    assert [v.security for v in good.verdicts] == [Security.SECURE] * len(good.verdicts)
    assert good.verdicts[-1].section == "wildcard"
    bare = _report(nsec3, "x.wild", RRType.TXT, OK, [], [], answer=answer)
    assert bare.verdicts[-1].security is Security.BOGUS
    assert "wildcard answer" in bare.verdicts[-1].reason


def test_nsec3_rdata_and_craft_agree_on_the_chain() -> None:
    """A guard on the test's own NSEC3 layout: every next hash is another owner."""
    zone = _nsec3_zone(False)
    owners = {r.name.labels[0].lower() for r in zone if r.rtype == RRType.NSEC3}
    import base64
    for record in zone:
        if isinstance(record.rdata, NSEC3):
            assert base64.b32hexencode(record.rdata.next).lower().rstrip(b"=") in owners


def test_decode_shows_each_dnskey_key_tag() -> None:
    import subprocess
    import sys

    from craft.dns.codec import encode

    records = [r for r in _keyset_records(15) if r.rtype == RRType.DNSKEY]
    wire = encode(_message(records, qname="@", qtype=RRType.DNSKEY))
    done = subprocess.run([sys.executable, "-m", "craft", "decode", "--no-color", wire.hex()],
                          capture_output=True, text=True, timeout=60, check=True)
    _, ksk, _, zsk = _keys(15)
    assert f"flags 257 (KSK) alg 15: key tag {dns.dnssec.key_id(ksk)}" in done.stdout
    assert f"flags 256 (ZSK) alg 15: key tag {dns.dnssec.key_id(zsk)}" in done.stdout


def test_nsec3_with_too_many_iterations_is_insecure() -> None:
    zone = _nsec3_zone(False)
    proof = _proof(zone, True, ["@"], ["nope", "*"])
    many = [dataclasses.replace(r, rdata=dataclasses.replace(r.rdata, iterations=151))
            if isinstance(r.rdata, NSEC3) else r for r in proof]
    keyset = validate_keys(ZONE, [r for r in zone if r.name.equals(ZONE)], [_ds(13)], NOW)
    report = validate_message(_message([], many, "nope", RRType.A, NX), [keyset], NOW)
    assert report.verdicts[-1].security is Security.INSECURE
    assert "151 iterations, more than 150" in report.verdicts[-1].reason


def test_an_unsigned_response_is_insecure_only_without_an_anchor() -> None:
    rows, _ = _answer(13)
    plain = validate_message(_message(rows), [], NOW, expect_signed=False)
    assert [v.security for v in plain.verdicts] == [Security.INSECURE]
    assert "no trust anchor says the zone is signed" in plain.verdicts[0].reason
    anchored = validate_message(_message(rows), [], NOW)
    assert anchored.bogus and anchored.verdicts[0].reason == "no RRSIG covers it"


_FIELDS = st.sampled_from(["signature", "key_tag", "algorithm", "labels", "inception",
                           "expiration", "signer", "original_ttl"])


@settings(max_examples=150, deadline=None)
@given(field=_FIELDS, data=st.data(), key=st.binary(max_size=80),
       key_alg=st.sampled_from([1, 3, 8, 10, 13, 14, 15, 16, 200]))
def test_mangled_signatures_and_keys_give_verdicts_not_exceptions(
        field: str, data: st.DataObject, key: bytes, key_alg: int) -> None:
    rows, sig = _answer(13)
    assert isinstance(sig.rdata, RRSIG)
    values = {
        "signature": st.binary(max_size=130), "key_tag": st.integers(0, 0xFFFF),
        "algorithm": st.sampled_from([0, 5, 8, 13, 15, 16, 255]), "labels": st.integers(0, 255),
        "inception": st.integers(0, 0xFFFFFFFF), "expiration": st.integers(0, 0xFFFFFFFF),
        "signer": st.sampled_from([ZONE, Name.root(), Name.from_text("other.test.")]),
        "original_ttl": st.integers(0, 0xFFFFFFFF),
    }
    mangled = dataclasses.replace(sig, rdata=dataclasses.replace(
        sig.rdata, **{field: data.draw(values[field])}))
    odd_key = DNSKEY(256, 3, key_alg, key)
    keyset = _keyset(13)
    keysets = [dataclasses.replace(keyset, keys=(*keyset.keys, odd_key))]
    report = validate_message(_message([*rows, mangled]), keysets, NOW)
    assert report.verdicts[0].security in Security
    assert report.verdicts[0].reason
    odd_sig = dataclasses.replace(mangled, rdata=dataclasses.replace(
        mangled.rdata, key_tag=_tag(odd_key), algorithm=key_alg))
    assert isinstance(check_rrsig(odd_sig, rows, [odd_key], NOW), str | None)


@settings(max_examples=150, deadline=None)
@given(salt=st.binary(max_size=8), after=st.binary(max_size=24), alg=st.integers(0, 3),
       label=st.sampled_from([b"zz", b"0" * 32, b"v" * 32, b"!!"]),
       qname=st.sampled_from(["nope", "www", "a.b.c", "x.wild", "other.test."]))
def test_odd_nsec3_records_give_proof_verdicts(salt: bytes, after: bytes, alg: int, label: bytes,
                                               qname: str) -> None:
    record = Record(Name((label, *ZONE.labels)), RRType.NSEC3, 1, 300,
                    NSEC3(alg, 0, 0, salt, after, (RRType.A,)))
    for rcode, qtype in ((NX, RRType.A), (OK, RRType.MX)):
        report = validate_message(_message([], [record], qname, qtype, rcode), [], NOW)
        assert report.verdicts[-1].section == "denial" and report.verdicts[-1].reason


@pytest.mark.parametrize("nsec3", [True, False])
def test_hex_spans_cover_the_signed_octets_field_by_field(nsec3: bool) -> None:
    from craft.view.signed import hash_view, signed_spans

    report = _report(nsec3, "nope", RRType.A, NX, ["@"] if nsec3 else [], ["nope", "*"])
    assert report.checked
    for checked in report.checked:
        data, spans = signed_spans(checked)
        top = [s for s in spans if s.level == 0]
        assert top[0].start == 0 and top[-1].end == len(data)
        assert all(a.end == b.start for a, b in itertools.pairwise(top))
        assert [s.field for s in top[:8]] == [f"RDATA {f}" for f, _ in RRSIG.fields[:-1]]
        assert sum(s.field == "NAME" for s in top) == len(checked.records)
    for hashed in report.hashes:
        text = hash_view(hashed, color=False)
        assert f"base32hex {dns.dnssec.nsec3_hash(hashed.name.to_text(), 'ABCD', 2, 1).lower()}" in text
        assert "SALT              ab cd" in text
