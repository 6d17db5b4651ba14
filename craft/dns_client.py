"""The DNS client: build a query, exchange it over UDP or TCP, and describe the answer.

Queries get a random ID and a fresh socket (a random source port); a reply counts only if
it comes from the server asked, with the same ID and question (RFC 5452). A truncated UDP
reply is retried over TCP. The lab's answer line is ``describe``.
"""

from __future__ import annotations

import secrets
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

from craft.dns.codec import decode, encode
from craft.dns.constants import RRClass, RRType, class_text, rcode_text, type_text
from craft.dns.message import Edns, Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import AAAA, MX, SOA, SRV, TXT, A, Opaque, quote
from craft.dns.wire import WireError
from craft.errors import CraftError


class ClientError(CraftError):
    """The exchange failed: ``kind`` is ``timeout``, ``network`` or ``reply``."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__("", reason)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Reply:
    query: bytes
    response: bytes
    message: Message
    transport: str
    elapsed: float
    server: tuple[str, int]
    client: tuple[str, int]


def build_query(
    name: Name, rtype: int = RRType.A, *, rd: bool = False, edns: Edns | None = None,
    ident: int | None = None,
) -> Message:
    header = Header(id=secrets.randbits(16) if ident is None else ident, rd=rd)
    return Message(header, (Question(name, rtype),)).with_edns(edns)


def _matches(query: Message, data: bytes) -> Message | None:
    """The decoded reply if it answers ``query`` (ID, QR and question), else None."""
    if len(data) < 12 or data[:2] != query.header.id.to_bytes(2, "big"):
        return None
    try:
        message = decode(data)
    except WireError as exc:
        raise ClientError("reply", f"undecodable reply: {exc}") from None
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


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_exchange(query: Message, server: tuple[str, int], timeout: float) -> Reply:
    wire = encode(query)
    start = time.perf_counter()
    with socket.socket(_family(server[0]), socket.SOCK_DGRAM) as sock:
        sock.connect(server)  # the kernel then drops datagrams from any other address
        sock.send(wire)
        deadline = start + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ClientError("timeout", f"no reply from {server[0]}:{server[1]} in {timeout:g}s")
            sock.settimeout(left)
            try:
                data = sock.recv(65535)
            except TimeoutError:
                continue
            except OSError as exc:
                raise ClientError("network", f"{server[0]}:{server[1]}: {exc.strerror or exc}") from None
            message = _matches(query, data)
            if message is not None:
                client = sock.getsockname()[:2]
                return Reply(wire, data, message, "udp", time.perf_counter() - start,
                             server, client)


def tcp_exchange(query: Message, server: tuple[str, int], timeout: float) -> Reply:
    wire = encode(query)
    start = time.perf_counter()
    try:
        with socket.create_connection(server, timeout=timeout) as sock:
            client = sock.getsockname()[:2]
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            while True:
                prefix = _recv_exact(sock, 2)
                data = _recv_exact(sock, struct.unpack("!H", prefix)[0])
                message = _matches(query, data)
                if message is not None:
                    return Reply(wire, data, message, "tcp", time.perf_counter() - start,
                                 server, client)
    except TimeoutError:
        raise ClientError("timeout", f"no reply from {server[0]}:{server[1]} in {timeout:g}s") from None
    except OSError as exc:
        raise ClientError("network", f"{server[0]}:{server[1]}: {exc.strerror or exc}") from None


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ClientError("reply", "connection closed before a whole reply arrived")
        data += chunk
    return bytes(data)


def ask(
    query: Message, server: tuple[str, int], *, tcp: bool = False, timeout: float = 2.0,
    retries: int = 2,
) -> Reply:
    """Exchange ``query``; UDP timeouts are retried, a TC reply is asked again over TCP."""
    if tcp:
        return tcp_exchange(query, server, timeout)
    for attempt in range(retries + 1):
        try:
            reply = udp_exchange(query, server, timeout)
        except ClientError as exc:
            if exc.kind != "timeout" or attempt == retries:
                raise
            continue
        if reply.message.header.tc:
            return tcp_exchange(query, server, timeout)
        return reply
    raise AssertionError("unreachable")


def axfr(zone: Name, server: tuple[str, int], timeout: float = 5.0,
         ixfr_serial: int | None = None) -> list[Record]:
    """Transfer ``zone`` over TCP (RFC 5936): the records from the first SOA to the last,
    the closing SOA left out; ClientError when refused or cut short. With ``ixfr_serial``
    it asks IXFR from that serial instead (RFC 1995, the client's SOA in authority); see
    ``_until_closing_soa`` for the shapes of the answer."""
    query = build_query(zone, RRType.AXFR)
    if ixfr_serial is not None:
        ours = Record(zone, RRType.SOA, RRClass.IN, 0, SOA(zone, zone, ixfr_serial, 0, 0, 0, 0))
        query = Message(query.header, (Question(zone, RRType.IXFR),), (), (ours,))
    wire = encode(query)
    try:
        with socket.create_connection(server, timeout=timeout) as sock:
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            return _until_closing_soa(_answer_records(sock, query), ixfr_serial is not None)
    except WireError as exc:
        raise ClientError("reply", f"undecodable transfer message: {exc}") from None
    except TimeoutError:
        raise ClientError("timeout", f"transfer from {server[0]}:{server[1]} timed out") from None
    except OSError as exc:
        raise ClientError("network", f"{server[0]}:{server[1]}: {exc.strerror or exc}") from None


def _answer_records(sock: socket.socket, query: Message) -> Iterator[tuple[Record, bool]]:
    """The answer records of the messages answering ``query`` over TCP, in order, each with
    whether it is the only record of its message."""
    while True:
        message = decode(_recv_exact(sock, struct.unpack("!H", _recv_exact(sock, 2))[0]))
        if message.header.id != query.header.id:
            continue
        if message.rcode != 0:
            raise ClientError("reply", f"transfer refused: {rcode_text(message.rcode)}")
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
                raise ClientError("reply", "transfer does not start with the SOA")
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
    raise ClientError("reply", "transfer cut short")


def send_notify(message: Message, target: tuple[str, int], timeout: float = 1.0,
                retries: int = 4) -> bool:
    """Send a NOTIFY and wait for its acknowledgement (RFC 1996 3.6), retrying."""
    try:
        reply = ask(message, target, timeout=timeout, retries=retries)
    except ClientError:
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
