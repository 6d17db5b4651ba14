"""``craft dns-serve`` and ``craft dns-ask``: the lab's Task 2 as command-line tools.

Shells only: options in, lines out. Serving as a process (signals, reloads, workers) is
``craft.dns_service``; asking is ``craft.dns_client``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from craft.commands.params import (
    EdnsCommand,
    edns_request,
    edns_switches,
    host_port,
    server_edns,
    server_edns_switches,
)
from craft.dns.anchors import AnchorError, parse_anchors
from craft.dns.answer_cache import Authority
from craft.dns.codec import decode
from craft.dns.constants import Rcode, RRType, rcode_text, type_number, type_text
from craft.dns.edns import Cookie, EdnsRequest
from craft.dns.message import Message, message_dict
from craft.dns.names import BadNameError, Name
from craft.dns.transfer import LOOPBACK, Network
from craft.dns.tsig import Key, Keyring, TsigError, parse_dig_key, parse_key, parse_keyfile
from craft.dns.validate import Anchor, Report
from craft.dns.wire import WireError
from craft.dns_client import (
    ClientError,
    Failure,
    Reply,
    ask,
    axfr,
    describe,
    edns_query,
    pseudosection,
)
from craft.dns_server import Connection, Exchange, Observer
from craft.dns_service import Service, file_times, load_zones, remember_reloads
from craft.stops import held_stops
from craft.view.exchange import (
    annotated,
    exchange_text,
    summary,
    undecodable_view,
    verdict_line,
)
from craft.view.hexview import want_color

if TYPE_CHECKING:
    from craft.capture.writer import CaptureWriter

# dns-ask exit codes, also listed in its --help.
EXIT_NXDOMAIN = 3
EXIT_NODATA = 4
EXIT_REFUSED = 5
EXIT_OTHER_RCODE = 6
EXIT_TIMEOUT = 7
EXIT_NETWORK = 8
EXIT_TSIG = 9  # with -y: the answer's signature is missing or wrong
EXIT_BOGUS = 10  # --validate: something bogus


class Printer:
    """Prints each exchange in the lab's layout; safe to call from several threads."""

    def __init__(self, color: bool, oracle: bool) -> None:
        self.color = color
        self.oracle = oracle
        self.lock = threading.Lock()
        self.checked = 0
        self.disagreeing = 0

    def __call__(self, exchange: Exchange | Connection) -> None:
        if isinstance(exchange, Connection) or not exchange.query:
            return  # connection events, and the later messages of a zone transfer
        try:
            note = summary(decode(exchange.response or exchange.query))
        except WireError as exc:
            note = f"undecodable query ({exc})"
        note = f"{exchange.transport} {exchange.client[0]}:{exchange.client[1]}: {note}"
        text = exchange_text(
            exchange.query, exchange.response, color=self.color, oracle=False, note=note
        )
        verdicts = []
        if self.oracle:
            from craft.oracle import check

            for label, data in (("request", exchange.query), ("response", exchange.response)):
                if data is None:
                    continue
                verdict = check(data)
                self.checked += 1
                self.disagreeing += 0 if verdict.agrees else 1
                verdicts.append(f"  scapy on {label}: {verdict.describe()}")
        with self.lock:
            click.echo(text + ("\n" + "\n".join(verdicts) if verdicts else "") + "\n")

    def closing(self) -> str:
        return (
            f"oracle: {self.checked} messages checked by Scapy, "
            f"{self.disagreeing} disagreeing"
        )


def _networks(values: Sequence[str], keys: Keyring) -> list[Network | Name]:
    """--allow-transfer entries: networks, and ``KEY:NAME`` for a key of ``keys``."""
    if not values:
        return list(LOOPBACK)
    if [v.lower() for v in values] == ["none"]:
        return []
    rules: list[Network | Name] = []
    for value in values:
        if value[:4].lower() == "key:":
            rules.append(_key_named(value[4:], keys, "--allow-transfer").name)
            continue
        try:
            rules.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--allow-transfer") from None
    return rules


