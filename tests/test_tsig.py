"""TSIG (RFC 8945) in memory: craft's MACs against dnspython's, key texts, request checks,
signed answers and error answers field by field, chained transfer MACs.

dnspython's ``dns.tsig`` is the second implementation: what craft signs it must verify,
what it signs craft must verify, each algorithm. No sockets here (test_tsig_peers.py has
dig, kdig, NSD, Knot and BIND).
"""

from __future__ import annotations

import base64
import hmac
import time
from dataclasses import dataclass

import dns.message
import dns.name
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import pytest

from craft.dns.answer_cache import Authority
from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode, RRType
from craft.dns.message import Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import A
from craft.dns.rdtypes.dnssec import TSIG
from craft.dns.transfer import LOOPBACK
from craft.dns.tsig import (
    BADKEY,
    BADSIG,
    BADTIME,
    BADTRUNC,
    Faults,
    Key,
    Keyring,
    StreamSigner,
    StreamVerifier,
    TsigError,
    check_request,
    coverage,
    find,
    parse_dig_key,
    parse_key,
    parse_keyfile,
    sign,
)
from craft.dns.wire import SpanKind
from craft.dns.zone import Zone, default_zones, lab_zone

NOW = 1_700_000_000
SECRET = base64.b64encode(bytes(range(32))).decode()
OTHER_SECRET = base64.b64encode(bytes(range(1, 33))).decode()
ALGORITHMS = ("hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")


def key(algorithm: str = "hmac-sha256", name: str = "xfr.example", secret: str = SECRET) -> Key:
    return parse_key(f"{name}:{algorithm}:{secret}")


def ring(*keys: Key) -> dns.tsig.Key:
    """dnspython's view of craft's first key (its name, secret and algorithm)."""
    k = keys[0]
    return dns.tsigkeyring.from_text({k.name.to_text(): (k.algorithm.to_text(),
                                                         base64.b64encode(k.secret).decode())})


def query_wire(qname: str = "google.com.", qtype: int = RRType.A, ident: int = 0x4242) -> bytes:
    return encode(Message(Header(id=ident), (Question(Name.from_text(qname), qtype),)))


# ---- the MAC, against dnspython ----


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_dnspython_verifies_what_craft_signs_and_craft_what_dnspython_signs(algorithm: str) -> None:
    k = key(algorithm)
    keyring = ring(k)
    signed, mac = sign(query_wire(), k, int(time.time()))  # dnspython checks the time too
    message = dns.message.from_wire(signed, keyring=keyring)  # raises on a bad MAC
    assert message.had_tsig and message.mac == mac
    # and the other way: dnspython signs a query, craft checks it
    theirs = dns.message.make_query("www.google.com.", "MX")
    theirs.use_tsig(keyring, keyname=k.name.to_text(), algorithm=k.algorithm.to_text())
    wire = theirs.to_wire()
    check = check_request(wire, Keyring([k]), int(theirs.tsig[0].time_signed))
    assert check is not None and check.error == 0 and check.key == k and check.mac == theirs.mac


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_signed_answer_covers_the_request_mac_as_dnspython_checks(algorithm: str) -> None:
    k = key(algorithm)
    query = dns.message.make_query("google.com.", "A")
    query.use_tsig(ring(k), keyname=k.name.to_text(), algorithm=k.algorithm.to_text())
    wire = query.to_wire()
    tsig_time = query.tsig[0].time_signed
    authority = Authority(default_zones(), keys=Keyring([k]), clock=lambda: tsig_time + 5)
    response = authority.respond(wire)
    assert response is not None
    answer = dns.message.from_wire(response, keyring=ring(k), request_mac=query.mac)
    assert answer.had_tsig and answer.rcode() == dns.rcode.NOERROR
    assert [r.to_text() for r in answer.answer] == ["google.com. 260 IN A 192.165.1.1\n"
                                                    "google.com. 260 IN A 192.165.1.10"]


# ---- key texts ----


@pytest.mark.parametrize(("text", "expected"), [
    (f"xfr:hmac-sha256:{SECRET}", ("xfr.", "hmac-sha256.")),
    (f"Xfr.Example.:HMAC-SHA512.:{SECRET}", ("Xfr.Example.", "hmac-sha512.")),
    (f"k:hmac-sha1:{SECRET}", ("k.", "hmac-sha1.")),
])
def test_key_texts(text: str, expected: tuple[str, str]) -> None:
    k = parse_key(text)
    assert (k.name.to_text(), k.algorithm.to_text()) == expected and k.secret == bytes(range(32))


