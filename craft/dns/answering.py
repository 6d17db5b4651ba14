"""Authoritative answering (RFC 1034 4.3.2, RFC 2308, RFC 6891): a query message in, a
response message out.

``Answerer`` owns the meaning of an answer: finding the closest zone, wildcards (RFC 4592),
CNAME chains, DNAME redirection with its synthesized CNAME (RFC 6672), glue, referrals at
zone cuts, DS at a cut and at a child apex we also serve, ANY, the EDNS rules (one OPT,
BADVERS), TSIG (``craft.dns.tsig`` checks a signed query's octets, the answer is signed or
the TSIG error given), NOTIMP opcodes, zone transfers handed to ``craft.dns.transfer``, the
size a response may take (truncation by whole RRsets with their RRSIGs, TC), and for a
signed zone asked with DO, the RRSIGs of every RRset and the denial proofs
``craft.dns.denial`` picks (RFC 4035 3.1; AD never set, CD copied). ``respond``
does all of it over bytes with the full codec, with the reasons RFC 8914 gives errors and
the COOKIE and NSID of ``craft.dns.server_edns``; ``craft.dns.answer_cache`` puts the
precomputed fast path in front of it. Nothing here does I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from craft.dns.codec import decode, decode_header, encode
from craft.dns.constants import Opcode, Rcode, RRClass, RRType
from craft.dns.denial import Denial, covers
from craft.dns.edns import ExtendedError
from craft.dns.message import Edns, Header, Message, Record
from craft.dns.names import MAX_NAME, Name
from craft.dns.rdata import CNAME, MX, NS, SOA, SRV, Opaque, Rdata
from craft.dns.server_edns import NOT_AUTHORITATIVE, ServerEdns, ede_for, with_ede
from craft.dns.transfer import LOOPBACK, Network, is_transfer, transfer_response
from craft.dns.tsig import Check, Keyring, StreamSigner, check_request, record_size, sign_answer
from craft.dns.wire import HEADER, HEADER_SIZE, Reader, WireError, Writer
from craft.dns.zone import Zone

_CHAIN_TYPES = frozenset({RRType.NSEC3, RRType.RRSIG})
# Never followed by RRSIGs of their own: signatures, NSEC3 (the proofs bring theirs), OPT.
_UNSIGNED_TYPES = frozenset({RRType.RRSIG, RRType.NSEC3, RRType.OPT, RRType.TSIG})
OUR_PAYLOAD = 1232  # RFC 9715-era default: avoids IP fragmentation on common paths
UDP_MIN = 512
MAX_CNAME_CHAIN = 16  # BIND and NSD follow at least 11 links; loops end sooner (seen names)
EDNS_VERSION = 0

@dataclass(frozen=True, slots=True)
class Lookup:
    """The outcome of looking a question up in the zones, as values."""

    rcode: int
    aa: bool
    answer: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()

    @property
    def ede(self) -> ExtendedError | None:
        """Why, for RFC 8914: a lookup refuses only names in none of our zones."""
        return NOT_AUTHORITATIVE if self.rcode == Rcode.REFUSED else None


class Node:
    """All records at one owner name, by type. Most owners of a big zone have one record:
    the node then holds that record alone, and ``by_type`` makes its one-entry dict when
    asked (a dict and a list kept for every owner were a third of a big zone's memory)."""

    __slots__ = ("held",)

    def __init__(self, record: Record) -> None:
        self.held: Record | dict[int, list[Record]] = record

    @property
    def by_type(self) -> dict[int, list[Record]]:
        """The records by type; not to be changed (``add`` adds)."""
        held = self.held
        return held if isinstance(held, dict) else {held.rtype: [held]}

    def add(self, record: Record) -> None:
        held = self.held
        if not isinstance(held, dict):
            held = self.held = {held.rtype: [held]}
        held.setdefault(record.rtype, []).append(record)

    def records(self) -> list[Record]:
        held = self.held
        if not isinstance(held, dict):
            return [held]
        return [r for records in held.values() for r in records]


class ZoneIndex:
    """One zone's records indexed by lower-cased owner name."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.origin = zone.origin
        self.nodes: dict[bytes, Node] = {}
        self.nonterminals: set[bytes] = set()
        depth = len(self.origin.labels)
        # NSEC3 records and their RRSIGs are kept apart: hashed owners are no names of the
        # zone (RFC 5155 7.2.9), only links of the chain ``craft.dns.denial`` proofs use.
        nsec3: list[Record] = []
        nsec3_sigs: list[Record] = []
        owner_keys = zone.owner_keys  # made by the zone-file reader, when it read the zone
        if len(owner_keys) != len(zone.records):
            owner_keys = tuple(record.name.key for record in zone.records)
        nodes, nonterminals = self.nodes, self.nonterminals  # locals: a million rounds
        for record, key in zip(zone.records, owner_keys, strict=True):
            if record.rtype in _CHAIN_TYPES:
                if record.rtype == RRType.NSEC3:
                    nsec3.append(record)
                    continue
                if covers(record, RRType.NSEC3):
                    nsec3_sigs.append(record)
                    continue
            node = nodes.get(key)
            if node is not None:
                node.add(record)
                continue
            nodes[key] = Node(record)
            # Each ancestor's key is a suffix of this one (wire form): cut a label at a
            # time, and stop at one already known, whose own ancestors are in too.
            for _ in range(len(record.name.labels) - depth):
                key = key[key[0] + 1 :]
                if key in nonterminals:
                    break
                nonterminals.add(key)
        soa = zone.soa
        assert isinstance(soa.rdata, SOA)
        # RFC 2308 3: the negative TTL is the smaller of the SOA's TTL and MINIMUM.
        self.negative_soa = Record(
            soa.name, soa.rtype, soa.rclass, min(soa.ttl, soa.rdata.minimum), soa.rdata
        )
        # Signed: a DNSKEY at the apex. Only then are RRSIGs and proofs added for DO.
        apex = self.nodes.get(self.origin.key)
        self.denial: Denial | None = None
        if apex is not None and RRType.DNSKEY in apex.by_type:
            nsec = [r for node in self.nodes.values() for r in node.by_type.get(RRType.NSEC, ())]
            param = apex.by_type.get(RRType.NSEC3PARAM, [None])[0]
            self.denial = Denial(self.origin, nsec, nsec3, nsec3_sigs, param)

    def exists(self, key: bytes) -> bool:
        """Whether a name is in the zone: it owns records or is an empty non-terminal."""
        return key in self.nodes or key in self.nonterminals

    def wildcard(self, qname: Name) -> Node | None:
        """The records a name that does not exist takes from a wildcard (RFC 4592 3.3.1):
        those of ``*.<closest encloser>``. None when that wildcard is absent."""
        return self.nodes.get(Name((b"*", *self.encloser(qname).labels)).key)

    def encloser(self, qname: Name) -> Name:
        """The closest encloser of a name that does not exist: its nearest ancestor that
        does (the apex at worst)."""
        labels = qname.labels
        for depth in range(len(labels) - 1, len(self.origin.labels), -1):
            encloser = Name(labels[len(labels) - depth :])
            if self.exists(encloser.key):
                return encloser
        return self.origin

    def delegation(self, qname: Name, at_cut: bool = True) -> Node | None:
        """The NS set of a zone cut between the apex and ``qname``, if any (a referral).
        ``at_cut=False`` leaves out a cut at qname itself: DS there is the parent's own
        data, answered rather than referred (RFC 4035 3.1.4.1)."""
        found = self.descent(qname, at_cut, dname=False)
        return found[1] if found is not None else None

    def descent(self, qname: Name, at_cut: bool = True,
                dname: bool = True) -> tuple[int, Node] | None:
        """What ends the walk from the apex down to ``qname`` before qname's own node, the
        one nearest the apex: a zone cut (``RRType.NS``: a referral) or a DNAME owned by a
        proper ancestor (``RRType.DNAME``: a redirection, RFC 6672 2.3). A DNAME at qname
        itself redirects nothing: it is that name's data."""
        labels = qname.labels
        top = len(self.origin.labels)
        for depth in range(top, len(labels) + 1):
            node = self.nodes.get(Name(labels[len(labels) - depth :]).key)
            if node is None:
                continue
            if depth > top and RRType.NS in node.by_type and (at_cut or depth < len(labels)):
                return RRType.NS, node
            if dname and depth < len(labels) and RRType.DNAME in node.by_type:
                return RRType.DNAME, node
        return None


class Answerer:
    """Answers queries for a set of zones, authoritatively, as messages."""

    def __init__(self, zones: Sequence[Zone], payload: int = OUR_PAYLOAD,
                 allow_transfer: Sequence[Network | Name] = LOOPBACK,
                 clock: Callable[[], float] = time.time, keys: Keyring | None = None,
                 explain: ServerEdns | None = None) -> None:
        self.payload = payload
        self.clock = clock  # for TSIG, errors and cookies; the only clock the answers read
        # COOKIE, NSID and BADCOOKIE (craft.dns.server_edns); a fresh cookie secret if none.
        self.explain = explain if explain is not None else ServerEdns()
        self.zone_list = list(zones)
        self.allow_transfer = list(allow_transfer)
        self.keys = keys if keys is not None else Keyring()
        self.zones = sorted(
            (ZoneIndex(z) for z in zones), key=lambda z: len(z.origin.labels), reverse=True
        )

    @property
    def origins(self) -> list[Name]:
        return [z.origin for z in self.zones]

    def find_zone(self, qname: Name) -> ZoneIndex | None:
        for index in self.zones:  # longest origin first: the closest enclosing zone
            if qname.is_subdomain_of(index.origin):
                return index
        return None

    def lookup(self, qname: Name, qtype: int, qclass: int, dnssec: bool = False) -> Lookup:
        """``dnssec``: the query's DO bit; a signed zone's answers then carry RRSIGs for
        every RRset and the NSEC/NSEC3 proofs of what does not exist (RFC 4035 3.1)."""
        found = self._lookup(qname, qtype, qclass, dnssec)
        index = self.answering_zone(qname, qtype)
        if not dnssec or index is None or found.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN):
            return found
        return Lookup(found.rcode, found.aa, self._signed(found.answer, index),
                      self._signed(found.authority, index), self._signed(found.additional, index))

    def _lookup(self, qname: Name, qtype: int, qclass: int, dnssec: bool) -> Lookup:
        if qclass not in (RRClass.IN, RRClass.ANY):
            return Lookup(Rcode.REFUSED, False)
        index = self.answering_zone(qname, qtype)
        if index is None:
            return Lookup(Rcode.REFUSED, False)
        if qtype == RRType.AXFR:
            return Lookup(Rcode.NOTIMP, False)  # AXFR is TCP-only (RFC 5936 4.2)
        if qtype == RRType.IXFR:
            if not qname.equals(index.origin):
                return Lookup(Rcode.NOTAUTH, False)
            # RFC 1995 2: over UDP, the current SOA alone sends the client to TCP.
            return Lookup(Rcode.NOERROR, True, (index.zone.soa,))
        # A CNAME chain inside the zone is followed (RFC 1034 4.3.2 step 3a); whatever ends
        # it (data, NODATA, NXDOMAIN, a referral) is answered after the CNAMEs, with the SOA
        # for the negative ends (RFC 2308 3) and the rcode of the last name (RFC 6604 3).
        answer: list[Record] = []
        seen: set[bytes] = set()
        name = qname
        denial = index.denial if dnssec else None
        proofs: list[Record] = []  # wildcard proofs of the chain's links (RFC 4035 3.1.3.3)
        for _ in range(MAX_CNAME_CHAIN + 1):
            seen.add(name.key)
            stop = index.descent(name, at_cut=qtype != RRType.DS)
            if stop is not None and stop[0] == RRType.NS:
                ns = stop[1].by_type[RRType.NS]
                cut: list[Record] = list(ns)
                if denial is not None:  # RFC 4035 3.1.4: the DS, or the proof there is none
                    cut += stop[1].by_type.get(RRType.DS) or denial.nodata(ns[0].name)
                return Lookup(Rcode.NOERROR, bool(answer), tuple(answer), (*cut, *proofs),
                              self._glue(ns, referral=True))
            if stop is not None:
                # RFC 6672 2.3: the DNAME, then a CNAME from the name to the name rewritten
                # under the DNAME's target, with the DNAME's TTL; then on, as for a CNAME.
                dname = stop[1].by_type[RRType.DNAME][0]
                answer.append(dname)
                target = _dname_target(dname.rdata)
                if target is None:
                    break
                # The kept labels lower-cased, as NSD writes them: the answer cache's bodies
                # serve every spelling of a question, so nothing may depend on its case.
                kept = name.lower().labels[: len(name.labels) - len(dname.name.labels)]
                rewritten = Name(kept + target.labels)
                if rewritten.wire_length() > MAX_NAME:
                    return Lookup(Rcode.YXDOMAIN, True, tuple(answer))  # RFC 6672 2.2
                answer.append(Record(name, RRType.CNAME, dname.rclass, dname.ttl, CNAME(rewritten)))
                if (qtype == RRType.CNAME or not rewritten.is_subdomain_of(index.origin)
                        or rewritten.key in seen):
                    break
                name = rewritten
                continue
            node = index.nodes.get(name.key)
            if node is None and name.key in index.nonterminals:
                proofs += denial.nodata(name) if denial else ()
                return Lookup(Rcode.NOERROR, True, tuple(answer), (index.negative_soa, *proofs))
            synthesized = node is None
            encloser = index.origin
            if node is None:
                encloser = index.encloser(name)
                node = index.wildcard(name)
                if node is None:
                    proofs += denial.nxdomain(name, encloser) if denial else ()
                    return Lookup(Rcode.NXDOMAIN, True, tuple(answer),
                                  (index.negative_soa, *proofs))
            owned = _owned_by(name) if synthesized else list
            if qtype == RRType.ANY:
                # With DO the RRSIGs follow each RRset, added with the others' below.
                answer.extend(owned(r for r in node.records()
                                    if denial is None or r.rtype != RRType.RRSIG))
                proofs += denial.wildcard_answer(name, encloser) if denial and synthesized else ()
                break
            if qtype in node.by_type:
                answer.extend(owned(node.by_type[qtype]))
                proofs += denial.wildcard_answer(name, encloser) if denial and synthesized else ()
                break
            cname = node.by_type.get(RRType.CNAME)
            if not cname or qtype == RRType.CNAME:
                if denial is not None:
                    proofs += (denial.wildcard_nodata(name, encloser) if synthesized
                               else denial.nodata(name))
                return Lookup(Rcode.NOERROR, True, tuple(answer), (index.negative_soa, *proofs))
            answer.extend(owned(cname))
            proofs += denial.wildcard_answer(name, encloser) if denial and synthesized else ()
            target = _target(cname[0].rdata)
            if target is None or not target.is_subdomain_of(index.origin) or target.key in seen:
                break  # the chain leaves the zone (the resolver follows it) or loops
            name = target
        return Lookup(Rcode.NOERROR, True, tuple(answer), tuple(proofs), self._glue(answer))

    def _signed(self, records: Sequence[Record], index: ZoneIndex) -> tuple[Record, ...]:
        """``records`` with each RRset followed by its RRSIGs from the signed zone that holds
        it (``index``, the zone asked, first): a wildcard's for names it made (RFC 4035
        3.1.3.3), at the RRset's TTL. Glue and unsigned zones have none."""
        out: list[Record] = []
        for rrset in _rrsets(records):
            out.extend(rrset)
            first = rrset[0]
            if first.rtype in _UNSIGNED_TYPES or any(r.rtype == RRType.RRSIG for r in rrset):
                continue
            for zone in (index, self.find_zone(first.name)):
                if zone is None or zone.denial is None or not first.name.is_subdomain_of(zone.origin):
                    continue
                node = zone.nodes.get(first.name.key)
                if node is None and not zone.exists(first.name.key):
                    node = zone.wildcard(first.name)
                sigs = [Record(first.name, RRType.RRSIG, sig.rclass, first.ttl, sig.rdata)
                        for sig in (node.by_type.get(RRType.RRSIG, ()) if node else ())
                        if covers(sig, first.rtype)]
                if sigs:  # else perhaps the other zone's (DS at a child apex: the parent)
                    out.extend(sigs)
                    break
        return tuple(out)

    def answering_zone(self, qname: Name, qtype: int) -> ZoneIndex | None:
        """The zone that answers: the closest enclosing one, but DS at a child's apex is
        the parent's data (RFC 4035 3.1.4.1): when we serve the parent too, it answers, as
        BIND and NSD do."""
        index = self.find_zone(qname)
        if index is not None and qtype == RRType.DS and qname.equals(index.origin):
            index = self.parent_zone(index) or index
        return index

    def parent_zone(self, child: ZoneIndex) -> ZoneIndex | None:
        """The closest zone of ours above ``child``'s apex, if we serve one."""
        for index in self.zones:
            if index is not child and len(index.origin.labels) < len(child.origin.labels) \
                    and child.origin.is_subdomain_of(index.origin):
                return index
        return None

    def _glue(self, records: Iterable[Record], referral: bool = False) -> tuple[Record, ...]:
        """A/AAAA for name targets of NS, MX and SRV that our zones hold (RFC 1035 3.3).
        Addresses at or below a zone cut are glue, not our data: they go only with the
        referral that needs them (RFC 2181 5.4.1)."""
        glue: list[Record] = []
        seen: set[bytes] = set()
        for record in records:
            rdata = record.rdata
            target = None
            if isinstance(rdata, NS | SRV):
                target = rdata.target
            elif isinstance(rdata, MX):
                target = rdata.exchange
            if target is None or target.key in seen:
                continue
            seen.add(target.key)
            index = self.find_zone(target)
            if index is None or (not referral and index.delegation(target) is not None):
                continue
            node = index.nodes.get(target.key)
            if node is not None:
                glue.extend(node.by_type.get(RRType.A, ()))
                glue.extend(node.by_type.get(RRType.AAAA, ()))
        return tuple(glue)

    def answer(self, query: Message) -> Message | None:
        """The response to a decoded query, as a message (None: drop it)."""
        if query.header.qr:
            return None
        refusal = self.refusal(query)
        if refusal is not None:
            return refusal
        q = query.question[0]
        edns = query.edns
        found = self.lookup(q.name, q.rtype, q.rclass, edns is not None and edns.do)
        header = replace(_reply_header(query.header), aa=found.aa, rcode=found.rcode)
        return Message(
            header, query.question, found.answer, found.authority, found.additional
        ).with_edns(self.reply_edns(query, found.ede))

    def reply_edns(self, query: Message, ede: ExtendedError | None = None) -> Edns | None:
        """The OPT a response carries: ours, with the query's DO bit (and ``ede``), when
        it had one."""
        opts = [r for r in query.additional if r.rtype == RRType.OPT]
        if not opts:
            return None
        return Edns(payload=self.payload, do=Edns.from_record(opts[0]).do,
                    options=(ede,) if ede is not None else ())

    def error(self, query: Message, rcode: int, why: str = "") -> Message:
        """The header-and-question response carrying ``rcode`` (extended with the OPT);
        ``why``: a FORMERR's reason, an EDE 0 when the query has EDNS (RFC 8914)."""
        e = self.reply_edns(query, ExtendedError(0, why) if why else None)
        if e is not None and rcode > 0xF:
            e = replace(e, ext_rcode=rcode >> 4)
        header = replace(_reply_header(query.header), rcode=rcode & 0xF)
        # The question only for QUERY: other opcodes give their sections other meanings
        # (RFC 2136 2.3: an UPDATE's zone section is one SOA question), so BIND and NSD
        # answer what they do not implement with the header alone.
        question = query.question if query.header.opcode == Opcode.QUERY else ()
        return Message(header, question).with_edns(e)

    def refusal(self, query: Message) -> Message | None:
        """The error response a query gets before any lookup (FORMERR, BADVERS, NOTIMP),
        or None when it may be answered."""
        def error(rcode: int, why: str = "") -> Message:
            return self.error(query, rcode, why)

        opts = [r for r in query.additional if r.rtype == RRType.OPT]
        # RFC 6891 6.1.1: one OPT at most, owned by the root, in the additional section only;
        # RFC 8945 5.1: a TSIG too belongs there and nowhere else.
        if (len(opts) > 1 or (opts and opts[0].name.labels)
                or any(r.rtype in (RRType.OPT, RRType.TSIG)
                       for r in (*query.answer, *query.authority))):
            return error(Rcode.FORMERR, "OPT or TSIG out of place (RFC 6891 6.1.1, RFC 8945 5.1)")
        if opts and Edns.from_record(opts[0]).version > EDNS_VERSION:
            return error(Rcode.BADVERS)
        signed = [i for i, r in enumerate(query.additional) if r.rtype == RRType.TSIG]
        if signed:
            # RFC 8945 5.1, 5.2: one TSIG, last, or FORMERR. ``respond`` and ``transfer``
            # check a well-placed one on the octets before this; a message given here
            # still signed has no octets to check: NOTAUTH with an unsigned BADKEY TSIG.
            last = len(query.additional) - 1
            badkey = _tsig_badkey(query.additional[-1], int(self.clock())) if signed == [last] else None
            if badkey is None:
                return error(Rcode.FORMERR)
            refused = error(Rcode.NOTAUTH)
            return replace(refused, additional=(*refused.additional, badkey))
        if query.header.opcode != Opcode.QUERY:
            return error(Rcode.NOTIMP)
        if len(query.question) != 1:
            return error(Rcode.FORMERR, f"{len(query.question)} questions (a QUERY has one)")
        if query.question[0].rtype == RRType.IXFR and not any(
                r.rtype == RRType.SOA for r in query.authority):
            return error(Rcode.FORMERR, "IXFR without the client's SOA in authority (RFC 1995 3)")
        return None

    def respond(self, data: bytes, limit: int = UDP_MIN, client: str | None = None,
                tcp: bool = False) -> bytes | None:
        """Response bytes for query bytes through the full codec; ``limit`` is the
        transport's size limit without EDNS (512 for UDP, 65535 for TCP), raised to the
        client's EDNS size within ours. ``client`` (its IP address) and ``tcp`` are for
        cookies. ``None`` means drop: not even a header to answer."""
        try:
            query = decode(data)
        except WireError as exc:  # the reason goes back as an EDE when the query has EDNS
            return with_ede(error_reply(data, Rcode.FORMERR), data, ede_for(exc), self.payload)
        check = self.tsig_check(query, data)
        if check is not None:
            query = replace(query, additional=query.additional[:-1])
            if check.error:  # never zone data after a failed check (RFC 8945 5.2)
                return sign_answer(encode(self.error(query, Rcode.NOTAUTH)), check,
                                   int(self.clock()))
        response = self.answer(query)
        if response is None:
            return None
        response = self.explain.finish(query, response, client, tcp, int(self.clock()))
        edns = query.edns
        if edns is not None:  # the client's size, within ours (as BIND's and NSD's)
            limit = max(limit, min(edns.payload, self.payload), UDP_MIN)
        if check is None:
            return fit(response, limit)
        return sign_answer(fit(response, limit - record_size(check)), check, int(self.clock()))

    def tsig_check(self, query: Message, data: bytes) -> Check | None:
        """The check of a query's TSIG against our keys (RFC 8945 5.2), when it is
        signed as the RFC allows (one TSIG, last in additional, a query); None otherwise,
        and ``refusal`` answers the misplaced ones."""
        signed = [i for i, r in enumerate(query.additional) if r.rtype == RRType.TSIG]
        if query.header.qr or signed != [len(query.additional) - 1] or any(
                r.rtype == RRType.TSIG for r in (*query.answer, *query.authority)):
            return None
        try:
            return check_request(data, self.keys, int(self.clock()))
        except WireError:
            return None  # unreadable: ``refusal`` answers FORMERR

    def transfer(self, data: bytes, client: str) -> Iterable[bytes] | None:
        """The messages of a zone transfer (AXFR/IXFR over TCP) answering ``data``, or None
        when ``data`` is not a transfer request that may be answered as one."""
        if len(data) < HEADER_SIZE or data[2] & 0x80:
            return None
        try:
            query = decode(data)
        except WireError:
            return None
        if not is_transfer(query):
            return None
        check = self.tsig_check(query, data)
        if check is not None:
            if check.error or check.key is None:
                return None  # answered by ``respond``: the TSIG error, no zone data
            query = replace(query, additional=query.additional[:-1])
        if self.refusal(query) is not None:
            return None
        messages = transfer_response(query, self.zone_list, client, self.allow_transfer,
                                     self.reply_edns(query),
                                     check.key.name if check is not None and check.key else None)
        if check is None or check.key is None:
            return messages
        # RFC 8945 5.3.1: every message signed, each MAC chained to the one before.
        signer = StreamSigner(check.key, check.mac, int(self.clock()), check.signed.rdata.fudge)
        return signer.stream(messages)