def _key_named(text: str, keys: Keyring, hint: str) -> Key:
    try:
        key = keys.named(Name.from_text(text if text.endswith(".") else text + "."))
    except BadNameError as exc:
        raise click.BadParameter(exc.reason, param_hint=hint) from None
    if key is None:
        raise click.BadParameter(f"no --tsig-key or --tsig-keyfile key named {text!r}",
                                 param_hint=hint)
    return key


def _keyring(specs: Sequence[str], files: Sequence[str]) -> Keyring:
    """The keys of --tsig-key and --tsig-keyfile; a one-line usage error for bad text."""
    try:
        keys = [parse_key(spec) for spec in specs]
        for path in files:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise click.BadParameter(f"{path}: {getattr(exc, 'strerror', None) or exc}",
                                         param_hint="--tsig-keyfile") from None
            keys.extend(parse_keyfile(text, path))
        return Keyring(keys)
    except TsigError as exc:
        raise click.BadParameter(str(exc), param_hint="--tsig-key") from None


def _targets(values: Sequence[str], keys: Keyring) -> list[tuple[str, int, Key | None]]:
    """--notify ``HOST:PORT`` or ``HOST:PORT,KEY:NAME`` (the NOTIFY signed with that key)."""
    targets: list[tuple[str, int, Key | None]] = []
    for value in values:
        address, _, key_text = value.partition(",")
        host, port = host_port(address, "--notify")
        key = None
        if key_text:
            if key_text[:4].lower() != "key:":
                raise click.BadParameter(f"{value!r} is not HOST:PORT[,KEY:NAME]",
                                         param_hint="--notify")
            key = _key_named(key_text[4:], keys, "--notify")
        targets.append((host, port, key))
    return targets


@click.command("dns-serve")
@click.option("--host", "hosts", multiple=True, default=("127.0.0.1",), show_default=True,
              help="Address to listen on (repeatable: IPv4 and IPv6 at once; '::' takes IPv4 "
                   "too where the system allows it).")
@click.option("--port", default=10053, show_default=True, type=click.IntRange(0, 65535),
              help="UDP and TCP port (0: any free port; the start-up line says which).")
@click.option("--zone", "zones", multiple=True, metavar="FILE",
              help="RFC 1035 master file to serve (repeatable). Default: the lab's table.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Serving processes sharing the port's sockets; with more than 1, the parent "
                   "only loads the zones (once per reload) and keeps the workers (with --pcap, "
                   "all write to the one file).")
@click.option("--quiet", is_flag=True, help="No per-message output.")
@click.option("--oracle/--no-oracle", default=None,
              help="Check every message with Scapy (default: on, off with --quiet).")
@click.option("--pcap", "pcap_path", metavar="FILE", help="Capture every exchange to FILE.")
@click.option("--append", is_flag=True, help="Append to an existing --pcap file.")
@click.option("--color/--no-color", default=None, help="Colour the hex by field.")
@click.option("--allow-transfer", "allow", multiple=True, metavar="NET|KEY:NAME",
              help="Address or network allowed AXFR/IXFR, or KEY:NAME: requests signed with "
                   "that TSIG key (repeatable; any entry lets a request in; default: loopback "
                   "only; 'none' refuses everyone).")
@click.option("--notify", "notify", multiple=True, metavar="HOST:PORT[,KEY:NAME]",
              help="Secondary to send NOTIFY to when a zone changes on reload, signed with "
                   "the TSIG key NAME if given (repeatable).")
@click.option("--tsig-key", "tsig_keys", multiple=True, metavar="NAME:ALGORITHM:BASE64",
              help="A TSIG key (RFC 8945; hmac-sha1, -sha224, -sha256, -sha384, -sha512): "
                   "queries signed with it get signed answers (repeatable).")
@click.option("--tsig-keyfile", "tsig_files", multiple=True, metavar="FILE",
              help="TSIG keys in BIND's format, as tsig-keygen writes them (repeatable).")
