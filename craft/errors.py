"""The root of every error craft raises on purpose.

``CraftError(where, reason)``: ``where`` names the place of the fault (an offset, a
``file:line``, an address, a status), ``reason`` says what is wrong. Each layer subclasses
it; the command line turns any of them into one line and the class's ``exit_code``, in one
place (``craft.cli``). ``warn`` is the one way a running server says a fault it survives.
"""

from __future__ import annotations

import contextlib
import sys
from typing import ClassVar


class CraftError(Exception):
    """A fault craft can explain: ``str()`` is ``"where: reason"`` (or the reason alone)."""

    exit_code: ClassVar[int] = 1

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


def warn(program: str, text: str) -> None:
    """One line on stderr, ``program: text``. Never raises: a server whose stderr is gone
    (a closed terminal, a full pipe) goes on serving."""
    with contextlib.suppress(OSError, ValueError):
        print(f"{program}: {text}", file=sys.stderr, flush=True)
