"""``craft dns-serve`` and ``craft dns-ask``: the lab's Task 2 as command-line tools."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

import click

from craft.commands.params import host_port
from craft.dns.answer_cache import Authority
from craft.dns.codec import decode
from craft.dns.constants import Rcode, RRType, rcode_text, type_number, type_text
from craft.dns.message import Edns, message_dict
from craft.dns.names import BadNameError, Name
from craft.dns.transfer import LOOPBACK, Network, bump_serial, notify_message
from craft.dns.wire import WireError
from craft.dns.zone import Zone, ZoneError, default_zones
from craft.dns_client import ClientError, Reply, ask, axfr, build_query, describe, send_notify
from craft.dns_server import Connection, DnsServer, Exchange, Observer, ServerError, Stopped
from craft.view.exchange import annotated, exchange_text, summary, verdict_line
from craft.view.hexview import want_color
from craft.zone_loader import bulk_objects

if TYPE_CHECKING:
    from craft.capture.writer import CaptureWriter

# dns-ask exit codes, also listed in its --help.
EXIT_NXDOMAIN = 3
EXIT_NODATA = 4
EXIT_REFUSED = 5
EXIT_OTHER_RCODE = 6
EXIT_TIMEOUT = 7
EXIT_NETWORK = 8
RELEASE_GRACE = 0.5  # seconds the old zones stay whole after a reload's swap
RELOAD_SWITCH_INTERVAL = 0.0005  # seconds: the interpreter's slice while a reload runs


def load_zones(paths: Sequence[str]) -> list[Zone]:
    if not paths:
        return default_zones()
    from craft.zone_loader import load_zone

    zones = []
    for path in paths:
        try:
            zones.append(load_zone(path))
        except OSError as exc:
            raise click.ClickException(f"{path}: {exc.strerror or exc}") from None
        except ZoneError as exc:
            raise click.ClickException(str(exc)) from None
    origins = [z.origin.key for z in zones]
    if len(set(origins)) != len(origins):
        raise click.ClickException("two zone files have the same origin")
    return zones


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


def _stop_on_signals(server: DnsServer) -> None:
    """SIGTERM and SIGINT end the serving loop cleanly (the capture writer defers them
    while it writes a record, so no record is cut)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        server.stop()
        raise Stopped

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def file_times(paths: Sequence[str]) -> list[float]:
    return [os.stat(p).st_mtime if os.path.exists(p) else 0.0 for p in paths]