@click.option("--watch", is_flag=True, help="Reload zone files when they change (SIGHUP too).")
@click.option("--strict", is_flag=True,
              help="Refuse a signed zone with expired signatures, a broken NSEC/NSEC3 chain, "
                   "no NSEC3PARAM or an unsigned RRset (default: warn and serve it).")
@server_edns_switches
def dns_serve_command(
    hosts: tuple[str, ...], port: int, zones: tuple[str, ...], workers: int, quiet: bool,
    oracle: bool | None, pcap_path: str | None, append: bool, color: bool | None,
    allow: tuple[str, ...], notify: tuple[str, ...], tsig_keys: tuple[str, ...],
    tsig_files: tuple[str, ...], watch: bool, strict: bool,
    cookie_secret: str | None, require_cookie: bool, nsid: str | None,
) -> None:
    """Serve zones authoritatively over UDP and TCP on one port.

    Prints each request and response as hex in the lab's layout, with Scapy's verdict
    under each, unless --quiet. Zone transfers (AXFR, and IXFR: incremental since an earlier
    reload, else in full, or the SOA alone for a current client) go over TCP to
    --allow-transfer clients. SIGHUP rereads the
    zone files. Ctrl-C or SIGTERM stops it (exit 0).
    """
    # A SIGHUP while the zones load (a while, for big zones) is served once the service
    # runs, instead of ending the process by the signal's default action.
    early = remember_reloads()
    from craft.zone_loader import bulk_objects  # dns-serve alone reads zone files

    keys = _keyring(tsig_keys, tsig_files)
    allowed = _networks(allow, keys)
    targets = _targets(notify, keys)
    explain = server_edns(cookie_secret, require_cookie, nsid)
    mtimes = file_times(zones)
    with bulk_objects():
        loaded = load_zones(zones, strict)
        authority = Authority(loaded, allow_transfer=allowed, keys=keys,
                              explain=explain)
    use_oracle = (not quiet) if oracle is None else oracle
    observers: list[Observer] = []
    printer = None
    if not quiet or use_oracle:
        printer = Printer(want_color(sys.stdout) if color is None else color, use_oracle)
        if quiet:
            printer.color = False
        observers.append(printer if not quiet else _silent(printer))
    capture = _open_capture(pcap_path, append)
    if capture is not None:
        observers.insert(0, _capture_observer(capture))  # first: records in arrival order
    hosts = tuple(dict.fromkeys(hosts))  # an address given twice is listened on once
    farewell = None
    if printer is not None and use_oracle and workers > 1:
        def farewell(number: int) -> None:  # each worker's own counts, as it ends
            click.echo(f"craft dns-serve worker {number}: {printer.closing()}", err=True)
    service = Service(authority, hosts, port, observers, zones, loaded, allowed, targets, mtimes,
                      workers, strict, farewell)
    started = False
    try:
        service.start()
        started = True
        if early:
            service.reloader.request()  # starts once the service runs
        names = ", ".join(z.origin.to_text() for z in loaded)
        source = "embedded lab table" if not zones else ", ".join(zones)
        listening = ", ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}"
                              for h, p in service.server.addresses)
        click.echo(
            f"craft dns-serve: listening on udp+tcp {listening}, "
            f"{len(loaded)} zone(s) from {source}: {names}"
            + (f"; {workers} workers" if workers > 1 else "")
            + (f"; capture {pcap_path}" + (" (every worker)" if workers > 1 else "")
               if pcap_path else ""),
            err=True,
        )
        service.run(watch)
    finally:
        if capture is not None:
            capture.close()
        if started:
            if printer is not None and use_oracle and workers <= 1:
                click.echo(printer.closing(), err=True)
            click.echo("craft dns-serve: stopped", err=True)


def _silent(printer: Printer) -> Observer:
    """With --quiet --oracle: check every message but print only disagreements."""

    def observe(exchange: Exchange | Connection) -> None:
        from craft.oracle import check

        if isinstance(exchange, Connection):
            return
        for data in (exchange.query, exchange.response):
            if not data:
                continue
            verdict = check(data)
            printer.checked += 1
            if not verdict.agrees:
                printer.disagreeing += 1
                click.echo(f"scapy disagrees: {verdict.describe()}", err=True)

    return observe


