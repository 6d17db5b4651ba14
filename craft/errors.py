"""The root of every error craft raises on purpose.

``CraftError(where, reason)``: ``where`` names the place of the fault (an offset, a
``file:line``, an address, a status), ``reason`` says what is wrong. Each layer subclasses
it; the command line turns any of them into one line and the class's ``exit_code``, in one
place (``craft.cli``).
"""

from __future__ import annotations

from typing import ClassVar


class CraftError(Exception):
    """A fault craft can explain: ``str()`` is ``"where: reason"`` (or the reason alone)."""

    exit_code: ClassVar[int] = 1

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason
