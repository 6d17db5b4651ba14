"""Zone transfers as pure functions: AXFR (RFC 5936), IXFR (RFC 1995: incremental from the
zone's journal of recent reloads, a full transfer when the client's serial is not in it),
NOTIFY messages (RFC 1996) and SOA serial arithmetic (RFC 1982).

The answering of a TCP query asks ``transfer_response`` for the messages to stream back; reloads
use ``reloaded`` (``bump_serial`` so secondaries see a change even when a zone file kept its
serial, and ``journaled`` to keep what changed, with the records compared once).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

from craft.dns.codec import encode
from craft.dns.constants import Opcode, Rcode, RRClass, RRType
from craft.dns.edns import ExtendedError
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import SOA
from craft.dns.server_edns import PROHIBITED
from craft.dns.transfer_wire import TransferWriter
from craft.dns.wire import HEADER_SIZE
from craft.dns.zone import Zone, ZoneChange

JOURNAL_RECORDS = 200_000  # removed + added records kept over all journaled changes of a zone
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def transfer_allowed(client: str, allowed: Sequence[Network | Name],
                     key: Name | None = None) -> bool:
    """Whether any entry lets the transfer in (entries are alternatives, as in BIND's
    allow-transfer): a network holding ``client``'s address, or the name of the TSIG key
    the request was verified with."""
    if key is not None and any(isinstance(rule, Name) and rule.equals(key) for rule in allowed):
        return True
    try:
        address = ipaddress.ip_address(client.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(not isinstance(rule, Name) and address in rule for rule in allowed)


def transfer_response(query: Message, zones: Sequence[Zone], client: str,
                      allowed: Sequence[Network | Name], edns: Edns | None = None,
                      key: Name | None = None) -> Iterable[bytes]:
    """The messages answering an AXFR or IXFR query over TCP: the zone with its SOA first
    and last, split over as many messages as needed and built as they are taken (a zone of
    millions of records streams in flat memory); for an IXFR from a client already at
    our serial (or a newer one), our SOA alone (RFC 1995 2); REFUSED or NOTAUTH otherwise.
    ``edns`` is the OPT every message carries when the query had one (RFC 6891 7); ``key``
    the name of the TSIG key the query was verified with (signing is the caller's)."""
    h = query.header
    # RFC 5936 2.2.1: ID, OPCODE, RD (and CD) copied from the query.
    base = Header(id=h.id, qr=True, opcode=h.opcode, aa=True, rd=h.rd, cd=h.cd)
    q = query.question[0]

    def refused(rcode: int, why: ExtendedError | None = None) -> list[bytes]:
        header = replace(base, aa=False, rcode=rcode)
        said = replace(edns, options=(*edns.options, why)) if edns and why else edns
        return [encode(Message(header, query.question).with_edns(said))]

    if q.rclass != RRClass.IN:
        return refused(Rcode.REFUSED)  # our zones are class IN (RFC 5936 2.1: QCLASS)
    zone = next((z for z in zones if z.origin.equals(q.name)), None)
    if zone is None:
        return refused(Rcode.NOTAUTH)
    if not transfer_allowed(client, allowed, key):
        return refused(Rcode.REFUSED, PROHIBITED)  # RFC 8914 4.19
    soa = zone.soa
    client_serial = _client_serial(query) if q.rtype == RRType.IXFR else None
    if client_serial is not None and not serial_newer(zone.serial, client_serial):
        return [encode(Message(base, query.question, (soa,)).with_edns(edns))]
    changes = _changes_since(zone, client_serial) if client_serial is not None else None
    if changes:
        return _Stream(base, query, zone, edns, lambda: _incremental(soa, changes))
    return _Stream(base, query, zone, edns)


class _Stream:
    """The messages of a full transfer, built on demand by ``TransferWriter`` (names
    compressed, at most ``MESSAGE_BUDGET`` octets of records a message), the SOA first and
    last."""

    def __init__(self, base: Header, query: Message, zone: Zone, edns: Edns | None,
                 body: Callable[[], Iterator[Record]] | None = None) -> None:
        self.zone = zone
        self.body = body or (lambda: _body(zone.soa, zone.records))
        self.question = query.question[0].name
        # Header and question of the first message, of the later ones (RFC 5936 2.2: the
        # question may be left out after the first), and the OPT each one ends with.
        self.first = encode(Message(base, query.question))
        self.later = encode(Message(base))
        self.opt = encode(Message().with_edns(edns))[HEADER_SIZE:] if edns is not None else b""

    def __iter__(self) -> Iterator[bytes]:
        writer = TransferWriter(self.first, self.later, self.opt, self.question)
        return writer.messages(self.body())


def _incremental(soa: Record, changes: Sequence[ZoneChange]) -> Iterator[Record]:
    """RFC 1995 4: the current SOA, then per change the old SOA, what went, the new SOA,
    what came; the current SOA again."""
    yield soa
    for change in changes:
        yield change.old_soa
        yield from change.removed
        yield change.new_soa
        yield from change.added
    yield soa


def _changes_since(zone: Zone, serial: int) -> list[ZoneChange] | None:
    """The journaled changes leading from ``serial`` to the zone's own, or None when the
    journal does not reach back to it (a full transfer then)."""
    for start, change in enumerate(zone.journal):
        if _serial_of(change.old_soa) == serial:
            chain = list(zone.journal[start:])
            linked = all(_serial_of(a.new_soa) == _serial_of(b.old_soa)
                         for a, b in itertools.pairwise(chain))
            return chain if linked and _serial_of(chain[-1].new_soa) == zone.serial else None
    return None


def _serial_of(soa: Record) -> int:
    return soa.rdata.serial if isinstance(soa.rdata, SOA) else -1


def journaled(old: Zone, new: Zone) -> Zone:
    """``new`` carrying ``old``'s journal, plus the change from ``old`` when there is one;
    the oldest changes go first once they hold more than ``JOURNAL_RECORDS`` records."""
    return _journaled(old, new, *_difference(old, new))


def _journaled(old: Zone, new: Zone, removed: Sequence[Record], added: Sequence[Record]) -> Zone:
    """``journaled``, given what went and what came (SOAs among them or not)."""
    if old.serial == new.serial:
        return Zone(new.origin, new.records, old.journal, new.owner_keys)
    change = ZoneChange(old.soa, new.soa, tuple(r for r in removed if r.rtype != RRType.SOA),
                        tuple(r for r in added if r.rtype != RRType.SOA))
    journal = [*old.journal, change]
    while journal and sum(len(c.removed) + len(c.added) for c in journal) > JOURNAL_RECORDS:
        journal.pop(0)
    return Zone(new.origin, new.records, tuple(journal), new.owner_keys)


def _difference(old: Zone, new: Zone) -> tuple[list[Record], list[Record]]:
    """The records of ``old`` not in ``new``, and those of ``new`` not in ``old``, in zone
    order. One set of each (hashing a million records takes seconds, so a reload makes
    them once: ``reloaded``)."""
    before, after = set(old.records), set(new.records)
    return ([r for r in old.records if r not in after],
            [r for r in new.records if r not in before])


def reloaded(old: Zone, new: Zone) -> tuple[Zone, bool]:
    """What a reload serves in place of ``old`` when the file now reads ``new``: its serial
    bumped if the content changed and the serial did not move (``bump_serial``), the
    journal carried and the change added (``journaled``); and whether anything changed.
    The same as ``journaled(old, bump_serial(old, new))``, with the records compared once."""
    removed, added = _difference(old, new)
    if not removed and not added:
        return _journaled(old, new, removed, added), False
    if not serial_newer(new.serial, old.serial):
        new = _bumped(old, new)  # only the SOA changes, and SOAs are not journaled
    return _journaled(old, new, removed, added), True


def _body(soa: Record, records: Sequence[Record]) -> Iterator[Record]:
    """The SOA, the other records, the SOA again (taken by C-level iterators: a million
    records pass through here)."""
    at = next((i for i, record in enumerate(records) if record is soa), len(records))
    return itertools.chain((soa,), itertools.islice(records, at),
                           itertools.islice(records, at + 1, None), (soa,))


def _client_serial(query: Message) -> int | None:
    """The serial of the SOA an IXFR query carries in its authority section."""
    for record in query.authority:
        if isinstance(record.rdata, SOA):
            return record.rdata.serial
    return None


def serial_newer(new: int, old: int) -> bool:
    """RFC 1982 serial number arithmetic: is ``new`` after ``old``?"""
    return new != old and ((new - old) % 2**32) < 2**31


def bump_serial(old: Zone, new: Zone) -> Zone:
    """``new``, with its serial moved past ``old``'s when its content changed and its
    serial did not (so secondaries notice the change)."""
    if set(old.records) == set(new.records) or serial_newer(new.serial, old.serial):
        return new
    return _bumped(old, new)


def _bumped(old: Zone, new: Zone) -> Zone:
    soa = new.soa
    assert isinstance(soa.rdata, SOA)
    bumped = replace(soa, rdata=replace(soa.rdata, serial=(old.serial + 1) % 2**32))
    return Zone(new.origin, tuple(bumped if r is soa else r for r in new.records),
                owner_keys=new.owner_keys)


def notify_message(zone: Zone, ident: int) -> Message:
    """A NOTIFY for ``zone`` (RFC 1996 3.7: AA set, the SOA as a hint in the answer)."""
    header = Header(id=ident, opcode=Opcode.NOTIFY, aa=True)
    return Message(header, (Question(zone.origin, RRType.SOA, RRClass.IN),), (zone.soa,))


def is_transfer(query: Message) -> bool:
    return (query.header.opcode == Opcode.QUERY and len(query.question) == 1
            and query.question[0].rtype in (RRType.AXFR, RRType.IXFR))
