"""The DNS client: build a query, exchange it over UDP or TCP, and describe the answer.

Queries get a random ID and a fresh socket (a random source port); a reply counts only if
it comes from the server asked, with the same ID and question (RFC 5452). A truncated UDP
reply is retried over TCP. The lab's answer line is ``describe``. With a TSIG key
(``craft.dns.tsig``) the query is signed and each reply's MAC checked; the verdict goes with
the reply (``Reply.tsig``), a transfer whose signatures fail is refused.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

from craft.dns.codec import decode, encode
from craft.dns.constants import RRClass, RRType, class_text, rcode_text, type_text
from craft.dns.edns import EdnsRequest, padding_for
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import AAAA, MX, SOA, SRV, TXT, A, Opaque, quote
from craft.dns.tsig import Key, StreamVerifier, Verdict, sign
from craft.dns.wire import WireError
from craft.errors import CraftError
from craft.transport import framed, recv_framed, send_bytes, tcp_socket


class Failure(StrEnum):
    """Why an exchange failed."""

    TIMEOUT = "timeout"  # nothing (matching) came back in time
    NETWORK = "network"  # the socket failed: unreachable, refused, reset
    REPLY = "reply"  # a reply came that cannot be used: undecodable, cut short
    REFUSED = "refused"  # a zone transfer the server refused
    TSIG = "tsig"  # a signed transfer whose answers did not verify


class ClientError(CraftError):
    """The exchange failed; ``kind`` says how. ``query`` and ``reply`` are the octets sent
    and received when a reply came that could not be decoded, so it can still be shown."""

    def __init__(self, kind: Failure, reason: str, query: bytes = b"",
                 reply: bytes | None = None) -> None:
        super().__init__("", reason)
        self.kind = kind
        self.query = query
        self.reply = reply


@dataclass(frozen=True, slots=True)
class Reply:
    query: bytes
    response: bytes
    message: Message
    transport: str
    elapsed: float
    server: tuple[str, int]
    client: tuple[str, int]
    tsig: Verdict | None = None  # the check of the reply's TSIG, when the query was signed


def build_query(
    name: Name, rtype: int = RRType.A, *, rd: bool = False, edns: Edns | None = None,
    ident: int | None = None,
) -> Message:
    header = Header(id=secrets.randbits(16) if ident is None else ident, rd=rd)
    return Message(header, (Question(name, rtype),)).with_edns(edns)


def edns_query(name: Name, rtype: int, request: EdnsRequest, *, rd: bool = False,
               edns: bool = False, ident: int | None = None) -> Message:
    """A query carrying what ``request`` asks (an OPT record when it asks anything or
    ``edns``), padded last so the padding counts every other octet."""
    if not (edns or request.wanted):
        return build_query(name, rtype, rd=rd, ident=ident)
    opt = Edns(do=request.dnssec, options=request.options())
    return with_padding(build_query(name, rtype, rd=rd, edns=opt, ident=ident), request.padding)


def with_padding(message: Message, block: int) -> Message:
    """``message`` with a PADDING option bringing its encoded size to a multiple of
    ``block`` (RFC 8467); unchanged without EDNS or with ``block`` 0."""
    edns = message.edns
    if edns is None or block <= 0:
        return message
    size = len(encode(message))
    return message.with_edns(replace(edns, options=(*edns.options, padding_for(size, block))))


def pseudosection(query: Message, reply: Message, asked: bool) -> list[str]:
    """dig's OPT PSEUDOSECTION of ``reply`` when the query ``asked`` for EDNS options or the
    reply carries some (a COOKIE is checked against the one ``query`` sent)."""
    edns = reply.edns
    if edns is None or not (asked or edns.options):
        return []
    sent = query.edns.options if query.edns is not None else ()
    return [";; OPT PSEUDOSECTION:", *edns.to_text(sent).splitlines()]


def _matches(query: Message, data: bytes) -> Message | None:
    """The decoded reply if it answers ``query`` (ID, QR and question), else None."""
    if len(data) < 12 or data[:2] != query.header.id.to_bytes(2, "big"):
        return None
    try:
        message = decode(data)
    except WireError as exc:
        raise ClientError(Failure.REPLY, f"undecodable reply: {exc}", encode(query),
                          data) from None
    if not message.header.qr:
        return None
    same_question = len(message.question) == len(query.question) and all(
        a.rtype == b.rtype and a.rclass == b.rclass and a.name.equals(b.name)
        for a, b in zip(message.question, query.question, strict=True)
    )
    # A FORMERR or NOTIMP reply may legitimately carry no question at all.
    if not same_question and (message.question or message.header.rcode == 0):
        return None
    return message


def udp_exchange(query: Message, server: tuple[str, int], timeout: float,
                 key: Key | None = None) -> Reply:
    return _exchange(query, server, timeout, tcp=False, key=key)


def tcp_exchange(query: Message, server: tuple[str, int], timeout: float,
                 key: Key | None = None) -> Reply:
    return _exchange(query, server, timeout, tcp=True, key=key)


def _exchange(query: Message, server: tuple[str, int], timeout: float, tcp: bool,
              key: Key | None = None) -> Reply:
    """One exchange on a fresh socket (over UDP, a new random source port), connected to
    ``server`` so nothing from another address is read; the reply is the first that
    answers ``query`` (same ID and question). With ``key`` the query is signed and the
    reply's TSIG checked (``Reply.tsig``)."""
    wire = encode(query)
    mac = b""
    if key is not None:
        wire, mac = sign(wire, key, int(time.time()))
    answers: list[Message] = []

    def accept(data: bytes) -> bool:
        message = _matches(query, data)
        if message is not None:
            answers.append(message)
        return message is not None

    try:
        sent = send_bytes(wire, server, tcp=tcp, timeout=timeout, accept=accept)
    except TimeoutError:
        raise _timeout(server, timeout) from None
    except OSError as exc:
        raise _network(server, exc) from None
    if not sent.complete:
        raise ClientError(Failure.REPLY, "connection closed before a whole reply arrived")
    if sent.reply is None:
        raise _timeout(server, timeout)
    verdict = None
    if key is not None:
        verdict = StreamVerifier(key, mac).feed(sent.reply, int(time.time()))
    return Reply(wire, sent.reply, answers[-1], sent.transport, sent.elapsed, server, sent.client,
                 verdict)


