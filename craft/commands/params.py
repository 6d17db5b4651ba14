"""Command-line values that several commands parse the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from craft.dns.edns import EdnsRequest


def host_port(text: str, hint: str) -> tuple[str, int]:
    """``127.0.0.1:10053`` or ``[::1]:53`` to (host, port); a click usage error otherwise."""
    host, sep, port = text.rpartition(":")
    # isascii: "²".isdigit() holds, yet int() refuses it
    if not (sep and host and port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise click.BadParameter(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:10053 or [::1]:53)",
                                 param_hint=hint)
    return host.strip("[]"), int(port)


class EdnsCommand(click.Command):
    """A command with ``edns_switches``: a bare ``--cookie`` is read as ``--cookie=`` (a fresh
    cookie), as dig's ``+cookie`` is, so it never swallows the word after it (a NAME)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        head = args[: args.index("--")] if "--" in args else args
        fixed = ["--cookie=" if arg == "--cookie" else arg for arg in head]
        return super().parse_args(ctx, fixed + args[len(head):])


def edns_switches(dnssec: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """dig's EDNS switches, shared by dns-ask and dns-send (which has ``--do`` for
    ``--dnssec`` already); ``edns_request`` reads them. Use with ``cls=EdnsCommand``."""
    options = [
        click.option("--nsid", is_flag=True, help="Ask for the server's NSID (RFC 5001)."),
        click.option("--cookie", "cookie", default=None, metavar="[=HEX]",
                     help="Send a COOKIE: a random 8-octet client cookie, or =HEX (client "
                          "cookie, then any server cookie)."),
        click.option("--subnet", metavar="PREFIX",
                     help="Send a Client Subnet option: 192.0.2.0/24, 2001:db8::/56, 0.0.0.0/0."),
        click.option("--padding", default=0, type=click.IntRange(0, 65535), metavar="N",
                     help="Pad the query to a multiple of N octets (RFC 8467; 128 is usual)."),
    ]
    if dnssec:
        options.append(click.option("--dnssec", is_flag=True, help="Set the DO bit (DNSSEC OK)."))

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def edns_request(nsid: bool, cookie: str | None, subnet: str | None, padding: int,
                 dnssec: bool) -> EdnsRequest:
    try:
        return EdnsRequest.from_switches(nsid, cookie, subnet, padding, dnssec)
    except ValueError as exc:
        hint = "--subnet" if subnet is not None and "subnet" in str(exc) else "--cookie"
        raise click.BadParameter(str(exc), param_hint=hint) from None