def error_reply(data: bytes, rcode: int) -> bytes | None:
    """A header-only response with the query's ID, opcode and RD and ``rcode``: for when
    the rest of the query cannot be read (FORMERR) or not be answered (SERVFAIL). None
    when there is no query header to answer."""
    try:
        header, _ = decode_header(data)
    except WireError:
        return None
    if header.qr:
        return None
    rd = 0x0100 if header.rd and header.opcode == Opcode.QUERY else 0
    flags = 0x8000 | (header.opcode << 11) | rd | rcode
    return HEADER.pack(header.id, flags, 0, 0, 0, 0)


TSIG_BADKEY = 17


def _tsig_badkey(request: Record, now: int) -> Record | None:
    """The TSIG of a BADKEY error (RFC 8945 5.2.1): the request's key name, algorithm,
    fudge and original ID, our time, no MAC, error 17 (as BIND sends it). None when the
    request's TSIG cannot be read (its algorithm name is uncompressed, RFC 8945 4.2)."""
    if isinstance(request.rdata, Opaque):
        data = request.rdata.data
    else:  # a typed TSIG: its octets (the algorithm name is never compressed)
        writer = Writer()
        request.rdata.encode(writer, compress=False)
        data = writer.getvalue()
    pos = 0
    while pos < len(data) and data[pos] != 0:
        if data[pos] > 63:
            return None
        pos += data[pos] + 1
    pos += 1  # the root label
    if pos + 10 > len(data):
        return None
    mac_size = int.from_bytes(data[pos + 8 : pos + 10], "big")
    tail = pos + 10 + mac_size
    if tail + 6 > len(data) or tail + 6 + int.from_bytes(data[tail + 4 : tail + 6], "big") != len(data):
        return None
    algorithm, fudge, original_id = data[:pos], data[pos + 6 : pos + 8], data[tail : tail + 2]
    rdata = (algorithm + (now % 2**48).to_bytes(6, "big") + fudge + b"\0\0"  # no MAC
             + original_id + TSIG_BADKEY.to_bytes(2, "big") + b"\0\0")
    return Record(request.name, RRType.TSIG, RRClass.ANY, 0, Opaque(rdata))


