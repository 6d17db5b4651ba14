"""``craft verify FILE``: both codecs over every DNS message of a capture; ``--replay``."""

from __future__ import annotations

import json
import os
import sys
from ipaddress import ip_address

import click

from craft.capture import CaptureError
from craft.verify import ReplayReport, Report, replay, verify

EXIT_DISAGREE = 1
EXIT_UNREADABLE = 2


def _target(text: str, force: bool) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("expected HOST:PORT", param_hint="--replay")
    try:
        loopback = ip_address(host).is_loopback
    except ValueError:
        raise click.BadParameter(f"{host!r} is not an IP address", param_hint="--replay") from None
    if not loopback and not force:
        raise click.BadParameter(
            "replay goes to 127.0.0.1 or ::1 only, unless --force", param_hint="--replay"
        )
    return host, int(port)


def _print_report(report: Report) -> None:
    width = max(len(label) for label, _ in report.rows())
    for label, value in report.rows():
        click.echo(f"{label.ljust(width)}  {value:>8}")
    for problem in report.problems:
        lines = problem.detail.splitlines() or [""]
        click.echo(f"packet {problem.packet}: {problem.kind}: {lines[0]}")
        for line in lines[1:]:
            click.echo(f"    {line.strip()}")
    click.echo("verdict: " + ("craft and Scapy agree on every message" if report.ok
                              else "problems found" if report.messages else "no DNS messages found"))


def _print_replay(result: ReplayReport, target: str) -> None:
    click.echo(f"replay to {target}: {result.sent} queries sent, {result.matched} answers match "
               f"the capture, {result.differing} differ, {result.unanswered} unanswered, "
               f"{result.no_capture} had no captured answer")
    for problem in result.problems:
        click.echo(f"packet {problem.packet}: replay: {problem.detail}")


@click.command("verify")
@click.argument("path", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="The same report as JSON.")
@click.option("--replay", "replay_to", metavar="HOST:PORT",
              help="Send every captured query to a live server and compare its answers.")
@click.option("--rate", default=200.0, show_default=True, type=click.FloatRange(1, 10000),
              help="Replay: queries per second at most.")
@click.option("--max-time", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Replay: seconds at most.")
@click.option("--force", is_flag=True, help="Replay: allow a server not on loopback.")
def verify_command(path: str, as_json: bool, replay_to: str | None, rate: float,
                   max_time: float, force: bool) -> None:
    """Check every DNS message in a pcap or pcapng FILE with craft and with Scapy.

    Each message is decoded by both codecs, compared field by field, and re-encoded by
    craft. Exit 0 when all agree and decode, 1 when anything does not, 2 when the file
    cannot be read.
    """
    target = _target(replay_to, force) if replay_to else None
    show_progress = sys.stderr.isatty() and not as_json
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        click.echo(f"Error: {path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    try:
        if show_progress and size > 1 << 20:
            with click.progressbar(length=size, label="verifying", file=sys.stderr) as bar:
                done = [0]

                def progress(offset: int) -> None:
                    bar.update(offset - done[0])
                    done[0] = offset

                report = verify(path, progress)
        else:
            report = verify(path)
        replayed = replay(path, target, rate=rate, max_time=max_time) if target else None
    except CaptureError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    if as_json:
        data = report.as_dict()
        if replayed is not None:
            data["replay"] = {
                "sent": replayed.sent, "matched": replayed.matched,
                "differing": replayed.differing, "unanswered": replayed.unanswered,
                "problems": [{"packet": p.packet, "detail": p.detail} for p in replayed.problems],
            }
        click.echo(json.dumps(data, indent=2))
    else:
        _print_report(report)
        if replayed is not None and replay_to:
            _print_replay(replayed, replay_to)
    ok = report.ok and (replayed is None or replayed.ok)
    sys.exit(0 if ok else EXIT_DISAGREE)
