"""``craft decode``: show any DNS message as the lab's annotated hex view and as text."""

from __future__ import annotations

import sys

import click

from craft.dns.canonical import key_tag
from craft.dns.codec import decode
from craft.dns.message import Message
from craft.dns.rdtypes.dnssec import DNSKEY
from craft.dns.wire import Span, WireError
from craft.errors import CraftError
from craft.view.hexview import annotate, hexdump, want_color

LAB_QUERY = "1a2b04000001000000000000066" "76f6f676c65026361000001" "0001"


def parse_hex(text: str) -> bytes:
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned.startswith(("0x", "0X")):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise click.BadParameter("not hex octets", param_hint="HEX") from None


@click.command("decode")
@click.argument("hex_parts", metavar="HEX", nargs=-1)
@click.option("--lab", is_flag=True, help="Decode the lab's google.ca example query.")
@click.option("--color/--no-color", default=None, help="Colour the fields (default: on a terminal).")
def decode_command(hex_parts: tuple[str, ...], lab: bool, color: bool | None) -> None:
    """Decode a DNS message given as HEX (or on stdin) and show every field.

    \b
    Example:
      craft decode 1a2b04000001000000000000066 76f6f676c6502636100 00010001
    """
    hex_text = LAB_QUERY if lab else " ".join(hex_parts)
    if not hex_text:
        hex_text = sys.stdin.read()
    data = parse_hex(hex_text)
    use_color = want_color(sys.stdout) if color is None else color
    spans: list[Span] = []
    try:
        message = decode(data, spans)
    except WireError as exc:
        click.echo(hexdump(data))
        raise CraftError("not a valid DNS message", str(exc)) from None
    click.echo(annotate(data, spans, use_color))
    click.echo()
    click.echo(message.to_text())
    for line in key_tags(message):
        click.echo(line)


def key_tags(message: Message) -> list[str]:
    """One comment line per DNSKEY: its key tag (RFC 4034 appendix B), what RRSIGs and DS
    records name it by."""
    lines = []
    for record in (*message.answer, *message.authority, *message.additional):
        if isinstance(record.rdata, DNSKEY):
            role = "KSK" if record.rdata.flags & 1 else "ZSK"
            lines.append(f";; DNSKEY {record.name} flags {record.rdata.flags} ({role}) alg "
                         f"{record.rdata.algorithm}: key tag {key_tag(record.rdata)}")
    return lines
