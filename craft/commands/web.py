"""``craft web-serve``: the lab's Task 1, a static file server over hand-written HTTP/1.1."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

import click

from craft.errors import CraftError
from craft.http.protocol import Request
from craft.web import WebServer


def _common_log(address: str, request: Request | None, status: int, size: int) -> None:
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    line = request.line if request is not None else "-"
    click.echo(f'{address} - - [{stamp}] "{line}" {status} {size}')


@click.command("web-serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=10080, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: any free port; the start-up line says which).")
@click.option("--root", default=".", show_default=True, metavar="DIR",
              help="Folder to serve (the lab serves the server's own folder).")
@click.option("--quiet", is_flag=True, help="No access log.")
def web_serve_command(host: str, port: int, root: str, quiet: bool) -> None:
    """Serve files from DIR over HTTP/1.1: GET and HEAD, keep-alive, ranges,
    conditional requests; nothing outside DIR is ever served. Ctrl-C or SIGTERM stops it."""
    try:
        server = WebServer(root, host, port, None if quiet else _common_log)
        host_, port_ = server.bind()
    except OSError as exc:
        raise CraftError(f"cannot serve {root} on {host}:{port}", exc.strerror or str(exc)) from None

    def stop(signum: int, frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    shown = f"[{host_}]" if ":" in host_ else host_
    click.echo(f"craft web-serve: serving {server.root} at http://{shown}:{port_}/", err=True)
    sys.stdout.flush()
    server.serve_forever()
    click.echo("craft web-serve: stopped", err=True)
