"""``dns-ask --validate`` around the pure validator (``craft.dns.validate``): fetch the
DNSKEY RRset of every signer the response names from the same server with the same
transport settings (``craft.dns_client``), check it against the trust anchors (or, with
none, take it as the server sent it), and check the response. The result is the report
and the lines to print.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

from craft.dns.constants import RRType
from craft.dns.edns import EdnsRequest
from craft.dns.message import Message
from craft.dns.names import Name
from craft.dns.tsig import Key
from craft.dns.validate import (
    Anchor,
    KeySet,
    Report,
    Security,
    Verdict,
    signers,
    validate_keys,
    validate_message,
)
from craft.dns_client import ClientError, ask, edns_query

NO_ANCHOR_NOTE = (";; no --trust-anchor: each DNSKEY RRset is trusted only because the server "
                  "sent it; secure means consistent with the server's own keys")


@dataclass(frozen=True, slots=True)
class Asking:
    """How the first question was asked: the DNSKEY questions are asked the same way."""

    server: tuple[str, int]
    tcp: bool
    timeout: float
    retries: int
    request: EdnsRequest
    key: Key | None = None  # -y: a server that wants TSIG for queries wants it for these


def fetch_keys(zones: Sequence[Name], asking: Asking, anchors: Sequence[Anchor] | None,
               now: int) -> list[KeySet]:
    """Each zone's DNSKEY RRset, asked with DO set, checked; a failed question is a bogus
    key set with the reason."""
    return [_keys(zone, asking, anchors, now) for zone in zones]


def _keys(zone: Name, asking: Asking, anchors: Sequence[Anchor] | None, now: int) -> KeySet:
    """One zone's DNSKEY RRset, checked; bogus, with the reason, when it cannot be had."""
    query = edns_query(zone, RRType.DNSKEY, dataclasses.replace(asking.request, dnssec=True))
    try:
        reply = ask(query, asking.server, tcp=asking.tcp, timeout=asking.timeout,
                    retries=asking.retries, key=asking.key)
    except ClientError as exc:
        reason = f"could not fetch the DNSKEY RRset: {exc.reason}"
    else:
        if reply.tsig is None or reply.tsig.ok:
            return validate_keys(zone, reply.message.answer, anchors, now)
        reason = f"the DNSKEY answer's TSIG did not verify: {reply.tsig.reason}"
    return KeySet(zone, (), Verdict(zone, RRType.DNSKEY, "keys", Security.BOGUS, reason))


def check_response(message: Message, asking: Asking, anchors: Sequence[Anchor] | None,
                   now: int | None = None) -> Report:
    """Fetch the keys the response needs and validate it (``now``: Unix time, default now)."""
    moment = int(time.time()) if now is None else now
    keysets = fetch_keys(signers(message), asking, anchors, moment)
    return validate_message(message, keysets, moment, expect_signed=anchors is not None)


def report_lines(report: Report, anchored: bool) -> list[str]:
    """The note when no anchor was given, the DNSKEY verdicts, then one line per RRset."""
    lines = [] if anchored else [NO_ANCHOR_NOTE]
    lines += [f";; {k.verdict.to_text()}" for k in report.keysets]
    if not report.verdicts:
        lines.append(";; nothing to validate: the response has no records")
    lines += [v.to_text() for v in report.verdicts]
    return lines