@pytest.mark.parametrize(("text", "reason"), [
    (f"xfr:hmac-md5:{SECRET}", "unknown TSIG algorithm"),
    ("xfr:hmac-sha256:not base64!", "not base64"),
    ("xfr:hmac-sha256:", "empty"),
    (f"xfr:{SECRET}", "NAME:ALGORITHM:BASE64"),
    (f":hmac-sha256:{SECRET}", "a key needs a name"),
])
def test_bad_key_texts_say_why(text: str, reason: str) -> None:
    with pytest.raises(TsigError, match=reason):
        parse_key(text)


def test_dig_key_text_defaults_to_hmac_sha256() -> None:
    assert parse_dig_key(f"xfr:{SECRET}") == key("hmac-sha256", "xfr")
    assert parse_dig_key(f"hmac-sha384:xfr:{SECRET}") == key("hmac-sha384", "xfr")
    with pytest.raises(TsigError):
        parse_dig_key("a:b:c:d")


def test_keyfile_in_bind_format_with_several_keys_and_comments() -> None:
    text = (f'# made by tsig-keygen\nkey "one" {{\n\talgorithm hmac-sha256;\n\tsecret "{SECRET}";\n}};\n'
            f'// another\nkey two {{ algorithm hmac-sha512; secret "{OTHER_SECRET}"; }};\n'
            f'/* a block\n comment */\n')
    one, two = parse_keyfile(text, "k.conf")
    assert one == key("hmac-sha256", "one") and two == key("hmac-sha512", "two", OTHER_SECRET)
    for bad, reason in ((f'key "x" {{ secret "{SECRET}"; }};', "needs both"),
                        ('key "x" { algorithm hmac-sha256; secret "!!"; };', "not base64"),
                        ("options { };", "not a key statement"), ("", "no key statement")):
        with pytest.raises(TsigError, match=reason):
            parse_keyfile(bad, "k.conf")


def test_a_key_given_twice_is_an_error() -> None:
    with pytest.raises(TsigError, match="twice"):
        Keyring([key(), key("hmac-sha512")])


# ---- checking requests ----


@dataclass(frozen=True)
class CheckRow:
    what: str
    signer: Key
    now: int
    faults: Faults
    error: int
    verified: bool  # the check holds the key (the answer is signed)


CHECKS = [
    CheckRow("good", key(), NOW, Faults(), 0, True),
    CheckRow("a key we do not hold", key(name="other"), NOW, Faults(), BADKEY, False),
    CheckRow("our key's name with another algorithm", key("hmac-sha512"), NOW, Faults(), BADKEY, False),
    CheckRow("another secret", key(secret=OTHER_SECRET), NOW, Faults(), BADSIG, False),
    CheckRow("a flipped MAC bit", key(), NOW, Faults(wrong_mac=True), BADSIG, False),
    CheckRow("MAC cut below 10 octets", key(), NOW, Faults(truncate=8), BADSIG, False),
    CheckRow("MAC cut to half: valid, below our policy", key(), NOW, Faults(truncate=16), BADTRUNC, True),
    CheckRow("time past the fudge", key(), NOW - 301, Faults(), BADTIME, True),
    CheckRow("time at the fudge", key(), NOW - 300, Faults(), 0, True),
    CheckRow("time ahead past the fudge", key(), NOW + 301, Faults(), BADTIME, True),
    CheckRow("an unknown algorithm's name", key(), NOW,
             Faults(algorithm=Name.from_text("hmac-md5.sig-alg.reg.int.")), BADKEY, False),
]


@pytest.mark.parametrize("row", CHECKS, ids=[r.what for r in CHECKS])
def test_request_checks(row: CheckRow) -> None:
    signed, _ = sign(query_wire(), row.signer, row.now, faults=row.faults)
    check = check_request(signed, Keyring([key()]), NOW)
    assert check is not None and check.error == row.error
    assert check.signs_answer == row.verified


def test_an_unsigned_message_has_no_check_and_the_unsigned_octets_are_restored() -> None:
    wire = query_wire()
    assert check_request(wire, Keyring([key()]), NOW) is None
    signed, _ = sign(wire, key(), NOW)
    found = find(signed)
    assert found is not None and found.unsigned == wire and found.start == len(wire)


# ---- answers over octets: signed, and the errors of RFC 8945 5.2 field by field ----


