"""Record types made of names, numbers, addresses and strings (RFC 1035, 1183, 1706, 2163,
2230, 2915, 6672, 6742, 7043, 7553, 8659 and the TXT-like ones).

Names follow RFC 3597 4: only the RFC 1035 types are written compressed; RP, AFSDB, RT, PX,
NAPTR are read compressed too; the rest must come uncompressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from craft.dns.constants import RRType
from craft.dns.names import Name
from craft.dns.rdata import (
    NAME,
    NAME_PLAIN,
    NAME_STRICT,
    U8,
    U16,
    Address,
    CharStrings,
    Fields,
    Rdata,
    Rest,
)
from craft.dns.rdtypes.fields import (
    CaaTag,
    CharString,
    Groups,
    NsapHex,
    OptionalCharString,
    RestString,
)

STRINGS = CharStrings()
STRING = CharString()


@dataclass(frozen=True, slots=True)
class MD(Rdata):
    madname: Name
    rtype: ClassVar[int] = RRType.MD
    fields: ClassVar[Fields] = (("madname", NAME),)


@dataclass(frozen=True, slots=True)
class MF(Rdata):
    madname: Name
    rtype: ClassVar[int] = RRType.MF
    fields: ClassVar[Fields] = (("madname", NAME),)


@dataclass(frozen=True, slots=True)
class MB(Rdata):
    madname: Name
    rtype: ClassVar[int] = RRType.MB
    fields: ClassVar[Fields] = (("madname", NAME),)


@dataclass(frozen=True, slots=True)
class MG(Rdata):
    mgmname: Name
    rtype: ClassVar[int] = RRType.MG
    fields: ClassVar[Fields] = (("mgmname", NAME),)


@dataclass(frozen=True, slots=True)
class MR(Rdata):
    newname: Name
    rtype: ClassVar[int] = RRType.MR
    fields: ClassVar[Fields] = (("newname", NAME),)


@dataclass(frozen=True, slots=True)
class NULL(Rdata):
    """Anything at all (RFC 1035 3.3.10); only the generic ``\\#`` form has text for it."""

    data: bytes
    rtype: ClassVar[int] = RRType.NULL
    fields: ClassVar[Fields] = (("data", Rest()),)


@dataclass(frozen=True, slots=True)
class HINFO(Rdata):
    cpu: bytes
    os: bytes
    rtype: ClassVar[int] = RRType.HINFO
    fields: ClassVar[Fields] = (("cpu", STRING), ("os", STRING))


@dataclass(frozen=True, slots=True)
class MINFO(Rdata):
    rmailbx: Name
    emailbx: Name
    rtype: ClassVar[int] = RRType.MINFO
    fields: ClassVar[Fields] = (("rmailbx", NAME), ("emailbx", NAME))


@dataclass(frozen=True, slots=True)
class RP(Rdata):
    mbox: Name
    txt: Name
    rtype: ClassVar[int] = RRType.RP
    fields: ClassVar[Fields] = (("mbox", NAME_PLAIN), ("txt", NAME_PLAIN))


@dataclass(frozen=True, slots=True)
class AFSDB(Rdata):
    subtype: int
    hostname: Name
    rtype: ClassVar[int] = RRType.AFSDB
    fields: ClassVar[Fields] = (("subtype", U16), ("hostname", NAME_PLAIN))


@dataclass(frozen=True, slots=True)
class X25(Rdata):
    address: bytes
    rtype: ClassVar[int] = RRType.X25
    fields: ClassVar[Fields] = (("address", STRING),)


@dataclass(frozen=True, slots=True)
class ISDN(Rdata):
    address: bytes
    subaddress: bytes | None = None
    rtype: ClassVar[int] = RRType.ISDN
    fields: ClassVar[Fields] = (("address", STRING), ("subaddress", OptionalCharString()))


@dataclass(frozen=True, slots=True)
class RT(Rdata):
    preference: int
    exchange: Name
    rtype: ClassVar[int] = RRType.RT
    fields: ClassVar[Fields] = (("preference", U16), ("exchange", NAME_PLAIN))


@dataclass(frozen=True, slots=True)
class NSAP(Rdata):
    address: bytes
    rtype: ClassVar[int] = RRType.NSAP
    fields: ClassVar[Fields] = (("address", NsapHex()),)


