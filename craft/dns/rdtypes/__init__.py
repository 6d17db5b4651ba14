"""Every record type craft models, by type number: ``rdata_class`` is the codec's and the
zone reader's registry. The basic types live in ``craft.dns.rdata`` with the framework;
the rest are grouped by family in this package's modules. Types not listed stay opaque
(RFC 3597)."""

from __future__ import annotations

from craft.dns.rdata import BASIC_TYPES, Opaque, Rdata
from craft.dns.rdtypes import basic, dnssec, location, svcb

RDATA_TYPES: dict[int, type[Rdata]] = {
    cls.rtype: cls
    for cls in BASIC_TYPES + basic.TYPES + dnssec.TYPES + location.TYPES + svcb.TYPES
}


def rdata_class(rtype: int) -> type[Rdata]:
    return RDATA_TYPES.get(rtype, Opaque)
