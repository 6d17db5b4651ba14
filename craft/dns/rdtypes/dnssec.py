"""DNSSEC and other security record types: keys, signatures, denial of existence, digests,
certificates (RFC 2535, 2930, 4025, 4034, 4255, 4398, 4701, 5155, 6698, 7344, 7477, 7929,
8162, 8945, 8976, 9199 and the HIP RFC 8005).

Signer names, NSEC next names and TSIG/TKEY algorithm names are never compressed (RFC 4034,
RFC 8945); SIG and NXT, older, are read compressed too (RFC 3597 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from craft.dns.constants import RRType
from craft.dns.names import Name
from craft.dns.rdata import (
    NAME_PLAIN,
    NAME_STRICT,
    U8,
    U16,
    U32,
    FieldKind,
    Fields,
    Rdata,
    _pop,
)
from craft.dns.rdtypes.fields import (
    ALGORITHM,
    Base32Hex,
    Base64,
    Gateway,
    Hex,
    Mnemonic,
    NameList,
    NxtBitmap,
    OptionalBase64,
    SaltHex,
    SigTime,
    SizedBase64,
    TypeBitmap,
    TypeCode,
    UInt48,
    b64,
    from_b64,
    from_hex,
    mark,
    take,
)
from craft.dns.wire import Reader, WireError, Writer

TYPE_COVERED = TypeCode()
SIG_TIME = SigTime()
BITMAP = TypeBitmap()
KEY_DATA = Base64()
DIGEST = Hex()

# RFC 4034 app. A.2, RFC 4509, RFC 5933, RFC 6605: the digest length each DS digest type gives.
_DS_DIGEST_SIZES = {1: 20, 2: 32, 3: 32, 4: 48}
_TLSA_SIZES = {1: 32, 2: 64}  # RFC 6698 2.1.3: SHA-256, SHA-512
_ZONEMD_SIZES = {1: 48, 2: 64}  # RFC 8976 2.2.3: SHA-384, SHA-512
_SSHFP_SIZES = {1: 20, 2: 32}  # RFC 4255 3.1.2: SHA-1; RFC 6594 3: SHA-256


def _digest_problem(kind: str, digest_type: int, digest: bytes, sizes: dict[int, int]) -> str | None:
    size = sizes.get(digest_type)
    if size is not None and len(digest) != size:
        return f"{kind} digest of {len(digest)} octets, type {digest_type} gives {size}"
    return None


def _sig_fields(signer: FieldKind) -> Fields:
    return (
        ("type_covered", TYPE_COVERED), ("algorithm", ALGORITHM), ("labels", U8),
        ("original_ttl", U32), ("expiration", SIG_TIME), ("inception", SIG_TIME),
        ("key_tag", U16), ("signer", signer), ("signature", KEY_DATA),
    )


@dataclass(frozen=True, slots=True)
class RRSIG(Rdata):
    type_covered: int
    algorithm: int
    labels: int
    original_ttl: int
    expiration: int
    inception: int
    key_tag: int
    signer: Name
    signature: bytes
    rtype: ClassVar[int] = RRType.RRSIG
    fields: ClassVar[Fields] = _sig_fields(NAME_STRICT)


@dataclass(frozen=True, slots=True)
class SIG(Rdata):
    type_covered: int
    algorithm: int
    labels: int
    original_ttl: int
    expiration: int
    inception: int
    key_tag: int
    signer: Name
    signature: bytes
    rtype: ClassVar[int] = RRType.SIG
    fields: ClassVar[Fields] = _sig_fields(NAME_PLAIN)


_KEY_FIELDS: Fields = (("flags", U16), ("protocol", U8), ("algorithm", ALGORITHM),
                       ("key", KEY_DATA))


@dataclass(frozen=True, slots=True)
class DNSKEY(Rdata):
    flags: int
    protocol: int
    algorithm: int
    key: bytes
    rtype: ClassVar[int] = RRType.DNSKEY
    fields: ClassVar[Fields] = _KEY_FIELDS


@dataclass(frozen=True, slots=True)
class CDNSKEY(Rdata):
    flags: int
    protocol: int
    algorithm: int
    key: bytes
    rtype: ClassVar[int] = RRType.CDNSKEY
    fields: ClassVar[Fields] = _KEY_FIELDS


@dataclass(frozen=True, slots=True)
class KEY(Rdata):
    """RFC 2535 3.1: the key may be absent (the no-key flag)."""

    flags: int
    protocol: int
    algorithm: int
    key: bytes
    rtype: ClassVar[int] = RRType.KEY
    fields: ClassVar[Fields] = (("flags", U16), ("protocol", U8), ("algorithm", ALGORITHM),
                                ("key", Base64(empty=True)))


_DS_FIELDS: Fields = (("key_tag", U16), ("algorithm", ALGORITHM), ("digest_type", U8),
                      ("digest", DIGEST))


class _DigestCheck:
    """DS-like types: the digest's length must be the one its digest type gives."""

    __slots__ = ()

    def problem(self) -> str | None:
        return _digest_problem("DS", self.digest_type, self.digest,  # type: ignore[attr-defined]
                               _DS_DIGEST_SIZES)


