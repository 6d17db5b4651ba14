"""What craft's server says in its OPT record besides its size: COOKIE (RFC 7873 with RFC
9018's server cookies), NSID (RFC 5001) and Extended DNS Errors (RFC 8914); and BADCOOKIE
for a UDP client without a valid server cookie when the operator requires one.

``ServerEdns.finish`` takes a decoded query and the response ``craft.dns.answering`` built
for it, and returns the response to send. Replies made from octets alone (FORMERR for a
query the codec cannot read, SERVFAIL after a fault) get their EDE from ``with_ede``, which
needs only the query's octets: it finds the query's OPT by stepping over names and records
without decoding them, so a query whose question is broken still gets its reason. The
cookie arithmetic is ``craft.dns.cookies``; like it, this module reads no clock.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from craft.dns.constants import Opcode, Rcode, RRType
from craft.dns.cookies import CookieSecret, address_octets
from craft.dns.edns import NSID, Cookie, EdnsOption, ExtendedError, encode_options
from craft.dns.message import Edns, Message, Record
from craft.dns.wire import HEADER_SIZE, WireError, Writer

NOT_AUTHORITATIVE = ExtendedError(20)  # REFUSED: the name is in none of our zones
PROHIBITED = ExtendedError(18)  # REFUSED: a transfer this client may not have
OTHER = 0
FAULT_TEXT = "internal error answering this query"
# Responses that come from looking the question up: the ones BADCOOKIE may withhold. The
# query's own faults (FORMERR, BADVERS, NOTIMP, a TSIG's NOTAUTH) are answered as they are.
LOOKED_UP = frozenset({Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.YXDOMAIN, Rcode.REFUSED})


def parse_nsid(text: str) -> bytes:
    """``--nsid``: ``0x`` then hex digits for arbitrary octets, anything else is the
    identifier's text in UTF-8. ValueError when empty or bad hex."""
    if text[:2].lower() == "0x":
        try:
            data = bytes.fromhex(text[2:])
        except ValueError:
            raise ValueError(f"NSID {text!r}: not hex after 0x") from None
    else:
        data = text.encode("utf-8")
    if not data:
        raise ValueError("an empty NSID identifies nothing")
    return data


@dataclass(frozen=True, slots=True)
class ServerEdns:
    """A server's cookie secret (None: cookies ignored, as before RFC 7873), whether it
    requires a valid server cookie of UDP clients that send a client cookie
    (``--require-cookie``), and its NSID (None: NSID queries get none)."""

    secret: CookieSecret | None = field(default_factory=CookieSecret.random)
    require_cookie: bool = False
    nsid: bytes | None = None

    def for_worker(self, number: int) -> ServerEdns:
        """This server as worker ``number`` of several: the number follows the NSID after a
        slash, so which process answered (whichever took the query off the shared socket)
        can be seen."""
        if self.nsid is None:
            return self
        return replace(self, nsid=self.nsid + f"/{number}".encode())

    def finish(self, query: Message, response: Message, client: str | None, tcp: bool,
               now: int) -> Message:
        """``response`` with our COOKIE and NSID added to its OPT, or turned into BADCOOKIE
        (RFC 7873 5.2.3, 5.2.4: UDP only, never TCP) when cookies are required and the
        query's server cookie is missing or not valid. A response without an OPT (the query
        had none) is returned as it is. ``client`` is the client's IP address, which the
        server cookie is bound to; without it no cookie is judged or sent."""
        asked = query.edns
        if asked is None or not asked.options or not _has_opt(response):
            return response
        added: list[EdnsOption] = []
        cookie = asked.option(Cookie)
        if isinstance(cookie, Cookie) and self.secret is not None and client is not None:
            try:
                address = address_octets(client)
            except ValueError:
                address = b""  # not an IP address (a test's fake peer): no cookie to bind
            if address:
                verdict = self.secret.judge(cookie.client, cookie.server, address, now)
                if (self.require_cookie and not tcp and not verdict.valid
                        and response.header.opcode == Opcode.QUERY
                        and response.rcode in LOOKED_UP):
                    response = _bad_cookie(response)
                added.append(Cookie(cookie.client, verdict.reply))
        if self.nsid is not None and asked.option(NSID) is not None:
            added.append(NSID(self.nsid))
        return with_options(response, tuple(added)) if added else response


