"""``craft verify FILE``: both codecs over every DNS message of a capture; ``--replay``.

Exit status: 0 when every message decodes and craft and Scapy agree on all of it (and,
with ``--replay``, every live answer matches the captured one), also when the capture holds
no DNS at all (the verdict says so); 1 when anything does not agree or decode; 2 when the
file cannot be read, or a ``--jobs`` checking process dies (a one-line message on stderr).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from ipaddress import ip_address
from typing import TextIO

import click

from craft.commands.params import host_port
from craft.report.log import FORMATS
from craft.report.observer import Observer, ReportWriteError
from craft.verify import ReplayReport, Report, replay
from craft.verify_jobs import default_jobs, verify_jobs

EXIT_PROBLEMS = 1
PROGRESS_FROM = 1 << 20  # octets: smaller files are done before a bar would be seen


def _target(text: str, force: bool) -> tuple[str, int]:
    host, port = host_port(text, "--replay")
    try:
        loopback = ip_address(host).is_loopback
    except ValueError:
        raise click.BadParameter(f"{host!r} is not an IP address", param_hint="--replay") from None
    if not loopback and not force:
        raise click.BadParameter(
            "replay goes to 127.0.0.1 or ::1 only, unless --force", param_hint="--replay"
        )
    return host, port


def _print_report(report: Report) -> None:
    width = max(len(label) for label, _ in report.rows())
    for label, value in report.rows():
        click.echo(f"{label.ljust(width)}  {value:>8}")
    for problem in (*report.problems, *report.notes):
        where = f"packet {problem.packet}" if problem.packet else "capture"
        click.echo(f"{where}: {problem.kind}: {problem.detail}")
    if report.ok and report.messages == 0:
        verdict = "no DNS messages found, so nothing to check"
    elif report.ok:
        verdict = "craft and Scapy agree on every message, and craft re-encodes each"
    else:
        verdict = f"{len(report.problems)} problem(s)"
    click.echo(f"verdict: {verdict}")


def _print_replay(result: ReplayReport, target: str) -> None:
    click.echo(f"replay to {target}: {result.sent} queries sent, {result.matched} answers match "
               f"the capture, {result.differing} differ, {result.unanswered} unanswered, "
               f"{result.no_capture} without a captured answer")
    for problem in result.problems:
        click.echo(f"packet {problem.packet}: replay: {problem.detail}")


def _run(path: str, memo: bool, jobs: int = 1, observer: Observer | None = None) -> Report:
    """``verify`` with a progress bar on stderr when it is a terminal and the file is big."""
    observe = observer.observe if observer is not None else None
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0  # verify reports why it cannot be read
    if not (sys.stderr.isatty() and size > PROGRESS_FROM):
        return verify_jobs(path, jobs, memo=memo, observe=observe)
    with click.progressbar(length=size, label="verifying", file=sys.stderr) as bar:
        done = [0]

        def progress(offset: int) -> None:
            bar.update(offset - done[0])
            done[0] = offset

        callback: Callable[[int], None] = progress
        return verify_jobs(path, jobs, callback, memo=memo, observe=observe)


@click.command("verify")
@click.argument("path", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="The same report as JSON on stdout.")
@click.option("--no-memo", "no_memo", is_flag=True,
              help="Dissect every message, even one that repeats an earlier clean message "
                   "in all but its ID (the outcome is the same; this is slower).")
@click.option("--replay", "replay_to", metavar="HOST:PORT",
              help="Also send every captured query to a live server and compare its answers "
                   "with the captured ones.")
@click.option("--rate", default=200.0, show_default=True, type=click.FloatRange(1, 10000),
              help="Replay: queries per second at most.")
@click.option("--max-time", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Replay: seconds in all at most.")
@click.option("--timeout", default=1.0, show_default=True, type=click.FloatRange(0.05, 30),
              help="Replay: seconds to wait for each answer.")
@click.option("--force", is_flag=True, help="Replay: allow a server that is not on loopback.")
@click.option("--stats", "with_stats", is_flag=True,
              help="Pair queries with responses: response times per server, unanswered, "
                   "retransmitted and duplicate queries, TC answers retried over TCP, "
                   "histograms of rcode, type, opcode and EDNS, the top names.")
@click.option("--log", "log_path", metavar="FILE", type=click.File("w", lazy=False),
              help="Write one JSON line per exchange to FILE ('-' for stdout).")
@click.option("--log-format", type=click.Choice(FORMATS), default="json", show_default=True,
              help="--log's fields: craft's, or those of Zeek's dns.log.")
@click.option("--html", "html_path", metavar="FILE",
              help="Write one self-contained page: the exchanges on a timeline, each message "
                   "field by field with Scapy's verdict, charts and problems.")
@click.option("--html-detail", type=click.IntRange(0), default=None, metavar="N",
              help="--html: how many messages, first in capture order, keep their hex and "
                   "fields in the page (default 100,000; later ones with a problem keep them "
                   "too, up to 10,000); the others keep their row and verdict.")
@click.option("--jobs", type=click.IntRange(1, 256), default=None,
              help="Processes checking messages (default: the number of cores); the report, "
                   "--stats, --log and --html are the same whatever the number.")
def verify_command(path: str, as_json: bool, no_memo: bool, replay_to: str | None, rate: float,
                   max_time: float, timeout: float, force: bool, with_stats: bool,
                   log_path: TextIO | None, log_format: str, html_path: str | None,
                   html_detail: int | None, jobs: int | None) -> None:
    """Check every DNS message in a pcap or pcapng FILE with craft and with Scapy.

    Each message is decoded by both codecs and compared field by field, and craft's
    re-encoding must decode back to the same message. DNS is found on UDP and TCP, on
    ports 53 and 5353, and on any other port where it decodes. Exit 0 when all agree
    (or there is no DNS to check), 1 when anything does not, 2 when the file cannot be read.
    """
    target = _target(replay_to, force) if replay_to else None
    if html_path is not None and not os.path.isdir(os.path.dirname(os.path.abspath(html_path))):
        raise click.BadParameter(f"no such folder for {html_path!r}", param_hint="--html")
    observer = (Observer(log_path, log_format, html_path, path, html_detail)
                if with_stats or log_path or html_path else None)
    try:
        # CaptureError (exit 2) when the file cannot be read
        report = _run(path, not no_memo, default_jobs() if jobs is None else jobs, observer)
        if observer is not None:
            observer.finish(report)
    except OSError as exc:  # the log or the page could not be written (a full disk)
        raise ReportWriteError(f"cannot write {exc.filename or html_path or 'the log'}",
                               exc.strerror or str(exc)) from None
    replayed = (replay(path, target, rate=rate, max_time=max_time, timeout=timeout)
                if target else None)
    if as_json:
        data = report.as_dict()
        if with_stats and observer is not None:
            data["stats"] = observer.stats.as_dict()
        if replayed is not None:
            data["replay"] = replayed.as_dict()
        click.echo(json.dumps(data, indent=2))
    else:
        _print_report(report)
        if with_stats and observer is not None:
            for line in observer.stats.lines():
                click.echo(line)
        if replayed is not None and replay_to:
            _print_replay(replayed, replay_to)
    ok = report.ok and (replayed is None or replayed.ok)
    sys.exit(0 if ok else EXIT_PROBLEMS)