@dataclass(frozen=True, slots=True)
class DS(_DigestCheck, Rdata):
    key_tag: int
    algorithm: int
    digest_type: int
    digest: bytes
    rtype: ClassVar[int] = RRType.DS
    fields: ClassVar[Fields] = _DS_FIELDS


@dataclass(frozen=True, slots=True)
class CDS(_DigestCheck, Rdata):
    key_tag: int
    algorithm: int
    digest_type: int
    digest: bytes
    rtype: ClassVar[int] = RRType.CDS
    fields: ClassVar[Fields] = _DS_FIELDS


@dataclass(frozen=True, slots=True)
class DLV(_DigestCheck, Rdata):
    key_tag: int
    algorithm: int
    digest_type: int
    digest: bytes
    rtype: ClassVar[int] = RRType.DLV
    fields: ClassVar[Fields] = _DS_FIELDS


@dataclass(frozen=True, slots=True)
class TA(_DigestCheck, Rdata):
    key_tag: int
    algorithm: int
    digest_type: int
    digest: bytes
    rtype: ClassVar[int] = RRType.TA
    fields: ClassVar[Fields] = _DS_FIELDS


@dataclass(frozen=True, slots=True)
class NSEC(Rdata):
    next: Name
    types: tuple[int, ...]
    rtype: ClassVar[int] = RRType.NSEC
    fields: ClassVar[Fields] = (("next", NAME_STRICT), ("types", BITMAP))


@dataclass(frozen=True, slots=True)
class NXT(Rdata):
    next: Name
    types: tuple[int, ...]
    rtype: ClassVar[int] = RRType.NXT
    fields: ClassVar[Fields] = (("next", NAME_PLAIN), ("types", NxtBitmap()))


@dataclass(frozen=True, slots=True)
class NSEC3(Rdata):
    hash_algorithm: int
    flags: int
    iterations: int
    salt: bytes
    next: bytes
    types: tuple[int, ...]
    rtype: ClassVar[int] = RRType.NSEC3
    fields: ClassVar[Fields] = (
        ("hash_algorithm", U8), ("flags", U8), ("iterations", U16), ("salt", SaltHex()),
        ("next", Base32Hex()), ("types", BITMAP),
    )


@dataclass(frozen=True, slots=True)
class NSEC3PARAM(Rdata):
    hash_algorithm: int
    flags: int
    iterations: int
    salt: bytes
    rtype: ClassVar[int] = RRType.NSEC3PARAM
    fields: ClassVar[Fields] = (
        ("hash_algorithm", U8), ("flags", U8), ("iterations", U16), ("salt", SaltHex()),
    )


@dataclass(frozen=True, slots=True)
class CSYNC(Rdata):
    serial: int
    flags: int
    types: tuple[int, ...]
    rtype: ClassVar[int] = RRType.CSYNC
    fields: ClassVar[Fields] = (("serial", U32), ("flags", U16), ("types", BITMAP))


