"""What a DNSSEC signature signs, drawn as the lab's annotated hex (``craft.view.hexview``):
the RRSIG rdata without its signature, then each record of the canonical RRset (RFC 4034
3.1.8.1, 6.2-6.3); and each NSEC3 hash's input (canonical name, salt) and output. The
octets come from ``craft.dns.canonical``; the spans from reading them back with the
decoders of ``craft.dns.wire``, so the field layout is described once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from craft.dns.canonical import signed_data
from craft.dns.constants import class_text, type_text
from craft.dns.denial_check import Hashed
from craft.dns.rdtypes import rdata_class
from craft.dns.rdtypes.dnssec import RRSIG
from craft.dns.validate import Checked
from craft.dns.wire import Reader, Span, SpanKind, WireError
from craft.view.hexview import annotate


def _retext(spans: list[Span], value: str) -> None:
    last = spans[-1]
    spans[-1] = dataclasses.replace(last, value=value)


def signed_spans(checked: Checked) -> tuple[bytes, list[Span]]:
    """The octets ``checked.rrsig`` signs and one span per field of them."""
    rrsig = checked.rrsig.rdata
    assert isinstance(rrsig, RRSIG)
    data = signed_data(rrsig, checked.records)
    spans: list[Span] = []
    r = Reader(data, spans)
    r.section = "RRSIG RDATA (no signature)"
    for name, kind in RRSIG.fields[:-1]:
        kind.decode(r, len(data), f"RDATA {name}")
    index = 0
    while r.pos < len(data):
        index += 1
        r.section = f"CANONICAL RR {index}"
        r.name("NAME")
        rtype = r.u16("TYPE", SpanKind.TYPE)
        _retext(spans, type_text(rtype))
        rclass = r.u16("CLASS", SpanKind.CLASS)
        _retext(spans, class_text(rclass))
        r.u32("TTL (original)", SpanKind.TTL)
        rdlength = r.u16("RDLENGTH", SpanKind.RDLENGTH)
        end = r.pos + rdlength
        rdata_class(rtype).decode(r, end)
    return data, spans


def signed_view(checked: Checked, color: bool) -> str:
    """The heading, the coloured dump and the field table of what one RRSIG signs."""
    rrsig = checked.rrsig.rdata
    assert isinstance(rrsig, RRSIG)
    first = checked.records[0]
    head = (f";; signed data of RRSIG {type_text(rrsig.type_covered)} {first.name} "
            f"(key {rrsig.key_tag}, alg {rrsig.algorithm}): RRSIG rdata without the "
            f"signature, then {len(checked.records)} record(s) in canonical form")
    try:
        data, spans = signed_spans(checked)
    except WireError as exc:  # the records decoded once already; this is a guard
        return f"{head}\n;; cannot lay out the signed octets: {exc}"
    return f"{head} ({len(data)} octets)\n{annotate(data, spans, color)}"


def hash_view(hashed: Hashed, color: bool) -> str:
    """One NSEC3 owner hash: the input octets field by field, then the output."""
    spans: list[Span] = []
    data = hashed.name.lower().to_wire() + hashed.salt
    r = Reader(data, spans)
    r.section = "NSEC3 HASH INPUT"
    r.name("NAME (canonical)")
    if hashed.salt:
        spans.append(Span(r.pos, len(data), r.section, "SALT", hashed.salt.hex(), SpanKind.RDATA))
    head = (f";; NSEC3 hash of {hashed.name}: SHA-1 of name and salt, then "
            f"{hashed.iterations} more round(s) of SHA-1 over digest and salt")
    tail = f";; output {hashed.digest.hex()} = base32hex {hashed.label}"
    return f"{head}\n{annotate(data, spans, color)}\n{tail}"


def validation_hex(checked: Sequence[Checked], hashes: Sequence[Hashed], color: bool) -> str:
    """Every signed block, then every NSEC3 hash, blank lines between."""
    parts = [signed_view(c, color) for c in checked]
    parts += [hash_view(h, color) for h in hashes]
    return "\n\n".join(parts)
