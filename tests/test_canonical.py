"""DNSSEC canonical forms and digests (craft.dns.canonical) against RFC vectors and dnspython."""

from __future__ import annotations

import base64
import time

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

from craft.dns import canonical
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdtypes import rdata_class
from craft.dns.rdtypes.dnssec import DNSKEY, RRSIG


@pytest.mark.parametrize(("name", "salt", "iterations", "hashed"), [
    # RFC 5155 appendix A
    ("example.", "aabbccdd", 12, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
    ("a.example.", "aabbccdd", 12, "35mthgpgcu1qg68fab165klnsnk3dpvl"),
    ("ai.example.", "aabbccdd", 12, "gjeqe526plbf1g8mklp59enfd789njgi"),
    ("*.w.example.", "aabbccdd", 12, "r53bq7cc2uvmubfu5ocmm6pers9tk9en"),
    ("EXAMPLE.", "aabbccdd", 12, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
    ("example.", "", 0, None),
])
def test_nsec3_hash_matches_rfc_5155_and_dnspython(name: str, salt: str, iterations: int,
                                                   hashed: str | None) -> None:
    ours = base64.b32hexencode(
        canonical.nsec3_hash(Name.from_text(name), bytes.fromhex(salt), iterations)).decode().lower()
    theirs = dns.dnssec.nsec3_hash(name, salt or None, iterations, 1).lower()
    assert ours == theirs
    if hashed is not None:
        assert ours == hashed


def test_unsupported_algorithms_say_so() -> None:
    with pytest.raises(canonical.UnsupportedError, match="NSEC3 hash algorithm: 2 is not supported"):
        canonical.nsec3_hash(Name.from_text("a."), b"", 0, 2)
    key = DNSKEY(257, 3, 13, b"\x01" * 64)
    with pytest.raises(canonical.UnsupportedError, match="DS digest type: 3"):
        canonical.ds_digest(Name.from_text("a."), key, 3)


def test_canonical_order_is_rfc_4034_6_1() -> None:
    # RFC 4034 6.1's example, shuffled
    ordered = ["example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
               "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
               "\\200.z.example."]
    names = [Name.from_text(t) for t in ordered]
    shuffled = names[::2] + names[1::2]
    assert sorted(shuffled, key=canonical.order_key) == names
    assert [str(n) for n in sorted(dns.name.from_text(t) for t in ordered)] == \
        [str(dns.name.from_text(t)) for t in ordered]


def _dnskey_pair() -> tuple[ec.EllipticCurvePrivateKey, DNSKEY, dns.rdata.Rdata]:
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    raw = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    theirs = dns.rdata.from_text("IN", "DNSKEY", "257 3 13 " + base64.b64encode(raw).decode())
    return private, DNSKEY(257, 3, 13, raw), theirs


def test_key_tag_and_ds_digests_match_dnspython() -> None:
    _, ours, theirs = _dnskey_pair()
    assert canonical.key_tag(ours) == dns.dnssec.key_id(theirs)  # type: ignore[arg-type]
    owner = Name.from_text("Example.")
    for digest_type, name in ((1, "SHA1"), (2, "SHA256"), (4, "SHA384")):
        # validating=True: dnspython's default policy no longer creates SHA-1 digests
        ds = dns.dnssec.make_ds("example.", theirs, name, validating=True)  # type: ignore[arg-type]
        assert canonical.ds_digest(owner, ours, digest_type) == ds.digest  # type: ignore[attr-defined]
    # RFC 4034 5.4's key and DS (algorithm 5, digest type 1)
    rfc_key = DNSKEY(256, 3, 5, base64.b64decode(
        "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphX"
        "dvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw=="))
    assert canonical.key_tag(rfc_key) == 60485
    assert canonical.ds_digest(Name.from_text("dskey.example.com."), rfc_key, 1).hex().upper() == \
        "2BB183AF5F22588179A53B0A98631FAD1A292118"


@pytest.mark.parametrize("owner", ["www.example.", "WwW.Example.", "x.y.example."])
def test_dnspython_signature_verifies_over_our_signed_data(owner: str) -> None:
    """dnspython signs an RRset; the signature must verify over the octets craft builds."""
    private, ours, theirs = _dnskey_pair()
    now = int(time.time())
    rrset = dns.rrset.from_text(owner, 300, "IN", "MX", "10 Mail.Example.", "5 b.example.",
                                "10 mail.example.")
    sig = dns.dnssec.sign(rrset, private, dns.name.from_text("Example."), theirs,  # type: ignore[arg-type]
                          inception=now - 60, expiration=now + 3600)
    rrsig = rdata_class(46).from_text(sig.to_text().split())
    assert isinstance(rrsig, RRSIG)
    records = [Record.make(Name.from_text(owner), 300, rdata_class(15).from_text(t.split()))
               for t in ("10 Mail.Example.", "5 b.example.", "10 mail.example.")]
    data = canonical.signed_data(rrsig, records)
    assert data == dns.dnssec._make_rrsig_signature_data(rrset, sig)  # type: ignore[attr-defined]
    half = len(rrsig.signature) // 2
    der = encode_dss_signature(int.from_bytes(rrsig.signature[:half], "big"),
                               int.from_bytes(rrsig.signature[half:], "big"))
    private.public_key().verify(der, data, ec.ECDSA(SHA256()))
    assert rrsig.key_tag == canonical.key_tag(ours)


def test_wildcard_answers_are_signed_as_the_wildcard() -> None:
    assert str(canonical.signed_owner(Name.from_text("a.B.w.example."), 2)) == "*.w.example."
    assert str(canonical.signed_owner(Name.from_text("W.example."), 2)) == "w.example."


def test_nsec_rdata_keeps_its_case_and_rrsig_signer_is_lowered() -> None:
    nsec = rdata_class(47).from_text(["Next.Example.", "A", "RRSIG"])
    assert canonical.rdata_wire(nsec).startswith(b"\x04Next\x07Example\x00")
    ns = rdata_class(2).from_text(["NS1.Example."])
    assert canonical.rdata_wire(ns) == b"\x03ns1\x07example\x00"
