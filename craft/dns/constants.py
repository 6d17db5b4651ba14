"""DNS numbers and their mnemonics: record types, classes, opcodes and response codes.

Unknown numbers keep RFC 3597 text forms (``TYPE65280``, ``CLASS7``) so any value survives a
round trip through text.
"""

from __future__ import annotations

from enum import IntEnum


class RRType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    HINFO = 13
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    NAPTR = 35
    DNAME = 39
    OPT = 41
    DS = 43
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    NSEC3 = 50
    NSEC3PARAM = 51
    SVCB = 64
    HTTPS = 65
    TSIG = 250
    IXFR = 251
    AXFR = 252
    ANY = 255
    CAA = 257


class RRClass(IntEnum):
    IN = 1
    CH = 3
    HS = 4
    NONE = 254
    ANY = 255


class Opcode(IntEnum):
    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9
    NOTZONE = 10
    BADVERS = 16


DNSSEC_TYPES = frozenset({RRType.DS, RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, RRType.NSEC3})


def _text(enum: type[IntEnum], prefix: str, value: int) -> str:
    try:
        return enum(value).name
    except ValueError:
        return f"{prefix}{value}"


def _number(enum: type[IntEnum], prefix: str, text: str, limit: int) -> int:
    upper = text.upper()
    if upper in enum.__members__:
        return int(enum.__members__[upper])
    digits = upper[len(prefix) :]
    if upper.startswith(prefix) and digits.isascii() and digits.isdigit():
        value = int(digits)
        if value <= limit:
            return value
    raise ValueError(f"unknown {prefix.lower()} {text!r}")


def type_text(value: int) -> str:
    return _text(RRType, "TYPE", value)


def type_number(text: str) -> int:
    return _number(RRType, "TYPE", text, 0xFFFF)


def class_text(value: int) -> str:
    return _text(RRClass, "CLASS", value)


def class_number(text: str) -> int:
    return _number(RRClass, "CLASS", text, 0xFFFF)


def opcode_text(value: int) -> str:
    return _text(Opcode, "OPCODE", value)


def rcode_text(value: int) -> str:
    return _text(Rcode, "RCODE", value)


def rcode_number(text: str) -> int:
    return _number(Rcode, "RCODE", text, 0xFFF)


def opcode_number(text: str) -> int:
    return _number(Opcode, "OPCODE", text, 15)