def authority(*, allow: tuple = LOOPBACK, keys: tuple[Key, ...] = (key(),)) -> Authority:
    return Authority(default_zones(), allow_transfer=allow, keys=Keyring(keys), clock=lambda: NOW)


def tsig_of(message: Message) -> TSIG:
    last = message.additional[-1]
    assert last.rtype == RRType.TSIG and isinstance(last.rdata, TSIG)
    return last.rdata


@pytest.mark.parametrize(("what", "signer", "at", "faults", "error", "mac_size", "other"), [
    ("BADKEY", key(name="stranger"), NOW, Faults(), BADKEY, 0, b""),
    ("BADSIG", key(), NOW, Faults(wrong_mac=True), BADSIG, 0, b""),
    ("BADTIME", key(), NOW - 1000, Faults(), BADTIME, 32, NOW.to_bytes(6, "big")),
    ("BADTRUNC", key(), NOW, Faults(truncate=16), BADTRUNC, 32, b""),
])
def test_error_answers_field_by_field(what: str, signer: Key, at: int, faults: Faults,
                                      error: int, mac_size: int, other: bytes) -> None:
    signed, mac = sign(query_wire(ident=0x1234), signer, at, faults=faults)
    response = authority().respond(signed)
    assert response is not None
    message = decode(response)
    assert message.rcode == Rcode.NOTAUTH and not message.answer and not message.authority
    t = tsig_of(message)
    assert (t.error, len(t.mac), t.other, t.original_id, t.fudge) == (error, mac_size, other, 0x1234, 300)
    assert t.algorithm == signer.algorithm and message.additional[-1].name.equals(signer.name)
    # RFC 8945 5.2.3: a BADTIME answer carries the request's time, ours is the other data
    assert t.time_signed == (at if error == BADTIME else NOW)
    if mac_size:  # signed: the client can check it with its request's MAC
        verifier = StreamVerifier(key(), mac)
        verdict = verifier.feed(response, at if error == BADTIME else NOW)
        assert verdict.signed and verdict.error == error and "MAC" not in verdict.reason


def test_a_signed_query_gets_a_signed_answer_and_a_bad_one_never_zone_data() -> None:
    signed, mac = sign(query_wire("google.com."), key(), NOW)
    good = authority().respond(signed)
    assert good is not None and StreamVerifier(key(), mac).feed(good, NOW).ok
    assert next(r.to_text() for r in decode(good).answer).startswith("google.com. 260 IN A")
    tampered = signed[:13] + bytes([signed[13] ^ 1]) + signed[14:]  # "google" to "foogle"
    bad = authority().respond(tampered)
    assert bad is not None and not decode(bad).answer and decode(bad).rcode == Rcode.NOTAUTH


def test_a_signed_answer_cut_to_512_keeps_room_for_its_tsig() -> None:
    records = tuple(Record.make(Name.from_text("big.test."), 60, A(f"10.0.0.{i}")) for i in range(60))
    zone = Zone(Name.from_text("big.test."), lab_zone("big.test", 60, ("10.0.0.1",), 7).records + records)
    auth = Authority([zone], keys=Keyring([key()]), clock=lambda: NOW)
    signed, mac = sign(query_wire("big.test."), key(), NOW)
    response = auth.respond(signed, 512)
    assert response is not None and len(response) <= 512 and decode(response).header.tc
    assert StreamVerifier(key(), mac).feed(response, NOW).ok


# ---- transfers ----


def big() -> Zone:
    base = lab_zone("big.test", 60, ("10.0.0.1",), 7)
    extra = tuple(Record.make(Name.from_text(f"h{i}.big.test."), 60, A(f"10.1.{i // 250}.{i % 250}"))
                  for i in range(3000))
    return Zone(base.origin, base.records + extra)


def test_a_signed_axfr_chains_every_message_as_dnspython_checks() -> None:
    zone = big()
    auth = Authority([zone], allow_transfer=[key().name], keys=Keyring([key()]), clock=lambda: NOW)
    query = dns.message.make_query("big.test.", "AXFR")
    query.use_tsig(ring(key()), keyname=key().name.to_text())
    wire = query.to_wire()
    auth.answerer.clock = lambda: query.tsig[0].time_signed
    messages = list(auth.respond_stream(wire, "192.0.2.7"))  # allowed by key, not by address
    assert len(messages) > 2
    ctx = None
    for i, data in enumerate(messages):
        got = dns.message.from_wire(data, keyring=ring(key()), request_mac=query.mac, xfr=True,
                                    origin=dns.name.from_text("big.test."), tsig_ctx=ctx, multi=True)
        assert got.had_tsig, i
        ctx = got.tsig_ctx
    # a message altered in the middle of the stream breaks the chain from there on
    verifier = StreamVerifier(key(), query.mac)
    broken = [*messages[:1], messages[1][:40] + bytes([messages[1][40] ^ 1]) + messages[1][41:]]
    assert verifier.feed(broken[0], query.tsig[0].time_signed).ok
    assert "MAC" in verifier.feed(broken[1], query.tsig[0].time_signed).reason


