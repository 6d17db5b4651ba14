"""EDNS options in memory: octets in, typed option out, its text and JSON, and back.

Table-driven over every option craft types (craft/dns/edns.py), the malformed forms each must
refuse with the offset of the fault, the command line's forms, RFC 8467 padding, the hex
view's field labels, Scapy (field by field where it has a class for the option) and
dnspython as a second codec (same octets for the same values, in
both directions, also for hypothesis-drawn options).
"""

from __future__ import annotations

import struct

import dns.edns
import dns.message
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import edns_option_values

from craft.dns import edns as eo
from craft.dns.codec import decode, encode
from craft.dns.message import Edns, Header, Message, Question, message_dict
from craft.dns.names import Name
from craft.dns.wire import Reader, Span, WireError, Writer
from craft.dns_client import edns_query, with_padding
from craft.oracle import check, compare, scapy_dns


def tlv(code: int, data: bytes) -> bytes:
    return struct.pack("!HH", code, len(data)) + data


def read(octets: bytes, spans: list[Span] | None = None) -> tuple[eo.EdnsOption, ...]:
    r = Reader(octets, spans)
    options = eo.decode_options(r, len(octets))
    assert r.pos == len(octets)
    return options


def write(options: tuple[eo.EdnsOption, ...]) -> bytes:
    w = Writer()
    eo.encode_options(w, options)
    return w.getvalue()


EXAMPLE = Name.from_text("example.com.")

