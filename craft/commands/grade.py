"""``craft grade dns-server | dns-client | web-server``: a lab submission judged row by row.

The click shell only: options, the port, starting the submission through the sandbox,
printing the report and the exit code (0 every required row passed, 1 some failed, 2 the
submission could not be started or reached, or the rubric file is unusable).
"""

from __future__ import annotations

import json
import random
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from craft.grade import dns_client, dns_server, web_server
from craft.grade.report import Grade, as_json, gradescope, terminal
from craft.grade.rubric import Row, RowSpec, Rubric, RubricError, all_required_pass, load_rubric
from craft.grade.sandbox import Deadline, Launch, Limits, Net, SandboxError, Submission
from craft.view.hexview import want_color

KNOWN: dict[str, Sequence[RowSpec]] = {
    dns_server.COMMAND: dns_server.ROWS,
    dns_client.COMMAND: dns_client.ROWS,
    web_server.COMMAND: web_server.ROWS,
}


@dataclass(frozen=True, slots=True)
class Options:
    host: str
    port: int | None
    cmd: tuple[str, ...]
    rubric_path: str | None
    as_json: bool
    gradescope_path: str | None
    step: float
    total: float
    isolate: bool
    color: bool | None
    root: str


def common(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--port", type=click.IntRange(1, 65535),
                     help="The submission's port; {port} in CMD becomes it (default: a free "
                     "port in the rubric's range when CMD has {port})."),
        click.option("--rubric", "rubric_path", metavar="FILE",
                     help="TOML rubric: points, table, port range (default: the lab's)."),
        click.option("--json", "as_json", is_flag=True, help="One JSON object: score, max_score, rows."),
        click.option("--gradescope", "gradescope_path", metavar="FILE",
                     help="Also write Gradescope's results.json to FILE."),
        click.option("--step-timeout", "step", default=3.0, show_default=True,
                     type=click.FloatRange(0.1, 60), help="Seconds allowed for each step."),
        click.option("--time-limit", "total", default=120.0, show_default=True,
                     type=click.FloatRange(1, 3600), help="Seconds allowed for the whole grade."),
        click.option("--no-netns", is_flag=True,
                     help="Run CMD on the host's network (default: its own namespace where allowed)."),
        click.option("--color/--no-color", default=None, help="Colour the report."),
        click.argument("cmd", nargs=-1, type=click.UNPROCESSED),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("grade")
def grade_command() -> None:
    """Grade a lab submission against the lab, byte by byte.

    \b
    Examples:
      craft grade dns-server --port 10053 -- python3 server.py
      craft grade dns-client --port 10053 -- python3 client.py
      craft grade web-server --port 10080 --root ./alice -- python3 webserver.py {port}

    Submissions are untrusted: each runs in its own process group (and network namespace
    where allowed), under time limits, and everything it started is stopped at the end.

    \b
    Exit codes: 0 every required row passed; 1 some failed; 2 the submission could not
    be started or reached (or the rubric file is unusable).
    """


def _options(params: dict[str, Any]) -> Options:
    """The command's parameters (click's dict) as one value."""
    return Options(
        host=params["host"], port=params["port"], cmd=tuple(params["cmd"]),
        rubric_path=params["rubric_path"], as_json=params["as_json"],
        gradescope_path=params["gradescope_path"], step=params["step"], total=params["total"],
        isolate=not params["no_netns"], color=params["color"], root=params["root"],
    )


