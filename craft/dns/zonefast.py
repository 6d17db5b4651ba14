"""The zone reader's fast lane: the common one-line record forms without the general walk.

Big zones are mostly lines such as ``host1 IN A 10.0.0.1``, ``www 300 CNAME web`` or
``t TXT "v=spf1 -all"``. ``fast_head`` reads such a record's TTL, class, type and rdata
directly; anything it is not sure of (escapes, units in a TTL, leading zeros, a type it
does not know, a field count it does not expect) returns ``None`` and the record goes
through ``craft.dns.zonefile``'s full parser, which also owns every error message. So
this lane changes speed only: what it returns is what the full parser returns.
``SIMPLE_LINE`` goes one step further for the two forms a big zone is made of, a whole
line ``host [ttl] [IN] A 10.0.0.1`` or ``t [ttl] [IN] TXT "quoted" "strings"`` with a
one-label relative owner: one regular-expression match reads all of it, and the reader
builds the record from the groups without tokens (``simple_txt``), with ``new_name``,
``new_a`` and ``new_record``: the same frozen values, made without the per-field
``object.__setattr__`` of a frozen dataclass's ``__init__`` (which cost more than the object
itself, at a million records).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from craft.dns.codec import TTL_MAX
from craft.dns.constants import RRClass, RRType
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdata import CNAME, MX, NS, PTR, TXT, A, Rdata

QUOTED = '"'  # as craft.dns.zonefile marks a token that was a quoted string
_IN = int(RRClass.IN)
_NAME_TYPES: dict[str, type[NS | CNAME | PTR]] = {"NS": NS, "CNAME": CNAME, "PTR": PTR}
_TYPES = {"A": RRType.A, "TXT": RRType.TXT, "MX": RRType.MX, "NS": RRType.NS,
          "CNAME": RRType.CNAME, "PTR": RRType.PTR}

Head = tuple[int | None, int | None, int, Rdata]


def _slots(cls: type, names: tuple[str, ...]) -> tuple[Any, ...]:
    """The slot setters of a frozen, slotted dataclass, in the order its ``__init__`` takes
    them; refuses a class whose ``__init__`` does more than set them (``__post_init__``)."""
    assert "__post_init__" not in vars(cls) and vars(cls)["__slots__"] == names, cls
    return tuple(vars(cls)[name].__set__ for name in names)


_new = object.__new__
(_set_labels,) = _slots(Name, ("labels",))
(_set_address,) = _slots(A, ("address",))
_set_name, _set_rtype, _set_rclass, _set_ttl, _set_rdata = _slots(
    Record, ("name", "rtype", "rclass", "ttl", "rdata"))


def new_name(labels: tuple[bytes, ...]) -> Name:
    """``Name(labels)``, made directly (see the module's docstring); no checks, as there."""
    name: Name = _new(Name)
    _set_labels(name, labels)
    return name


def new_a(address: str) -> A:
    """``A(address)``, made directly."""
    rdata: A = _new(A)
    _set_address(rdata, address)
    return rdata


def new_record(name: Name, rtype: int, rclass: int, ttl: int, rdata: Rdata) -> Record:
    """``Record(name, rtype, rclass, ttl, rdata)``, made directly."""
    record: Record = _new(Record)
    _set_name(record, name)
    _set_rtype(record, rtype)
    _set_rclass(record, rclass)
    _set_ttl(record, ttl)
    _set_rdata(record, rdata)
    return record


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # no leading zeros, as ipaddress
_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


# Groups: owner, TTL, "IN", A's address, TXT's quoted strings. Quoted text here holds no
# quote, no backslash and nothing outside printable ASCII, so it needs no unescaping.
SIMPLE_LINE = re.compile(
    rf"([A-Za-z0-9_-]{{1,63}})[ \t]+(?:([0-9]{{1,10}})[ \t]+)?(IN[ \t]+)?"
    rf"(?:A[ \t]+({_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET})"
    rf"|TXT[ \t]+((?:\"[ !#-\[\]-~]*\"[ \t]*)+))[ \t\r]*"
)
_STRING = re.compile(r'"([^"]*)"')


def simple_txt(strings: str) -> TXT | None:
    """The TXT of a ``SIMPLE_LINE`` match's quoted strings (None when a string is over 255
    octets: the full parser says so); its A is ``new_a`` of the address."""
    parts = tuple(text.encode("ascii") for text in _STRING.findall(strings))
    if any(len(part) > 255 for part in parts):
        return None
    return TXT(parts)


def _name_ok(token: str) -> bool:
    """Tokens the full parser would read as a plain name: no escape, no quote, no '@'."""
    return token[:1] not in (QUOTED, "@", "") and "\\" not in token


def fast_head(tokens: list[str], names: Callable[[str], Name]) -> Head | None:
    """TTL (or None), class (or None), type and rdata of one record's tokens after its
    owner, when they are in a common form; ``None`` sends the record to the full parser."""
    ttl: int | None = None
    rclass: int | None = None
    i = 0
    count = len(tokens)
    while i < count and i < 2:  # TTL and class, either order, each at most once
        token = tokens[i]
        if token.isdigit() and token.isascii() and ttl is None:
            ttl = int(token)
            if ttl > TTL_MAX:
                return None
        elif rclass is None and token.upper() == "IN":
            rclass = _IN
        else:
            break
        i += 1
    if i >= count - 1:
        return None
    mnemonic = tokens[i].upper()
    rtype = _TYPES.get(mnemonic)
    if rtype is None:
        return None
    rest = tokens[i + 1 :]
    rdata: Rdata
    if rtype == RRType.A:
        if len(rest) != 1:
            return None
        if _QUAD.fullmatch(rest[0]) is None:
            return None
        rdata = A(rest[0])
    elif rtype == RRType.TXT:
        strings = []
        for token in rest:
            if "\\" in token:
                return None
            data = (token[1:] if token[:1] == QUOTED else token).encode("utf-8")
            if len(data) > 255:
                return None
            strings.append(data)
        rdata = TXT(tuple(strings))
    elif rtype == RRType.MX:
        if len(rest) != 2 or not (rest[0].isascii() and rest[0].isdigit()) or not _name_ok(rest[1]):
            return None
        preference = int(rest[0])
        if preference > 0xFFFF:
            return None
        rdata = MX(preference, names(rest[1]))
    else:
        if len(rest) != 1 or not _name_ok(rest[0]):
            return None
        rdata = _NAME_TYPES[mnemonic](names(rest[0]))
    return ttl, rclass, rtype, rdata
