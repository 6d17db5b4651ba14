"""Where Scapy 2.8 is wrong, lenient or limited, by name: each test shows Scapy's behaviour
and checks craft against the RFC octets instead. docs/oracle-gaps.md lists the same gaps."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSRV

from craft.dns.codec import decode, encode
from craft.dns.edns import ClientSubnet
from craft.dns.message import Header, Message, Question, Record
from craft.dns.names import BadNameError, Name
from craft.dns.rdata import SRV, A
from craft.dns.wire import WireError
from craft.oracle import check, scapy_dns


def head(qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0, flags: int = 0) -> bytes:
    return struct.pack("!6H", 0x1234, flags, qd, an, ns, ar)


def query(name: Name) -> Message:
    return Message(Header(id=0x1234), (Question(name),))


def test_scapy_gap_dot_inside_label() -> None:
    """Scapy keeps names as dotted text, so a label holding a dot reads like two labels."""
    one, two = Name((b"a.b", b"com")), Name((b"a", b"b", b"com"))
    w1, w2 = encode(query(one)), encode(query(two))
    assert scapy_dns(w1).qd[0].qname == scapy_dns(w2).qd[0].qname == b"a.b.com."
    # RFC 1035 3.1: a label is a length octet and that many octets, dots included.
    assert w1[12:] == b"\x03a.b\x03com\x00" + b"\x00\x01\x00\x01"
    assert w2[12:] == b"\x01a\x01b\x03com\x00" + b"\x00\x01\x00\x01"
    assert decode(w1).question[0].name == one
    assert decode(w2).question[0].name == two
    assert one.to_text() == "a\\.b.com."


def test_scapy_gap_long_label_cut_to_63_when_building() -> None:
    """Scapy silently cuts a 64-octet label to 63 and writes names over 255 octets."""
    built = bytes(DNSQR(qname="a" * 64 + ".com"))
    assert built[:1] == b"\x3f" and built[1:64] == b"a" * 63 and built[64:65] == b"\x03"
    long_text = ".".join(["a" * 63] * 4)
    assert len(bytes(DNSQR(qname=long_text))) - 4 == 257  # a 257-octet name on the wire
    # RFC 1035 2.3.4: labels 63 octets or less, names 255 octets or less.
    with pytest.raises(BadNameError, match="label of 64 octets"):
        Name.from_text("a" * 64 + ".com.")
    with pytest.raises(BadNameError, match="257 octets"):
        Name.from_text(long_text + ".")
    with pytest.raises(WireError, match="label of 64 octets"):
        encode(query(Name((b"a" * 64,))))


def test_scapy_gap_name_ending_in_high_octet_taken_as_wire_data() -> None:
    """Scapy treats text whose second-last octet has both top bits set as already encoded
    (its pointer heuristic) and writes it raw: no length octets, no root."""
    assert bytes(DNSQR(qname=b"ab\xc1."))[:4] == b"ab\xc1."
    assert encode(query(Name((b"ab\xc1",))))[12:17] == b"\x03ab\xc1\x00"


def test_scapy_gap_ttl_top_bit_not_read_as_zero() -> None:
    """RFC 2181 8: a TTL with the top bit set is to be treated as zero. Scapy reports the
    raw 32-bit value; craft reads zero; the oracle applies the RFC rule before comparing."""
    wire = head(an=1, flags=0x8000) + b"\x00" + struct.pack("!HHIH", 1, 1, 0x80000001, 4) + b"\1\2\3\4"
    assert scapy_dns(wire).an[0].ttl == 0x80000001
    assert decode(wire).answer[0].ttl == 0
    verdict = check(wire)
    assert verdict.agrees, verdict.describe()


def test_scapy_gap_empty_txt_accepted() -> None:
    """RFC 1035 3.3.14: TXT-DATA is one or more character-strings. Scapy reads an empty
    rdata as an empty list; craft rejects it."""
    wire = head(an=1, flags=0x8000) + b"\x00" + struct.pack("!HHIH", 16, 1, 0, 0)
    assert scapy_dns(wire).an[0].rdata == []
    with pytest.raises(WireError, match="needs at least one string") as info:
        decode(wire)
    assert info.value.offset == 23
    assert check(wire).scapy_error is None  # Scapy has no complaint to report


def test_scapy_gap_txt_string_overrun_accepted() -> None:
    """A character-string longer than what is left of the rdata: Scapy keeps the short
    piece (logging it); craft rejects at the length octet."""
    wire = head(an=1, flags=0x8000) + b"\x00" + struct.pack("!HHIH", 16, 1, 0, 4) + b"\x05abc"
    assert scapy_dns(wire).an[0].rdata == [b"abc"]
    verdict = check(wire)
    assert verdict.craft_error is not None and verdict.craft_error.offset == 23
    assert verdict.scapy_error is not None and "prematured end" in verdict.scapy_error


def test_scapy_gap_more_than_20_pointer_jumps() -> None:
    """Scapy gives up after 20 compression jumps in one name and returns the part read so
    far. RFC 1035 sets no such limit; craft follows strictly backward chains (up to 127)."""
    body = bytearray(b"\x01a\x00\x00\x01\x00\x01")
    starts = [12]
    for _ in range(25):
        starts.append(12 + len(body))
        body += b"\x01x" + struct.pack("!H", 0xC000 | starts[-2]) + b"\x00\x01\x00\x01"
    wire = head(qd=26) + bytes(body)
    names = [q.name for q in decode(wire).question]
    assert names == [Name((b"x",) * k + (b"a",)) for k in range(26)]
    assert scapy_dns(wire).qd[25].qname == b"x." * 21  # cut after 20 jumps, 'a' lost
    verdict = check(wire)
    assert verdict.scapy_error is not None and "More than 20 jumps" in verdict.scapy_error
    assert [d.field for d in verdict.differences] == [f"question[{k}].qname" for k in range(21, 26)]


def test_scapy_gap_compresses_srv_target() -> None:
    """RFC 2782: the SRV target is not compressed. Scapy's compress() compresses it; craft
    writes it in full (and, like any reader should, decodes either form)."""
    packet = DNS(id=1, qr=1, rd=0, qd=[DNSQR(qname="example.com", qtype="SRV")],
                 an=[DNSRRSRV(rrname="_x._tcp.example.com", ttl=5, target="example.com")])
    wire = bytes(packet.compress())
    assert wire.endswith(b"\x00\x00\x00\x00\x00\x00\xc0\x0c")  # priority, weight, port, pointer
    target = Name.from_text("example.com.")
    message = Message(Header(id=1, qr=True), (Question(target, 33),),
                      (Record.make(Name.from_text("_x._tcp.example.com."), 5, SRV(0, 0, 0, target)),))
    assert encode(message).endswith(b"\x00\x00\x00\x00\x00\x00" + target.to_wire())
    assert decode(wire) == message


def test_scapy_gap_compress_points_into_the_header() -> None:
    """Scapy's compress() finds a suffix by searching the built octets, header included:
    the name ``\\000.`` (octets 01 00 00) first occurs in the header's counts."""
    packet = DNS(id=0, rd=0, qd=[DNSQR(qname=b"\x00.")],
                 ar=[DNSRR(rrname=b"\x00.", type="A", rdata="1.2.3.4")])
    wire = bytes(packet.compress())
    assert wire[19:21] == b"\xc0\x05"  # pointer to offset 5, inside the header
    with pytest.raises(WireError, match=r"compression pointer into the header \(5\)"):
        decode(wire)
    # craft points at the question, offset 12.
    name = Name((b"\x00",))
    ours = encode(Message(question=(Question(name),),
                          additional=(Record.make(name, 0, A("1.2.3.4")),)))
    assert ours[19:21] == b"\xc0\x0c"