@dataclass(frozen=True, slots=True)
class ZONEMD(Rdata):
    serial: int
    scheme: int
    hash_algorithm: int
    digest: bytes
    rtype: ClassVar[int] = RRType.ZONEMD
    fields: ClassVar[Fields] = (("serial", U32), ("scheme", U8), ("hash_algorithm", U8),
                                ("digest", DIGEST))

    def problem(self) -> str | None:
        if len(self.digest) < 12:  # RFC 8976 2.2.4
            return f"ZONEMD digest of {len(self.digest)} octets (at least 12)"
        return _digest_problem("ZONEMD", self.hash_algorithm, self.digest, _ZONEMD_SIZES)


@dataclass(frozen=True, slots=True)
class SSHFP(Rdata):
    algorithm: int
    fp_type: int
    fingerprint: bytes
    rtype: ClassVar[int] = RRType.SSHFP
    fields: ClassVar[Fields] = (("algorithm", U8), ("fp_type", U8), ("fingerprint", DIGEST))

    def problem(self) -> str | None:
        # As dnspython and BIND hold it: a known fingerprint type fixes the length.
        return _digest_problem("SSHFP", self.fp_type, self.fingerprint, _SSHFP_SIZES)


_TLSA_FIELDS: Fields = (("usage", U8), ("selector", U8), ("matching_type", U8),
                        ("data", DIGEST))


class _TlsaCheck:
    __slots__ = ()

    def problem(self) -> str | None:
        return _digest_problem("TLSA", self.matching_type, self.data,  # type: ignore[attr-defined]
                               _TLSA_SIZES)


@dataclass(frozen=True, slots=True)
class TLSA(_TlsaCheck, Rdata):
    usage: int
    selector: int
    matching_type: int
    data: bytes
    rtype: ClassVar[int] = RRType.TLSA
    fields: ClassVar[Fields] = _TLSA_FIELDS


@dataclass(frozen=True, slots=True)
class SMIMEA(_TlsaCheck, Rdata):
    usage: int
    selector: int
    matching_type: int
    data: bytes
    rtype: ClassVar[int] = RRType.SMIMEA
    fields: ClassVar[Fields] = _TLSA_FIELDS


@dataclass(frozen=True, slots=True)
class DHCID(Rdata):
    data: bytes
    rtype: ClassVar[int] = RRType.DHCID
    fields: ClassVar[Fields] = (("data", KEY_DATA),)


@dataclass(frozen=True, slots=True)
class OPENPGPKEY(Rdata):
    key: bytes
    rtype: ClassVar[int] = RRType.OPENPGPKEY
    fields: ClassVar[Fields] = (("key", KEY_DATA),)


CERT_TYPES = {1: "PKIX", 2: "SPKI", 3: "PGP", 4: "IPKIX", 5: "ISPKI", 6: "IPGP", 7: "ACPKIX",
              8: "IACPKIX", 253: "URI", 254: "OID"}


@dataclass(frozen=True, slots=True)
class CERT(Rdata):
    cert_type: int
    key_tag: int
    algorithm: int
    certificate: bytes
    rtype: ClassVar[int] = RRType.CERT
    fields: ClassVar[Fields] = (("cert_type", Mnemonic(2, CERT_TYPES)), ("key_tag", U16),
                                ("algorithm", ALGORITHM), ("certificate", KEY_DATA))


@dataclass(frozen=True, slots=True)
class IPSECKEY(Rdata):
    precedence: int
    gateway_type: int
    algorithm: int
    gateway: str | Name | None
    key: bytes
    rtype: ClassVar[int] = RRType.IPSECKEY
    fields: ClassVar[Fields] = (
        ("precedence", U8), ("gateway_type", U8), ("algorithm", U8),
        ("gateway", Gateway(lambda before: int(before[1]))), ("key", Base64(empty=True)),
    )