def _capture_observer(writer: CaptureWriter) -> Observer:
    """Feed the server's exchanges and TCP connection events to a capture."""

    def observe(event: Exchange | Connection) -> None:
        when = event.time
        if isinstance(event, Connection):
            if event.opened:
                writer.tcp_open(event.client, event.server, when)
            else:
                writer.tcp_close(event.client, event.server, when)
            return
        # The response at its own time: a capture's round-trip times are real ones.
        answered = event.answered or when
        if event.transport == "udp":
            writer.udp(event.client, event.server, event.query, when)
            if event.response is not None:
                writer.udp(event.server, event.client, event.response, answered)
        else:
            if event.query:  # empty for the later messages of a zone transfer
                writer.tcp_data(event.client, event.server, event.query, when)
            if event.response is not None:
                writer.tcp_data(event.server, event.client, event.response, answered)

    return observe


def _parse_type(text: str) -> int:
    try:
        return type_number(text)
    except ValueError:
        raise click.BadParameter(f"unknown type {text!r}", param_hint="-t/--type") from None


def _outcome(reply: Reply, qtype: int) -> tuple[list[str], int]:
    """The lines to print for a reply and the exit code."""
    message = reply.message
    q = message.question[0] if message.question else None
    name = q.name.to_text().rstrip(".") if q else "?"
    rcode = message.rcode
    server = f"{reply.server[0]}:{reply.server[1]}"
    if rcode == Rcode.NOERROR:
        lines = [describe(r) for r in message.answer]
        if lines:
            return lines, 0
        if not message.header.aa and message.authority:
            ns = ", ".join(r.rdata.to_text() for r in message.authority)
            return [f"{name}: referral to {ns}"], EXIT_NODATA
        return [f"{name}: no {type_text(qtype)} records (NODATA)"], EXIT_NODATA
    if rcode == Rcode.NXDOMAIN:
        return [f"{name}: no such name (NXDOMAIN)"], EXIT_NXDOMAIN
    if rcode == Rcode.REFUSED:
        return [f"{name}: refused by {server} (REFUSED: not authoritative for it)"], EXIT_REFUSED
    return [f"{name}: server {server} answered {rcode_text(rcode)}"], EXIT_OTHER_RCODE


class AskOptions:
    def __init__(
        self, server: tuple[str, int], qtype: int, tcp: bool, timeout: float, retries: int,
        hexview: bool, as_json: bool, rd: bool, edns: bool, color: bool,
        capture: CaptureWriter | None, request: EdnsRequest | None = None,
        key: Key | None = None,
        validate: bool = False, anchors: list[Anchor] | None = None, badcookie: bool = True,
    ) -> None:
        self.key = key
        self.badcookie = badcookie  # ask again once after BADCOOKIE, as dig does
        self.request = request or EdnsRequest()
        self.validate, self.anchors = validate, anchors
        self.server, self.qtype, self.tcp = server, qtype, tcp
        self.timeout, self.retries = timeout, retries
        self.hexview, self.as_json, self.rd, self.edns = hexview, as_json, rd, edns
        self.color, self.capture = color, capture


def _cookie_retry(request: EdnsRequest, reply: Reply) -> EdnsRequest | None:
    """After BADCOOKIE over UDP (RFC 7873 5.3): the request again, its client cookie now
    followed by the server cookie the reply gave; None when there is nothing to retry."""
    edns = reply.message.edns
    if (reply.message.rcode != Rcode.BADCOOKIE or reply.transport != "udp" or edns is None
            or request.cookie is None):
        return None
    given = edns.option(Cookie)
    if not isinstance(given, Cookie) or given.client != request.cookie.client or not given.server:
        return None  # not our cookie, or no server cookie to send back
    return dataclasses.replace(request, cookie=given)