def test_scapy_gap_compress_breaks_labels_ending_in_high_octet() -> None:
    """The same pointer heuristic inside compress(): the kept label ``y\\xc0`` is written
    without its length octet, so the result no longer parses."""
    packet = DNS(id=0, rd=0, qd=[DNSQR(qname="x.example")],
                 an=[DNSRR(rrname=b"y\xc0.example.", type="A", rdata="1.2.3.4")])
    wire = bytes(packet.compress())
    assert b"y\xc0\xc0\x0e" in wire
    with pytest.raises(WireError, match="reserved label type 01"):
        decode(wire)


def test_scapy_gap_short_header_raises_struct_error() -> None:
    """Fewer than 12 octets: Scapy raises struct.error (not a Scapy exception) for most
    lengths, and reads an empty input as its default packet (www.example.com)."""
    with pytest.raises(struct.error):
        scapy_dns(head()[:5])
    assert scapy_dns(b"").qd[0].qname == b"www.example.com."
    verdict = check(head()[:5])
    assert verdict.craft_error is not None and verdict.craft_error.offset == 4
    assert verdict.scapy_error is not None and "struct.error" in verdict.scapy_error
    assert check(b"").scapy_error == "no octets to dissect"


def test_scapy_gap_list_cap_of_100_entries() -> None:
    """Scapy refuses more than conf.max_list_count (100) entries in a section; a message
    may hold 65535. The oracle lifts the cap while it dissects, then restores it."""
    from scapy.config import conf
    from scapy.fields import MaximumItemsCount

    record = b"\x00" + struct.pack("!HHIH", 1, 1, 0, 4) + b"\1\2\3\4"
    wire = head(an=150, flags=0x8000) + record * 150
    with pytest.raises(MaximumItemsCount):
        DNS(wire)
    assert len(decode(wire).answer) == 150
    assert check(wire).agrees
    assert conf.max_list_count == 100


