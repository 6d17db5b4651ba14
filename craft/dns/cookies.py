"""DNS server cookies (RFC 7873, RFC 9018 section 4): the server's secret, making a server
cookie, and judging the one a query brings back.

A server cookie is 16 octets: version 1, three reserved octets, a 32-bit timestamp (seconds
since the epoch, RFC 1982 arithmetic) and the SipHash-2-4 of client cookie | version |
reserved | timestamp | client address, keyed by the server's 128-bit secret, the hash's 64
bits in SipHash's own (little-endian) order. Any server that holds the secret recognises
the cookie: every ``--workers`` process shares one. ``craft.dns.server_edns`` decides what
a reply does with the verdict; this module only does the arithmetic, and reads no clock.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import struct
from dataclasses import dataclass

from siphashc import siphash

VERSION = 1
SECRET_SIZE = 16  # SipHash-2-4's key
LIFETIME = 3600  # RFC 9018 4.3: a cookie older than an hour is not accepted ...
RENEW_AFTER = 1800  # ... and one older than half an hour is answered with a fresh one
SKEW = 300  # a timestamp up to five minutes ahead is accepted (clocks differ)


def address_octets(address: str) -> bytes:
    """The client address as the hash takes it: 4 octets for IPv4 (an IPv4-mapped IPv6
    address too, so a client keeps its cookie across a dual-stack socket), 16 for IPv6.
    ValueError when ``address`` is not an IP address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.packed


def _age(stamp: int, now: int) -> int:
    """``now - stamp`` in RFC 1982 arithmetic on 32 bits: negative when ``stamp`` is ahead."""
    diff = (now - stamp) & 0xFFFFFFFF
    return diff - (1 << 32) if diff & 0x80000000 else diff


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a query's COOKIE option is worth: ``valid`` when its server cookie is this
    server's and current; ``reply`` is the server cookie to send back (the same one while
    it is young, a fresh one otherwise)."""

    valid: bool
    reply: bytes


@dataclass(frozen=True, slots=True)
class CookieSecret:
    """A server's cookie secret: 16 octets, random at start unless the operator gives it."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != SECRET_SIZE:
            raise ValueError(f"a cookie secret is {SECRET_SIZE} octets "
                             f"({2 * SECRET_SIZE} hex digits), not {len(self.key)}")

    @classmethod
    def random(cls) -> CookieSecret:
        return cls(secrets.token_bytes(SECRET_SIZE))

    @classmethod
    def from_hex(cls, text: str) -> CookieSecret:
        """``--cookie-secret HEX``; ValueError saying what is wrong."""
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"cookie secret {text!r} is not hex") from None
        return cls(key)

    def server_cookie(self, client: bytes, address: bytes, now: int,
                      reserved: bytes = b"\0\0\0") -> bytes:
        """The 16-octet server cookie for a client cookie from ``address`` at ``now``."""
        head = bytes((VERSION,)) + reserved + struct.pack("!I", now & 0xFFFFFFFF)
        return head + siphash(self.key, client + head + address).to_bytes(8, "little")

    def is_ours(self, client: bytes, server: bytes, address: bytes) -> bool:
        """Whether ``server`` is a version 1 cookie this secret made for ``client`` at
        ``address`` (its age aside); the reserved octets are hashed as received."""
        if len(server) != 16 or server[0] != VERSION:
            return False
        stamp = struct.unpack_from("!I", server, 4)[0]
        expected = self.server_cookie(client, address, stamp, server[1:4])
        return hmac.compare_digest(expected, server)

    def judge(self, client: bytes, server: bytes, address: bytes, now: int) -> Judgement:
        """RFC 7873 5.2.3 to 5.2.5 with RFC 9018 4.3's clock rules: a cookie of ours at most
        an hour old (and at most five minutes ahead) is valid, and kept in the reply while
        under half an hour old; anything else gets a fresh cookie."""
        if server and self.is_ours(client, server, address):
            age = _age(struct.unpack_from("!I", server, 4)[0], now)
            if -SKEW <= age <= LIFETIME:
                return Judgement(True, server if age < RENEW_AFTER else
                                 self.server_cookie(client, address, now))
        return Judgement(False, self.server_cookie(client, address, now))