# (label, code, option data, typed option, dig's line, fields in --json)
CASES: list[tuple[str, int, bytes, eo.EdnsOption, str, dict[str, object]]] = [
    ("NSID query", 3, b"", eo.NSID(), "; NSID:", {"nsid": ""}),
    ("NSID reply", 3, b"ns1", eo.NSID(b"ns1"), '; NSID: 6e 73 31 ("ns1")',
     {"nsid": "6e7331", "text": "ns1"}),
    ("NSID binary", 3, b"a\x00\xe9", eo.NSID(b"a\x00\xe9"), '; NSID: 61 00 e9 ("a..")', {}),
    ("DAU", 5, bytes([8, 13, 15]), eo.DAU((8, 13, 15)), '; OPT=5: 08 0d 0f ("...")',
     {"algorithms": [8, 13, 15]}),
    ("DHU", 6, bytes([1, 2]), eo.DHU((1, 2)), '; OPT=6: 01 02 ("..")', {"algorithms": [1, 2]}),
    ("N3U", 7, b"\x01", eo.N3U((1,)), '; OPT=7: 01 (".")', {"algorithms": [1]}),
    ("ECS IPv4 /24", 8, bytes.fromhex("00011800c00002"), eo.ClientSubnet(1, 24, 0, "192.0.2.0"),
     "; CLIENT-SUBNET: 192.0.2.0/24/0",
     {"family": 1, "source": 24, "scope": 0, "address": "192.0.2.0"}),
    ("ECS IPv4 /20", 8, bytes.fromhex("0001140010fa30"), eo.ClientSubnet(1, 20, 0, "16.250.48.0"),
     "; CLIENT-SUBNET: 16.250.48.0/20/0", {}),
    ("ECS IPv6 /56 scope 48", 8, bytes.fromhex("0002383020010db8000000"),
     eo.ClientSubnet(2, 56, 48, "2001:db8::"), "; CLIENT-SUBNET: 2001:db8::/56/48", {}),
    ("ECS /0", 8, bytes.fromhex("00010000"), eo.ClientSubnet(1, 0, 0, "0.0.0.0"),
     "; CLIENT-SUBNET: 0.0.0.0/0/0", {}),
    ("ECS family 0", 8, bytes.fromhex("00000000"), eo.ClientSubnet(0, 0, 0, "0"),
     "; CLIENT-SUBNET: 0/0/0", {"family": 0}),
    ("EXPIRE query", 9, b"", eo.Expire(), "; EXPIRE:", {"expire": None}),
    ("EXPIRE reply", 9, struct.pack("!I", 1209600), eo.Expire(1209600),
     "; EXPIRE: 1209600 (2 weeks)", {"expire": 1209600}),
    ("EXPIRE mixed", 9, struct.pack("!I", 86401), eo.Expire(86401),
     "; EXPIRE: 86401 (1 day 1 second)", {}),
    ("COOKIE client", 10, bytes(range(8)), eo.Cookie(bytes(range(8))),
     "; COOKIE: 0001020304050607", {"client": "0001020304050607", "server": ""}),
    ("COOKIE both", 10, bytes(range(24)), eo.Cookie(bytes(range(8)), bytes(range(8, 24))),
     "; COOKIE: " + bytes(range(24)).hex(), {"server": bytes(range(8, 24)).hex()}),
    ("COOKIE longest", 10, bytes(40), eo.Cookie(bytes(8), bytes(32)), "; COOKIE: " + "00" * 40, {}),
    ("keepalive query", 11, b"", eo.TcpKeepalive(), "; TCP KEEPALIVE:", {"timeout": None}),
    ("keepalive 30 s", 11, b"\x01\x2c", eo.TcpKeepalive(300), "; TCP KEEPALIVE: 30.0 secs",
     {"timeout": 300}),
    ("keepalive 0.5 s", 11, b"\x00\x05", eo.TcpKeepalive(5), "; TCP KEEPALIVE: 0.5 secs", {}),
    ("PADDING", 12, bytes(5), eo.Padding(bytes(5)), "; PAD: (5 bytes)", {"padding": "00" * 5}),
    ("PADDING empty", 12, b"", eo.Padding(), "; PAD:", {}),
    ("CHAIN", 13, EXAMPLE.to_wire(), eo.Chain(EXAMPLE),
     '; OPT=13: 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 (".example.com.")',
     {"closest": "example.com."}),
    ("CHAIN root", 13, b"\x00", eo.Chain(Name.root()), '; OPT=13: 00 (".")', {"closest": "."}),
    ("KEY-TAG", 14, struct.pack("!HH", 12345, 20326), eo.KeyTag((12345, 20326)),
     "; KEY-TAG: 12345, 20326", {"tags": [12345, 20326]}),
    ("EDE with text", 15, b"\x00\x14not here", eo.ExtendedError(20, "not here"),
     "; EDE: 20 (Not Authoritative): (not here)",
     {"info_code": 20, "purpose": "Not Authoritative", "text": "not here"}),
    ("EDE no text", 15, b"\x00\x07", eo.ExtendedError(7), "; EDE: 7 (Signature Expired)", {}),
    ("EDE unnamed", 15, b"\x00\x63x", eo.ExtendedError(99, "x"), "; EDE: 99: (x)",
     {"purpose": ""}),
    ("EDE UTF-8 and control", 15, b"\x00\x12" + "é\n".encode(), eo.ExtendedError(18, "é\n"),
     "; EDE: 18 (Prohibited): (é.)", {}),
    ("EDE newest code", 15, b"\x00\x1e", eo.ExtendedError(30), "; EDE: 30 (Invalid Query Type)", {}),
    ("ZONEVERSION query", 19, b"", eo.ZoneVersion(), "; OPT=19:", {"labels": None}),
    ("ZONEVERSION serial", 19, b"\x02\x00" + struct.pack("!I", 2024010101),
     eo.ZoneVersion(2, 0, struct.pack("!I", 2024010101)), '; OPT=19: 02 00 78 a3 f1 75 ("..x..u")',
     {"labels": 2, "type": 0, "serial": 2024010101}),
    ("ZONEVERSION other type", 19, b"\x01\x07\xab", eo.ZoneVersion(1, 7, b"\xab"),
     '; OPT=19: 01 07 ab ("...")', {"version": "ab"}),
    ("unknown code", 65001, b"hi", eo.RawOption(65001, b"hi"), '; OPT=65001: 68 69 ("hi")',
     {"name": "OPT65001", "data": "6869"}),
    ("unknown empty", 20, b"", eo.RawOption(20, b""), "; OPT=20:", {}),
]


@pytest.mark.parametrize("label,code,data,option,line,fields", CASES, ids=[c[0] for c in CASES])
def test_option_both_ways(label: str, code: int, data: bytes, option: eo.EdnsOption, line: str,
                          fields: dict[str, object]) -> None:
    (decoded,) = read(tlv(code, data))
    assert decoded == option
    assert decoded.code == code and decoded.data == data
    assert write((option,)) == tlv(code, data)
    assert decoded.dig_line() == line
    as_json = decoded.to_dict()
    assert as_json["code"] == code and as_json["data"] == data.hex()
    for name, value in fields.items():
        assert as_json[name] == value, name
    assert eo.parse_edns_option(decoded.to_text()) == option