class Reloader:
    """Reloads zone files on SIGHUP or when ``--watch`` sees them change: all or nothing,
    serials bumped where content changed without a newer serial, NOTIFY sent to each
    secondary for every changed zone, the signal passed on to worker processes."""

    def __init__(self, server: DnsServer, paths: Sequence[str], zones: list[Zone],
                 allowed: Sequence[Network], notify: Sequence[tuple[str, int]],
                 mtimes: list[float] | None = None) -> None:
        """``mtimes``: the files' times from *before* ``zones`` were read, so that an edit
        made while they loaded is still seen as a change."""
        self.server, self.paths, self.zones = server, list(paths), zones
        self.allowed, self.notify = list(allowed), list(notify)
        self.children: list[int] = []
        self.respawn: Callable[[], list[int]] | None = None  # forks workers with our zones
        self.lock = threading.Lock()
        self.mtimes = file_times(self.paths) if mtimes is None else mtimes
        self.wanted = threading.Event()
        self._worker: threading.Thread | None = None

    def request(self) -> None:
        """Ask for a reload without waiting for it (safe in a signal handler: no lock).
        One thread builds the new zones beside the old ones, which answer until the swap;
        requests made while it works are served by one more reload after it."""
        self.wanted.set()
        if self._worker is None:
            self._worker = threading.Thread(target=self._reloads, daemon=True, name="reload")
            self._worker.start()

    def _reloads(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        while True:
            self.wanted.wait()
            self.wanted.clear()
            # The serving thread needs the interpreter within a fraction of a millisecond
            # of a datagram, not after the default 5 ms slice of a long load.
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, RELOAD_SWITCH_INTERVAL))
            try:
                self.reload()
            except Exception as exc:  # a reload must never end serving
                click.echo(f"craft dns-serve: reload failed, still serving the old zones: "
                           f"{type(exc).__name__}: {exc}", err=True)
            finally:
                sys.setswitchinterval(interval)

    def reload(self) -> None:
        if not self.paths:
            click.echo("craft dns-serve: reload: the embedded table has no files to reread", err=True)
            return
        with self.lock:
            self.mtimes = file_times(self.paths)
            try:
                with bulk_objects():
                    fresh = load_zones(self.paths)
            except click.ClickException as exc:
                click.echo(f"craft dns-serve: reload failed, still serving the old zones: "
                           f"{exc.message}", err=True)
                return
            old = {z.origin.key: z for z in self.zones}
            changed = []
            zones = []
            for zone in fresh:
                before = old.get(zone.origin.key)
                if before is not None:
                    zone = bump_serial(before, zone)
                if before is None or set(before.records) != set(zone.records):
                    changed.append(zone)
                    was = before.serial if before is not None else "new"
                    click.echo(f"craft dns-serve: reloaded {zone.origin.to_text()} "
                               f"serial {was} -> {zone.serial}", err=True)
                zones.append(zone)
            with bulk_objects():
                authority = Authority(zones, allow_transfer=self.allowed)
            retired, self.server.authority = self.server.authority, authority
            self.zones = zones
            del old, before
            if self.respawn is not None and self.children:
                # Workers are forked anew from the zones loaded once here, then the old
                # ones retire; this process answers on the port throughout: no gap.
                old_workers, self.children = self.children, self.respawn()
                for pid in old_workers:
                    _terminate(pid)
        for zone in changed:
            for target in self.notify:
                threading.Thread(target=self._notify, args=(zone, target), daemon=True).start()
        # Queries that took the old zones just before the swap finish first; then the old
        # zones are freed a piece at a time, the serving thread answering in between.
        time.sleep(RELEASE_GRACE)
        for _ in retired.release():
            time.sleep(0)

    def _notify(self, zone: Zone, target: tuple[str, int]) -> None:
        message = notify_message(zone, secrets.randbits(16))
        acknowledged = send_notify(message, target)
        state = "acknowledged" if acknowledged else "not acknowledged after retries"
        click.echo(f"craft dns-serve: NOTIFY {zone.origin.to_text()} serial {zone.serial} "
                   f"to {target[0]}:{target[1]}: {state}", err=True)

    def watch(self, interval: float = 1.0) -> None:
        def loop() -> None:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
            while True:
                time.sleep(interval)
                now = file_times(self.paths)
                if now != self.mtimes:
                    self.mtimes = now  # seen: one reload for this change
                    self.request()

        threading.Thread(target=loop, daemon=True, name="watch").start()


def _reload_on_signal(reloader: Reloader) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        reloader.request()  # in the background: this thread goes on answering

    return handler


