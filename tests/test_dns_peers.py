"""craft against BIND and NSD at once, on the edge-case zone and its signed child: what a
DNS compliance tester looks at where the two peers are the reference (issue 18).

One named, one nsd and one ``craft dns-serve`` serve tests/data/edge.test.zone and
tests/data/signed.edge.test.zone for the whole module, on 127.0.0.1, and are stopped at its
end. test_bind.py compares the answers of the same zones with BIND alone.

What the peers do, seen here and pinned where it is craft's reference:
- an opcode neither implements: NOTIMP with the header alone (no question). BIND clears
  every flag but QR and sends its OPT back; NSD copies the query's flags. craft does as BIND.
- an UPDATE whose zone section is not one SOA question: NSD says NOTIMP with the header
  alone; BIND (which implements UPDATE) says FORMERR and echoes the question, a reply
  dnspython refuses (RFC 2136 2.3). craft does as NSD.
- a UDP answer that does not fit: NSD keeps the whole RRsets before the first that does not
  fit and sets TC; BIND with EDNS sends no answer record, and without EDNS part of the RRset
  (the records that fit). craft does as NSD: never part of an RRset.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import dns.message
import pytest
from conftest import craft_process, running_nsd
from test_bind import running_named

from craft.dns.codec import decode, encode
from craft.dns.constants import Opcode, Rcode, RRType, type_number
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.transport import send_bytes

REPO = Path(__file__).resolve().parent.parent
ZONES = {"edge.test.": REPO / "tests" / "data" / "edge.test.zone",
         "signed.edge.test.": REPO / "tests" / "data" / "signed.edge.test.zone"}
HOST = Name.from_text("host.edge.test.")
EVERY_FLAG = 0x07F0  # AA TC RD RA Z AD CD


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """Ports of BIND, NSD and craft serving the same two zones."""
    bind_dir, nsd_dir = tmp_path_factory.mktemp("bind"), tmp_path_factory.mktemp("nsd")
    named_conf = "".join(f'zone "{origin}" {{ type primary; file "{path}"; }};\n'
                         for origin, path in ZONES.items())
    nsd_conf = "".join(f"zone:\n  name: {origin}\n  zonefile: {path}\n"
                       for origin, path in ZONES.items())
    files = [arg for path in ZONES.values() for arg in ("--zone", str(path))]
    with (running_named(bind_dir, named_conf, list(ZONES)) as bind,
          running_nsd(nsd_dir, nsd_conf) as nsd,
          craft_process(["dns-serve", "--port", "0", "--quiet", *files]) as (_, craft)):
        yield {"bind": bind, "nsd": nsd, "craft": craft}


def exchange(port: int, wire: bytes, tcp: bool = False) -> bytes:
    for _ in range(3):  # NSD may still be loading its zones: it answers SERVFAIL then
        reply = send_bytes(wire, ("127.0.0.1", port), tcp=tcp, timeout=2).reply
        if reply is not None and decode(reply).rcode != Rcode.SERVFAIL:
            return reply
    raise AssertionError(f"no answer from port {port}")


def raw_query(flags: int, questions: int = 1) -> bytes:
    """A query with the given flags word (opcode included) and ``questions`` A questions."""
    header = secrets.token_bytes(2) + flags.to_bytes(2, "big") + questions.to_bytes(2, "big") + bytes(6)
    return header + (HOST.to_wire() + b"\x00\x01\x00\x01") * questions


@pytest.mark.parametrize("opcode", [1, 2, 3, 6, 7, 15])
def test_unimplemented_opcode_gets_the_header_alone_as_from_bind(
        peers: dict[str, int], opcode: int) -> None:
    query = raw_query((opcode << 11) | EVERY_FLAG)
    from_bind, from_craft, from_nsd = (exchange(peers[p], query) for p in ("bind", "craft", "nsd"))
    assert from_craft == from_bind  # octet for octet: ID, QR and the opcode, NOTIMP, no counts
    assert from_craft == query[:2] + ((0x8000 | opcode << 11 | Rcode.NOTIMP).to_bytes(2, "big")
                                      + bytes(8))
    nsd = decode(from_nsd)
    assert (nsd.rcode, nsd.header.opcode, nsd.question) == (Rcode.NOTIMP, opcode, ())
    with_edns = encode(Message(Header(id=9, opcode=opcode, rd=True), (Question(HOST),))
                       .with_edns(Edns()))
    bind, craft = decode(exchange(peers["bind"], with_edns)), decode(exchange(peers["craft"], with_edns))
    assert bind == craft  # the header alone and our OPT, as BIND (NSD drops the OPT)


@pytest.mark.parametrize("questions", [1, 2, 0])
def test_malformed_update_gets_a_reply_dnspython_reads(peers: dict[str, int], questions: int) -> None:
    query = raw_query((Opcode.UPDATE << 11) | EVERY_FLAG, questions)
    from_craft = exchange(peers["craft"], query)
    parsed = dns.message.from_wire(from_craft)  # refuses an UPDATE reply without one SOA zone
    assert parsed.rcode() == Rcode.NOTIMP and parsed.opcode() == Opcode.UPDATE
    nsd = decode(exchange(peers["nsd"], query))
    craft = decode(from_craft)
    assert (craft.rcode, craft.question, craft.answer, craft.authority) == (
        nsd.rcode, nsd.question, nsd.answer, nsd.authority)
    if questions == 1:  # BIND implements UPDATE: FORMERR, the A question echoed
        from_bind = exchange(peers["bind"], query)
        assert decode(from_bind).rcode == Rcode.FORMERR
        with pytest.raises(dns.exception.FormError):
            dns.message.from_wire(from_bind)


def _question(name: str, rtype: str, edns: Edns | None) -> bytes:
    return encode(Message(Header(id=secrets.randbits(16)),
                          (Question(Name.from_text(name), type_number(rtype)),)).with_edns(edns))


def _texts(records: tuple[Record, ...]) -> list[str]:
    return sorted(r.to_text().lower() for r in records if r.rtype != RRType.OPT)


def _answer_texts(message: Message) -> list[str]:
    return _texts(message.answer)


@pytest.mark.parametrize("edns", [None, Edns(payload=1232)], ids=["512", "edns-1232"])
@pytest.mark.parametrize(("name", "rtype"), [
    ("bigger.edge.test.", "TXT"), ("tobigger.edge.test.", "TXT"), ("bigger.edge.test.", "ANY"),
    ("bigglue.edge.test.", "MX"), ("www.bigcut.edge.test.", "A"),
])
def test_truncation_drops_whole_rrsets_as_nsd(peers: dict[str, int], name: str, rtype: str,
                                              edns: Edns | None) -> None:
    query = _question(name, rtype, edns)
    craft, nsd = decode(exchange(peers["craft"], query)), decode(exchange(peers["nsd"], query))
    bind = decode(exchange(peers["bind"], query))
    assert (craft.header.tc, _answer_texts(craft)) == (nsd.header.tc, _answer_texts(nsd))
    assert craft.header.tc == bind.header.tc
    full = decode(exchange(peers["craft"], query, tcp=True))
    assert not full.header.tc
    # Never part of an RRset: each answer RRset is whole, or absent.
    for rtype_seen in {r.rtype for r in craft.answer}:
        assert [r for r in craft.answer if r.rtype == rtype_seen] == [
            r for r in full.answer if r.rtype == rtype_seen]
    if not craft.header.aa:  # a referral: its NS set is in authority, whole or not at all
        assert _texts(craft.authority) == _texts(nsd.authority)
        assert _texts(craft.authority) in ([], _texts(full.authority))
    # Additional data that does not fit is left out whole, without TC (BIND and NSD alike).
    addresses = [r for r in craft.additional if r.rtype == RRType.A]
    assert addresses in ([], [r for r in full.additional if r.rtype == RRType.A])


DNAME_QUESTIONS = [("www.dn", "A"), ("nope.dn", "A"), ("a.b.dn", "AAAA"), ("dn", "DNAME"),
                   ("www.dn", "DNAME"), ("www.dn", "CNAME"), ("x.dnout", "A"), ("www.dn2", "A"),
                   ("todn", "A"), ("x" * 63 + ".dnlong", "A"), ("signed", "DS"),
                   ("x.signed", "DS")]


@pytest.mark.parametrize(("name", "rtype"), DNAME_QUESTIONS, ids=[f"{n[:10]} {t}" for n, t in DNAME_QUESTIONS])
def test_dname_and_ds_at_a_child_apex_as_nsd_and_bind(peers: dict[str, int], name: str,
                                                      rtype: str) -> None:
    query = _question(f"{name}.edge.test.", rtype, Edns())
    craft = decode(exchange(peers["craft"], query))
    for peer in ("nsd", "bind"):
        other = decode(exchange(peers[peer], query))
        assert (craft.rcode, craft.header.aa, _answer_texts(craft)) == (
            other.rcode, other.header.aa, _answer_texts(other)), peer
    dns.message.from_wire(exchange(peers["craft"], query))