def _has_opt(message: Message) -> bool:
    return any(record.rtype == RRType.OPT for record in message.additional)


def _bad_cookie(response: Message) -> Message:
    """The answer withheld: the question and an OPT saying BADCOOKIE, nothing else (the
    fresh cookie is added after), so an unverified UDP client gets nothing bigger."""
    header = replace(response.header, aa=False, tc=False, rcode=Rcode.BADCOOKIE & 0xF)
    opt = next(r for r in response.additional if r.rtype == RRType.OPT)
    edns = replace(Edns.from_record(opt), ext_rcode=Rcode.BADCOOKIE >> 4, options=())
    return Message(header, response.question, additional=(edns.to_record(),))


def with_options(message: Message, options: tuple[EdnsOption, ...]) -> Message:
    """``message`` with ``options`` after those its OPT has; the OPT stays where it is in
    the additional section (a TSIG after it must stay last)."""
    def extended(record: Record) -> Record:
        if record.rtype != RRType.OPT:
            return record
        edns = Edns.from_record(record)
        return replace(edns, options=edns.options + options).to_record()

    return replace(message, additional=tuple(extended(r) for r in message.additional))


def ede_for(exc: WireError) -> ExtendedError:
    """The EDE of a FORMERR: INFO-CODE 0 (Other), the codec's reason and where it found it
    as EXTRA-TEXT (RFC 8914 4.1 asks for text with code 0)."""
    return ExtendedError(OTHER, f"{exc.reason} at offset {exc.offset}")


def with_ede(reply: bytes | None, query: bytes, ede: ExtendedError, payload: int) -> bytes | None:
    """A header-only error ``reply`` to ``query`` (octets), with an OPT carrying ``ede``
    (our ``payload`` size, the query's DO bit) when the query had an OPT; as it is when the
    query had none, or its OPT cannot be found."""
    if reply is None:
        return None
    ttl = query_opt_ttl(query)
    if ttl is None:
        return reply
    w = Writer()
    encode_options(w, (ede,))
    data = w.getvalue()
    record = b"\0" + struct.pack("!HHIH", RRType.OPT, payload, ttl & 0x8000, len(data)) + data
    (arcount,) = struct.unpack_from("!H", reply, 10)
    return reply[:10] + struct.pack("!H", arcount + 1) + reply[12:] + record


def query_opt_ttl(data: bytes) -> int | None:
    """The TTL field (extended RCODE, version, flags) of the OPT in ``data``'s additional
    section, found by stepping over names (labels up to a zero or a pointer) and records
    without reading them; None when there is none or the octets run out first."""
    if len(data) < HEADER_SIZE:
        return None
    qd, an, ns, ar = struct.unpack_from("!4H", data, 4)
    pos: int | None = HEADER_SIZE
    for _ in range(qd):
        pos = _skip_name(data, pos)
        if pos is None or pos + 4 > len(data):
            return None
        pos += 4
    for index in range(an + ns + ar):
        pos = _skip_name(data, pos)
        if pos is None or pos + 10 > len(data):
            return None
        rtype, _, ttl, rdlength = struct.unpack_from("!HHIH", data, pos)
        if rtype == RRType.OPT and index >= an + ns:
            return int(ttl)
        pos += 10 + rdlength
    return None


def _skip_name(data: bytes, pos: int | None) -> int | None:
    """Where the name at ``pos`` ends: after its zero octet or its first pointer."""
    while pos is not None and pos < len(data):
        length = data[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length & 0xC0:
            return None  # an extended label type (RFC 6891 5): its length is unknown
        pos += length + 1
    return None
