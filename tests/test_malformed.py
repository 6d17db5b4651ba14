"""Malformed messages: each case names the exact offset and reason craft's decoder reports,
and what the oracle's verdict says next to Scapy's more lenient reading."""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from craft.dns.codec import decode, encode
from craft.dns.message import fold_case
from craft.dns.wire import WireError
from craft.oracle import check

QUESTION = b"\x06google\x03com\x00" + b"\x00\x01\x00\x01"  # offsets 12..27
ROOT = b"\x00"


def head(qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0, flags: int = 0x0100) -> bytes:
    return struct.pack("!6H", 0x1234, flags, qd, an, ns, ar)


def rr(owner: bytes, rtype: int, rdata: bytes, rdlength: int | None = None,
       rclass: int = 1, ttl: int = 300) -> bytes:
    """A record whose RDLENGTH may lie."""
    size = len(rdata) if rdlength is None else rdlength
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, size) + rdata


def answer(record: bytes) -> bytes:
    """One answer record at offset 12 (no question): its rdata starts at 23 with a root owner."""
    return head(an=1) + record


def soa_rdata() -> bytes:
    return ROOT + ROOT + struct.pack("!5I", 1, 2, 3, 4, 5)  # 22 octets


def opt_record(rdata: bytes, rdlength: int | None = None) -> bytes:
    return rr(ROOT, 41, rdata, rdlength, rclass=1232, ttl=0)


def pointer_chain(count: int) -> bytes:
    """``count`` + 1 questions: the first is the root, each next one a pointer to the one
    before, so the last needs ``count`` jumps."""
    body = bytearray(ROOT + b"\x00\x01\x00\x01")
    starts = [12]
    for _ in range(count):
        starts.append(12 + len(body))
        body += struct.pack("!H", 0xC000 | starts[-2]) + b"\x00\x01\x00\x01"
    return head(qd=count + 1) + bytes(body)


LONG_NAME = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + ROOT  # 257 octets
NAME_193 = b"".join(b"\x3f" + b"b" * 63 for _ in range(3)) + ROOT  # 193 octets at 12..204


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    offset: int
    reason: str