def fit(message: Message, limit: int) -> bytes:
    """``message`` encoded within ``limit`` octets: whole RRsets that fit, in order, and
    none after the first that does not (RFC 2181 9: never part of an RRset, as NSD; BIND
    with EDNS keeps fewer). TC is set when an answer or authority RRset was left out;
    missing additional data alone does not set it. The OPT (and a TSIG) always stay."""
    wire = encode(message)
    if len(wire) <= limit:
        return wire
    extras = tuple(r for r in message.additional if r.rtype in (RRType.OPT, RRType.TSIG))
    sections = (message.answer, message.authority,
                tuple(r for r in message.additional if r.rtype not in (RRType.OPT, RRType.TSIG)))
    kept: list[tuple[Record, ...]] = [(), (), ()]
    truncated = False
    for index, records in enumerate(sections):
        for rrset in _rrsets(records):
            trial = list(kept)
            trial[index] = (*trial[index], *rrset)
            if len(encode(replace(message, answer=trial[0], authority=trial[1],
                                  additional=(*trial[2], *extras)))) > limit:
                truncated = index < 2
                break
            kept = trial
        else:
            continue
        break
    header = replace(message.header, tc=message.header.tc or truncated)
    return encode(replace(message, header=header, answer=kept[0], authority=kept[1],
                          additional=(*kept[2], *extras)))


