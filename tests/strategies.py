"""Hypothesis strategies for DNS values (names, rdata, records, whole messages), shared by tests.

Messages draw their names from a small pool so that compression has suffixes to find, and
labels include odd octets (dots, zero, high bytes, upper case) because those are where
codecs go wrong. Record types are ones craft models plus opaque types that neither craft
nor Scapy decodes, so that every generated message has one correct reading.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from hypothesis import strategies as st

from craft.dns import edns as eo
from craft.dns.constants import RRClass, RRType
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import MAX_NAME, Name
from craft.dns.rdata import AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, A, Opaque, Rdata

# Types craft models, types Scapy decodes in its generic record (MD, MF, DNAME) and types
# with a dedicated Scapy class: an opaque record of any of these has two readings.
_DECODED_SOMEWHERE = frozenset(
    {int(t) for t in (RRType.A, RRType.NS, RRType.CNAME, RRType.SOA, RRType.PTR, RRType.MX,
                      RRType.TXT, RRType.AAAA, RRType.SRV, RRType.OPT)}
    | {3, 4, 39, 13, 35, 43, 46, 47, 48, 50, 51, 64, 65, 250, 32769}
)
# EDNS option codes with a class of their own in craft or in Scapy (Owner): raw options
# are drawn from the other codes, so each generated option has one reading.
_MODELLED_OPTIONS = frozenset({4} | set(eo.OPTION_TYPES))

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
ttls = st.integers(0, 0x7FFFFFFF)

plain_labels = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True).map(str.encode)
odd_labels = st.one_of(
    st.binary(min_size=1, max_size=63),
    st.sampled_from([b".", b"a.b", b"\x00", b"\xc0", b"\\", b" ", b"\xff" * 63, b"A" * 63]),
)
labels = st.one_of(plain_labels, plain_labels, odd_labels)


def _fit(parts: list[bytes]) -> Name:
    """Drop leading labels until the name fits 255 octets."""
    while sum(len(p) + 1 for p in parts) + 1 > MAX_NAME:
        parts = parts[1:]
    return Name(tuple(parts))


# Labels Scapy can hold as text: no dot inside, last octet below 0xC0 (Scapy takes text
# ending in such an octet for already-encoded wire data; see docs/oracle-gaps.md).
scapy_text_labels = labels.filter(lambda label: b"." not in label and label[-1] < 0xC0)


def names(label: st.SearchStrategy[bytes] = labels) -> st.SearchStrategy[Name]:
    return st.lists(label, max_size=5).map(_fit)


@st.composite
def name_pools(draw: st.DrawFn, label: st.SearchStrategy[bytes] = labels) -> list[Name]:
    """A few base names plus children of them, so suffixes repeat across a message."""
    bases = draw(st.lists(names(label), min_size=1, max_size=3))
    children = [
        _fit([draw(label), *draw(st.sampled_from(bases)).labels])
        for _ in range(draw(st.integers(0, 3)))
    ]
    return bases + children


ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
opaque_types = st.integers(0, 0xFFFF).filter(lambda t: t not in _DECODED_SOMEWHERE)
char_strings = st.lists(st.binary(max_size=255), min_size=1, max_size=4).map(tuple)


def rdatas(pool: st.SearchStrategy[Name]) -> st.SearchStrategy[tuple[int, Rdata]]:
    """(type, rdata) pairs for every type craft models and for opaque types."""
    typed: list[st.SearchStrategy[Rdata]] = [
        st.builds(A, ipv4),
        st.builds(AAAA, ipv6),
        st.builds(NS, pool),
        st.builds(CNAME, pool),
        st.builds(PTR, pool),
        st.builds(MX, u16, pool),
        st.builds(TXT, char_strings),
        st.builds(SOA, pool, pool, u32, u32, u32, u32, u32),
        st.builds(SRV, u16, u16, u16, pool),
    ]
    known = st.one_of(*typed).map(lambda r: (int(r.rtype), r))
    opaque = st.tuples(opaque_types, st.binary(max_size=40).map(Opaque))
    return st.one_of(known, known, opaque)


classes = st.one_of(st.just(int(RRClass.IN)), st.just(int(RRClass.IN)), u16)


@st.composite
def records(draw: st.DrawFn, pool: st.SearchStrategy[Name] | None = None) -> Record:
    pool = pool if pool is not None else names()
    rtype, rdata = draw(rdatas(pool))
    return Record(draw(pool), rtype, draw(classes), draw(ttls), rdata)




@st.composite
def client_subnets(draw: st.DrawFn) -> eo.ClientSubnet:
    """ECS with the address cut to its source prefix (family 0 is a Scapy gap, drawn apart)."""
    family = draw(st.sampled_from([1, 2]))
    bits = eo.ECS_FAMILIES[family]
    source, scope = draw(st.integers(0, bits)), draw(st.integers(0, bits))
    value = draw(st.integers(0, (1 << bits) - 1)) >> (bits - source) << (bits - source)
    address = ipaddress.IPv4Address(value) if family == 1 else ipaddress.IPv6Address(value)
    return eo.ClientSubnet(family, source, scope, str(address))


@st.composite
def zone_versions(draw: st.DrawFn) -> eo.ZoneVersion:
    if draw(st.booleans()):
        return eo.ZoneVersion()
    vtype = draw(u8)
    version = draw(st.binary(min_size=4, max_size=4) if vtype == 0 else st.binary(max_size=12))
    return eo.ZoneVersion(draw(u8), vtype, version)


def edns_option_values(names: st.SearchStrategy[Name] | None = None) -> st.SearchStrategy[eo.EdnsOption]:
    """Every option craft types, with values that survive encode and decode unchanged,
    and raw options of codes nobody models."""
    return st.one_of(
        st.builds(eo.RawOption, u16.filter(lambda c: c not in _MODELLED_OPTIONS),
                  st.binary(max_size=24)),
        st.builds(eo.NSID, st.binary(max_size=24)),
        st.builds(eo.DAU, st.lists(u8, max_size=5).map(tuple)),
        st.builds(eo.DHU, st.lists(u8, max_size=5).map(tuple)),
        st.builds(eo.N3U, st.lists(u8, max_size=5).map(tuple)),
        client_subnets(),
        st.builds(eo.Expire, st.none() | u32),
        st.builds(eo.Cookie, st.binary(min_size=8, max_size=8),
                  st.just(b"") | st.binary(min_size=8, max_size=32)),
        st.builds(eo.TcpKeepalive, st.none() | u16),
        st.builds(eo.Padding, st.binary(max_size=16)),
        st.builds(eo.Chain, names if names is not None else st.sampled_from(
            [Name.root(), Name.from_text("example.com."), Name.from_text("a.B.c.")])),
        st.builds(eo.KeyTag, st.lists(u16, min_size=1, max_size=4).map(tuple)),
        st.builds(eo.ExtendedError, u16, st.text(max_size=12)),
        zone_versions(),
    )


edns_options = st.lists(edns_option_values(), max_size=3).map(tuple)

ednses = st.builds(
    Edns,
    payload=u16,
    ext_rcode=u8,
    version=u8,
    do=st.booleans(),
    flags=st.integers(0, 0x7FFF),
    options=edns_options,
)

headers = st.builds(
    Header,
    id=u16,
    qr=st.booleans(),
    opcode=st.integers(0, 15),
    aa=st.booleans(),
    tc=st.booleans(),
    rd=st.booleans(),
    ra=st.booleans(),
    z=st.booleans(),
    ad=st.booleans(),
    cd=st.booleans(),
    rcode=st.integers(0, 15),
)


@st.composite
def messages(
    draw: st.DrawFn, max_records: int = 3, label: st.SearchStrategy[bytes] = labels
) -> Message:
    """A whole message: any header, 0-2 questions, up to ``max_records`` records in each
    section and, half the time, one OPT record somewhere in the additional section."""
    pool = st.sampled_from(draw(name_pools(label)))
    questions = draw(st.lists(st.builds(Question, pool, u16, u16), max_size=2))
    sections = [draw(st.lists(records(pool), max_size=max_records)) for _ in range(3)]
    if draw(st.booleans()):
        opt = draw(ednses).to_record()
        sections[2].insert(draw(st.integers(0, len(sections[2]))), opt)
    return Message(draw(headers), tuple(questions), *map(tuple, sections))


# ---- helpers for comparing messages (fold_case lives in craft.dns.message) ----


def all_names(message: Message) -> list[Name]:
    out = [q.name for q in message.question]
    for _, recs in message.sections():
        for rec in recs:
            out.append(rec.name)
            out.extend(
                getattr(rec.rdata, f.name)
                for f in dataclasses.fields(rec.rdata)
                if isinstance(getattr(rec.rdata, f.name), Name)
            )
    return out


def has_case_variants(message: Message) -> bool:
    """True when two names (or two suffixes) match only case-insensitively: compression,
    which matches case-insensitively, may then write one in the other's case."""
    seen: dict[bytes, tuple[bytes, ...]] = {}
    for name in all_names(message):
        for i in range(len(name.labels)):
            suffix = name.labels[i:]
            key = Name(suffix).key
            if seen.setdefault(key, suffix) != suffix:
                return True
    return False