# (label, option TLV, offset of the fault within it, words of the reason)
MALFORMED: list[tuple[str, bytes, int, str]] = [
    ("header cut", b"\x00\x03\x00", 0, "header runs past"),
    ("data cut", b"\x00\x03\x00\x05ab", 4, "runs past rdata"),
    ("KEY-TAG odd length", tlv(14, b"\x01\x02\x03"), 4, "whole number"),
    ("KEY-TAG empty", tlv(14, b""), 4, "no key tag"),
    ("ECS too short", tlv(8, b"\x00\x01\x18"), 7, "too short"),
    ("ECS address longer than prefix", tlv(8, bytes.fromhex("0001100a000001")), 8, "needs 2"),
    ("ECS address shorter than prefix", tlv(8, bytes.fromhex("000118000a00")), 8, "needs 3"),
    ("ECS bits past the prefix", tlv(8, bytes.fromhex("000114000a0001")), 10, "bits past"),
    ("ECS source over 32", tlv(8, bytes.fromhex("000121000a000001")), 4, "over 32"),
    ("ECS scope over 32", tlv(8, bytes.fromhex("000118210a0000")), 4, "scope prefix 33"),
    ("ECS source over 128", tlv(8, bytes.fromhex("00028100") + bytes(17)), 4, "over 128"),
    ("ECS unknown family", tlv(8, bytes.fromhex("0003000000")), 4, "family 3"),
    ("ECS family 0 with a prefix", tlv(8, bytes.fromhex("00000800")), 4, "family 0"),
    ("EXPIRE of 1", tlv(9, b"\x01"), 4, "too short"),
    ("EXPIRE of 5", tlv(9, b"\x00\x00\x00\x01\x02"), 8, "left over"),
    ("COOKIE of 7", tlv(10, bytes(7)), 4, "7 octets"),
    ("COOKIE of 12", tlv(10, bytes(12)), 4, "12 octets"),
    ("COOKIE of 41", tlv(10, bytes(41)), 4, "41 octets"),
    ("keepalive of 1", tlv(11, b"\x01"), 4, "0 or 2"),
    ("keepalive of 3", tlv(11, b"\x01\x02\x03"), 4, "0 or 2"),
    ("CHAIN compressed", tlv(13, b"\xc0\x0c"), 4, "must not be compressed"),
    ("CHAIN past the option", tlv(13, b"\x03abc") + b"\x00", 4, "runs past"),
    ("EDE of 1", tlv(15, b"\x00"), 4, "too short"),
    ("EDE text not UTF-8", tlv(15, b"\x00\x00ok\xff"), 8, "not UTF-8"),
    ("ZONEVERSION labels only", tlv(19, b"\x01"), 4, "without a version type"),
    ("ZONEVERSION serial of 3", tlv(19, b"\x01\x00abc"), 4, "SOA-SERIAL version of 3"),
]


def _message_with(rdata: bytes) -> tuple[bytes, int]:
    """A query whose OPT rdata is ``rdata``, and the offset where that rdata starts."""
    head = encode(Message(Header(id=7), (Question(EXAMPLE),)))
    head = head[:10] + b"\x00\x01" + head[12:]
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(rdata))
    return head + opt + rdata, len(head) + len(opt)