def ask_once(text: str, opts: AskOptions) -> int:
    try:
        name = Name.from_text(text if text.endswith(".") else text + ".")
    except BadNameError as exc:
        click.echo(f"{text}: {exc.reason}")
        return 2
    request = opts.request
    for _ in range(2):  # a second time only after BADCOOKIE, with the server's cookie
        query = edns_query(name, opts.qtype, request, rd=opts.rd, edns=opts.edns)
        try:
            reply = ask(query, opts.server, tcp=opts.tcp, timeout=opts.timeout,
                        retries=opts.retries, key=opts.key)
        except ClientError as exc:
            if exc.reply is not None and opts.hexview:
                click.echo(undecodable_view(exc.query, exc.reply, opts.color))
            click.echo(f"{text}: {exc.reason}")
            return EXIT_TIMEOUT if exc.kind is Failure.TIMEOUT else EXIT_NETWORK
        retry = _cookie_retry(request, reply) if opts.badcookie else None
        if retry is None:
            break
        click.echo(";; BADCOOKIE, retrying.")  # as dig says it
        request = retry
    if opts.capture is not None:
        opts.capture.exchange(reply.transport, reply.client, reply.server, reply.query,
                              reply.response)
    lines, code = _outcome(reply, opts.qtype)
    tsig_line = None
    if reply.tsig is not None and opts.key is not None:
        # As dig: the answer is shown, with a line saying its signature failed.
        if reply.tsig.ok:
            tsig_line = f";; TSIG: verified with key {opts.key.name.to_text()}"
        else:
            tsig_line, code = f";; Couldn't verify signature: {reply.tsig.reason}", EXIT_TSIG
    if opts.as_json:
        checked = _validation(reply, opts) if opts.validate else None
        extra = {} if checked is None else {"dnssec": checked.as_dict()}
        click.echo(json.dumps({
            "server": f"{reply.server[0]}:{reply.server[1]}", "transport": reply.transport,
            "elapsed_ms": round(reply.elapsed * 1000, 3), "query": reply.query.hex(),
            "response": reply.response.hex(), **message_dict(reply.message), **extra,
            **({"tsig": {"verified": reply.tsig.ok, "reason": reply.tsig.reason}}
               if reply.tsig is not None else {}),
        }, indent=2))
        return EXIT_BOGUS if checked is not None and checked.bogus else code
    if opts.hexview:
        click.echo(f";; query ({len(reply.query)} octets over {reply.transport})")
        click.echo(annotated(reply.query, opts.color))
        click.echo(verdict_line(reply.query))
        click.echo(f"\n;; response ({len(reply.response)} octets, {reply.elapsed * 1000:.1f} ms)")
        click.echo(annotated(reply.response, opts.color))
        click.echo(verdict_line(reply.response))
        click.echo()
    for line in pseudosection(query, reply.message, opts.request.wanted):
        click.echo(line)
    if tsig_line is not None:
        click.echo(tsig_line)
    for line in lines:
        click.echo(line)
    if opts.request.dnssec and code in (EXIT_NXDOMAIN, EXIT_NODATA):
        _print_proof(reply.message)
    if opts.validate:
        return _validated(reply, opts, code)
    return code


_PROOF_TYPES = frozenset({RRType.SOA, RRType.NSEC, RRType.NSEC3, RRType.RRSIG, RRType.DS})


def _print_proof(message: Message) -> None:
    """With DO set, a negative answer's proof: the authority section's DNSSEC records."""
    shown = [r for r in message.authority if r.rtype in _PROOF_TYPES]
    if shown:
        click.echo(";; authority section (the denial proof):")
    for record in shown:
        click.echo(describe(record))


def _validation(reply: Reply, opts: AskOptions) -> Report:
    from craft.dnssec_check import Asking, check_response

    asking = Asking(opts.server, opts.tcp, opts.timeout, opts.retries, opts.request, opts.key)
    return check_response(reply.message, asking, opts.anchors)