@pytest.mark.parametrize(
    "body,offset,reason,scapy_name",
    [
        (b"\xc0\x02", 12, "compression pointer into the header (2)", b"\x00."),
        (b"\x41\x0c", 12, "reserved label type 01", b"."),
        (b"\x81\x0c", 12, "reserved label type 10", b"."),
        (b"\xc0\x12\x00\x01\x00\x01\x01a\x00", 12, "forward or looping compression pointer", b"a."),
    ],
    ids=["pointer into header", "label type 01", "label type 10", "forward pointer"],
)
def test_scapy_gap_lenient_name_reading(body: bytes, offset: int, reason: str,
                                        scapy_name: bytes) -> None:
    """RFC 1035 4.1.4: pointers refer to a prior occurrence of a name; label types 01 and
    10 are reserved. Scapy follows any pointer and treats both reserved types as pointers."""
    wire = head(qd=1, flags=0x0100) + body + (b"" if len(body) > 2 else b"\x00\x01\x00\x01")
    assert scapy_dns(wire).qd[0].qname == scapy_name
    verdict = check(wire)
    assert verdict.craft_error is not None
    assert verdict.craft_error.offset == offset and reason in verdict.craft_error.reason


def test_scapy_gap_name_over_255_accepted() -> None:
    """Scapy reads a 257-octet name; craft rejects it where it crosses 255 octets."""
    name = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"
    wire = head(qd=1) + name + b"\x00\x01\x00\x01"
    assert len(scapy_dns(wire).qd[0].qname) == 256  # 4 x 64 in dotted text
    verdict = check(wire)
    assert verdict.craft_error is not None and verdict.craft_error.offset == 204
    assert verdict.scapy_error is None


@pytest.mark.parametrize(
    ("rtype", "rclass", "prerequisite"),
    [(1, 255, False), (28, 255, False), (15, 255, False), (6, 255, False), (1, 255, True),
     (1, 254, True)],
    ids=["delete A RRset", "delete AAAA RRset", "delete MX RRset", "delete SOA RRset",
         "A RRset exists", "A RRset does not exist"])