@pytest.mark.parametrize("label,octets,offset,reason", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_option_is_wire_error(label: str, octets: bytes, offset: int, reason: str) -> None:
    wire, start = _message_with(octets)  # (the CHAIN pointer lands on the question name)
    with pytest.raises(WireError) as caught:
        decode(wire)
    assert reason in caught.value.reason
    assert caught.value.offset == start + offset, caught.value.reason


def test_several_options_keep_their_order_and_spans() -> None:
    octets = tlv(3, b"") + tlv(10, bytes(8)) + tlv(8, bytes.fromhex("00011800c00002"))
    spans: list[Span] = []
    options = read(octets, spans)
    assert [o.code for o in options] == [3, 10, 8]
    labels = [(s.field, s.value) for s in spans]
    assert labels == [
        ("OPTION-CODE", "3 (NSID)"), ("OPTION-LENGTH", "0"),
        ("OPTION-CODE", "10 (COOKIE)"), ("OPTION-LENGTH", "8"), ("COOKIE client", "00 " * 7 + "00"),
        ("OPTION-CODE", "8 (ECS)"), ("OPTION-LENGTH", "7"), ("ECS family", "1 (IPv4)"),
        ("ECS source", "24"), ("ECS scope", "0"), ("ECS address", "192.0.2.0/24"),
    ]
    # every octet of the options is covered once, in order
    assert [(s.start, s.end) for s in spans] == [
        (0, 2), (2, 4), (4, 6), (6, 8), (8, 16), (16, 18), (18, 20), (20, 22), (22, 23),
        (23, 24), (24, 27)]


@pytest.mark.parametrize("code", sorted(eo.OPTION_TYPES))
def test_every_typed_field_gets_a_span(code: int) -> None:
    """The hex view labels each field of each option craft types, by the option's name."""
    option = next(c[3] for c in CASES if c[1] == code and c[2])
    spans: list[Span] = []
    read(tlv(code, option.data), spans)
    fields = [s.field for s in spans[2:]]
    mnemonic = eo.OPTION_TYPES[code].MNEMONIC
    assert fields and all(f.startswith(mnemonic + " ") for f in fields)
    assert spans[-1].end == 4 + len(option.data)


# (command-line form, option)
FORMS: list[tuple[str, eo.EdnsOption]] = [
    ("nsid", eo.NSID()),
    ("NSID:6e73", eo.NSID(b"ns")),
    ("cookie:0001020304050607", eo.Cookie(bytes(range(8)))),
    ("subnet:192.0.2.77/24", eo.ClientSubnet(1, 24, 0, "192.0.2.0")),
    ("ecs:2001:db8::1/56", eo.ClientSubnet(2, 56, 0, "2001:db8::")),
    ("subnet:0", eo.ClientSubnet(0, 0, 0, "0")),
    ("subnet:198.51.100.1", eo.ClientSubnet(1, 32, 0, "198.51.100.1")),
    ("expire", eo.Expire()),
    ("keepalive:300", eo.TcpKeepalive(300)),
    ("padding:3", eo.Padding(bytes(3))),
    ("chain:example.com", eo.Chain(EXAMPLE)),
    ("key-tag:1,2", eo.KeyTag((1, 2))),
    ("ede:20:not here", eo.ExtendedError(20, "not here")),
    ("ede:18", eo.ExtendedError(18)),
    ("dau:8,13", eo.DAU((8, 13))),
    ("zoneversion", eo.ZoneVersion()),
    ("10:0011223344556677", eo.Cookie(bytes.fromhex("0011223344556677"))),
    ("10:0011", eo.RawOption(10, b"\x00\x11")),  # malformed on purpose: kept raw, sendable
    ("65001:", eo.RawOption(65001, b"")),
]


@pytest.mark.parametrize("text,option", FORMS, ids=[f[0] for f in FORMS])
def test_command_line_forms(text: str, option: eo.EdnsOption) -> None:
    assert eo.parse_edns_option(text) == option


@pytest.mark.parametrize("text", ["", "10", "70000:00", "10:zz", "frob", "subnet:300.1.2.3/8",
                                  "cookie:0011", "cookie:" + "00" * 41, "ede:x", "dau:256"])
def test_command_line_forms_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad EDNS option"):
        eo.parse_edns_option(text)


def test_fresh_cookies_differ() -> None:
    first, second = eo.parse_cookie(""), eo.parse_cookie(None)
    assert len(first.client) == 8 and first.server == b"" and first != second


@pytest.mark.parametrize("block", [0, 1, 16, 64, 128, 468])
def test_padding_reaches_the_block(block: int) -> None:
    request = eo.EdnsRequest.from_switches(nsid=True, cookie="", subnet="192.0.2.0/24",
                                           padding=block)
    query = edns_query(EXAMPLE, 1, request)
    size = len(encode(query))
    if block:
        assert size % block == 0 and size - block < len(encode(with_padding(query, 0)))
        assert isinstance(query.edns.options[-1], eo.Padding)  # type: ignore[union-attr]
    else:
        assert not any(isinstance(o, eo.Padding) for o in query.edns.options)  # type: ignore[union-attr]


def test_request_switches() -> None:
    plain = edns_query(EXAMPLE, 1, eo.EdnsRequest())
    assert plain.edns is None
    asked = edns_query(EXAMPLE, 1, eo.EdnsRequest.from_switches(nsid=True, dnssec=True))
    assert asked.edns == Edns(do=True, options=(eo.NSID(),))
    assert edns_query(EXAMPLE, 1, eo.EdnsRequest(), edns=True).edns == Edns()


def test_pseudosection_text_and_json() -> None:
    sent = (eo.Cookie(bytes(8)),)
    reply = Edns(do=True, flags=0x10, options=(eo.NSID(b"x"), eo.Cookie(bytes(8), bytes(16)),
                                               eo.ExtendedError(20)))
    assert reply.to_text(sent).splitlines() == [
        "; EDNS: version: 0, flags: do; MBZ: 0x0010; udp: 1232",
        '; NSID: 78 ("x")',
        "; COOKIE: " + "00" * 24 + " (good)",
        "; EDE: 20 (Not Authoritative)",
    ]
    other = (eo.Cookie(b"\x01" * 8),)
    assert reply.to_text(other).splitlines()[2].endswith(" (bad)")
    message = Message(Header(id=1, qr=True)).with_edns(reply)
    (opt,) = message_dict(message)["additional"]  # type: ignore[misc]
    assert [o["name"] for o in opt["options"]] == ["NSID", "COOKIE", "EDE"]


# ---- dnspython as a second codec ----

# (craft option, the same values as dnspython builds them)
DNSPYTHON: list[tuple[eo.EdnsOption, dns.edns.Option]] = [
    (eo.NSID(b"ns1"), dns.edns.NSIDOption(b"ns1")),
    (eo.NSID(), dns.edns.NSIDOption(b"")),
    (eo.ClientSubnet(1, 24, 0, "192.0.2.0"), dns.edns.ECSOption("192.0.2.0", 24)),
    (eo.ClientSubnet(1, 21, 16, "10.1.8.0"), dns.edns.ECSOption("10.1.8.0", 21, 16)),
    (eo.ClientSubnet(2, 56, 0, "2001:db8::"), dns.edns.ECSOption("2001:db8::", 56)),
    (eo.ClientSubnet(2, 0, 0, "::"), dns.edns.ECSOption("::", 0)),
    (eo.Cookie(bytes(range(8))), dns.edns.CookieOption(bytes(range(8)), b"")),
    (eo.Cookie(bytes(8), bytes(range(16))), dns.edns.CookieOption(bytes(8), bytes(range(16)))),
    (eo.ExtendedError(20, "not here"), dns.edns.EDEOption(20, "not here")),
    (eo.ExtendedError(18), dns.edns.EDEOption(18)),
    (eo.ExtendedError(0, "é"), dns.edns.EDEOption(0, "é")),
    (eo.DAU((8, 13)), dns.edns.GenericOption(5, bytes([8, 13]))),
    (eo.Expire(3600), dns.edns.GenericOption(9, struct.pack("!I", 3600))),
    (eo.TcpKeepalive(300), dns.edns.GenericOption(11, b"\x01\x2c")),
    (eo.Padding(bytes(4)), dns.edns.GenericOption(12, bytes(4))),
    (eo.Chain(EXAMPLE), dns.edns.GenericOption(13, EXAMPLE.to_wire())),
    (eo.KeyTag((20326,)), dns.edns.GenericOption(14, struct.pack("!H", 20326))),
    (eo.ZoneVersion(2, 0, bytes(4)), dns.edns.GenericOption(19, b"\x02\x00" + bytes(4))),
]


@pytest.mark.parametrize("ours,theirs", DNSPYTHON, ids=[type(o).__name__ for o, _ in DNSPYTHON])
def test_same_octets_as_dnspython(ours: eo.EdnsOption, theirs: dns.edns.Option) -> None:
    assert ours.data == theirs.to_wire()
    assert ours.code == int(theirs.otype)
    # dnspython reads craft's octets back to the same values, and craft reads dnspython's
    again = dns.edns.option_from_wire(ours.code, ours.data, 0, len(ours.data))
    assert again == theirs
    (back,) = read(tlv(int(theirs.otype), theirs.to_wire()))
    assert back == ours


def _dnspython_options(options: tuple[eo.EdnsOption, ...]) -> list[dns.edns.Option]:
    wire = encode(Message(Header(id=9), (Question(EXAMPLE),)).with_edns(Edns(options=options)))
    return list(dns.message.from_wire(wire).options)


@settings(max_examples=150, deadline=None)
@given(st.lists(edns_option_values(), max_size=4).map(tuple))
def test_dnspython_reads_what_craft_writes(options: tuple[eo.EdnsOption, ...]) -> None:
    theirs = _dnspython_options(options)
    assert [(int(o.otype), o.to_wire()) for o in theirs] == [(o.code, o.data) for o in options]
    # and dnspython's whole message comes back to craft unchanged
    message = dns.message.make_query("example.com.", "A", use_edns=0, options=theirs, payload=1232)
    message.id = 9
    back = decode(message.to_wire()).edns
    assert back is not None and back.options == options


@settings(max_examples=150, deadline=None)
@given(st.builds(dns.edns.ECSOption,
                 st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str)),
                 st.none(), st.integers(0, 32)))