def _validated(reply: Reply, opts: AskOptions, code: int) -> int:
    from craft.dnssec_check import report_lines
    from craft.view.signed import validation_hex

    report = _validation(reply, opts)
    if opts.hexview:
        checked = [c for k in report.keysets for c in k.checked] + list(report.checked)
        click.echo("\n" + validation_hex(checked, report.hashes, opts.color) + "\n")
    for line in report_lines(report, opts.anchors is not None):
        click.echo(line)
    return EXIT_BOGUS if report.bogus else code


def _read_anchors(value: str | None) -> list[Anchor] | None:
    """--trust-anchor: a file, or the record text itself."""
    if value is None:
        return None
    path = Path(value)
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if is_file:
        try:
            text, source = path.read_text(errors="replace"), value
        except OSError as exc:
            raise click.BadParameter(f"cannot read {value}: {exc.strerror}",
                                     param_hint="--trust-anchor") from None
    elif os.sep in value and not any(c.isspace() for c in value):
        raise click.BadParameter(f"no such file {value}", param_hint="--trust-anchor")
    else:
        text, source = value, "text"
    try:
        return parse_anchors(text, source)
    except AnchorError as exc:
        raise click.BadParameter(str(exc), param_hint="--trust-anchor") from None


def _open_capture(path: str | None, append: bool) -> CaptureWriter | None:
    if path is None:
        return None
    from craft.capture.writer import CaptureWriter

    return CaptureWriter(path, append=append, hold=held_stops)  # a Ctrl-C cuts no exchange


@click.command("dns-ask", cls=EdnsCommand)
@click.argument("name", required=False)
@click.option("--server", default="127.0.0.1", show_default=True, help="Server address.")
@click.option("-p", "--port", default=10053, show_default=True, type=click.IntRange(1, 65535))
@click.option("-t", "--type", "qtype", default="A", show_default=True,
              help="Record type (A, AAAA, MX, NS, SOA, TXT, ANY, TYPE65280, ...).")
@click.option("--tcp", is_flag=True, help="Ask over TCP (UDP replies with TC set retry over TCP anyway).")
@click.option("--timeout", default=2.0, show_default=True, type=click.FloatRange(0.01, 60),
              help="Seconds to wait for each reply.")
@click.option("--retries", default=2, show_default=True, type=click.IntRange(0, 10),
              help="UDP retries after a timeout.")
@click.option("--hex", "hexview", is_flag=True,
              help="Show the annotated hex and field table of query and response, with Scapy's verdict.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: header, sections, timing.")
@click.option("--rd", is_flag=True, help="Set RD (recursion desired) in the query.")
@click.option("--edns", is_flag=True, help="Add an EDNS0 OPT record (payload 1232).")
@edns_switches()
@click.option("--badcookie/--no-badcookie", default=True, show_default=True,
              help="After a BADCOOKIE answer over UDP, ask once more with the server cookie "
                   "it gave (dig's +badcookie).")
@click.option("--pcap", metavar="FILE", help="Capture the exchanges to FILE.")
@click.option("--append", is_flag=True, help="Append to an existing --pcap FILE.")
@click.option("--color/--no-color", default=None, help="Colour the hex by field.")
@click.option("--serial", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="With -t IXFR: the zone serial we claim to hold (0: send the whole zone).")
@click.option("-y", "--tsig", "tsig", metavar="[ALG:]NAME:SECRET",
              help="Sign the query with this TSIG key (as dig -y; ALG defaults to "
                   "hmac-sha256) and check the answer's MAC (every message of a transfer).")
@click.option("--validate", is_flag=True,
              help="Set DO, fetch the signers' DNSKEYs from the same server and check every "
                   "signature and denial proof: one secure/insecure/bogus line per RRset.")
@click.option("--trust-anchor", "trust_anchor", metavar="FILE|TEXT",
              help="With --validate (implied): DS or DNSKEY records (a dsset- or K*.key file, "
                   "BIND trust-anchors, or one record as text) the keys must match.")