def test_a_stream_signed_every_third_message_verifies_and_must_end_signed() -> None:
    k = key()
    request, mac = sign(query_wire("big.test.", RRType.AXFR), k, NOW)
    bodies = [query_wire(f"m{i}.big.test.", ident=0x4242) for i in range(8)]
    signed = list(StreamSigner(k, mac, NOW, every=3).stream(bodies))
    marked = [find(m) is not None for m in signed]
    assert marked == [True, False, False, True, False, False, True, True]
    verifier = StreamVerifier(k, mac)
    assert all(verifier.feed(m, NOW).ok for m in signed) and verifier.finish().ok
    cut = StreamVerifier(k, mac)
    assert all(cut.feed(m, NOW).ok for m in signed[:5]) and not cut.finish().ok
    assert request  # the request the stream answers


def test_transfer_access_by_key_and_by_network() -> None:
    zone = default_zones()[0]
    other = key(name="other", secret=OTHER_SECRET)
    auth = Authority([zone], allow_transfer=[key().name], keys=Keyring([key(), other]),
                     clock=lambda: NOW)
    plain = query_wire(zone.origin.to_text(), RRType.AXFR)

    def rcode(data: bytes, client: str = "127.0.0.1") -> int:
        return decode(next(iter(auth.respond_stream(data, client)))).rcode

    assert rcode(plain) == Rcode.REFUSED  # only the key lets in, loopback too needs it
    assert rcode(sign(plain, key(), NOW)[0], "198.51.100.1") == Rcode.NOERROR
    refused = list(auth.respond_stream(sign(plain, other, NOW)[0], "127.0.0.1"))
    assert decode(refused[0]).rcode == Rcode.REFUSED and find(refused[0]) is not None  # signed
    both = Authority([zone], allow_transfer=[*LOOPBACK, key().name], keys=Keyring([key()]))
    assert decode(next(iter(both.respond_stream(plain, "127.0.0.1")))).rcode == Rcode.NOERROR


def test_a_message_given_still_signed_to_answer_is_badkey() -> None:
    signed, _ = sign(query_wire(), key(), NOW)
    message = decode(signed)
    answer = authority().answerer.answer(message)
    assert answer is not None and answer.rcode == Rcode.NOTAUTH
    assert tsig_of(decode(encode(answer))).error == BADKEY


def test_signed_ixfr_answers_over_udp_and_tcp() -> None:
    zone = default_zones()[0]
    auth = Authority([zone], keys=Keyring([key()]), clock=lambda: NOW)
    ours = Record(zone.origin, RRType.SOA, 1, 0, zone.soa.rdata)
    query = encode(Message(Header(id=9), (Question(zone.origin, RRType.IXFR),), (), (ours,)))
    signed, mac = sign(query, key(), NOW)
    for data in (auth.respond(signed), *auth.respond_stream(signed, "127.0.0.1")):
        assert data is not None
        assert StreamVerifier(key(), mac).feed(data, NOW).ok
        assert [r.rtype for r in decode(data).answer] == [RRType.SOA]  # current: the SOA alone


def test_the_covered_spans_are_exactly_what_the_mac_is_made_of() -> None:
    k = key(name="xfr.example")
    signed, mac = sign(query_wire(), k, NOW)
    spans = coverage(signed)
    covered = [s for s in spans if s.kind is SpanKind.MAC_COVERS]
    [mac_span] = [s for s in spans if s.kind is SpanKind.MAC]
    assert signed[mac_span.start:mac_span.end] == mac
    found = find(signed)
    assert found is not None
    # the first range is the message before the TSIG, read with the original ID and
    # ARCOUNT one less; the others are the TSIG's variables as they are on the wire
    octets = found.unsigned[:12] + b"".join(signed[s.start:s.end] for s in covered)[12:]
    assert hmac.new(k.secret, octets, "sha256").digest() == mac
    assert coverage(query_wire()) == [] and coverage(b"\x00") == []
