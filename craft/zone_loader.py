"""Zone files from disk: the one place a master file's octets are read and become text.

``craft.dns.zonefile.parse_zone`` takes text and a source name (for ``file:line`` errors)
and never opens a file; ``load_zone`` reads the file, decodes it (UTF-8, a leading BOM
dropped) and hands it over. Every fault, an unreadable file included, is a ``ZoneError``.
``bulk_objects`` keeps Python's cyclic collector out of the way while big zones load.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path

from craft.dns.names import Name
from craft.dns.zone import Zone, ZoneError
from craft.dns.zonefile import parse_zone


def load_zone(path: str | Path, origin: Name | None = None) -> Zone:
    """Read and parse one master file; ``ZoneError`` for every fault, unreadable included."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a leading BOM is not part of a name
    except UnicodeDecodeError as exc:
        raise ZoneError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ZoneError(str(path), exc.strerror or str(exc)) from None
    return parse_zone(text, filename=str(path), origin=origin)


@contextlib.contextmanager
def bulk_objects() -> Iterator[None]:
    """Around loading zones and building their answers: millions of objects that live as
    long as the zones hold no cycles, yet the cyclic collector would scan them again and
    again while they are made (a fifth of the load's CPU) and then in every full collection
    while serving (seconds with the interpreter held, at a million records: answers late).
    So no collection while loading, and what is alive afterwards is frozen out of it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