def _rrsets(records: Sequence[Record]) -> list[tuple[Record, ...]]:
    """Runs of records of one owner, type and class, each with the RRSIGs over it that
    follow it: the units truncation keeps or drops (RFC 4035 3.1.1: never a set without
    its signatures)."""
    groups: list[list[Record]] = []
    for record in records:
        head = groups[-1][0] if groups else None
        if (head is not None and head.rclass == record.rclass and head.name.key == record.name.key
                and (head.rtype == record.rtype
                     or (head.rtype != RRType.RRSIG and covers(record, head.rtype)))):
            groups[-1].append(record)
        else:
            groups.append([record])
    return [tuple(group) for group in groups]


def _reply_header(query: Header) -> Header:
    """A response's header before its outcome: ID and OPCODE copied; for QUERY, RD and CD
    too (RFC 1035 4.1.1, RFC 4035 3.1.6). Every other flag clear: other opcodes get QR
    and their opcode alone, as BIND answers them."""
    if query.opcode != Opcode.QUERY:
        return Header(id=query.id, qr=True, opcode=query.opcode)
    return Header(id=query.id, qr=True, opcode=query.opcode, rd=query.rd, cd=query.cd)


def _owned_by(name: Name) -> Callable[[Iterable[Record]], list[Record]]:
    """Wildcard records as the answer gives them: owned by the name asked (RFC 4592 2.1.1)."""
    return lambda records: [replace(record, name=name) for record in records]


def _target(rdata: Rdata) -> Name | None:
    return rdata.target if isinstance(rdata, CNAME) else None


def _dname_target(rdata: Rdata) -> Name | None:
    """A DNAME's target: a typed rdata's ``target``, or the one uncompressed name of its
    RFC 3597 octets. None when the octets are not exactly one name."""
    target = getattr(rdata, "target", None)
    if isinstance(target, Name):
        return target
    if not isinstance(rdata, Opaque):
        return None
    reader = Reader(rdata.data)
    try:
        name = reader.name("DNAME")
    except WireError:
        return None
    return name if reader.pos == len(rdata.data) else None


