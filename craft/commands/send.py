"""``craft dns-send``: build any message, break it on purpose, send it, read both codecs."""

from __future__ import annotations

import json
import secrets
import sys
import time

import click

from craft.commands.params import EdnsCommand, edns_request, edns_switches, host_port
from craft.dns.codec import decode, encode
from craft.dns.constants import (
    class_number,
    opcode_number,
    rcode_number,
    type_number,
)
from craft.dns.edns import EdnsOption, parse_edns_option
from craft.dns.message import Edns, Header, Message, Question, Record, message_dict
from craft.dns.mutate import mutate, mutations_help
from craft.dns.names import BadNameError, Name
from craft.dns.tsig import Faults, TsigError, parse_dig_key, sign
from craft.dns.wire import WireError
from craft.dns.zonefile import parse_record
from craft.dns_client import pseudosection, with_padding
from craft.errors import CraftError
from craft.stops import held_stops
from craft.transport import Sent, send_bytes
from craft.view.exchange import annotated
from craft.view.hexview import want_color

FLAG_NAMES = ("qr", "aa", "tc", "rd", "ra", "z", "ad", "cd")
EXIT_NO_REPLY = 7
EXIT_NETWORK = 8


def _number(text: str, parse: object, what: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        return parse(text)  # type: ignore[operator, no-any-return]
    except ValueError:
        raise click.BadParameter(f"unknown {what} {text!r}") from None


def _ident(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text, 0)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFFFF:
        raise click.BadParameter(f"{text!r} is not 0..65535 (or 0x0000..0xffff)", param_hint="--id")
    return value


def _question(text: str) -> Question:
    parts = text.split()
    if not 1 <= len(parts) <= 3:
        raise click.BadParameter(f"{text!r}: expected NAME [TYPE [CLASS]]", param_hint="--question")
    try:
        name = Name.from_text(parts[0] if parts[0].endswith(".") else parts[0] + ".")
        rtype = type_number(parts[1]) if len(parts) > 1 else 1
        rclass = class_number(parts[2]) if len(parts) > 2 else 1
    except (BadNameError, ValueError) as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint="--question") from None
    return Question(name, rtype, rclass)


def _records(texts: tuple[str, ...], hint: str) -> tuple[Record, ...]:
    records = []
    for text in texts:
        try:
            records.append(parse_record(text))
        except ValueError as exc:
            raise click.BadParameter(f"{text!r}: {exc}", param_hint=hint) from None
    return tuple(records)


def _flags(text: str) -> dict[str, bool]:
    chosen = {f.strip().lower() for f in text.replace(",", " ").split() if f.strip()}
    unknown = chosen - set(FLAG_NAMES)
    if unknown:
        raise click.BadParameter(f"unknown flag(s) {', '.join(sorted(unknown))}; "
                                 f"choose from {', '.join(FLAG_NAMES)}", param_hint="--flags")
    return {f: f in chosen for f in FLAG_NAMES}


