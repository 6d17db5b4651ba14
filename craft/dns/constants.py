"""DNS numbers and their mnemonics: record types, classes, opcodes and response codes.

Unknown numbers keep RFC 3597 text forms (``TYPE65280``, ``CLASS7``) so any value survives a
round trip through text.
"""

from __future__ import annotations

from enum import IntEnum


class RRType(IntEnum):
    # NSAP_PTR is written NSAP-PTR (type_text and type_number translate the underscore).
    A = 1
    NS = 2
    MD = 3
    MF = 4
    CNAME = 5
    SOA = 6
    MB = 7
    MG = 8
    MR = 9
    NULL = 10
    WKS = 11
    PTR = 12
    HINFO = 13
    MINFO = 14
    MX = 15
    TXT = 16
    RP = 17
    AFSDB = 18
    X25 = 19
    ISDN = 20
    RT = 21
    NSAP = 22
    NSAP_PTR = 23
    SIG = 24
    KEY = 25
    PX = 26
    GPOS = 27
    AAAA = 28
    LOC = 29
    NXT = 30
    SRV = 33
    NAPTR = 35
    KX = 36
    CERT = 37
    A6 = 38
    DNAME = 39
    OPT = 41
    APL = 42
    DS = 43
    SSHFP = 44
    IPSECKEY = 45
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    DHCID = 49
    NSEC3 = 50
    NSEC3PARAM = 51
    TLSA = 52
    SMIMEA = 53
    HIP = 55
    CDS = 59
    CDNSKEY = 60
    OPENPGPKEY = 61
    CSYNC = 62
    ZONEMD = 63
    SVCB = 64
    HTTPS = 65
    DSYNC = 66
    SPF = 99
    NID = 104
    L32 = 105
    L64 = 106
    LP = 107
    EUI48 = 108
    EUI64 = 109
    TKEY = 249
    TSIG = 250
    IXFR = 251
    AXFR = 252
    MAILB = 253
    MAILA = 254
    ANY = 255
    URI = 256
    CAA = 257
    AVC = 258
    AMTRELAY = 260
    RESINFO = 261
    WALLET = 262
    TA = 32768
    DLV = 32769


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
    BADCOOKIE = 23  # RFC 7873 8: a server cookie is wanted (extended: the OPT holds 0x01)


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
    text = _TYPE_TEXT.get(value)
    return text if text is not None else f"TYPE{value}"


def type_number(text: str) -> int:
    return _number(RRType, "TYPE", text.replace("-", "_"), 0xFFFF)


# Mnemonics by number, made once: type_text runs for every record a view prints.
_TYPE_TEXT = {int(v): n.replace("_", "-") for n, v in RRType.__members__.items()}


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
