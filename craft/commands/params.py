"""Command-line values that several commands parse the same way."""

from __future__ import annotations

import click


def host_port(text: str, hint: str) -> tuple[str, int]:
    """``127.0.0.1:10053`` or ``[::1]:53`` to (host, port); a click usage error otherwise."""
    host, sep, port = text.rpartition(":")
    # isascii: "²".isdigit() holds, yet int() refuses it
    if not (sep and host and port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise click.BadParameter(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:10053 or [::1]:53)",
                                 param_hint=hint)
    return host.strip("[]"), int(port)