@dataclass(frozen=True, slots=True)
class NSAP_PTR(Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.NSAP_PTR
    fields: ClassVar[Fields] = (("target", NAME_STRICT),)


@dataclass(frozen=True, slots=True)
class PX(Rdata):
    preference: int
    map822: Name
    mapx400: Name
    rtype: ClassVar[int] = RRType.PX
    fields: ClassVar[Fields] = (
        ("preference", U16), ("map822", NAME_PLAIN), ("mapx400", NAME_PLAIN),
    )


@dataclass(frozen=True, slots=True)
class GPOS(Rdata):
    """RFC 1712: longitude, latitude, altitude as decimal strings."""

    longitude: bytes
    latitude: bytes
    altitude: bytes
    rtype: ClassVar[int] = RRType.GPOS
    fields: ClassVar[Fields] = (("longitude", STRING), ("latitude", STRING), ("altitude", STRING))

    def problem(self) -> str | None:
        for name in ("longitude", "latitude", "altitude"):
            value = getattr(self, name)
            try:
                float(value.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                return f"GPOS {name} {value!r} is not a decimal number"
        return None


@dataclass(frozen=True, slots=True)
class NAPTR(Rdata):
    order: int
    preference: int
    flags: bytes
    services: bytes
    regexp: bytes
    replacement: Name
    rtype: ClassVar[int] = RRType.NAPTR
    fields: ClassVar[Fields] = (
        ("order", U16), ("preference", U16), ("flags", STRING), ("services", STRING),
        ("regexp", STRING), ("replacement", NAME_PLAIN),
    )


@dataclass(frozen=True, slots=True)
class KX(Rdata):
    preference: int
    exchanger: Name
    rtype: ClassVar[int] = RRType.KX
    fields: ClassVar[Fields] = (("preference", U16), ("exchanger", NAME_STRICT))


@dataclass(frozen=True, slots=True)
class DNAME(Rdata):
    target: Name
    rtype: ClassVar[int] = RRType.DNAME
    # RFC 6672 2.5: never written compressed; RFC 2672 senders did, so one is still read.
    fields: ClassVar[Fields] = (("target", NAME_PLAIN),)


@dataclass(frozen=True, slots=True)
class SPF(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RRType.SPF
    fields: ClassVar[Fields] = (("strings", STRINGS),)


@dataclass(frozen=True, slots=True)
class NID(Rdata):
    preference: int
    node_id: bytes
    rtype: ClassVar[int] = RRType.NID
    fields: ClassVar[Fields] = (("preference", U16), ("node_id", Groups(8, 2, ":")))


@dataclass(frozen=True, slots=True)
class L32(Rdata):
    preference: int
    locator32: str
    rtype: ClassVar[int] = RRType.L32
    fields: ClassVar[Fields] = (("preference", U16), ("locator32", Address(4)))


@dataclass(frozen=True, slots=True)
class L64(Rdata):
    preference: int
    locator64: bytes
    rtype: ClassVar[int] = RRType.L64
    fields: ClassVar[Fields] = (("preference", U16), ("locator64", Groups(8, 2, ":")))


@dataclass(frozen=True, slots=True)
class LP(Rdata):
    preference: int
    fqdn: Name
    rtype: ClassVar[int] = RRType.LP
    fields: ClassVar[Fields] = (("preference", U16), ("fqdn", NAME_STRICT))


@dataclass(frozen=True, slots=True)
class EUI48(Rdata):
    address: bytes
    rtype: ClassVar[int] = RRType.EUI48
    fields: ClassVar[Fields] = (("address", Groups(6, 1, "-")),)


@dataclass(frozen=True, slots=True)
class EUI64(Rdata):
    address: bytes
    rtype: ClassVar[int] = RRType.EUI64
    fields: ClassVar[Fields] = (("address", Groups(8, 1, "-")),)


@dataclass(frozen=True, slots=True)
class URI(Rdata):
    priority: int
    weight: int
    target: bytes
    rtype: ClassVar[int] = RRType.URI
    fields: ClassVar[Fields] = (
        ("priority", U16), ("weight", U16), ("target", RestString(nonempty=True)),
    )


@dataclass(frozen=True, slots=True)
class CAA(Rdata):
    flags: int
    tag: bytes
    value: bytes
    rtype: ClassVar[int] = RRType.CAA
    fields: ClassVar[Fields] = (("flags", U8), ("tag", CaaTag()), ("value", RestString()))


@dataclass(frozen=True, slots=True)
class AVC(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RRType.AVC
    fields: ClassVar[Fields] = (("strings", STRINGS),)


@dataclass(frozen=True, slots=True)
class RESINFO(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RRType.RESINFO
    fields: ClassVar[Fields] = (("strings", STRINGS),)


@dataclass(frozen=True, slots=True)
class WALLET(Rdata):
    strings: tuple[bytes, ...]
    rtype: ClassVar[int] = RRType.WALLET
    fields: ClassVar[Fields] = (("strings", STRINGS),)


TYPES: tuple[type[Rdata], ...] = (
    MD, MF, MB, MG, MR, NULL, HINFO, MINFO, RP, AFSDB, X25, ISDN, RT, NSAP, NSAP_PTR, PX,
    GPOS, NAPTR, KX, DNAME, SPF, NID, L32, L64, LP, EUI48, EUI64, URI, CAA, AVC, RESINFO,
    WALLET,
)