def _networks(values: Sequence[str]) -> list[Network]:
    if not values:
        return list(LOOPBACK)
    if [v.lower() for v in values] == ["none"]:
        return []
    try:
        return [ipaddress.ip_network(v, strict=False) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allow-transfer") from None


def _targets(values: Sequence[str]) -> list[tuple[str, int]]:
    return [host_port(value, "--notify") for value in values]


@click.command("dns-serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=10053, show_default=True, type=click.IntRange(0, 65535),
              help="UDP and TCP port (0: any free port; the start-up line says which).")
@click.option("--zone", "zones", multiple=True, metavar="FILE",
              help="RFC 1035 master file to serve (repeatable). Default: the lab's table.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes sharing the port with SO_REUSEPORT.")
@click.option("--quiet", is_flag=True, help="No per-message output.")
@click.option("--oracle/--no-oracle", default=None,
              help="Check every message with Scapy (default: on, off with --quiet).")
@click.option("--pcap", "pcap_path", metavar="FILE", help="Capture every exchange to FILE.")
@click.option("--append", is_flag=True, help="Append to an existing --pcap file.")
@click.option("--color/--no-color", default=None, help="Colour the hex by field.")
@click.option("--allow-transfer", "allow", multiple=True, metavar="NET",
              help="Address or network allowed AXFR/IXFR (repeatable; default: loopback "
                   "only; 'none' refuses everyone).")
@click.option("--notify", "notify", multiple=True, metavar="HOST:PORT",
              help="Secondary to send NOTIFY to when a zone changes on reload (repeatable).")
@click.option("--watch", is_flag=True, help="Reload zone files when they change (SIGHUP too).")
def dns_serve_command(
    host: str, port: int, zones: tuple[str, ...], workers: int, quiet: bool,
    oracle: bool | None, pcap_path: str | None, append: bool, color: bool | None,
    allow: tuple[str, ...], notify: tuple[str, ...], watch: bool,
) -> None:
    """Serve zones authoritatively over UDP and TCP on one port.

    Prints each request and response as hex in the lab's layout, with Scapy's verdict
    under each, unless --quiet. Zone transfers (AXFR, and IXFR as a full transfer or the SOA
    alone for a current client) go over TCP to --allow-transfer clients. SIGHUP rereads the
    zone files. Ctrl-C or SIGTERM stops it (exit 0).
    """
    # A SIGHUP while the zones load (which takes a while for big zones) is remembered and
    # served once the reloader exists, instead of ending the server by default action.
    early: list[int] = []
    signal.signal(signal.SIGHUP, lambda signum, frame: early.append(signum))
    allowed = _networks(allow)
    targets = _targets(notify)
    if pcap_path and workers > 1:
        raise click.ClickException(
            "--pcap needs --workers 1: one capture file cannot take records from several processes"
        )
    mtimes = file_times(zones)
    with bulk_objects():
        loaded = load_zones(zones)
        try:
            authority = Authority(loaded, allow_transfer=allowed)
        except ZoneError as exc:
            raise click.ClickException(str(exc)) from None
    use_oracle = (not quiet) if oracle is None else oracle
    observers: list[Observer] = []
    printer = None
    if not quiet or use_oracle:
        printer = Printer(want_color(sys.stdout) if color is None else color, use_oracle)
        if quiet:
            printer.color = False
        observers.append(printer if not quiet else _silent(printer))
    capture = None
    if pcap_path:
        from craft.capture.writer import CaptureError, CaptureWriter

        try:
            capture = CaptureWriter(pcap_path, append=append)
        except CaptureError as exc:
            raise click.ClickException(str(exc)) from None
        observers.insert(0, _capture_observer(capture))  # first: records in arrival order
    server = DnsServer(authority, host, port, observers, reuse_port=workers > 1)
    _stop_on_signals(server)
    try:
        address = server.bind()
    except ServerError as exc:
        raise click.ClickException(f"cannot listen on {exc}") from None
    reloader = Reloader(server, zones, loaded, allowed, targets, mtimes)
    # Ready for SIGHUP before the start-up line says we listen: a reload asked for at once
    # must reload, not kill the server with the signal's default action.
    signal.signal(signal.SIGHUP, _reload_on_signal(reloader))
    if early:
        reloader.request()
    names = ", ".join(z.origin.to_text() for z in loaded)
    source = "embedded lab table" if not zones else ", ".join(zones)
    click.echo(
        f"craft dns-serve: listening on udp+tcp {address[0]}:{address[1]}, "
        f"{len(loaded)} zone(s) from {source}: {names}"
        + (f"; {workers} workers" if workers > 1 else ""),
        err=True,
    )
    reloader.respawn = lambda: _fork_workers(workers - 1, server, address, observers)
    reloader.children = reloader.respawn()
    if watch:
        reloader.watch()
    try:
        server.serve_forever()
    finally:
        for pid in reloader.children:
            _terminate(pid)
        if capture is not None:
            capture.close()
        if printer is not None and use_oracle:
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
        elif event.transport == "udp":
            writer.udp(event.client, event.server, event.query, when)
            if event.response is not None:
                writer.udp(event.server, event.client, event.response, when)
        else:
            if event.query:  # empty for the later messages of a zone transfer
                writer.tcp_data(event.client, event.server, event.query, when)
            if event.response is not None:
                writer.tcp_data(event.server, event.client, event.response, when)

    return observe


def _fork_workers(
    count: int, parent: DnsServer, address: tuple[str, int], observers: list[Observer],
) -> list[int]:
    """Fork ``count`` more serving processes on the same port (SO_REUSEPORT), answering
    from the parent's zones as they are now (copy-on-write: loaded once, not per worker).
    On a reload the parent forks new ones and retires these."""
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                # Forked from the reload thread, too: take no signal mask and no socket of
                # the parent's along (a connection it closes must close for its client).
                signal.pthread_sigmask(signal.SIG_SETMASK, set())
                parent.disown()
                child = DnsServer(parent.authority, address[0], address[1], observers,
                                  reuse_port=True)
                _stop_on_signals(child)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent reloads for us
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
                child.bind()
                child.serve_forever()
            except Exception as exc:  # a worker must never leave a traceback behind
                click.echo(f"craft dns-serve worker: {exc}", err=True)
                code = 1
            finally:
                os._exit(code)
        pids.append(pid)
    return pids


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


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
        capture: CaptureWriter | None,
    ) -> None:
        self.server, self.qtype, self.tcp = server, qtype, tcp
        self.timeout, self.retries = timeout, retries
        self.hexview, self.as_json, self.rd, self.edns = hexview, as_json, rd, edns
        self.color, self.capture = color, capture