def dns_ask_command(
    name: str | None, server: str, port: int, qtype: str, tcp: bool, timeout: float,
    retries: int, hexview: bool, as_json: bool, rd: bool, edns: bool, nsid: bool,
    cookie: str | None, subnet: str | None, padding: int, dnssec: bool, pcap: str | None,
    append: bool, color: bool | None, serial: int, tsig: str | None, validate: bool,
    trust_anchor: str | None, badcookie: bool,
) -> None:
    """Ask a DNS server for NAME and print one line per answer, as the lab's client does.

    Without NAME it is the lab's interactive client: it prompts "Enter Domain Name:"
    until you type "end" (or end the input), then prints "Session ended".

    -t AXFR transfers the zone NAME over TCP and prints it in master-file form; -t IXFR
    does the same from --serial (a server with nothing newer sends its SOA alone).

    \b
    Exit codes:
      0  answers printed
      2  bad usage or bad name
      3  NXDOMAIN (no such name)
      4  NODATA (the name exists, not with that type) or a referral
      5  REFUSED (the server is not authoritative for the name)
      6  another error RCODE (SERVFAIL, FORMERR, NOTIMP, BADVERS...)
      7  timeout (no reply after the retries)
      8  network error or an undecodable reply
      9  with -y: the answer's signature is missing or wrong (the answer is still shown)
     10  --validate found a bogus RRset, key set or proof

    --validate without --trust-anchor trusts each zone's DNSKEY RRset because the server
    sent it (it must still sign itself) and says so; delv would insist on an anchor.
    """
    rtype = _parse_type(qtype)
    key = None
    if tsig is not None:
        try:
            key = parse_dig_key(tsig)
        except TsigError as exc:
            raise click.BadParameter(str(exc), param_hint="-y") from None
    if rtype in (RRType.AXFR, RRType.IXFR):
        if name is None:
            raise click.UsageError(f"{type_text(rtype)} needs a zone NAME")
        ixfr_serial = serial if rtype == RRType.IXFR else None
        sys.exit(_transfer(name, (server, port), timeout, ixfr_serial, key))
    anchors = _read_anchors(trust_anchor)
    validate = validate or anchors is not None
    capture = _open_capture(pcap, append)
    opts = AskOptions(
        (server, port), rtype, tcp, timeout, retries, hexview, as_json, rd, edns,
        want_color(sys.stdout) if color is None else color, capture,
        edns_request(nsid, cookie, subnet, padding, dnssec or validate), key, validate,
        anchors, badcookie,
    )
    try:
        code = ask_once(name, opts) if name is not None else _interactive(opts)
    finally:
        if capture is not None:
            capture.close()
    sys.exit(code)


def _transfer(text: str, server: tuple[str, int], timeout: float, ixfr_serial: int | None,
              key: Key | None = None) -> int:
    """Print a zone transferred with AXFR (or IXFR from ``ixfr_serial``), in master-file
    form; an incremental IXFR prints its old and new SOAs between the changes. With
    ``key`` every message's TSIG must verify, or nothing is printed but why (exit 9)."""
    try:
        zone = Name.from_text(text if text.endswith(".") else text + ".")
    except BadNameError as exc:
        raise click.BadParameter(exc.reason, param_hint="NAME") from None
    try:
        records = axfr(zone, server, max(timeout, 5.0), ixfr_serial, key)
    except ClientError as exc:
        click.echo(f"{text}: {exc.reason}")
        if exc.kind is Failure.TSIG:
            return EXIT_TSIG
        return EXIT_REFUSED if exc.kind is Failure.REFUSED else EXIT_NETWORK
    click.echo(f"$ORIGIN {zone.to_text()}")
    for record in records:
        click.echo(record.to_text())
    return 0


def _interactive(opts: AskOptions) -> int:
    while True:
        click.echo("Enter Domain Name: ", nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            break
        text = line.strip()
        if text == "end":
            break
        if text:
            ask_once(text, opts)
    click.echo("Session ended")
    return 0
