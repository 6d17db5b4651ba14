"""The ``craft`` command line: a click group whose commands load on first use.

Commands live in ``craft.commands.*``; this module owns only the registry and the rule that
turns every layer's error into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import importlib
import sys

import click

from craft import __version__
from craft.errors import CraftError, warn
from craft.stops import Stopped

# name -> (module, attribute); modules load only when their command runs, so --help is quick.
COMMANDS: dict[str, tuple[str, str]] = {
    "decode": ("craft.commands.inspect", "decode_command"),
    "dns-ask": ("craft.commands.dns", "dns_ask_command"),
    "dns-probe": ("craft.commands.send", "dns_probe_command"),
    "dns-send": ("craft.commands.send", "dns_send_command"),
    "dns-serve": ("craft.commands.dns", "dns_serve_command"),
    "grade": ("craft.commands.grade", "grade_command"),
    "verify": ("craft.commands.verify", "verify_command"),
    "web-serve": ("craft.commands.web", "web_serve_command"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        command = getattr(module, target[1])
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a ``CraftError`` it lets out becomes one line on stderr,
        ``craft COMMAND: where: reason``, and the exit code of its class. Usage errors stay
        click's (exit 2)."""
        try:
            return super().invoke(ctx)
        except CraftError as exc:
            warn(f"craft {ctx.invoked_subcommand or ctx.info_name}", str(exc))
            ctx.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="craft")
def cli() -> None:
    """craft: craft, serve, inspect and verify DNS and HTTP packets.

    A hand-written DNS codec and servers, cross-checked field by field by Scapy.
    """


def main() -> None:
    try:
        cli.main(prog_name="craft")
    except KeyboardInterrupt:
        sys.exit(130)
    except Stopped:  # a stop signal that came while an earlier one was being answered
        sys.exit(0)
