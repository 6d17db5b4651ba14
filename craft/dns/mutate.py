"""Deliberate faults, applied to encoded messages: each one turns valid bytes into a named
kind of broken bytes. Fields are found through the decoder's spans, so a fault lands on
the same bytes the hex view labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from craft.dns.codec import decode
from craft.dns.wire import Span, WireError
from craft.errors import CraftError


class MutationError(CraftError, ValueError):
    """A fault that cannot be applied to this message (``name`` says which)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"--mutate {name}", reason)
        self.name = name


@dataclass(frozen=True, slots=True)
class Mutation:
    name: str
    takes: str  # "" or the argument's name (N, OFFSET)
    help: str
    apply: Callable[[bytes, list[Span], int], bytes]


def _first(spans: list[Span], field: str, name: str) -> Span:
    for span in spans:
        if span.field == field and span.level == 0:
            return span
    raise MutationError(name, f"the message has no {field} to break")


def _replace(data: bytes, span: Span, new: bytes) -> bytes:
    return data[: span.start] + new + data[span.end :]


def _pointer_loop(data: bytes, spans: list[Span], arg: int) -> bytes:
    qname = _first(spans, "QNAME", "pointer-loop")
    return _replace(data, qname, (0xC000 | qname.start).to_bytes(2, "big"))


def _forward_pointer(data: bytes, spans: list[Span], arg: int) -> bytes:
    qname = _first(spans, "QNAME", "forward-pointer")
    target = qname.start + 2  # just past the pointer itself
    return _replace(data, qname, (0xC000 | target).to_bytes(2, "big"))


def _pointer_into_header(data: bytes, spans: list[Span], arg: int) -> bytes:
    qname = _first(spans, "QNAME", "pointer-into-header")
    return _replace(data, qname, b"\xc0\x04")


def _long_label(data: bytes, spans: list[Span], arg: int) -> bytes:
    # 64 octets: the length octet 0x40 is where labels stop and reserved types begin.
    qname = _first(spans, "QNAME", "long-label")
    return _replace(data, qname, b"\x40" + b"a" * 64 + b"\x00")


def _long_name(data: bytes, spans: list[Span], arg: int) -> bytes:
    qname = _first(spans, "QNAME", "long-name")
    return _replace(data, qname, (b"\x3f" + b"a" * 63) * 5 + b"\x00")  # 321 octets


def _reserved_label_type(data: bytes, spans: list[Span], arg: int) -> bytes:
    qname = _first(spans, "QNAME", "reserved-label-type")
    out = bytearray(data)
    out[qname.start] = 0x80 | (out[qname.start] & 0x3F)
    return bytes(out)


def _truncate(data: bytes, spans: list[Span], arg: int) -> bytes:
    if arg >= len(data):
        raise MutationError("truncate", f"the message has only {len(data)} octets")
    return data[:arg]


def _trailing(data: bytes, spans: list[Span], arg: int) -> bytes:
    return data + bytes([0xAA]) * arg


def _bad_rdlength(data: bytes, spans: list[Span], arg: int) -> bytes:
    span = _first(spans, "RDLENGTH", "bad-rdlength")
    value = int.from_bytes(data[span.start : span.end], "big")
    return _replace(data, span, ((value + 1) & 0xFFFF).to_bytes(2, "big"))


def _flip(data: bytes, spans: list[Span], arg: int) -> bytes:
    if arg >= len(data):
        raise MutationError("flip", f"offset {arg} is past the message's {len(data)} octets")
    out = bytearray(data)
    out[arg] ^= 0xFF
    return bytes(out)


MUTATIONS: dict[str, Mutation] = {m.name: m for m in (
    Mutation("pointer-loop", "", "the question name becomes a pointer to itself", _pointer_loop),
    Mutation("forward-pointer", "", "the question name points forward", _forward_pointer),
    Mutation("pointer-into-header", "", "the question name points into the header (offset 4)",
             _pointer_into_header),
    Mutation("long-label", "", "the question name gets a 64-octet label", _long_label),
    Mutation("long-name", "", "the question name grows to 321 octets", _long_name),
    Mutation("reserved-label-type", "", "the first label's length octet gets type bits 10",
             _reserved_label_type),
    Mutation("truncate", "N", "cut the message to N octets", _truncate),
    Mutation("trailing", "N", "append N octets (0xaa) after the last record", _trailing),
    Mutation("bad-rdlength", "", "the first record's RDLENGTH is one too large", _bad_rdlength),
    Mutation("flip", "OFFSET", "invert every bit of the octet at OFFSET", _flip),
)}


def mutate(data: bytes, spec: str) -> bytes:
    """Apply one fault, named as ``name`` or ``name:ARG`` (see ``MUTATIONS``)."""
    name, _, text = spec.partition(":")
    mutation = MUTATIONS.get(name)
    if mutation is None:
        raise MutationError(name, f"unknown; one of {', '.join(MUTATIONS)}")
    arg = 0
    if mutation.takes:
        if not (text.isascii() and text.isdigit()):
            raise MutationError(name, f"needs {name}:{mutation.takes} (a whole number)")
        arg = int(text)
    elif text:
        raise MutationError(name, "takes no argument")
    spans: list[Span] = []
    try:
        decode(data, spans)
    except WireError:
        pass  # stacking faults: use what could still be read
    return mutation.apply(data, spans, arg)


def mutations_help() -> str:
    return "\n".join(
        f"  {m.name}{':' + m.takes if m.takes else ''}  {m.help}" for m in MUTATIONS.values()
    )