CASES = [
    # header
    Case("empty", b"", 0, "truncated ID"),
    Case("header 5 octets", head()[:5], 4, "truncated QDCOUNT"),
    Case("header 11 octets", head()[:11], 10, "truncated ARCOUNT"),
    # question
    Case("qdcount without question", head(qd=1), 12,
         "header counts 1 question records but data ends after 0"),
    Case("question label cut", head(qd=1) + b"\x06goo", 12, "label of 6 runs past the end"),
    Case("question name unterminated", head(qd=1) + b"\x03abc", 16, "name runs past the end"),
    Case("question QTYPE cut", head(qd=1) + b"\x03abc\x00\x00", 17, "truncated QTYPE"),
    Case("question QCLASS cut", head(qd=1) + b"\x03abc\x00\x00\x01\x00", 19, "truncated QCLASS"),
    Case("second question missing", head(qd=2) + QUESTION, 28,
         "header counts 2 question records but data ends after 1"),
    # names
    Case("label over 63 (length octet 0x40)", head(qd=1) + b"\x40" + b"a" * 64 + ROOT + b"\0\1\0\1",
         12, "reserved label type 01"),
    Case("reserved label type 10", head(qd=1) + b"\x80\x01" + b"\0\1\0\1", 12,
         "reserved label type 10"),
    Case("reserved label type 01 inside rdata", answer(rr(ROOT, 2, b"\x41a")), 23,
         "reserved label type 01 in RDATA target"),
    Case("name over 255 octets", head(qd=1) + LONG_NAME + b"\0\1\0\1", 204,
         "name longer than 255 octets"),
    Case("name over 255 via pointer",
         head(qd=1, an=1) + NAME_193 + b"\0\1\0\1" + b"\x3e" + b"c" * 62 + b"\xc0\x0c"
         + struct.pack("!HHIH", 1, 1, 0, 4) + b"\1\2\3\4",
         140, "name longer than 255 octets"),
    # compression pointers
    Case("self pointer", head(qd=1) + b"\xc0\x0c\0\1\0\1", 12, "self compression pointer to 12"),
    Case("pointer loop back to own start", head(qd=1) + b"\x01a\xc0\x0c\0\1\0\1", 14,
         "forward or looping compression pointer to 12"),
    Case("pointer into its own name", head(qd=1) + b"\x02\x01a\xc0\x0d\0\1\0\1", 15,
         "forward or looping compression pointer to 13"),
    # record 1 keeps a looping name inside opaque rdata (23..26); record 2's owner (27)
    # enters it through a valid backward pointer, then meets the loop at 25.
    Case("two-hop pointer loop",
         head(an=2) + rr(ROOT, 0xFF00, b"\x01a\xc0\x17") + rr(b"\xc0\x17", 1, b"\1\2\3\4"),
         25, "forward or looping compression pointer to 23"),
    # record 2's owner jumps to 23, reads a label, then points at 24: behind itself but not
    # below the previous target, which craft refuses so that no walk can revisit octets.
    Case("pointer not below the previous target",
         head(an=2) + rr(ROOT, 0xFF00, b"\x02\x00\x00\xc0\x18") + rr(b"\xc0\x17", 1, b"\1\2\3\4"),
         26, "forward or looping compression pointer to 24"),
    Case("forward pointer", head(qd=1) + b"\xc0\x12\0\1\0\1" + b"\x01a\x00", 12,
         "forward or looping compression pointer to 18"),
    Case("pointer into the header", head(qd=1) + b"\xc0\x02\0\1\0\1", 12,
         "compression pointer into the header (2)"),
    Case("pointer cut short", head(qd=1) + b"\xc0", 12, "compression pointer cut short"),
    Case("128 pointer jumps", pointer_chain(128), 17, "too many compression pointers"),
    # records
    Case("ancount larger than data", head(qd=1, an=2) + QUESTION + rr(b"\xc0\x0c", 1, b"\1\2\3\4"),
         44, "header counts 2 answer records but data ends after 1"),
    Case("arcount without records", head(ar=1), 12,
         "header counts 1 additional records but data ends after 0"),
    Case("record TYPE cut", head(an=1) + ROOT + b"\x00", 13, "truncated TYPE"),
    Case("record TTL cut", head(an=1) + ROOT + b"\0\1\0\1\0\0", 17, "truncated TTL"),
    Case("record RDLENGTH cut", head(an=1) + ROOT + b"\0\1\0\1\0\0\0\0\0", 21,
         "truncated RDLENGTH"),
    Case("rdata past the end", answer(rr(ROOT, 1, b"\1\2", rdlength=4)), 23,
         "rdata of 4 octets runs past the end of the message"),
    Case("trailing garbage", head(qd=1) + QUESTION + b"\xde\xad", 28,
         "2 octets of trailing data"),
    # rdata lengths
    Case("A rdlength 3", answer(rr(ROOT, 1, b"\1\2\3")), 23, "rdata too short for RDATA address"),
    Case("A rdlength 5", answer(rr(ROOT, 1, b"\1\2\3\4\5")), 23,
         "A rdata uses 4 octets, rdlength says 5"),
    Case("AAAA rdlength 15", answer(rr(ROOT, 28, bytes(15))), 23,
         "rdata too short for RDATA address"),
    Case("AAAA rdlength 17", answer(rr(ROOT, 28, bytes(17))), 23,
         "AAAA rdata uses 16 octets, rdlength says 17"),
    Case("MX rdlength 1", answer(rr(ROOT, 15, b"\x00")), 23, "rdata too short for RDATA preference"),
    Case("MX exchange past rdata", answer(rr(ROOT, 15, b"\0\x0a\x01a\x00", rdlength=3)), 26,
         "RDATA exchange runs past rdata"),
    Case("MX rdlength too long", answer(rr(ROOT, 15, b"\0\x0a\x00\xff")), 23,
         "MX rdata uses 3 octets, rdlength says 4"),
    Case("SOA rdlength too short", answer(rr(ROOT, 6, soa_rdata()[:-1])), 41,
         "rdata too short for RDATA minimum"),
    Case("SOA rdlength too long", answer(rr(ROOT, 6, soa_rdata() + b"\x00")), 23,
         "SOA rdata uses 22 octets, rdlength says 23"),
    Case("SRV rdlength 5", answer(rr(ROOT, 33, b"\0\1\0\2\0")), 27, "rdata too short for RDATA port"),
    Case("NS name past rdata", answer(rr(ROOT, 2, b"\x03abc\x00", rdlength=2)), 25,
         "RDATA target runs past rdata"),
    Case("CNAME rdlength too long", answer(rr(ROOT, 5, b"\x00\x01\x02")), 23,
         "CNAME rdata uses 1 octets, rdlength says 3"),
    Case("TXT string past rdata", answer(rr(ROOT, 16, b"\x05abc")), 23,
         "character string of 5 runs past rdata"),
    Case("TXT empty rdata", answer(rr(ROOT, 16, b"")), 23, "needs at least one string"),
    Case("OPT option data past rdata", head(ar=1) + opt_record(b"\x00\x0a\x00\x08\x01\x02"), 27,
         "EDNS option data of 8 runs past rdata"),
    Case("OPT option header cut", head(ar=1) + opt_record(b"\x00\x0a\x00"), 23,
         "EDNS option header runs past rdata"),
]


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_offset_and_reason(case: Case) -> None:
    with pytest.raises(WireError) as info:
        decode(case.data)
    assert (info.value.offset, case.reason in info.value.reason) == (case.offset, True), (
        info.value.offset, info.value.reason
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_verdict_carries_craft_reason_and_scapy_reading(case: Case) -> None:
    verdict = check(case.data)
    assert not verdict.agrees
    assert verdict.craft_error is not None
    assert verdict.craft_error.offset == case.offset
    assert verdict.differences == ()
    text = verdict.describe()
    assert f"craft rejects at offset {case.offset}: " in text
    assert case.reason in text
    assert f"Scapy reads: {verdict.scapy_summary}" in text
    assert verdict.scapy_summary


def test_boundaries_that_are_valid() -> None:
    """The limits themselves are allowed: a 255-octet name, a 63-octet label, 127 jumps."""
    name_255 = b"".join(b"\x3f" + b"a" * 63 for _ in range(3)) + b"\x3d" + b"a" * 61 + ROOT
    assert len(name_255) == 255
    msg = decode(head(qd=1) + name_255 + b"\0\1\0\1")
    assert msg.question[0].name.wire_length() == 255
    assert decode(pointer_chain(127)).question[-1].name.labels == ()
    assert check(head(qd=1) + name_255 + b"\0\1\0\1").agrees


# ---- fuzzing: only WireError may escape, and whatever decodes round-trips ----

SEEDS = [
    head(qd=1) + QUESTION,
    bytes.fromhex(
        "1a2b84000001000200000000" "06676f6f676c6503636f6d0000010001"
        "c00c000100010000010400" "04c0a50101" "c00c000100010000010400" "04c0a5010a"
    ),
    head(qd=1, an=1, ns=1, ar=2, flags=0x8400) + QUESTION
    + rr(b"\xc0\x0c", 15, b"\x00\x0a\x04mail\xc0\x0c")
    + rr(b"\xc0\x0c", 6, b"\x03ns1\xc0\x0c\x0ahostmaster\xc0\x0c" + struct.pack("!5I", 1, 2, 3, 4, 5))
    + rr(b"\x04mail\xc0\x0c", 16, b"\x05hello\x00\x03abc")
    + opt_record(b"\x00\x0a\x00\x08" + b"12345678"),
    head(an=3) + rr(ROOT, 28, bytes(range(16))) + rr(ROOT, 33, b"\0\1\0\2\0\3\x01a\x00")
    + rr(ROOT, 0xFF00, b"\xc0\x0c\x00", rclass=3),
    pointer_chain(8),
]


def _mutations(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        action = rng.randrange(7)
        pos = rng.randrange(len(out) + 1)
        if action == 0 and out:  # flip one octet
            out[pos % len(out)] = rng.randrange(256)
        elif action == 1:  # truncate
            del out[pos:]
        elif action == 2:  # insert noise
            out[pos:pos] = rng.randbytes(rng.randint(1, 4))
        elif action == 3 and out:  # plant a compression pointer
            target = rng.randrange(max(len(out), 1) + 4)
            out[pos % len(out) : pos % len(out) + 2] = struct.pack("!H", 0xC000 | target)
        elif action == 4 and len(out) >= 12:  # lie in a count
            index = 4 + 2 * rng.randrange(4)
            out[index : index + 2] = struct.pack("!H", rng.choice((0, 1, 2, 3, 0xFFFF)))
        elif action == 5 and len(out) > 2:  # drop a slice
            del out[pos % len(out) : pos % len(out) + rng.randint(1, 8)]
        elif action == 6:  # reserved label type octet
            out[pos:pos] = bytes([rng.choice((0x40, 0x7F, 0x80, 0xBF))])
    return bytes(out)


def _decodes_or_wire_error(data: bytes) -> bool:
    try:
        message = decode(data)
    except WireError:
        return False
    # Whatever decodes re-encodes to bytes that decode equal (names up to case, see
    # test_codec_props: compression matches suffixes case-insensitively).
    assert decode(encode(message, compress=False)) == message
    again = decode(encode(message))
    assert fold_case(again) == fold_case(message)
    return True


def test_fuzz_mutated_messages() -> None:
    rng = random.Random(20260601)
    decoded = 0
    for seed in SEEDS:
        assert decode(seed) is not None  # every seed is itself valid
        for _ in range(2000):
            if _decodes_or_wire_error(_mutations(rng, seed)):
                decoded += 1
    assert decoded > 500  # the mutations also reach valid variants, not just errors


def test_fuzz_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(20000):
        data = rng.randbytes(rng.randint(0, 80))
        if rng.random() < 0.5 and len(data) >= 12:  # small counts get past the header
            data = head(*(rng.randint(0, 2) for _ in range(4))) + data[12:]
        _decodes_or_wire_error(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_fuzz_hypothesis_bytes(data: bytes) -> None:
    _decodes_or_wire_error(data)


def test_oracle_never_raises_on_fuzz() -> None:
    rng = random.Random(99)
    for index in range(1500):
        data = _mutations(rng, SEEDS[index % len(SEEDS)])
        verdict = check(data)
        text = verdict.describe()
        assert text
        if verdict.craft_error is None and verdict.agrees:
            assert text.startswith("Scapy agrees")
