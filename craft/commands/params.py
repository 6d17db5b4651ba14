"""Command-line values that several commands parse the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from craft.dns.cookies import CookieSecret
from craft.dns.edns import EdnsRequest
from craft.dns.server_edns import ServerEdns, parse_nsid


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


def server_edns_switches(command: Callable[..., Any]) -> Callable[..., Any]:
    """dns-serve's cookie and NSID switches; ``server_edns`` reads them."""
    options = [
        click.option("--cookie-secret", metavar="HEX",
                     help="The server cookie secret, 32 hex digits (RFC 9018; default: random "
                          "at start, shared by every worker). Give the same to servers behind "
                          "one address."),
        click.option("--require-cookie", is_flag=True,
                     help="Answer BADCOOKIE over UDP to a query with a client cookie but no "
                          "valid server cookie (RFC 7873 5.2.3); TCP and cookieless queries "
                          "are answered as usual."),
        click.option("--nsid", metavar="TEXT|0xHEX",
                     help="Answer NSID queries (RFC 5001) with TEXT, or with the octets of "
                          "0xHEX; with --workers, '/N' (the worker's number) is added."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def server_edns(cookie_secret: str | None, require_cookie: bool, nsid: str | None) -> ServerEdns:
    try:
        secret = CookieSecret.random() if cookie_secret is None else CookieSecret.from_hex(cookie_secret)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cookie-secret") from None
    try:
        identifier = None if nsid is None else parse_nsid(nsid)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--nsid") from None
    return ServerEdns(secret, require_cookie, identifier)