def test_scapy_gap_update_records_without_rdata(rtype: int, rclass: int,
                                                prerequisite: bool) -> None:
    """RFC 2136 2.4 and 2.5: an UPDATE's prerequisites and deletions are records of class
    ANY or NONE with RDLENGTH 0 ("delete this RRset", "this RRset must (not) exist").
    Scapy reads the fixed-size rdata of A, AAAA, MX or SOA from no octets: it cannot, so
    the whole record is left as Raw. craft keeps the empty rdata, as dnspython does."""
    import dns.message
    import dns.rdataclass
    import dns.update

    zone = b"\x07example\x00" + struct.pack("!HH", 6, 1)
    record = b"\x03www\xc0\x0c" + struct.pack("!HHIH", rtype, rclass, 0, 0)
    counts = {"an": 1} if prerequisite else {"ns": 1}
    wire = head(qd=1, flags=5 << 11, **counts) + zone + record
    dissected = scapy_dns(wire)
    section = dissected.an if prerequisite else dissected.ns
    assert section[0].name == "Raw"  # the record undecoded
    verdict = check(wire)
    assert not verdict.agrees and "left as Raw" in verdict.describe()
    message = decode(wire)
    records = message.answer if prerequisite else message.authority
    assert records[0].rclass == rclass and encode(message) == wire
    update = dns.message.from_wire(wire)  # an independent reading that knows UPDATE
    assert isinstance(update, dns.update.UpdateMessage)
    rrset = (update.prerequisite if prerequisite else update.update)[0]
    assert rrset.deleting == dns.rdataclass.RdataClass(rclass)
    assert rrset.rdtype == rtype and len(rrset) == 0


def test_scapy_gap_update_name_records_without_rdata() -> None:
    """The same deletion for a type whose rdata is a name (NS, CNAME): Scapy reads the root
    name out of no octets and logs "prematured end"; craft keeps the empty rdata."""
    zone = b"\x07example\x00" + struct.pack("!HH", 6, 1)
    record = b"\x03www\xc0\x0c" + struct.pack("!HHIH", 2, 255, 0, 0)
    wire = head(qd=1, ns=1, flags=5 << 11) + zone + record
    assert scapy_dns(wire).ns[0].rdata == b"."
    verdict = check(wire)
    assert not verdict.agrees and "prematured end" in verdict.describe()
    message = decode(wire)
    assert message.authority[0].rtype == 2 and encode(message) == wire


def test_scapy_gap_compressed_rdata_of_types_it_does_not_model() -> None:
    """MB, MG, MR and MINFO (RFC 1035 types, so written compressed) are opaque to Scapy:
    it keeps their rdata raw, pointers included, so the oracle can only check the length."""
    from craft.dns.rdtypes.basic import MB

    owner = Name.from_text("mail.example.")
    message = Message(answer=(Record(owner, 7, 1, 60, MB(Name.from_text("box.example."))),))
    wire = encode(message)
    assert wire.endswith(b"\x03box\xc0\x11")  # "example." compressed to the owner's suffix
    assert bytes(scapy_dns(wire).an[0].rdata) == b"\x03box\xc0\x11"
    assert decode(wire) == message
    assert check(wire).agrees


def test_scapy_gap_tsig_time_over_32_bits() -> None:
    """Scapy misreads TSIG's 48-bit time signed (RFC 8945 4.2) once it needs more than 32
    bits (from 2106 on): 2**32 + 2 comes back as 3."""
    from craft.dns.rdtypes.dnssec import TSIG

    time_signed = 2**32 + 2
    rdata = TSIG(Name.from_text("hmac-sha256."), time_signed, 300, b"", 1, 0, b"")
    wire = encode(Message(answer=(Record(Name.root(), 250, 255, 0, rdata),)))
    assert bytes.fromhex("000100000002") in wire  # craft writes all 48 bits
    assert decode(wire).answer[0].rdata == rdata
    assert scapy_dns(wire).an[0].time_signed == 3


def test_scapy_gap_compresses_names_that_must_not_be() -> None:
    """Scapy's compress() points RRSIG's signer, NSEC's next name and SVCB's target at
    earlier names; RFC 4034 3.1.7 and 4.1.1 and RFC 9460 2.2 forbid it, and craft refuses
    such a message at the name's offset."""
    from scapy.layers.dns import DNSRRNSEC, DNSRRRSIG, DNSRRSVCB

    built = DNS(qd=[DNSQR(qname="a.example.")], an=[
        DNSRRSVCB(rrname="a.example.", svc_priority=1, target_name="b.a.example."),
        DNSRRRSIG(rrname="a.example.", signersname="a.example.", signature=b"x"),
        DNSRRNSEC(rrname="a.example.", nextname="a.example."),
    ])
    wire = bytes(built.compress())
    assert wire.endswith(b"\xc0\x0c")  # the NSEC next name, a pointer
    with pytest.raises(WireError, match="compression is not allowed"):
        decode(wire)


