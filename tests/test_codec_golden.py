"""The lab's example messages, byte for byte, through craft's encoder and decoder."""

from craft.dns.codec import decode, encode
from craft.dns.message import Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import A

LAB_QUERY_CA = bytes.fromhex("1a2b04000001000000000000" "06676f6f676c6502636100" "00010001")
LAB_QUERY_COM = bytes.fromhex("1a2b04000001000000000000" "06676f6f676c6503636f6d00" "00010001")
LAB_RESPONSE_COM = bytes.fromhex(
    "1a2b84000001000200000000" "06676f6f676c6503636f6d0000010001"
    "c00c000100010000010400" "04c0a50101"
    "c00c000100010000010400" "04c0a5010a"
)
HOWCODE = bytes.fromhex(
    "ff9b81800001000200000000" "07686f77636f6465036f72670000010001"
    "c00c0001000100000126" "0004681c0e71" "c00c0001000100000126" "0004681c0f71"
)


def test_lab_google_ca_query_fields() -> None:
    msg = decode(LAB_QUERY_CA)
    assert msg.header.id == 0x1A2B
    assert msg.header.aa and not msg.header.qr and not msg.header.rd
    assert msg.question == (Question(Name((b"google", b"ca")), 1, 1),)
    assert encode(msg) == LAB_QUERY_CA


def test_lab_response_built_from_values_matches_manual_bytes() -> None:
    name = Name.from_text("google.com.")
    built = Message(
        Header(id=0x1A2B, qr=True, aa=True),
        (Question(name),),
        (Record.make(name, 260, A("192.165.1.1")), Record.make(name, 260, A("192.165.1.10"))),
    )
    assert encode(built) == LAB_RESPONSE_COM
    assert decode(LAB_RESPONSE_COM) == built
    assert encode(decode(LAB_QUERY_COM)) == LAB_QUERY_COM


def test_tutorial_howcode_dump_decodes() -> None:
    msg = decode(HOWCODE)
    assert [r.rdata for r in msg.answer] == [A("104.28.14.113"), A("104.28.15.113")]
    assert {r.ttl for r in msg.answer} == {294}
    assert msg.header.rd and msg.header.ra
    assert encode(msg) == HOWCODE
