"""Trust anchors as text, for ``dns-ask --validate --trust-anchor``: zone-file DS and DNSKEY
lines (a ``dsset-`` file from ``dnssec-signzone``, a ``K*.key`` file from ``dnssec-keygen``,
one line pasted on the command line) and BIND's ``trust-anchors``, ``trusted-keys`` and
``managed-keys`` blocks. Records are read by ``craft.dns.zonefile.parse_record``; the
result is ``craft.dns.validate.Anchor`` values.
"""

from __future__ import annotations

import re

from craft.dns.constants import RRType
from craft.dns.rdtypes.dnssec import DNSKEY, DS
from craft.dns.validate import Anchor
from craft.dns.zone import ZoneError
from craft.dns.zonefile import logical_lines, parse_record
from craft.errors import CraftError


class AnchorError(CraftError):
    """Trust-anchor text craft cannot read; ``where`` is the source and entry."""


_BIND_BLOCK = re.compile(r"\b(trust-anchors|trusted-keys|managed-keys)\s*\{(.*?)\}\s*;", re.S)
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|#[^\n]*", re.S)
_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')
_KEY_KINDS = {"static-key", "initial-key"}
_DS_KINDS = {"static-ds", "initial-ds"}


def parse_anchors(text: str, source: str = "<trust anchor>") -> list[Anchor]:
    """Every DS or DNSKEY trust anchor in ``text``; ``AnchorError`` when there is none or
    an entry is not one."""
    blocks = _BIND_BLOCK.findall(_COMMENTS.sub(" ", text))
    anchors = _bind(blocks, source) if blocks else _zone_lines(text, source)
    if not anchors:
        raise AnchorError(source, "no DS or DNSKEY record in it")
    return anchors


def _record(line: str, where: str) -> Anchor:
    try:
        record = parse_record(line)
    except (ValueError, CraftError) as exc:
        raise AnchorError(where, f"not a DS or DNSKEY record: {exc}") from None
    if record.rtype not in (RRType.DS, RRType.DNSKEY) or not isinstance(record.rdata, DS | DNSKEY):
        raise AnchorError(where, "a trust anchor is a DS or DNSKEY record")
    return Anchor(record.name, record.rdata)


def _zone_lines(text: str, source: str) -> list[Anchor]:
    try:
        lines = list(logical_lines(text, source))
    except ZoneError as exc:
        raise AnchorError(exc.where, exc.reason) from None
    # Relative owners make no sense without an $ORIGIN: every owner must end with a dot.
    return [_record(" ".join(line.tokens), f"{source}:{line.number}") for line in lines
            if not line.tokens[0].startswith("$")]


def _bind(blocks: list[tuple[str, str]], source: str) -> list[Anchor]:
    anchors: list[Anchor] = []
    for keyword, body in blocks:
        for number, entry in enumerate(body.split(";"), 1):
            tokens = [quoted if quoted else bare for quoted, bare in _TOKEN.findall(entry)]
            if not tokens:
                continue
            where = f"{source}: {keyword} entry {number}"
            owner, rest = tokens[0], tokens[1:]
            kind = rest[0] if rest and not rest[0].isdigit() else "static-key"
            if rest and not rest[0].isdigit():
                rest = rest[1:]
            if kind not in _KEY_KINDS | _DS_KINDS or len(rest) < 4:
                raise AnchorError(where, f"expected NAME static-key|initial-key|static-ds|"
                                         f"initial-ds and four fields, got {' '.join(tokens)}")
            name = owner if owner.endswith(".") else owner + "."
            rtype = "DNSKEY" if kind in _KEY_KINDS else "DS"
            # The key or digest may be split by blanks inside its quotes.
            data = "".join("".join(rest[3:]).split())
            anchors.append(_record(f"{name} {rtype} {' '.join(rest[:3])} {data}", where))
    return anchors