def _next_message(sock: socket.socket) -> bytes:
    data = recv_framed(sock)
    if data is None:
        raise ClientError(Failure.REPLY, "connection closed before a whole reply arrived")
    return data


def _timeout(server: tuple[str, int], timeout: float) -> ClientError:
    return ClientError(Failure.TIMEOUT, f"no reply from {server[0]}:{server[1]} in {timeout:g}s")


def _network(server: tuple[str, int], exc: OSError) -> ClientError:
    return ClientError(Failure.NETWORK, f"{server[0]}:{server[1]}: {exc.strerror or exc}")


def ask(
    query: Message, server: tuple[str, int], *, tcp: bool = False, timeout: float = 2.0,
    retries: int = 2, key: Key | None = None,
) -> Reply:
    """Exchange ``query`` (signed with ``key``, if given); UDP timeouts are retried, a TC
    reply is asked again over TCP."""
    if tcp:
        return tcp_exchange(query, server, timeout, key)
    for attempt in range(retries + 1):
        try:
            reply = udp_exchange(query, server, timeout, key)
        except ClientError as exc:
            if exc.kind is not Failure.TIMEOUT or attempt == retries:
                raise
            continue
        if reply.message.header.tc:
            return tcp_exchange(query, server, timeout, key)
        return reply
    raise AssertionError("unreachable")


def axfr(zone: Name, server: tuple[str, int], timeout: float = 5.0,
         ixfr_serial: int | None = None, key: Key | None = None) -> list[Record]:
    """Transfer ``zone`` over TCP (RFC 5936): the records from the first SOA to the last,
    the closing SOA left out; ClientError when refused or cut short. With ``ixfr_serial``
    it asks IXFR from that serial instead (RFC 1995, the client's SOA in authority); see
    ``_until_closing_soa`` for the shapes of the answer. With ``key`` the query is signed
    and every message's MAC checked in its chain (RFC 8945 5.3.1): a failure is REFUSED."""
    query = build_query(zone, RRType.AXFR)
    if ixfr_serial is not None:
        ours = Record(zone, RRType.SOA, RRClass.IN, 0, SOA(zone, zone, ixfr_serial, 0, 0, 0, 0))
        query = Message(query.header, (Question(zone, RRType.IXFR),), (), (ours,))
    wire = encode(query)
    verifier = None
    if key is not None:
        wire, mac = sign(wire, key, int(time.time()))
        verifier = StreamVerifier(key, mac)
    try:
        with tcp_socket(server, timeout) as sock:
            sock.sendall(framed(wire))
            records = _until_closing_soa(_answer_records(sock, query, verifier),
                                         ixfr_serial is not None)
            if verifier is not None and not (done := verifier.finish()).ok:
                raise ClientError(Failure.TSIG, f"transfer not trusted: TSIG: {done.reason}")
            return records
    except WireError as exc:
        raise ClientError(Failure.REPLY, f"undecodable transfer message: {exc}") from None
    except TimeoutError:
        raise ClientError(Failure.TIMEOUT, f"transfer from {server[0]}:{server[1]} timed out") from None
    except OSError as exc:
        raise _network(server, exc) from None