# ---- EDNS options (craft/dns/edns.py types them; Scapy models DAU/DHU/N3U, ECS, COOKIE,
# PADDING and EDE with classes of its own) ----


def opt_query(*options: tuple[int, bytes]) -> tuple[bytes, int]:
    """A query whose OPT record carries ``options`` as given, and where its rdata starts."""
    rdata = b"".join(struct.pack("!HH", code, len(data)) + data for code, data in options)
    base = encode(query(Name.from_text("example.com.")))
    wire = base[:10] + b"\x00\x01" + base[12:] + b"\x00" + struct.pack(
        "!HHIH", 41, 1232, 0, len(rdata)) + rdata
    return wire, len(wire) - len(rdata)


def test_scapy_gap_ecs_family_0_read_as_ipv4() -> None:
    """dig +subnet=0 sends FAMILY 0 with both prefixes 0 and no address (BIND takes it).
    Scapy reads family 0 as IPv4 and shows the address 0.0.0.0; craft has no address."""
    wire, _ = opt_query((8, b"\x00\x00\x00\x00"))
    assert scapy_dns(wire).ar[0].rdata[0].address == "0.0.0.0"
    edns = decode(wire).edns
    assert edns is not None and edns.options == (ClientSubnet(0, 0, 0, "0"),)
    (difference,) = check(wire).differences
    assert difference.field == "additional[0].edns.option[0].address"


def test_scapy_gap_short_cookie_reads_past_its_option() -> None:
    """RFC 7873 4: a client cookie is 8 octets. A COOKIE option of 2 octets: Scapy still
    reads 8, swallowing the next option; craft rejects at the option's data."""
    wire, start = opt_query((10, b"\x00\x11"), (3, b"ab"))
    (cookie,) = scapy_dns(wire).ar[0].rdata
    assert cookie.client_cookie == b"\x00\x11\x00\x03\x00\x02ab"
    verdict = check(wire)
    assert verdict.craft_error is not None and verdict.craft_error.offset == start + 4
    assert "COOKIE option of 2 octets" in verdict.craft_error.reason


@pytest.mark.parametrize("length", [12, 41])
def test_scapy_gap_cookie_lengths_not_checked(length: int) -> None:
    """RFC 7873 4: a COOKIE option is 8 octets, or 16 to 40 with a server cookie. Scapy reads
    any length (a 4-octet server cookie, a 33-octet one); craft rejects, as BIND does."""
    wire, start = opt_query((10, bytes(length)))
    assert len(scapy_dns(wire).ar[0].rdata[0].server_cookie) == length - 8
    with pytest.raises(WireError, match=f"COOKIE option of {length} octets") as info:
        decode(wire)
    assert info.value.offset == start + 4


@pytest.mark.parametrize("data,reason", [
    (bytes.fromhex("000114000a0001"), "bits past prefix 20"),
    (bytes.fromhex("0001100a000001"), "address of 3 octets"),
    (bytes.fromhex("0003000000"), "unknown address family 3"),
])
def test_scapy_gap_ecs_address_not_checked(data: bytes, reason: str) -> None:
    """RFC 7871 6: the address is cut to SOURCE PREFIX-LENGTH octets with the bits past the
    prefix zero, for a known family. Scapy reads what is there (any family as IPv4, leftover
    octets as Raw); craft rejects as BIND does ("malformed OPT option")."""
    wire, _ = opt_query((8, data))
    assert scapy_dns(wire).ar[0].rdata[0].family == data[1]
    verdict = check(wire)
    assert verdict.craft_error is not None and reason in verdict.craft_error.reason


def test_scapy_gap_ede_text_not_utf8_accepted() -> None:
    """RFC 8914 2: EXTRA-TEXT is UTF-8. Scapy keeps any octets; craft rejects at the first
    octet that is not UTF-8."""
    wire, start = opt_query((15, b"\x00\x00ok\xff"))
    assert scapy_dns(wire).ar[0].rdata[0].extra_text == b"ok\xff"
    with pytest.raises(WireError, match="not UTF-8") as info:
        decode(wire)
    assert info.value.offset == start + 8
