"""``craft verify --log FILE``: one JSON line per exchange, in craft's form or Zeek's.

craft's form (``--log-format json``) names things as ``--stats`` does: ``ts``,
``transport``, ``client``, ``server`` (``host:port``), ``id``, the packet numbers of the
query and the response, the question as text, ``rcode``, the response's flags,
``rtt_ms``, ``copies`` and ``problems`` (the report's labels: unanswered, retransmitted,
duplicate, truncated, tc retry, unsolicited, duplicate response).

Zeek's form (``--log-format zeek``) is the JSON that Zeek writes for ``dns.log`` with
``LogAscii::use_json=T``: ``ts``, ``uid``, ``id.orig_h``, ``id.orig_p``, ``id.resp_h``,
``id.resp_p``, ``proto``, ``trans_id``, ``rtt`` (seconds), ``query`` (lower case, no
final dot, as Zeek logs it), ``qclass``/``qclass_name`` (Zeek's class names such as
``C_INTERNET``), ``qtype``/``qtype_name``, ``rcode``/``rcode_name``, ``AA``, ``TC``,
``RD``, ``RA``, ``Z``, ``answers`` and ``TTLs`` (the answer section: addresses and names
as text, other types in presentation form), ``rejected``. As Zeek does, fields without a
value are left out (``rtt`` and the response's fields for an unanswered query, the query's
for an unsolicited response); flags come from the response when there is one, else from
the query; ``rejected`` is Zeek's rule: a response with no record in any section. ``uid``
is stable for a connection (the transport and both endpoints), so lines of one TCP
connection or UDP flow share it, as in Zeek.
"""

from __future__ import annotations

import hashlib
import json
from typing import TextIO

from craft.capture.exchanges import Exchange, endpoint_text
from craft.dns.codec import decode
from craft.dns.constants import RRType, class_text, rcode_text, type_text
from craft.dns.wire import WireError

FORMATS = ("json", "zeek")
_ZEEK_CLASSES = {1: "C_INTERNET", 3: "C_CHAOS", 4: "C_HESIOD", 254: "C_NONE", 255: "C_ANY"}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def craft_line(exchange: Exchange) -> dict[str, object]:
    seen = exchange.glance
    response = exchange.response_glance
    line: dict[str, object] = {
        "ts": round(exchange.time, 6), "transport": exchange.transport,
        "client": endpoint_text(exchange.client), "server": endpoint_text(exchange.server),
        "id": seen.ident if seen else None,
        "query_packet": exchange.query.packet if exchange.query else None,
        "response_packet": exchange.response.packet if exchange.response else None,
        "qname": seen.qname if seen else None,
        "qtype": type_text(seen.qtype) if seen and seen.counts[0] else None,
        "rcode": rcode_text(response.rcode) if response else None,
        "flags": _flags(response.flags) if response else None,
        "answers": response.counts[1] if response else None,
        "rtt_ms": None if exchange.rtt is None else round(exchange.rtt * 1000, 3),
        "copies": exchange.copies,
        "problems": exchange.problems(),
    }
    return line


def _flags(flags: int) -> list[str]:
    names = (("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100), ("ra", 0x0080),
             ("ad", 0x0020), ("cd", 0x0010))
    return [name for name, bit in names if flags & bit]


def zeek_uid(exchange: Exchange) -> str:
    key = f"{exchange.transport} {exchange.client} {exchange.server}".encode()
    number = int.from_bytes(hashlib.blake2s(key, digest_size=12).digest(), "big")
    digits = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "C" + "".join(digits)


def _answers(data: bytes) -> tuple[list[str], list[float]] | None:
    try:
        message = decode(data)
    except WireError:
        return None
    answers: list[str] = []
    ttls: list[float] = []
    for record in message.answer:
        text = record.rdata.to_text()
        if record.rtype in (RRType.CNAME, RRType.NS, RRType.PTR, RRType.DNAME):
            text = text.rstrip(".") or "."
        elif record.rtype not in (RRType.A, RRType.AAAA):
            text = f"{type_text(record.rtype)} {text}"
        answers.append(text)
        ttls.append(float(record.ttl))
    return answers, ttls


def zeek_line(exchange: Exchange) -> dict[str, object]:
    seen = exchange.glance
    response = exchange.response_glance
    line: dict[str, object] = {
        "ts": round(exchange.time, 6), "uid": zeek_uid(exchange),
        "id.orig_h": exchange.client[0], "id.orig_p": exchange.client[1],
        "id.resp_h": exchange.server[0], "id.resp_p": exchange.server[1],
        "proto": exchange.transport,
    }
    if seen is not None:
        line["trans_id"] = seen.ident
    if exchange.rtt is not None:
        line["rtt"] = round(exchange.rtt, 6)
    if seen is not None and seen.counts[0]:
        line["query"] = seen.qname.lower().rstrip(".")
        line["qclass"] = seen.qclass
        line["qclass_name"] = _ZEEK_CLASSES.get(seen.qclass, class_text(seen.qclass))
        line["qtype"] = seen.qtype
        line["qtype_name"] = type_text(seen.qtype)
    if response is not None:
        line["rcode"] = response.rcode
        line["rcode_name"] = rcode_text(response.rcode)
    flags = (response or seen)
    if flags is not None:
        line["AA"] = bool(flags.flags & 0x0400)
        line["TC"] = bool(flags.flags & 0x0200)
        line["RD"] = bool(flags.flags & 0x0100)
        line["RA"] = bool(flags.flags & 0x0080)
        line["Z"] = (flags.flags >> 4) & 0x7
    if exchange.response is not None and response is not None:
        found = _answers(exchange.response.data)
        if found is not None and found[0]:
            line["answers"], line["TTLs"] = found
    line["rejected"] = response is not None and not any(response.counts[1:])
    return line


class ExchangeLog:
    """Writes each exchange it is given as one JSON line."""

    def __init__(self, out: TextIO, form: str = "json") -> None:
        if form not in FORMATS:
            raise ValueError(f"unknown log format {form!r}")
        self.out = out
        self.line = zeek_line if form == "zeek" else craft_line
        self.written = 0

    def write(self, exchange: Exchange) -> None:
        self.out.write(json.dumps(self.line(exchange), separators=(",", ":")) + "\n")
        self.written += 1
