"""Every answer path of the authority, in memory: query octets in, response octets out.

Each row is a query (a ``Message`` encoded by craft's codec, or raw octets where the point
is that they do not decode) and the response expected: rcode, header flags and the records
of each section. Rows go through ``Authority.respond`` (the answer cache, as the server
calls it) and through ``Answerer.respond`` (the full codec): both must give the same
octets, so the precomputed fast path cannot drift from the meaning of an answer. Plain
questions also go through ``Answerer.lookup``. No sockets: the socket suites
(test_dns_server.py, test_bind.py) check the same server from the outside.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from craft.dns.answer_cache import Authority
from craft.dns.answering import Node
from craft.dns.codec import decode, decode_header, encode
from craft.dns.constants import Opcode, Rcode, RRClass, RRType
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import SOA, A, Opaque
from craft.dns.zone import Zone
from craft.dns.zonefile import parse_zone

ROOT = Path(__file__).resolve().parent.parent
ZONE_FILES = (ROOT / "zones" / "example.test.zone", ROOT / "tests" / "data" / "edge.test.zone",
              ROOT / "tests" / "data" / "signed.edge.test.zone")
NOW = 1_700_000_100  # the authority's clock: the time a TSIG error carries

EX_SOA = "example.test. {} IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 600 604800 300"
EDGE_SOA = "edge.test. {} IN SOA ns1.edge.test. hostmaster.edge.test. 2026112501 3600 600 604800 300"
NEGATIVE = EX_SOA.format(300)  # RFC 2308 3: min(SOA TTL 3600, MINIMUM 300)
EDGE_NEGATIVE = EDGE_SOA.format(300)
CHILD_NS = ("child.edge.test. 3600 IN NS ns.child.edge.test.",
            "child.edge.test. 3600 IN NS ns.elsewhere.invalid.")
SIGNED_NEGATIVE = ("signed.edge.test. 300 IN SOA ns.signed.edge.test. "
                   "hostmaster.signed.edge.test. 2026112501 3600 600 604800 300")
DNAME_DN = "dn.edge.test. 3600 IN DNAME tgt.edge.test."
DNAME_DN2 = "dn2.edge.test. 3600 IN DNAME dn.edge.test."
LONG_TARGET = f"{'a' * 60}.{'b' * 60}.{'c' * 60}.edge.test."
TXT_BIG = tuple(f'bigger.edge.test. 3600 IN TXT "{i:02d}{"x" * 98}"' for i in range(20))
ALL_FLAGS = {"aa": True, "tc": True, "rd": True, "ra": True, "z": True, "ad": True, "cd": True}
CHILD_GLUE = ("ns.child.edge.test. 3600 IN A 192.0.2.53",
              "ns.child.edge.test. 3600 IN AAAA 2001:db8::53")
OURS = "; EDNS: version: 0, flags:; udp: 1232"  # the OPT craft answers with (as dig says it)
MISPLACED = "\n; EDE: 0 (Other Error): (OPT or TSIG out of place (RFC 6891 6.1.1, RFC 8945 5.1))"
OURS_DO = "; EDNS: version: 0, flags: do; udp: 1232"
TSIG_REQUEST = (b"\x0bhmac-sha256\x00" + (1_700_000_000).to_bytes(6, "big") + b"\x01\x2c"
                + b"\x00\x20" + b"\xaa" * 32 + b"\x00\x07" + b"\x00\x00" + b"\x00\x00")
# RFC 8945 5.2.1: the same key and algorithm, our time, the fudge, no MAC, the original
# ID, error 17 (BADKEY), no other data.
TSIG_BADKEY = 'key.example. 0 ANY TSIG hmac-sha256. 1700000100 300 0 "" 7 BADKEY 0'


def name(text: str) -> Name:
    return Name.from_text(text)


def query(qname: str, qtype: int = RRType.A, *, qclass: int = RRClass.IN, ident: int = 7,
          edns: Edns | None = None, **header: bool | int) -> Message:
    return Message(Header(id=ident, **header), (Question(name(qname), qtype, qclass),)).with_edns(edns)  # type: ignore[arg-type]


def with_records(message: Message, section: str, *records: Record) -> Message:
    return replace(message, **{section: (*getattr(message, section), *records)})  # type: ignore[arg-type]


def opt(payload: int = 1232, version: int = 0, do: bool = False) -> Record:
    return Edns(payload=payload, version=version, do=do).to_record()


def tsig(data: bytes = TSIG_REQUEST) -> Record:
    return Record(name("key.example."), RRType.TSIG, RRClass.ANY, 0, Opaque(data))


@dataclass(frozen=True)
class Row:
    description: str
    query: Message | bytes
    rcode: int | None  # None: the query is dropped, no response at all
    flags: str = "qr aa"
    answer: tuple[str, ...] = ()
    authority: tuple[str, ...] = ()
    additional: tuple[str, ...] = ()
    edns: str | None = None  # the response's OPT, as Edns.to_text gives it
    limit: int = 512  # the transport's limit: 512 for UDP, 65535 for TCP
    lookup: bool = True  # a plain question: Answerer.lookup must agree with the response


ROWS = [
    # ---- plain answers and negative answers (RFC 1034 4.3.2, RFC 2308) ----
    Row("A at a name with data", query("host.example.test."),
        Rcode.NOERROR, answer=("host.example.test. 3600 IN A 192.0.2.80",)),
    Row("the question's case is echoed, the answer is the same", query("HoSt.ExAmPlE.tEsT."),
        Rcode.NOERROR, answer=("HoSt.ExAmPlE.tEsT. 3600 IN A 192.0.2.80",), lookup=False),
    Row("a type craft does not know (RFC 3597)", query("private.example.test.", 65280),
        Rcode.NOERROR, answer=("private.example.test. 3600 IN TYPE65280 \\# 3 010203",)),
    Row("SOA at the apex", query("example.test.", RRType.SOA),
        Rcode.NOERROR, answer=(EX_SOA.format(3600),)),
    Row("NXDOMAIN: SOA with the negative TTL min(TTL, MINIMUM)", query("nope.example.test."),
        Rcode.NXDOMAIN, authority=(NEGATIVE,)),
    Row("NODATA: the name exists without the type", query("host.example.test.", RRType.MX),
        Rcode.NOERROR, authority=(NEGATIVE,)),
    Row("NODATA at an empty non-terminal", query("ent.wild.example.test."),
        Rcode.NOERROR, authority=(NEGATIVE,)),
    Row("REFUSED: no zone of ours holds the name", query("www.google.com."),
        Rcode.REFUSED, flags="qr"),
    Row("REFUSED: class CH", query("host.example.test.", RRType.TXT, qclass=RRClass.CH),
        Rcode.REFUSED, flags="qr"),
    Row("ANY: every record at the name", query("host.example.test.", RRType.ANY),
        Rcode.NOERROR, answer=("host.example.test. 3600 IN A 192.0.2.80",
                               "host.example.test. 3600 IN AAAA 2001:db8::80")),
    Row("RD and CD are copied, AA set, RA not", query("host.example.test.", rd=True, cd=True),
        Rcode.NOERROR, flags="qr aa rd cd", answer=("host.example.test. 3600 IN A 192.0.2.80",)),
    # ---- wildcards (RFC 4592) ----
    Row("wildcard: a missing name takes *.wild's records, owned by the name asked",
        query("foo.wild.example.test."),
        Rcode.NOERROR, answer=("foo.wild.example.test. 3600 IN A 192.0.2.100",)),
    Row("wildcard: two labels below the closest encloser", query("a.b.wild.example.test.", RRType.TXT),
        Rcode.NOERROR, answer=('a.b.wild.example.test. 3600 IN TXT "synthesized for any name under wild"',)),
    Row("wildcard: NODATA for a type the wildcard lacks", query("foo.wild.example.test.", RRType.MX),
        Rcode.NOERROR, authority=(NEGATIVE,)),
    Row("wildcard blocked by an existing name", query("real.wild.example.test.", RRType.TXT),
        Rcode.NOERROR, authority=(NEGATIVE,)),
    Row("wildcard blocked by an empty non-terminal: *.ent.wild is absent",
        query("x.ent.wild.example.test."),
        Rcode.NXDOMAIN, authority=(NEGATIVE,)),
    Row("the wildcard's own name is answered as a name", query("*.wild.example.test."),
        Rcode.NOERROR, answer=("*.wild.example.test. 3600 IN A 192.0.2.100",)),
    Row("wildcard CNAME, followed in the zone", query("x.cn.example.test."),
        Rcode.NOERROR, answer=("x.cn.example.test. 3600 IN CNAME host.example.test.",
                               "host.example.test. 3600 IN A 192.0.2.80")),
    # ---- CNAME chains (RFC 1034 4.3.2 step 3a, RFC 6604) ----
    Row("CNAME chain ending in data", query("www.example.test."),
        Rcode.NOERROR, answer=("www.example.test. 3600 IN CNAME alias.example.test.",
                               "alias.example.test. 3600 IN CNAME host.example.test.",
                               "host.example.test. 3600 IN A 192.0.2.80")),
    Row("CNAME asked for: no chasing", query("www.example.test.", RRType.CNAME),
        Rcode.NOERROR, answer=("www.example.test. 3600 IN CNAME alias.example.test.",)),
    Row("CNAME chain ending in NXDOMAIN: the last name's rcode", query("dangle.edge.test."),
        Rcode.NXDOMAIN, answer=("dangle.edge.test. 3600 IN CNAME nothere.edge.test.",),
        authority=(EDGE_NEGATIVE,)),
    Row("CNAME chain ending in NODATA", query("tohost.edge.test.", RRType.MX),
        Rcode.NOERROR, answer=("tohost.edge.test. 3600 IN CNAME host.edge.test.",),
        authority=(EDGE_NEGATIVE,)),
    Row("CNAME loop: each link once, then stop", query("loop1.edge.test."),
        Rcode.NOERROR, answer=("loop1.edge.test. 3600 IN CNAME loop2.edge.test.",
                               "loop2.edge.test. 3600 IN CNAME loop1.edge.test.")),
    Row("CNAME to itself", query("selfloop.edge.test."),
        Rcode.NOERROR, answer=("selfloop.edge.test. 3600 IN CNAME selfloop.edge.test.",)),
    Row("CNAME into a delegation: the referral follows the chain", query("tochild.edge.test."),
        Rcode.NOERROR, answer=("tochild.edge.test. 3600 IN CNAME www.child.edge.test.",),
        authority=CHILD_NS, additional=CHILD_GLUE),
    Row("a chain of 12 links is followed whole", query("c1.edge.test."),
        Rcode.NOERROR,
        answer=(*(f"c{i}.edge.test. 3600 IN CNAME c{i + 1}.edge.test." for i in range(1, 12)),
                "c12.edge.test. 3600 IN A 192.0.2.112")),
    # ---- additional data (RFC 1035 3.3) and referrals (RFC 1034 4.3.2 step 3b) ----
    Row("glue for NS", query("example.test.", RRType.NS),
        Rcode.NOERROR, answer=("example.test. 3600 IN NS ns1.example.test.",
                               "example.test. 3600 IN NS ns2.example.test."),
        additional=("ns1.example.test. 3600 IN A 127.0.0.1", "ns2.example.test. 300 IN A 127.0.0.2")),
    Row("glue for MX, A and AAAA", query("example.test.", RRType.MX),
        Rcode.NOERROR, answer=("example.test. 3600 IN MX 10 mail.example.test.",
                               "example.test. 3600 IN MX 20 mail2.example.test."),
        additional=("mail.example.test. 3600 IN A 192.0.2.25",
                    "mail.example.test. 3600 IN AAAA 2001:db8::25",
                    "mail2.example.test. 1800 IN A 192.0.2.26")),
    Row("glue for SRV", query("_sip._udp.example.test.", RRType.SRV),
        Rcode.NOERROR, answer=("_sip._udp.example.test. 3600 IN SRV 10 60 5060 sip.example.test.",),
        additional=("sip.example.test. 3600 IN A 192.0.2.50",)),
    Row("no additional data from below a cut (RFC 2181 5.4.1)", query("mxglue.edge.test.", RRType.MX),
        Rcode.NOERROR, answer=("mxglue.edge.test. 3600 IN MX 10 ns.child.edge.test.",)),
    Row("referral below a cut: NS in authority, glue, no AA", query("www.child.edge.test."),
        Rcode.NOERROR, flags="qr", authority=CHILD_NS, additional=CHILD_GLUE),
    Row("referral at the cut itself", query("child.edge.test.", RRType.NS),
        Rcode.NOERROR, flags="qr", authority=CHILD_NS, additional=CHILD_GLUE),
    Row("DS at a cut is the parent's data (RFC 4035 3.1.4.1)", query("dschild.edge.test.", RRType.DS),
        Rcode.NOERROR, answer=("dschild.edge.test. 3600 IN DS 12345 13 2 " + "0123456789ABCDEF" * 4,)),
    Row("DS where the parent has none: NODATA", query("child.edge.test.", RRType.DS),
        Rcode.NOERROR, authority=(EDGE_NEGATIVE,)),
    Row("DS below a cut: a referral", query("x.dschild.edge.test.", RRType.DS),
        Rcode.NOERROR, flags="qr",
        authority=("dschild.edge.test. 3600 IN NS ns.dschild.edge.test.",),
        additional=("ns.dschild.edge.test. 3600 IN A 192.0.2.54",)),
    Row("DS at a child apex we also serve: the parent's answer (RFC 4035 3.1.4.1)",
        query("signed.edge.test.", RRType.DS),
        Rcode.NOERROR, answer=("signed.edge.test. 3600 IN DS 54321 13 2 " + "0123456789ABCDEF" * 4,)),
    Row("other types at that apex: the child's", query("signed.edge.test.", RRType.NS),
        Rcode.NOERROR, answer=("signed.edge.test. 3600 IN NS ns.signed.edge.test.",),
        additional=("ns.signed.edge.test. 3600 IN A 192.0.2.55",)),
    Row("DS below the child's apex: the child's NXDOMAIN", query("x.signed.edge.test.", RRType.DS),
        Rcode.NXDOMAIN, authority=(SIGNED_NEGATIVE,)),
    # ---- DNAME (RFC 6672) ----
    Row("DNAME: the DNAME, a CNAME with its TTL to the rewritten name, then the data",
        query("www.dn.edge.test."), Rcode.NOERROR,
        answer=(DNAME_DN, "www.dn.edge.test. 3600 IN CNAME www.tgt.edge.test.",
                "www.tgt.edge.test. 3600 IN A 192.0.2.91")),
    Row("DNAME: the question's case in the owners (compressed against it, as NSD writes them)",
        query("WWW.Dn.edge.test."), Rcode.NOERROR,
        answer=(DNAME_DN.replace("dn.", "Dn.", 1), "WWW.Dn.edge.test. 3600 IN CNAME www.tgt.edge.test.",
                "www.tgt.edge.test. 3600 IN A 192.0.2.91"), lookup=False),
    Row("DNAME into nothing: the rewritten name's NXDOMAIN", query("a.b.dn.edge.test.", RRType.AAAA),
        Rcode.NXDOMAIN, answer=(DNAME_DN, "a.b.dn.edge.test. 3600 IN CNAME a.b.tgt.edge.test."),
        authority=(EDGE_NEGATIVE,)),
    Row("the DNAME's owner itself is not redirected", query("dn.edge.test."),
        Rcode.NOERROR, authority=(EDGE_NEGATIVE,)),
    Row("DNAME asked for at its owner", query("dn.edge.test.", RRType.DNAME),
        Rcode.NOERROR, answer=(DNAME_DN,)),
    Row("DNAME asked for below its owner: redirected, then NODATA",
        query("www.dn.edge.test.", RRType.DNAME), Rcode.NOERROR,
        answer=(DNAME_DN, "www.dn.edge.test. 3600 IN CNAME www.tgt.edge.test."),
        authority=(EDGE_NEGATIVE,)),
    Row("CNAME asked for below a DNAME: the synthesized CNAME, not followed",
        query("www.dn.edge.test.", RRType.CNAME), Rcode.NOERROR,
        answer=(DNAME_DN, "www.dn.edge.test. 3600 IN CNAME www.tgt.edge.test.")),
    Row("DNAME out of our zones: the resolver follows the CNAME", query("x.dnout.edge.test."),
        Rcode.NOERROR, answer=("dnout.edge.test. 3600 IN DNAME example.net.",
                               "x.dnout.edge.test. 3600 IN CNAME x.example.net.")),
    Row("a DNAME into a DNAME", query("www.dn2.edge.test."), Rcode.NOERROR,
        answer=(DNAME_DN2, "www.dn2.edge.test. 3600 IN CNAME www.dn.edge.test.",
                DNAME_DN, "www.dn.edge.test. 3600 IN CNAME www.tgt.edge.test.",
                "www.tgt.edge.test. 3600 IN A 192.0.2.91")),
    Row("a CNAME into a DNAME", query("todn.edge.test."), Rcode.NOERROR,
        answer=("todn.edge.test. 3600 IN CNAME www.dn.edge.test.",
                DNAME_DN, "www.dn.edge.test. 3600 IN CNAME www.tgt.edge.test.",
                "www.tgt.edge.test. 3600 IN A 192.0.2.91")),
    Row("a rewritten name over 255 octets: YXDOMAIN with the DNAME (RFC 6672 2.2)",
        query("x" * 63 + ".dnlong.edge.test."), Rcode.YXDOMAIN,
        answer=(f"dnlong.edge.test. 300 IN DNAME {LONG_TARGET}",)),
    # ---- EDNS (RFC 6891) ----
    Row("EDNS: our OPT in the answer, the client's DO echoed",
        query("host.example.test.", edns=Edns(payload=4096, do=True)),
        Rcode.NOERROR, answer=("host.example.test. 3600 IN A 192.0.2.80",), edns=OURS_DO),
    Row("BADVERS for EDNS version 1", query("host.example.test.", edns=Edns(version=1)),
        Rcode.BADVERS, flags="qr", edns=OURS, lookup=False),
    Row("two OPTs: FORMERR", with_records(query("host.example.test."), "additional", opt(), opt()),
        Rcode.FORMERR, flags="qr", edns=OURS + MISPLACED, lookup=False),
    Row("OPT in the authority section: FORMERR",
        with_records(query("host.example.test."), "authority", opt()),
        Rcode.FORMERR, flags="qr", lookup=False),
    Row("OPT owned by another name than the root: FORMERR",
        with_records(query("host.example.test."), "additional",
                     Record(name("x."), RRType.OPT, 1232, 0, Opaque(b""))),
        Rcode.FORMERR, flags="qr", edns=OURS + MISPLACED, lookup=False),
    # ---- TSIG (RFC 8945): we hold no keys ----
    Row("TSIG with a key we do not hold: NOTAUTH with an unsigned BADKEY TSIG",
        with_records(query("host.example.test."), "additional", tsig()),
        Rcode.NOTAUTH, flags="qr", additional=(TSIG_BADKEY,), lookup=False),
    Row("TSIG not last: FORMERR",
        with_records(query("host.example.test."), "additional", tsig(),
                     Record.make(name("x.example.test."), 0, A("192.0.2.1"))),
        Rcode.FORMERR, flags="qr", lookup=False),
    Row("TSIG in the answer section: FORMERR",
        with_records(query("host.example.test."), "answer", tsig()),
        Rcode.FORMERR, flags="qr", lookup=False),
    # ---- what cannot be answered ----
    Row("NOTIMP for opcode STATUS: the header alone", query("host.example.test.", opcode=Opcode.STATUS),
        Rcode.NOTIMP, flags="qr", lookup=False),
    Row("NOTIMP with every flag set: QR and the opcode only, RD and CD not copied (as BIND)",
        query("host.example.test.", opcode=15, **ALL_FLAGS), Rcode.NOTIMP, flags="qr", lookup=False),
    Row("NOTIMP keeps EDNS: our OPT back", query("host.example.test.", opcode=15, rd=True, edns=Edns()),
        Rcode.NOTIMP, flags="qr", edns=OURS, lookup=False),
    Row("UPDATE whose zone section is an A question: NOTIMP, no question (RFC 2136 2.3)",
        query("host.example.test.", opcode=Opcode.UPDATE, **ALL_FLAGS), Rcode.NOTIMP, flags="qr",
        lookup=False),
    Row("UPDATE with two zone questions: NOTIMP, header alone",
        Message(Header(id=7, opcode=Opcode.UPDATE, rd=True),
                (Question(name("example.test."), RRType.SOA), Question(name("edge.test."), RRType.SOA))),
        Rcode.NOTIMP, flags="qr", lookup=False),
    Row("NOTIFY: NOTIMP, header alone",
        query("example.test.", RRType.SOA, opcode=Opcode.NOTIFY, aa=True), Rcode.NOTIMP, flags="qr",
        lookup=False),
    Row("FORMERR for an unreadable UPDATE: RD not copied",
        b"\x12\x34\x29\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab", Rcode.FORMERR, flags="qr"),
    Row("a response (QR set) is never answered", query("host.example.test.", qr=True), None,
        lookup=False),
    Row("fewer octets than a header: dropped", b"\x00\x07\x01\x00\x00\x01", None),
    Row("FORMERR with the readable header: ID, opcode and RD copied, nothing else",
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab", Rcode.FORMERR, flags="qr rd"),
    Row("two questions: FORMERR",
        Message(Header(id=7), (Question(name("host.example.test.")), Question(name("www.example.test.")))),
        Rcode.FORMERR, flags="qr", lookup=False),
    Row("AXFR over UDP: NOTIMP", query("example.test.", RRType.AXFR),
        Rcode.NOTIMP, flags="qr"),
    Row("IXFR without the client's SOA: FORMERR", query("example.test.", RRType.IXFR),
        Rcode.FORMERR, flags="qr", lookup=False),
    Row("IXFR over UDP: our SOA alone sends the client to TCP (RFC 1995 2)",
        with_records(query("example.test.", RRType.IXFR), "authority",
                     Record.make(name("example.test."), 0, SOA(
                         name("ns1.example.test."), name("hostmaster.example.test."), 1, 0, 0, 0, 0))),
        Rcode.NOERROR, answer=(EX_SOA.format(3600),), lookup=False),
    # ---- size (RFC 1035 4.2.1, RFC 6891 7) ----
    Row("an RRset over 512 octets on UDP: none of it, TC set (never part of an RRset)",
        query("bigger.edge.test.", RRType.TXT), Rcode.NOERROR, flags="qr aa tc", lookup=False),
    Row("EDNS 4096 is held to our 1232: the RRset still does not fit, TC set",
        query("bigger.edge.test.", RRType.TXT, edns=Edns(payload=4096)),
        Rcode.NOERROR, flags="qr aa tc", edns=OURS, lookup=False),
    Row("truncation keeps the whole RRsets before the one that does not fit (as NSD)",
        query("tobigger.edge.test.", RRType.TXT), Rcode.NOERROR, flags="qr aa tc",
        answer=("tobigger.edge.test. 3600 IN CNAME bigger.edge.test.",), lookup=False),
    Row("ANY over the limit: whole RRsets only", query("bigger.edge.test.", RRType.ANY),
        Rcode.NOERROR, flags="qr aa tc", lookup=False),
    Row("additional data that does not fit is left out whole, without TC (RFC 2181 9)",
        query("bigglue.edge.test.", RRType.MX), Rcode.NOERROR,
        answer=("bigglue.edge.test. 3600 IN MX 10 manyaddr.edge.test.",), lookup=False),
    Row("a referral whose NS set does not fit: none of it, TC (as NSD)",
        query("www.bigcut.edge.test."), Rcode.NOERROR, flags="qr tc", lookup=False),
    Row("over TCP the additional data fits", query("bigglue.edge.test.", RRType.MX), Rcode.NOERROR,
        answer=("bigglue.edge.test. 3600 IN MX 10 manyaddr.edge.test.",),
        additional=tuple(f"manyaddr.edge.test. 3600 IN A 192.0.2.{i}" for i in range(100, 140)),
        limit=0xFFFF),
    Row("over TCP the whole RRset", query("bigger.edge.test.", RRType.TXT),
        Rcode.NOERROR, answer=TXT_BIG, limit=0xFFFF),
]


@pytest.fixture(scope="module", params=["precomputed", "on-first-use", "keys-by-index"])
def authority(request: pytest.FixtureRequest) -> Authority:
    """Every row three times: bodies built at load (small zones), on first use (big
    zones), and on first use from zones whose owner keys the index makes itself (zones not
    read from a file: the reader's keys are not there)."""
    zones = [parse_zone(path.read_text(encoding="utf-8"), filename=path.name) for path in ZONE_FILES]
    assert all(len(zone.owner_keys) == len(zone.records) for zone in zones)
    if request.param == "keys-by-index":
        zones = [Zone(zone.origin, zone.records) for zone in zones]
    return Authority(zones, clock=lambda: NOW, precompute=request.param == "precomputed")


def octets(row: Row) -> bytes:
    return row.query if isinstance(row.query, bytes) else encode(row.query)


def texts(records: tuple[Record, ...]) -> tuple[str, ...]:
    return tuple(r.to_text() for r in records if r.rtype != RRType.OPT)


@pytest.mark.parametrize("row", ROWS, ids=[row.description for row in ROWS])
def test_answer(row: Row, authority: Authority) -> None:
    data = octets(row)
    response = authority.respond(data, row.limit)
    # The fast path (precomputed bodies, then the exact-response cache) and the full codec
    # agree octet for octet.
    assert response == authority.answerer.respond(data, row.limit)
    assert authority.respond(data, row.limit) == response
    if row.rcode is None:
        assert response is None
        return
    assert response is not None and response[:2] == data[:2]
    message = decode(response)
    assert message.rcode == row.rcode
    assert " ".join(message.header.flag_names()) == row.flags
    assert message.header.opcode == decode_header(data)[0].opcode
    if isinstance(row.query, Message) and row.query.header.opcode != Opcode.QUERY:
        assert message.question == ()  # other opcodes: the header alone, as BIND and NSD
    elif isinstance(row.query, Message) and len(row.query.question) == 1 and row.rcode != Rcode.FORMERR:
        assert message.question == row.query.question  # the question as asked, its case kept
    assert texts(message.answer) == row.answer
    assert texts(message.authority) == row.authority
    assert texts(message.additional) == row.additional
    edns = message.edns
    assert (edns.to_text() if edns is not None else None) == row.edns


@pytest.mark.parametrize("row", [r for r in ROWS if r.lookup and isinstance(r.query, Message)],
                         ids=lambda r: r.description)
def test_lookup(row: Row, authority: Authority) -> None:
    assert isinstance(row.query, Message)
    (q,) = row.query.question
    found = authority.answerer.lookup(q.name, q.rtype, q.rclass)
    assert found.rcode == row.rcode
    assert found.aa == ("aa" in row.flags.split())
    assert texts(found.answer) == row.answer
    assert texts(found.authority) == row.authority
    assert texts(found.additional) == row.additional


def test_another_id_gets_the_same_answer_under_its_own_id(authority: Authority) -> None:
    first = authority.respond(encode(query("www.example.test.", ident=1)))
    second = authority.respond(encode(query("www.example.test.", ident=0xBEEF)))
    assert first is not None and second is not None
    assert second[:2] == b"\xbe\xef" and second[2:] == first[2:]


def test_transfer_over_tcp_only_from_allowed_clients(authority: Authority) -> None:
    axfr = encode(query("example.test.", RRType.AXFR))
    messages = [decode(m) for m in authority.respond_stream(axfr, "127.0.0.1")]
    records = [r for m in messages for r in m.answer]
    assert records[0].rtype == RRType.SOA and records[-1].rtype == RRType.SOA  # RFC 5936 2.2
    refused = [decode(m) for m in authority.respond_stream(axfr, "192.0.2.9")]
    assert [m.rcode for m in refused] == [Rcode.REFUSED]
    plain = authority.respond_stream(encode(query("host.example.test.")), "192.0.2.9")
    assert plain == [authority.respond(encode(query("host.example.test.")), 0xFFFF)]


def test_a_node_holds_its_one_record_alone_until_a_second_comes() -> None:
    owner = Name.from_text("n.example.test.")
    a1, a2 = Record.make(owner, 60, A("192.0.2.1")), Record.make(owner, 60, A("192.0.2.2"))
    txt = Record.make(owner, 60, Opaque(b"\x01x"), rclass=RRClass.IN)
    node = Node(a1)
    assert node.held is a1 and node.by_type == {RRType.A: [a1]} and node.records() == [a1]
    node.by_type[RRType.A].append(a2)  # a copy for a lone record: the node is unchanged
    assert node.records() == [a1]
    node.add(a2)
    node.add(txt)
    assert node.by_type == {RRType.A: [a1, a2], txt.rtype: [txt]}
    assert node.records() == [a1, a2, txt]