@grade_command.command("dns-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="The server's address.")
@click.option("--root", default=".", show_default=True, metavar="DIR", help="Folder to run CMD in.")
@common
def grade_dns_server(**params: Any) -> None:
    """Task 2's server: every table name asked and its answer checked field by field, plus
    names outside the table, upper case, queries in a row and two clients at once. With
    CMD, craft starts the server and matches its printed hex against the wire."""
    sys.exit(_run(dns_server.COMMAND, _options(params), "udp"))


@grade_command.command("dns-client")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Where craft plays the lab's server (the address the client asks).")
@click.option("--root", default=".", show_default=True, metavar="DIR", help="Folder to run CMD in.")
@common
def grade_dns_client(**params: Any) -> None:
    """Task 2's client: craft plays the lab's server on --port, types table names, a name
    outside the table and `end` at the prompts, and checks every query and printed line;
    then replies without compression, with a wrong ID first, slowly, and not at all."""
    sys.exit(_run(dns_client.COMMAND, _options(params), ""))


@grade_command.command("web-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="The server's address.")
@click.option("--root", default=".", show_default=True, metavar="DIR",
              help="The submission's folder: CMD runs there and its files are checked.")
@common
def grade_web_server(**params: Any) -> None:
    """Task 1: GET and HEAD of a page with the six headers and right values, 404 with a
    body, and a path outside the folder, a malformed request, several clients and a
    connection closed mid-request."""
    sys.exit(_run(web_server.COMMAND, _options(params), "tcp"))


def _judge(command: str, opts: Options, rubric: Rubric, port: int, deadline: Deadline,
           net: Net, sub: Submission | None) -> list[Row]:
    """The server rubrics: one submission (or a running server) asked through ``net``."""
    if command == dns_server.COMMAND:
        return dns_server.grade(dns_server.Target(opts.host, port, net, deadline), rubric, sub)
    target = web_server.Target(opts.host, port, net, deadline, Path(opts.root))
    return web_server.grade(target, rubric)


def _isolation_text(notes: Sequence[str]) -> str:
    if not notes:
        return "not used (craft did not start the submission)"
    return "; ".join(dict.fromkeys(notes))


def _run(command: str, opts: Options, proto: str) -> int:
    color = want_color(sys.stdout) if opts.color is None else opts.color
    try:
        rubric = load_rubric(opts.rubric_path, KNOWN) if opts.rubric_path else Rubric()
    except RubricError as exc:
        return _fail(command, str(exc), "", opts.gradescope_path)
    if command == dns_client.COMMAND and not opts.cmd:
        raise click.UsageError("dns-client needs the client's command after --")
    if not opts.cmd and opts.port is None:
        raise click.UsageError("give --port (the running server's port) or the command after --")
    if opts.cmd and opts.port is None and not any("{port}" in a for a in opts.cmd):
        raise click.UsageError("give --port: the port the submission uses (or put {port} in CMD)")
    port = opts.port if opts.port is not None else _free_port(rubric.port_range, opts.host)
    limits = Limits(step=opts.step, total=opts.total)
    deadline = Deadline(limits)
    argv = tuple(a.replace("{port}", str(port)) for a in opts.cmd)
    cwd = opts.root
    target = f"{opts.host}:{port}" + (f" (started: {' '.join(argv)})" if argv else " (running)")
    launch = Launch(argv, cwd, limits, opts.isolate) if argv else None
    notes: list[str] = []  # what each run of the submission said about its namespace
    try:
        if command == dns_client.COMMAND:
            assert launch is not None
            rows = dns_client.grade(launch, opts.host, port, rubric, deadline, notes)
        elif launch is None:
            rows = _judge(command, opts, rubric, port, deadline, Net(), None)
        else:
            with launch.submission() as sub:
                notes.append(sub.isolation_note)
                sub.wait_listening(port, proto, deadline)
                rows = _judge(command, opts, rubric, port, deadline, sub.net, sub)
    except SandboxError as exc:
        return _fail(command, str(exc), _isolation_text(notes), opts.gradescope_path)
    isolation = _isolation_text(notes)
    grade = Grade(command, target, isolation, tuple(rows))
    if opts.gradescope_path:
        Path(opts.gradescope_path).write_text(json.dumps(gradescope(grade), indent=2) + "\n")
    if opts.as_json:
        click.echo(json.dumps(as_json(grade), indent=2))
    else:
        click.echo(terminal(grade, color))
    return 0 if all_required_pass(grade.rows) else 1


def _fail(command: str, reason: str, isolation: str, gradescope_path: str | None) -> int:
    """Exit 2: the submission could not be started or reached. Gradescope still gets a
    results.json (score 0) that says why."""
    click.echo(f"craft grade {command}: {reason}", err=True)
    if isolation:
        click.echo(f"network namespace: {isolation}", err=True)
    if gradescope_path:
        result = {"score": 0, "output": f"craft grade {command}: {reason}", "tests": []}
        Path(gradescope_path).write_text(json.dumps(result, indent=2) + "\n")
    return 2


def _free_port(ports: tuple[int, int], host: str) -> int:
    """A port of the range free on the host right now (in a namespace every port is)."""
    candidates = list(range(ports[0], ports[1] + 1))
    random.shuffle(candidates)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in candidates[:200]:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp, \
                    socket.socket(family, socket.SOCK_STREAM) as tcp:
                udp.bind((host, port))
                tcp.bind((host, port))
                return port
        except OSError:
            continue
    raise click.UsageError(f"no free port in {ports[0]}-{ports[1]}; give --port")