def ask_once(text: str, opts: AskOptions) -> int:
    try:
        name = Name.from_text(text if text.endswith(".") else text + ".")
    except BadNameError as exc:
        click.echo(f"{text}: {exc.reason}")
        return 2
    query = build_query(name, opts.qtype, rd=opts.rd, edns=Edns() if opts.edns else None)
    try:
        reply = ask(query, opts.server, tcp=opts.tcp, timeout=opts.timeout, retries=opts.retries)
    except ClientError as exc:
        click.echo(f"{text}: {exc.reason}")
        return EXIT_TIMEOUT if exc.kind == "timeout" else EXIT_NETWORK
    if opts.capture is not None:
        _capture(opts.capture, reply)
    lines, code = _outcome(reply, opts.qtype)
    if opts.as_json:
        click.echo(json.dumps({
            "server": f"{reply.server[0]}:{reply.server[1]}", "transport": reply.transport,
            "elapsed_ms": round(reply.elapsed * 1000, 3), "query": reply.query.hex(),
            "response": reply.response.hex(), **message_dict(reply.message),
        }, indent=2))
        return code
    if opts.hexview:
        click.echo(f";; query ({len(reply.query)} octets over {reply.transport})")
        click.echo(annotated(reply.query, opts.color))
        click.echo(verdict_line(reply.query))
        click.echo(f"\n;; response ({len(reply.response)} octets, {reply.elapsed * 1000:.1f} ms)")
        click.echo(annotated(reply.response, opts.color))
        click.echo(verdict_line(reply.response))
        click.echo()
    for line in lines:
        click.echo(line)
    return code


def _capture(writer: CaptureWriter, reply: Reply) -> None:
    if reply.transport == "udp":
        writer.udp(reply.client, reply.server, reply.query)
        writer.udp(reply.server, reply.client, reply.response)
    else:
        writer.tcp_open(reply.client, reply.server)
        writer.tcp_data(reply.client, reply.server, reply.query)
        writer.tcp_data(reply.server, reply.client, reply.response)
        writer.tcp_close(reply.client, reply.server)


def _open_capture(path: str | None, append: bool) -> CaptureWriter | None:
    if path is None:
        return None
    from craft.capture.writer import CaptureError, CaptureWriter

    try:
        return CaptureWriter(path, append=append)
    except CaptureError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("dns-ask")
@click.argument("name", required=False)
@click.option("--server", default="127.0.0.1", show_default=True, help="Server address.")
@click.option("--port", default=10053, show_default=True, type=click.IntRange(1, 65535))
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
@click.option("--pcap", metavar="FILE", help="Capture the exchanges to FILE.")
@click.option("--append", is_flag=True, help="Append to an existing --pcap FILE.")
@click.option("--color/--no-color", default=None, help="Colour the hex by field.")
@click.option("--serial", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="With -t IXFR: the zone serial we claim to hold (0: send the whole zone).")
def dns_ask_command(
    name: str | None, server: str, port: int, qtype: str, tcp: bool, timeout: float,
    retries: int, hexview: bool, as_json: bool, rd: bool, edns: bool, pcap: str | None,
    append: bool, color: bool | None, serial: int,
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
    """
    rtype = _parse_type(qtype)
    if rtype in (RRType.AXFR, RRType.IXFR):
        if name is None:
            raise click.UsageError(f"{type_text(rtype)} needs a zone NAME")
        ixfr_serial = serial if rtype == RRType.IXFR else None
        sys.exit(_transfer(name, (server, port), timeout, ixfr_serial))
    capture = _open_capture(pcap, append)
    opts = AskOptions(
        (server, port), rtype, tcp, timeout, retries, hexview, as_json, rd, edns,
        want_color(sys.stdout) if color is None else color, capture,
    )
    try:
        code = ask_once(name, opts) if name is not None else _interactive(opts)
    finally:
        if capture is not None:
            capture.close()
    sys.exit(code)


def _transfer(text: str, server: tuple[str, int], timeout: float, ixfr_serial: int | None) -> int:
    """Print a zone transferred with AXFR (or IXFR from ``ixfr_serial``), in master-file
    form; an incremental IXFR prints its old and new SOAs between the changes."""
    try:
        zone = Name.from_text(text if text.endswith(".") else text + ".")
    except BadNameError as exc:
        raise click.BadParameter(exc.reason, param_hint="NAME") from None
    try:
        records = axfr(zone, server, max(timeout, 5.0), ixfr_serial)
    except ClientError as exc:
        click.echo(f"{text}: {exc.reason}")
        return EXIT_REFUSED if "refused" in exc.reason.lower() else EXIT_NETWORK
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