# RFC 8945 3, RFC 2845: TSIG and TKEY error codes beyond the header's.
TSIG_ERRORS = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
               5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
               10: "NOTZONE", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE",
               20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}


@dataclass(frozen=True, slots=True)
class TSIG(Rdata):
    algorithm: Name
    time_signed: int
    fudge: int
    mac: bytes
    original_id: int
    error: int
    other: bytes
    rtype: ClassVar[int] = RRType.TSIG
    fields: ClassVar[Fields] = (
        ("algorithm", NAME_STRICT), ("time_signed", UInt48()), ("fudge", U16),
        ("mac", SizedBase64(with_size=True)), ("original_id", U16),
        ("error", Mnemonic(2, TSIG_ERRORS)),
        ("other", SizedBase64(with_size=True, quote_empty=False)),
    )


@dataclass(frozen=True, slots=True)
class TKEY(Rdata):
    algorithm: Name
    inception: int
    expiration: int
    mode: int
    error: int
    key: bytes
    other: bytes = b""
    rtype: ClassVar[int] = RRType.TKEY
    fields: ClassVar[Fields] = (
        ("algorithm", NAME_STRICT), ("inception", U32), ("expiration", U32), ("mode", U16),
        ("error", U16), ("key", SizedBase64(with_size=False)), ("other", OptionalBase64()),
    )


class _Word(FieldKind):
    """One zone-file word of hex or base64 (HIP's HIT and key sit before its servers)."""

    def __init__(self, base64: bool) -> None:
        self.base64 = base64

    def text(self, value: Any) -> str:
        return b64(value) if self.base64 else value.hex().upper()

    def parse(self, tokens: list[str], origin: Name | None) -> bytes:
        word = _pop(tokens, "base64" if self.base64 else "hex")
        value = from_b64(word) if self.base64 else from_hex(word)
        if not value:
            raise ValueError("empty value")
        return value


@dataclass(frozen=True, slots=True)
class HIP(Rdata):
    """RFC 8005: the wire order (HIT length, algorithm, key length, HIT, key, servers)
    differs from the text order (algorithm, HIT, key, servers); ``fields`` give the text."""

    algorithm: int
    hit: bytes
    key: bytes
    servers: tuple[Name, ...] = ()
    rtype: ClassVar[int] = RRType.HIP
    fields: ClassVar[Fields] = (("algorithm", U8), ("hit", _Word(base64=False)),
                                ("key", _Word(base64=True)), ("servers", NameList()))

    @classmethod
    def decode(cls, r: Reader, end: int) -> Self:
        start = r.pos
        hit_length = U8.decode(r, end, "RDATA hit length")
        algorithm = U8.decode(r, end, "RDATA algorithm")
        key_length = U16.decode(r, end, "RDATA key length")
        if not hit_length or not key_length:
            raise WireError(start, "HIP with an empty HIT or key")
        at = r.pos
        hit = take(r, end, hit_length, "RDATA hit")
        mark(r, at, "RDATA hit", lambda: hit.hex().upper())
        at = r.pos
        key = take(r, end, key_length, "RDATA key")
        mark(r, at, "RDATA key", lambda: b64(key))
        servers = NameList().decode(r, end, "RDATA server")
        return cls(algorithm, hit, key, servers)

    def encode(self, w: Writer, compress: bool = True) -> None:
        w.u8(len(self.hit))
        w.u8(self.algorithm)
        w.u16(len(self.key))
        w.raw(self.hit)
        w.raw(self.key)
        for server in self.servers:
            w.name(server, False)


TYPES: tuple[type[Rdata], ...] = (
    RRSIG, SIG, DNSKEY, CDNSKEY, KEY, DS, CDS, DLV, TA, NSEC, NXT, NSEC3, NSEC3PARAM, CSYNC,
    ZONEMD, SSHFP, TLSA, SMIMEA, DHCID, OPENPGPKEY, CERT, IPSECKEY, TSIG, TKEY, HIP,
)