def test_craft_reads_dnspython_ecs(theirs: dns.edns.ECSOption) -> None:
    (ours,) = read(tlv(8, theirs.to_wire()))
    assert isinstance(ours, eo.ClientSubnet)
    assert (ours.family, ours.source, ours.scope) == (theirs.family, theirs.srclen, theirs.scopelen)
    assert ours.data == theirs.to_wire()


# ---- Scapy, the first oracle: options it models are compared field by field ----


def _query_with(option: eo.EdnsOption) -> Message:
    return Message(Header(id=3), (Question(EXAMPLE),)).with_edns(Edns(options=(option,)))


@pytest.mark.parametrize("label,code,data,option,line,fields",
                         [c for c in CASES if c[0] != "ECS family 0"],  # a Scapy gap
                         ids=[c[0] for c in CASES if c[0] != "ECS family 0"])
def test_scapy_agrees(label: str, code: int, data: bytes, option: eo.EdnsOption, line: str,
                      fields: dict[str, object]) -> None:
    verdict = check(encode(_query_with(option)))
    assert verdict.agrees, verdict.describe()


# (option, Scapy field to change, value, the field the oracle must name)
SCAPY_FIELDS: list[tuple[eo.EdnsOption, str, object, str]] = [
    (eo.DAU((8, 13)), "alg_code", [8, 14], "algorithms"),
    (eo.N3U((1,)), "alg_code", [2], "algorithms"),
    (eo.ClientSubnet(1, 24, 0, "192.0.2.0"), "scope_plen", 16, "scope"),
    (eo.ClientSubnet(1, 24, 0, "192.0.2.0"), "address", "192.0.3.0", "address"),
    (eo.ClientSubnet(2, 56, 0, "2001:db8::"), "family", 1, "family"),
    (eo.Cookie(bytes(8), bytes(8)), "server_cookie", b"\x01" * 8, "server"),
    (eo.Padding(bytes(3)), "padding", b"\x00\x00\x01", "padding"),
    (eo.ExtendedError(20, "x"), "info_code", 18, "info_code"),
    (eo.ExtendedError(20, "x"), "extra_text", b"y", "text"),
]


@pytest.mark.parametrize("option,theirs,value,field", SCAPY_FIELDS,
                         ids=[f"{type(c[0]).__name__}.{c[3]}" for c in SCAPY_FIELDS])
def test_scapy_differences_name_the_field(option: eo.EdnsOption, theirs: str, value: object,
                                          field: str) -> None:
    message = _query_with(option)
    packet = scapy_dns(encode(message))
    setattr(packet.ar[0].rdata[0], theirs, value)
    packet.ar[0].rdata[0].clear_cache()
    named = [d.field for d in compare(message, packet)]
    assert f"additional[0].edns.option[0].{field}" in named, named


def test_option_over_65535_octets_is_refused_when_encoding() -> None:
    message = Message(Header(id=1)).with_edns(Edns(options=(eo.Padding(bytes(70000)),)))
    with pytest.raises(WireError, match="EDNS option 12 of 70000 octets"):
        encode(message)
