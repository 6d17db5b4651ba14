"""Zones as values and the embedded default: the lab's table, each name its own zone.

A ``Zone`` is an origin plus its records (and a journal of recent changes, for IXFR); ``check`` enforces what an authoritative server
needs (one SOA at the apex, NS at the apex, every name inside the zone). Master-file text
is read by ``craft.dns.zonefile``; answering from zones is ``craft.dns.answering``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from craft.dns.constants import RRType
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdata import NS, SOA, A
from craft.errors import CraftError

DEFAULT_SERIAL = 2022101401
SOA_TTL = 3600
GLUE_ADDRESS = "127.0.0.1"

# The lab manual's Table 1, plus google.ca (craft's addition: the tutorial's report asks
# for a screenshot of google.ca, which Table 1 lacks).
LAB_TABLE: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("google.com", 260, ("192.165.1.1", "192.165.1.10")),
    ("youtube.com", 160, ("192.165.1.2",)),
    ("uwaterloo.ca", 160, ("192.165.1.3",)),
    ("wikipedia.org", 160, ("192.165.1.4",)),
    ("amazon.ca", 160, ("192.165.1.5",)),
    ("google.ca", 260, ("192.165.1.6",)),
)


class ZoneError(CraftError, ValueError):
    """A zone that cannot be served; ``where`` is ``file:line`` or the zone's origin."""


@dataclass(frozen=True, slots=True)
class ZoneChange:
    """What one reload changed in a zone, as IXFR sends it (RFC 1995 4): the SOA before
    and after, the records removed and those added (SOAs left out of both)."""

    old_soa: Record
    new_soa: Record
    removed: tuple[Record, ...]
    added: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class Zone:
    origin: Name
    records: tuple[Record, ...]
    # The last reloads' changes, oldest first, the newest ending at this zone's serial:
    # what an incremental zone transfer is made of (``craft.dns.transfer``).
    journal: tuple[ZoneChange, ...] = ()
    # Each record's owner as a lookup key (lower-cased wire form), in the order of
    # ``records``, when the zone-file reader already made them (empty otherwise): the
    # answer index takes them instead of encoding a million names again. A zone made
    # with other records must not carry them over (``dataclasses.replace`` would).
    owner_keys: tuple[bytes, ...] = field(default=(), compare=False, repr=False)

    @property
    def soa(self) -> Record:
        for record in self.records:
            if record.rtype == RRType.SOA and record.name.equals(self.origin):
                return record
        raise ZoneError(self.origin.to_text(), "no SOA record at the apex")

    @property
    def serial(self) -> int:
        rdata = self.soa.rdata
        assert isinstance(rdata, SOA)
        return rdata.serial

    def check(self) -> None:
        where = self.origin.to_text()
        soas = [r for r in self.records if r.rtype == RRType.SOA]
        if len(soas) != 1 or not soas[0].name.equals(self.origin):
            raise ZoneError(where, f"needs exactly one SOA, at the apex (found {len(soas)})")
        if not any(r.rtype == RRType.NS and r.name.equals(self.origin) for r in self.records):
            raise ZoneError(where, "no NS record at the apex")
        for record in self.records:
            if not record.name.is_subdomain_of(self.origin):
                raise ZoneError(where, f"{record.name.to_text()} is outside the zone")


def lab_zone(domain: str, ttl: int, addresses: tuple[str, ...], serial: int) -> Zone:
    origin = Name.from_text(domain + ".")
    ns = Name.from_text("ns1", origin)
    soa = SOA(ns, Name.from_text("hostmaster", origin), serial, 3600, 600, 86400, 300)
    records = [
        Record.make(origin, SOA_TTL, soa),
        Record.make(origin, SOA_TTL, NS(ns)),
        *(Record.make(origin, ttl, A(address)) for address in addresses),
        Record.make(ns, SOA_TTL, A(GLUE_ADDRESS)),
    ]
    return Zone(origin, tuple(records))


def default_zones(serial: int = DEFAULT_SERIAL) -> list[Zone]:
    """The embedded default: one zone per lab-table name."""
    return [lab_zone(domain, ttl, addrs, serial) for domain, ttl, addrs in LAB_TABLE]