def _answer_records(sock: socket.socket, query: Message,
                    verifier: StreamVerifier | None = None) -> Iterator[tuple[Record, bool]]:
    """The answer records of the messages answering ``query`` over TCP, in order, each with
    whether it is the only record of its message (each message's TSIG checked first by
    ``verifier``, when there is one)."""
    while True:
        data = _next_message(sock)
        message = decode(data)
        if message.header.id != query.header.id:
            continue
        if verifier is not None:
            verdict = verifier.feed(data, int(time.time()))
            if not verdict.ok:
                raise ClientError(Failure.TSIG, f"transfer not trusted: TSIG: {verdict.reason}"
                                  + (f" ({rcode_text(message.rcode)})" if message.rcode else ""))
        if message.rcode != 0:
            raise ClientError(Failure.REFUSED, f"transfer refused: {rcode_text(message.rcode)}")
        for record in message.answer:
            yield record, len(message.answer) == 1


def _until_closing_soa(stream: Iterator[tuple[Record, bool]], ixfr: bool) -> list[Record]:
    """A transfer's records up to its closing SOA, which is left out. AXFR, and IXFR sent
    AXFR-style: the SOA, the records, the SOA. Incremental IXFR (RFC 1995 4): the SOA, then
    per version an old SOA with the records deleted and a newer SOA with those added, then
    the SOA again. An IXFR answered by the SOA alone means the client is up to date."""
    records: list[Record] = []
    incremental = adding = False
    current = -1
    for record, alone in stream:
        if not records:
            if not isinstance(record.rdata, SOA):
                raise ClientError(Failure.REPLY, "transfer does not start with the SOA")
            current = record.rdata.serial
            records.append(record)
            if ixfr and alone:
                return records
            continue
        if not isinstance(record.rdata, SOA):
            records.append(record)
            continue
        if not ixfr or (len(records) > 1 and not incremental):
            return records
        if len(records) == 1:
            incremental = True  # the old SOA of the first difference
        elif adding and record.rdata.serial == current:
            return records
        else:
            adding = not adding
        records.append(record)
    raise ClientError(Failure.REPLY, "transfer cut short")


def send_notify(message: Message, target: tuple[str, int], timeout: float = 1.0,
                retries: int = 4, key: Key | None = None) -> bool:
    """Send a NOTIFY (signed with ``key``, if given) and wait for its acknowledgement
    (RFC 1996 3.6), retrying; a signed NOTIFY wants a signed acknowledgement."""
    try:
        reply = ask(message, target, timeout=timeout, retries=retries, key=key)
    except ClientError:
        return False
    if reply.tsig is not None and not reply.tsig.ok:
        return False
    return reply.message.header.opcode == message.header.opcode and reply.message.rcode == 0


def _short(name: Name) -> str:
    text = name.to_text()
    return text[:-1] if len(text) > 1 else text


def describe(record: Record) -> str:
    """The lab's line: ``google.com: type A, class IN, TTL 260, addr (4) 192.165.1.1``."""
    rdata = record.rdata
    head = (
        f"{_short(record.name)}: type {type_text(record.rtype)}, "
        f"class {class_text(record.rclass)}, TTL {record.ttl}"
    )
    if isinstance(rdata, A | AAAA):
        size = 4 if isinstance(rdata, A) else 16
        return f"{head}, addr ({size}) {rdata.address}"
    if isinstance(rdata, MX):
        return f"{head}, preference {rdata.preference}, exchange {_short(rdata.exchange)}"
    if isinstance(rdata, SOA):
        return (
            f"{head}, mname {_short(rdata.mname)}, rname {_short(rdata.rname)}, "
            f"serial {rdata.serial}, refresh {rdata.refresh}, retry {rdata.retry}, "
            f"expire {rdata.expire}, minimum {rdata.minimum}"
        )
    if isinstance(rdata, SRV):
        return (
            f"{head}, priority {rdata.priority}, weight {rdata.weight}, port {rdata.port}, "
            f"target {_short(rdata.target)}"
        )
    if isinstance(rdata, TXT):
        return f"{head}, text {' '.join(quote(s) for s in rdata.strings)}"
    if isinstance(rdata, Opaque):
        return f"{head}, data ({len(rdata.data)}) {rdata.data.hex()}"
    target = getattr(rdata, "target", None)
    if isinstance(target, Name) and len(rdata.fields) == 1:  # NS, CNAME, PTR, DNAME...
        return f"{head}, {type_text(record.rtype).lower()} {_short(target)}"
    return f"{head}, {rdata.to_text()}"