def _options(values: tuple[str, ...]) -> tuple[EdnsOption, ...]:
    try:
        return tuple(parse_edns_option(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--edns-option") from None


MULTIWORD_OPTIONS = ("--question", "--answer", "--authority", "--additional")


class _MultiwordCommand(EdnsCommand):
    """Lets ``--question google.com A IN`` and ``--answer NAME TTL IN A ADDR`` be written
    without quotes. dns-send takes no arguments, so a bare word after the value of one of
    these options can only be more of that value; quoting still works the same."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, join_multiword(args))


def join_multiword(args: list[str]) -> list[str]:
    """``[--question, a.b, A, IN, --tcp]`` -> ``[--question, "a.b A IN", --tcp]``."""
    joined: list[str] = []
    value_next = extending = False
    for position, arg in enumerate(args):
        if value_next:
            joined.append(arg)
            value_next, extending = False, True
            continue
        if extending and arg != "--" and not arg.startswith("-"):
            joined[-1] = f"{joined[-1]} {arg}"
            continue
        extending = False
        if arg == "--":
            return joined + args[position:]
        joined.append(arg)
        name, equals, _ = arg.partition("=")
        if name in MULTIWORD_OPTIONS:
            value_next, extending = not equals, bool(equals)
    return joined


def _side(data: bytes | None, color: bool) -> dict[str, object] | None:
    if data is None:
        return None
    from craft.oracle import check

    side: dict[str, object] = {"hex": data.hex(), "octets": len(data),
                               "scapy": check(data).describe()}
    try:
        side["craft"] = message_dict(decode(data))
    except WireError as exc:
        side["craft"] = {"error": exc.reason, "offset": exc.offset}
    return side


def _show(data: bytes, color: bool) -> None:
    from craft.oracle import check

    click.echo(annotated(data, color))
    click.echo("  scapy: " + check(data).describe().replace("\n", "\n  "))


@click.command("dns-send", cls=_MultiwordCommand, epilog="\b\nFaults for --mutate (applied in order, after encoding):\n"
               + mutations_help())
@click.option("--server", default="127.0.0.1", show_default=True, help="Server address (any).")
@click.option("-p", "--port", default=10053, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tcp", is_flag=True, help="Send over TCP (with the 2-octet length prefix).")
@click.option("--id", "ident_text", metavar="ID", help="Message ID, decimal or 0x hex (default: random).")
@click.option("--flags", default="", metavar="LIST", help="Header flags to set: qr,aa,tc,rd,ra,z,ad,cd.")
@click.option("--opcode", default="QUERY", show_default=True, help="Opcode name or number.")
@click.option("--rcode", default="NOERROR", show_default=True,
              help="RCODE name or number (above 15 needs EDNS).")
@click.option("--question", "questions", multiple=True, metavar="NAME [TYPE [CLASS]]",
              help="A question (repeatable; none at all is allowed).")
@click.option("--answer", "answers", multiple=True, metavar="RECORD",
              help="Answer record, zone-file form (its words quoted or not).")
@click.option("--authority", "authorities", multiple=True, metavar="RECORD", help="Authority record.")
@click.option("--additional", "additionals", multiple=True, metavar="RECORD", help="Additional record.")
@click.option("--edns/--no-edns", default=None, help="Add an OPT record (implied by other EDNS options).")
@click.option("--edns-size", default=1232, show_default=True, type=click.IntRange(0, 65535))
@click.option("--edns-version", default=0, show_default=True, type=click.IntRange(0, 255))
@click.option("--do", "--dnssec", "do_bit", is_flag=True, help="Set the DNSSEC OK bit.")
@click.option("--edns-option", "edns_options", multiple=True, metavar="OPTION",
              help="An EDNS option: CODE:HEX (kept as given, even malformed), or by name: "
                   "nsid, cookie[:HEX], subnet:PREFIX, expire, keepalive[:N], padding:N, "
                   "chain:NAME, key-tag:N[,N], ede:CODE[:TEXT], dau:N[,N], zoneversion.")
@edns_switches(dnssec=False)
@click.option("--qdcount", type=click.IntRange(0, 0xFFFF), help="Header QDCOUNT, true or not.")
@click.option("--ancount", type=click.IntRange(0, 0xFFFF), help="Header ANCOUNT, true or not.")
@click.option("--nscount", type=click.IntRange(0, 0xFFFF), help="Header NSCOUNT, true or not.")
@click.option("--arcount", type=click.IntRange(0, 0xFFFF), help="Header ARCOUNT, true or not.")
@click.option("-y", "--tsig", "tsig", metavar="[ALG:]NAME:SECRET",
              help="Sign the message with this TSIG key (RFC 8945, as dig -y), after the "
                   "count options and before --mutate.")
@click.option("--tsig-wrong-mac", is_flag=True, help="With -y: flip the MAC's last bit.")
@click.option("--tsig-truncate", type=click.IntRange(0, 64), metavar="N",
              help="With -y: send only the MAC's first N octets.")
@click.option("--tsig-time", "tsig_offset", type=int, default=0, metavar="SECONDS",
              help="With -y: time signed this far from now (past the fudge: BADTIME).")
@click.option("--tsig-fudge", type=click.IntRange(0, 0xFFFF), default=300, show_default=True,
              help="With -y: the fudge the TSIG carries.")
@click.option("--tsig-algorithm", metavar="NAME",
              help="With -y: name this algorithm in the TSIG (e.g. an unknown one) while the "
                   "MAC is still made with the key's.")
@click.option("--mutate", "mutations", multiple=True, metavar="FAULT", help="Break the bytes (see below).")
@click.option("--raw", "raw_hex", metavar="HEX", help="Send exactly these octets (building options ignored).")
@click.option("--timeout", default=2.0, show_default=True, type=click.FloatRange(0.01, 60))
@click.option("--no-wait", is_flag=True, help="Fire and forget.")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 100000))
@click.option("--rate", default=10.0, show_default=True, type=click.FloatRange(0.1, 10000),
              help="Messages per second with --count.")
@click.option("--json", "as_json", is_flag=True, help="Sent and received, decoded by both codecs, as JSON.")
@click.option("--pcap", metavar="FILE", help="Capture the exchange(s) to FILE.")
@click.option("--color/--no-color", default=None, help="Colour the hex by field.")
def dns_send_command(
    server: str, port: int, tcp: bool, ident_text: str | None, flags: str, opcode: str, rcode: str,
    questions: tuple[str, ...], answers: tuple[str, ...], authorities: tuple[str, ...],
    additionals: tuple[str, ...], edns: bool | None, edns_size: int, edns_version: int,
    do_bit: bool, edns_options: tuple[str, ...], nsid: bool, cookie: str | None,
    subnet: str | None, padding: int, qdcount: int | None, ancount: int | None,
    nscount: int | None, arcount: int | None, tsig: str | None, tsig_wrong_mac: bool,
    tsig_truncate: int | None, tsig_offset: int, tsig_fudge: int, tsig_algorithm: str | None,
    mutations: tuple[str, ...], raw_hex: str | None,
    timeout: float, no_wait: bool, count: int, rate: float, as_json: bool, pcap: str | None,
    color: bool | None,
) -> None:
    """Craft any DNS message, well-formed or broken, send it, and show both sides.

    \b
    Examples:
      craft dns-send --question google.com A --flags rd
      craft dns-send --question google.com MX IN --answer google.com. 60 IN A 1.2.3.4
      craft dns-send --question 'google.com A' --mutate pointer-loop
      craft dns-send --question 'google.com A' --edns --edns-version 1 --do
      craft dns-send --raw 1a2b0100000100000000000006676f6f676c6503636f6d0000010001
      craft dns-send --question google.com A -y xfr:SECRET --tsig-time -1000
    """
    ident = _ident(ident_text)
    if raw_hex is not None:
        try:
            wire = bytes.fromhex("".join(raw_hex.split()))
        except ValueError:
            raise click.BadParameter("not hex octets", param_hint="--raw") from None
    else:
        code = _number(rcode, rcode_number, "rcode")
        header = Header(id=secrets.randbits(16) if ident is None else ident,
                        opcode=_number(opcode, opcode_number, "opcode") & 0xF, rcode=code & 0xF,
                        **_flags(flags))
        message = Message(header, tuple(_question(q) for q in questions),
                          _records(answers, "--answer"), _records(authorities, "--authority"),
                          _records(additionals, "--additional"))
        request = edns_request(nsid, cookie, subnet, padding, do_bit)
        options = request.options() + _options(edns_options)
        if edns or (edns is None and (request.wanted or options or edns_version or code > 15)):
            message = with_padding(message.with_edns(Edns(
                payload=edns_size, ext_rcode=code >> 4, version=edns_version, do=do_bit,
                options=options)), padding)
        try:
            wire = encode(message, counts=(qdcount, ancount, nscount, arcount))
        except WireError as exc:
            raise CraftError("cannot encode", str(exc)) from None
    if tsig is not None:
        wire = _signed(wire, tsig, Faults(tsig_wrong_mac, tsig_truncate,
                                          _algorithm(tsig_algorithm)), tsig_offset, tsig_fudge)
    for spec in mutations:
        wire = mutate(wire, spec)
    use_color = want_color(sys.stdout) if color is None else color
    capture = None
    if pcap:
        from craft.capture.writer import CaptureWriter

        capture = CaptureWriter(pcap, hold=held_stops)  # a Ctrl-C cuts no exchange
    target = (server, port)
    code_out = 0
    start = time.monotonic()
    try:
        for index in range(count):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                sent = send_bytes(wire, target, tcp=tcp, timeout=timeout, wait=not no_wait)
            except OSError as exc:
                click.echo(f"{server}:{port}: {exc.strerror or exc}", err=True)
                sys.exit(EXIT_NETWORK)
            if capture is not None:
                capture.exchange(sent.transport, sent.client, sent.server, sent.wire, sent.reply)
            if sent.reply is None and not no_wait:
                code_out = EXIT_NO_REPLY
            _report(sent, index, count, as_json, use_color, no_wait, timeout)
    finally:
        if capture is not None:
            capture.close()
    sys.exit(code_out)


def _algorithm(text: str | None) -> Name | None:
    if text is None:
        return None
    try:
        return Name.from_text(text if text.endswith(".") else text + ".")
    except BadNameError as exc:
        raise click.BadParameter(exc.reason, param_hint="--tsig-algorithm") from None


def _signed(wire: bytes, text: str, faults: Faults, offset: int, fudge: int) -> bytes:
    """``wire`` with a TSIG made with the key ``text`` names, faults and all."""
    try:
        key = parse_dig_key(text)
    except TsigError as exc:
        raise click.BadParameter(str(exc), param_hint="-y") from None
    if len(wire) < 12:
        raise click.BadParameter("no header to sign", param_hint="-y")
    return sign(wire, key, int(time.time()) + offset, fudge=fudge, faults=faults)[0]


def _report(sent: Sent, index: int, count: int, as_json: bool, color: bool, no_wait: bool,
            timeout: float) -> None:
    where = f"{sent.server[0]}:{sent.server[1]}"
    if as_json:
        click.echo(json.dumps({
            "server": where, "transport": sent.transport,
            "elapsed_ms": round(sent.elapsed * 1000, 3),
            "sent": _side(sent.wire, False), "received": _side(sent.reply, False),
        }, indent=2 if count == 1 else None))
        return
    if count > 1:
        outcome = "no reply" if sent.reply is None else f"reply of {len(sent.reply)} octets"
        click.echo(f"#{index + 1}: sent {len(sent.wire)} octets over {sent.transport}, "
                   f"{outcome} ({sent.elapsed * 1000:.1f} ms)")
        return
    click.echo(f";; sent {len(sent.wire)} octets over {sent.transport} to {where}")
    _show(sent.wire, color)
    if no_wait:
        return
    if sent.reply is None:
        click.echo(f"\n;; no reply within {timeout:g}s (dropped, as servers may do with broken input)")
        return
    click.echo(f"\n;; received {len(sent.reply)} octets in {sent.elapsed * 1000:.1f} ms")
    _show(sent.reply, color)
    for line in _pseudosection(sent.wire, sent.reply):
        click.echo(line)


def _pseudosection(query: bytes, reply: bytes) -> list[str]:
    """dig's OPT lines of a reply that carries EDNS options (none when it does not decode)."""
    try:
        answer = decode(reply)
    except WireError:
        return []
    try:
        asked = decode(query)
    except WireError:
        asked = Message()
    return pseudosection(asked, answer, False)


@click.command("dns-probe")
@click.argument("target", metavar="HOST:PORT")
@click.argument("zone")
@click.option("--timeout", default=2.0, show_default=True, type=click.FloatRange(0.05, 30))
@click.option("--json", "as_json", is_flag=True, help="The rows as JSON.")
def dns_probe_command(target: str, zone: str, timeout: float, as_json: bool) -> None:
    """Probe an authoritative server for ZONE with standard behaviour checks.

    One row per probe with what the RFCs expect and what the server did; exit 0 when
    every probe matches, 1 otherwise.
    """
    from craft.probe import run_probes

    address = host_port(target, "HOST:PORT")
    try:
        origin = Name.from_text(zone if zone.endswith(".") else zone + ".")
    except BadNameError as exc:
        raise click.BadParameter(exc.reason, param_hint="ZONE") from None
    results = run_probes(address, origin, timeout)
    if as_json:
        click.echo(json.dumps([{"probe": r.name, "expected": r.expected, "observed": r.observed,
                                "ok": r.ok} for r in results], indent=2))
    else:
        widths = [max(len(h), *(len(v) for v in col)) for h, col in (
            ("PROBE", [r.name for r in results]), ("EXPECTED", [r.expected for r in results]))]
        click.echo(f"{'PROBE'.ljust(widths[0])}  {'EXPECTED'.ljust(widths[1])}  OK    OBSERVED")
        for r in results:
            click.echo(f"{r.name.ljust(widths[0])}  {r.expected.ljust(widths[1])}  "
                       f"{'pass' if r.ok else 'FAIL'}  {r.observed}")
        passed = sum(r.ok for r in results)
        click.echo(f"{passed}/{len(results)} probes match the RFC expectations")
    sys.exit(0 if all(r.ok for r in results) else 1)
