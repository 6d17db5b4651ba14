"""craft against Scapy, both ways, for every record type craft models and for whole messages:
bytes craft writes are dissected by Scapy and compared field by field; packets Scapy builds
are decoded by craft and compared with the values they were built from."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from scapy.layers.dns import (
    DNS,
    DNSQR,
    DNSRR,
    DNSRRMX,
    DNSRROPT,
    DNSRRSOA,
    DNSRRSRV,
    EDNS0COOKIE,
    EDNS0TLV,
)
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from test_codec_golden import HOWCODE, LAB_QUERY_CA, LAB_QUERY_COM, LAB_RESPONSE_COM

from craft.dns.codec import decode, encode
from craft.dns.constants import RRType
from craft.dns.edns import NSID, Cookie, Padding, RawOption
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import AAAA, CNAME, MX, NS, OPT, PTR, SOA, SRV, TXT, A, Opaque
from craft.dns.rdtypes.basic import CAA
from craft.dns.wire import WireError
from craft.oracle import Difference, Verdict, check, compare, scapy_dns, to_scapy

OWNER = Name.from_text("www.example.com.")
ZONE = Name.from_text("example.com.")


def n(text: str) -> Name:
    return Name.from_text(text)


@dataclass(frozen=True)
class TypeCase:
    id: str
    record: Record
    scapy: Callable[[], Any]  # builds the same record with Scapy's own classes
    check_scapy: Callable[[Any], bool]  # what Scapy must read from craft's bytes


TYPE_CASES = [
    TypeCase(
        "A", Record.make(OWNER, 300, A("192.0.2.1")),
        lambda: DNSRR(rrname="www.example.com", type="A", ttl=300, rdata="192.0.2.1"),
        lambda rr: rr.rdata == "192.0.2.1",
    ),
    TypeCase(
        "AAAA", Record.make(OWNER, 300, AAAA("2001:db8::53")),
        lambda: DNSRR(rrname="www.example.com", type="AAAA", ttl=300, rdata="2001:db8::53"),
        lambda rr: rr.rdata == "2001:db8::53",
    ),
    TypeCase(
        "NS", Record.make(ZONE, 3600, NS(n("ns1.example.com."))),
        lambda: DNSRR(rrname="example.com", type="NS", ttl=3600, rdata="ns1.example.com"),
        lambda rr: rr.rdata == b"ns1.example.com.",
    ),
    TypeCase(
        "CNAME", Record.make(OWNER, 60, CNAME(n("Web.Example.NET."))),
        lambda: DNSRR(rrname="www.example.com", type="CNAME", ttl=60, rdata="Web.Example.NET"),
        lambda rr: rr.rdata == b"Web.Example.NET.",
    ),
    TypeCase(
        "PTR", Record.make(n("1.2.0.192.in-addr.arpa."), 60, PTR(OWNER)),
        lambda: DNSRR(rrname="1.2.0.192.in-addr.arpa", type="PTR", ttl=60,
                      rdata="www.example.com"),
        lambda rr: rr.rdata == b"www.example.com.",
    ),
    TypeCase(
        "MX", Record.make(ZONE, 300, MX(10, n("mail.example.com."))),
        lambda: DNSRRMX(rrname="example.com", ttl=300, preference=10,
                        exchange="mail.example.com"),
        lambda rr: (rr.preference, rr.exchange) == (10, b"mail.example.com."),
    ),
    TypeCase(
        "TXT", Record.make(ZONE, 300, TXT((b"v=spf1 -all", b"", b"\x00\xff\"quoted\""))),
        lambda: DNSRR(rrname="example.com", type="TXT", ttl=300,
                      rdata=[b"v=spf1 -all", b"", b"\x00\xff\"quoted\""]),
        lambda rr: rr.rdata == [b"v=spf1 -all", b"", b"\x00\xff\"quoted\""],
    ),
    TypeCase(
        "TXT 255", Record.make(ZONE, 300, TXT((b"x" * 255, b"y"))),
        lambda: DNSRR(rrname="example.com", type="TXT", ttl=300, rdata=[b"x" * 255, b"y"]),
        lambda rr: rr.rdata == [b"x" * 255, b"y"],
    ),
    TypeCase(
        "SOA",
        Record.make(ZONE, 3600, SOA(n("ns1.example.com."), n("hostmaster.example.com."),
                                    2024010101, 3600, 600, 86400, 300)),
        lambda: DNSRRSOA(rrname="example.com", ttl=3600, mname="ns1.example.com",
                         rname="hostmaster.example.com", serial=2024010101, refresh=3600,
                         retry=600, expire=86400, minimum=300),
        lambda rr: (rr.mname, rr.rname, rr.serial, rr.minimum)
        == (b"ns1.example.com.", b"hostmaster.example.com.", 2024010101, 300),
    ),
    TypeCase(
        "SOA serial top bit",
        Record.make(ZONE, 3600, SOA(Name.root(), Name.root(), 0xFFFFFFFF, 0, 0, 0, 0x80000000)),
        lambda: DNSRRSOA(rrname="example.com", ttl=3600, mname=".", rname=".",
                         serial=0xFFFFFFFF, refresh=0, retry=0, expire=0, minimum=0x80000000),
        lambda rr: (rr.serial, rr.minimum) == (0xFFFFFFFF, 0x80000000),
    ),
    TypeCase(
        "SRV", Record.make(n("_sip._udp.example.com."), 60, SRV(10, 5, 5060, n("sip.example.com."))),
        lambda: DNSRRSRV(rrname="_sip._udp.example.com", ttl=60, priority=10, weight=5,
                         port=5060, target="sip.example.com"),
        lambda rr: (rr.priority, rr.weight, rr.port, rr.target)
        == (10, 5, 5060, b"sip.example.com."),
    ),
    TypeCase(
        "unknown TYPE65280", Record(OWNER, 65280, 1, 60, Opaque(b"\x01\x02\x03")),
        lambda: DNSRR(rrname="www.example.com", type=65280, ttl=60, rdata=b"\x01\x02\x03"),
        lambda rr: rr.rdata == b"\x01\x02\x03",
    ),
    TypeCase(
        # craft decodes CAA; Scapy keeps it as octets, so the oracle compares octets
        "CAA, octets to Scapy", Record(ZONE, RRType.CAA, 1, 60, CAA(0, b"issue", b"ca.example")),
        lambda: DNSRR(rrname="example.com", type="CAA", ttl=60, rdata=b"\x00\x05issueca.example"),
        lambda rr: rr.rdata == b"\x00\x05issueca.example",
    ),
    TypeCase(
        "empty opaque", Record(OWNER, 4660, 1, 0, Opaque(b"")),
        lambda: DNSRR(rrname="www.example.com", type=4660, ttl=0, rdata=b""),
        lambda rr: rr.rdata == b"",
    ),
    TypeCase(
        "mDNS cache-flush class", Record(OWNER, RRType.A, 0x8001, 120, A("10.0.0.1")),
        lambda: DNSRR(rrname="www.example.com", type="A", cacheflush=1, rclass="IN", ttl=120,
                      rdata="10.0.0.1"),
        lambda rr: (rr.cacheflush, rr.rclass) == (1, 1),
    ),
    TypeCase(
        "class CH", Record(n("version.bind."), RRType.TXT, 3, 0, TXT((b"craft",))),
        lambda: DNSRR(rrname="version.bind", type="TXT", rclass="CH", ttl=0, rdata=[b"craft"]),
        lambda rr: (rr.rclass, rr.rdata) == (3, [b"craft"]),
    ),
]


def _one_record_message(record: Record) -> Message:
    return Message(
        Header(id=0x4242, qr=True, aa=True),
        (Question(record.name, record.rtype, record.rclass),),
        (record,),
    )


def _scapy_message(case: TypeCase) -> Any:
    rec = case.record
    return DNS(
        id=0x4242, qr=1, aa=1, rd=0,
        qd=[DNSQR(qname=rec.name.to_text(), qtype=rec.rtype, unicastresponse=rec.rclass >> 15,
                  qclass=rec.rclass & 0x7FFF)],
        an=[case.scapy()],
    )


@pytest.mark.parametrize("case", TYPE_CASES, ids=[c.id for c in TYPE_CASES])
def test_craft_encodes_scapy_dissects(case: TypeCase) -> None:
    message = _one_record_message(case.record)
    for wire in (encode(message), encode(message, compress=False)):
        packet = scapy_dns(wire)
        rr = packet.an[0]
        assert case.check_scapy(rr), rr.show(dump=True)
        assert int(rr.type) == case.record.rtype
        assert int(rr.ttl) == case.record.ttl
        assert compare(message, packet) == ()
        verdict = check(wire)
        assert verdict.agrees, verdict.describe()
        # header (11) + counts (4) + question (3) + name, type, class, ttl + rdata field(s)
        assert verdict.fields_checked >= 11 + 4 + 3 + 5


@pytest.mark.parametrize("case", TYPE_CASES, ids=[c.id for c in TYPE_CASES])
def test_scapy_builds_craft_decodes(case: TypeCase) -> None:
    message = _one_record_message(case.record)
    wire = bytes(_scapy_message(case))
    assert decode(wire) == message
    assert wire == encode(message, compress=False)
    assert check(wire).agrees


def _four_sections() -> tuple[Message, Any]:
    """A referral-like response using every section, as craft values and as Scapy built it."""
    q = n("host.example.com.")
    message = Message(
        Header(id=0xBEEF, qr=True, opcode=0, aa=True, rd=True, ra=True, ad=True, rcode=0),
        (Question(q, RRType.A),),
        (Record.make(q, 300, CNAME(OWNER)), Record.make(OWNER, 300, A("192.0.2.80"))),
        (
            Record.make(ZONE, 3600, NS(n("ns1.example.com."))),
            Record.make(ZONE, 3600, SOA(n("ns1.example.com."), n("hostmaster.example.com."),
                                        7, 3600, 600, 86400, 300)),
        ),
        (
            Record.make(n("ns1.example.com."), 3600, A("192.0.2.53")),
            Record.make(n("ns1.example.com."), 3600, AAAA("2001:db8::53")),
            Edns(payload=1232, ext_rcode=0, version=0, do=True,
                 options=(Cookie(b"clientck"), RawOption(65001, b""))).to_record(),
        ),
    )
    scapy = DNS(
        id=0xBEEF, qr=1, opcode=0, aa=1, rd=1, ra=1, ad=1, rcode=0,
        qd=[DNSQR(qname="host.example.com", qtype="A")],
        an=[
            DNSRR(rrname="host.example.com", type="CNAME", ttl=300, rdata="www.example.com"),
            DNSRR(rrname="www.example.com", type="A", ttl=300, rdata="192.0.2.80"),
        ],
        ns=[
            DNSRR(rrname="example.com", type="NS", ttl=3600, rdata="ns1.example.com"),
            DNSRRSOA(rrname="example.com", ttl=3600, mname="ns1.example.com",
                     rname="hostmaster.example.com", serial=7, refresh=3600, retry=600,
                     expire=86400, minimum=300),
        ],
        ar=[
            DNSRR(rrname="ns1.example.com", type="A", ttl=3600, rdata="192.0.2.53"),
            DNSRR(rrname="ns1.example.com", type="AAAA", ttl=3600, rdata="2001:db8::53"),
            DNSRROPT(rclass=1232, extrcode=0, version=0, z=0x8000,
                     rdata=[EDNS0TLV(optcode=10, optdata=b"clientck"),
                            EDNS0TLV(optcode=65001, optdata=b"")]),
        ],
    )
    return message, scapy


def test_all_four_sections_both_ways() -> None:
    message, scapy = _four_sections()
    built = bytes(scapy)
    assert decode(built) == message
    assert built == encode(message, compress=False)
    assert compare(message, scapy) == ()
    for wire in (encode(message), built, bytes(scapy.compress())):
        verdict = check(wire)
        assert verdict.agrees, verdict.describe()
    packet = scapy_dns(encode(message))
    assert [len(packet.qd), len(packet.an), len(packet.ns), len(packet.ar)] == [1, 2, 2, 3]
    opt = packet.ar[2]
    assert (opt.rclass, opt.extrcode, opt.version, opt.z) == (1232, 0, 0, 0x8000)
    assert [(o.optcode, bytes(o)[4:]) for o in opt.rdata] == [(10, b"clientck"), (65001, b"")]


def test_edns_fields_both_ways() -> None:
    edns = Edns(payload=4096, ext_rcode=1, version=1, do=False, flags=0x1234,
                options=(NSID(), Padding(b"\x00" * 5)))
    message = Message(Header(id=1, qr=True), additional=(edns.to_record(),))
    wire = encode(message)
    opt = scapy_dns(wire).ar[0]
    assert (opt.rclass, opt.extrcode, opt.version, opt.z) == (4096, 1, 1, 0x1234)
    assert check(wire).agrees
    assert decode(bytes(to_scapy(message))).edns == edns
    assert message.rcode == 16  # ext 1 << 4 | header 0: BADVERS


# ---- the lab's messages ----


def test_lab_messages_agree_with_scapy_field_by_field() -> None:
    for wire in (LAB_QUERY_CA, LAB_QUERY_COM, LAB_RESPONSE_COM, HOWCODE):
        verdict = check(wire)
        assert verdict.agrees, verdict.describe()
    # header 11 + counts 4 + question 3 + two records x (name, type, class, ttl, rdata)
    assert check(LAB_RESPONSE_COM).describe() == "Scapy agrees (28 fields)"
    assert check(LAB_QUERY_CA).describe() == "Scapy agrees (18 fields)"


def test_lab_messages_built_by_scapy_are_the_manuals_bytes() -> None:
    query = DNS(id=0x1A2B, qr=0, aa=1, rd=0, qd=[DNSQR(qname="google.ca")])
    assert bytes(query) == LAB_QUERY_CA
    response = DNS(
        id=0x1A2B, qr=1, aa=1, rd=0, qd=[DNSQR(qname="google.com")],
        an=[DNSRR(rrname="google.com", ttl=260, rdata="192.165.1.1"),
            DNSRR(rrname="google.com", ttl=260, rdata="192.165.1.10")],
    )
    assert bytes(response.compress()) == LAB_RESPONSE_COM
    assert bytes(to_scapy(decode(LAB_RESPONSE_COM)).compress()) == LAB_RESPONSE_COM
    assert decode(bytes(response)) == decode(LAB_RESPONSE_COM)


def test_howcode_dump_read_by_scapy() -> None:
    packet = scapy_dns(HOWCODE)
    assert [rr.rdata for rr in packet.an] == ["104.28.14.113", "104.28.15.113"]
    assert {rr.ttl for rr in packet.an} == {294}
    assert compare(decode(HOWCODE), packet) == ()


# ---- the oracle sees differences (it can fail) ----

DIFF_CASES: list[tuple[str, Callable[[Any], None], str]] = [
    ("header.id", lambda p: setattr(p, "id", 1), "header.id"),
    ("header.aa", lambda p: setattr(p, "aa", 0), "header.aa"),
    ("header.rcode", lambda p: setattr(p, "rcode", 3), "header.rcode"),
    ("question name case", lambda p: setattr(p.qd[0], "qname", "Host.example.com."),
     "question[0].qname"),
    ("question type", lambda p: setattr(p.qd[0], "qtype", 28), "question[0].qtype"),
    ("question mDNS bit", lambda p: setattr(p.qd[0], "unicastresponse", 1), "question[0].qclass"),
    ("record ttl", lambda p: setattr(p.an[1], "ttl", 299), "answer[1].ttl"),
    ("record owner", lambda p: setattr(p.an[1], "rrname", "xxx.example.com."), "answer[1].name"),
    ("A rdata", lambda p: setattr(p.an[1], "rdata", "192.0.2.81"), "answer[1].rdata"),
    ("CNAME rdata", lambda p: setattr(p.an[0], "rdata", "w.example.com."), "answer[0].rdata"),
    ("cache-flush bit", lambda p: setattr(p.an[1], "cacheflush", 1), "answer[1].class"),
    ("SOA serial", lambda p: setattr(p.ns[1], "serial", 8), "authority[1].rdata.serial"),
    ("SOA rname", lambda p: setattr(p.ns[1], "rname", "root.example.com."),
     "authority[1].rdata.rname"),
    ("AAAA", lambda p: setattr(p.ar[1], "rdata", "2001:db8::54"), "additional[1].rdata"),
    ("EDNS version", lambda p: setattr(p.ar[2], "version", 1), "additional[2].edns.version"),
    ("EDNS DO", lambda p: setattr(p.ar[2], "z", 0), "additional[2].edns.do"),
    ("EDNS payload", lambda p: setattr(p.ar[2], "rclass", 512), "additional[2].edns.payload"),
    ("EDNS option", lambda p: setattr(p.ar[2].rdata[1], "optdata", b"x"),
     "additional[2].edns.option[1].data"),
    ("EDNS cookie field", lambda p: p.ar[2].rdata.__setitem__(0, EDNS0COOKIE(client_cookie=b"clientcK")),
     "additional[2].edns.option[0].client"),
    ("missing record", lambda p: setattr(p, "an", p.an[:1]), "answer[1]"),
]


@pytest.mark.parametrize("label,mutate,field", DIFF_CASES, ids=[c[0] for c in DIFF_CASES])
def test_compare_reports_each_field(label: str, mutate: Callable[[Any], None], field: str) -> None:
    message, scapy = _four_sections()
    mutate(scapy)
    differences = compare(message, scapy)
    assert field in [d.field for d in differences], differences
    # and the same difference survives a trip through the bytes
    if label != "missing record":
        assert field in [d.field for d in compare(message, scapy_dns(bytes(scapy)))]


def test_check_reports_differences_in_describe() -> None:
    message, scapy = _four_sections()
    scapy.an[1].rdata = "192.0.2.81"
    wire = bytes(scapy)
    other = decode(wire)
    differences = compare(message, scapy_dns(wire))
    assert differences == (Difference("answer[1].rdata", "192.0.2.80", "192.0.2.81"),)
    verdict = Verdict(None, None, differences, "x", 30)
    assert not verdict.agrees
    assert verdict.describe() == "  answer[1].rdata: craft=192.0.2.80 scapy=192.0.2.81"
    assert check(wire).agrees and other.answer[1].rdata == A("192.0.2.81")


# ---- the oracle's own behaviour ----


LENIENT = [
    ("pointer loop", bytes.fromhex("123401000001000000000000") + b"\x01a\xc0\x0c\0\1\0\1",
     14, "DNS decompression loop detected"),
    ("forward pointer", bytes.fromhex("123401000001000000000000") + b"\xc0\x12\0\1\0\1\x01a\x00",
     12, "left as Raw"),
    ("reserved label 01", bytes.fromhex("123401000001000000000000") + b"\x41\x0c\0\1\0\1",
     12, None),
    ("truncated record", LAB_RESPONSE_COM[:-2], 56, "answer[1] left as Raw"),
]


@pytest.mark.parametrize("label,data,offset,note", LENIENT, ids=[c[0] for c in LENIENT])
def test_lenient_scapy_reading_next_to_craft_reason(
    label: str, data: bytes, offset: int, note: str | None, capfd: pytest.CaptureFixture[str]
) -> None:
    verdict = check(data)
    assert isinstance(verdict.craft_error, WireError)
    assert verdict.craft_error.offset == offset
    assert verdict.scapy_summary.startswith("id 4660") or verdict.scapy_summary.startswith("id 6699")
    if note is not None:
        assert verdict.scapy_error is not None and note in verdict.scapy_error
    lines = verdict.describe().splitlines()
    assert lines[0] == f"craft rejects at offset {offset}: {verdict.craft_error.reason}"
    assert lines[1] == f"  Scapy reads: {verdict.scapy_summary}"
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")  # Scapy's warnings are captured, not printed


@pytest.mark.parametrize("data", [b"", b"\x12", bytes(11), bytes(12), b"\xff" * 64])
def test_check_never_raises(data: bytes) -> None:
    verdict = check(data)
    assert verdict.describe()
    if len(data) < 12:
        assert verdict.craft_error is not None and verdict.scapy_error is not None


def test_compare_accepts_a_whole_frame() -> None:
    message, scapy = _four_sections()
    frame = Ether() / IP(dst="127.0.0.1") / UDP(sport=53, dport=10053) / scapy
    assert compare(message, frame) == ()
    assert compare(message, Ether(bytes(frame))) == ()


def test_to_scapy_writes_names_scapy_cannot_hold_as_text() -> None:
    odd = Name((b"a.b", b"\x00\xc1"))
    message = Message(
        Header(id=5), (Question(odd, 1, 1),), (Record(odd, 1, 1, 1, A("10.1.2.3")),)
    )
    packet = to_scapy(message)
    assert bytes(packet) == encode(message, compress=False)
    assert decode(bytes(packet)) == message
    assert compare(message, packet) == ()


def test_to_scapy_raw_stand_in_for_records_scapy_cannot_express() -> None:
    # Type A in class CH with three octets: craft keeps it opaque, Scapy's A field cannot.
    record = Record(OWNER, RRType.A, 3, 1, Opaque(b"\x01\x02\x03"))
    message = Message(Header(id=5), answer=(record,))
    packet = to_scapy(message)
    assert type(packet.an[0]).__name__ == "Raw"
    assert bytes(packet) == encode(message, compress=False)
    assert decode(bytes(packet)) == message


def test_to_scapy_keeps_opt_fields() -> None:
    record = Record(Name.root(), RRType.OPT, 512, (3 << 24) | (1 << 16) | 0x8001, OPT((RawOption(65002, b"\1\2"),)))
    message = Message(additional=(record,))
    packet = to_scapy(message)
    opt = packet.ar[0]
    assert (opt.rclass, opt.extrcode, opt.version, opt.z) == (512, 3, 1, 0x8001)
    assert decode(bytes(packet)) == message


def test_import_is_cheap() -> None:
    """``import craft.oracle`` leaves Scapy unloaded until a function needs it."""
    code = "import sys, craft.oracle; print('scapy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"
