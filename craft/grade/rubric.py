"""Rubrics as values: rows with points, the lab's table and port range, TOML loading, scores.

Pure: nothing here runs or reaches a submission. A rubric module (``dns_server``,
``dns_client``, ``web_server``) lists its ``RowSpec``s with the lab's default points and
judges ``Check``s; ``Rubric.row`` gives a check its points. ``--rubric FILE`` (TOML) may
change the points of any row, the table of names and the port range, for another course's
variant of the same lab::

    port_range = [10000, 11000]
    [points.dns-server]
    ttl = 3              # a row's key, as `craft grade ... --json` shows it
    two-clients = 0      # 0 points: shown, never counted
    [[table]]
    name = "google.com"
    ttl = 260
    addresses = ["192.165.1.1", "192.165.1.10"]
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from craft.dns.zone import LAB_TABLE
from craft.errors import CraftError

LAB_PORTS = (10000, 11000)
COMMANDS = ("dns-server", "dns-client", "web-server")


class RubricError(CraftError):
    """A rubric file craft cannot use; ``where`` is the file (and key)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the lab's table: a name, its TTL and its A records, in order."""

    name: str
    ttl: int
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RowSpec:
    """A rubric row as the lab sets it: ``required`` rows decide the exit code; the others
    (robustness beyond the lab) only add points."""

    key: str
    name: str
    points: float
    required: bool = True


@dataclass(frozen=True, slots=True)
class Check:
    """A judgement before points: ``wire`` is DNS octets to show annotated when it failed."""

    key: str
    passed: bool
    detail: str = ""
    wire: bytes | None = None
    mark: tuple[int, int] | None = None  # the octets of ``wire`` that are wrong


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    name: str
    points: float
    max_points: float
    passed: bool
    detail: str
    required: bool
    wire: bytes | None = None
    mark: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Rubric:
    table: tuple[Entry, ...] = tuple(Entry(n, t, a) for n, t, a in LAB_TABLE)
    port_range: tuple[int, int] = LAB_PORTS
    points: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def row(self, command: str, spec: RowSpec, check: Check) -> Row:
        worth = self.points.get(command, {}).get(spec.key, spec.points)
        return Row(spec.key, spec.name, worth if check.passed else 0.0, worth, check.passed,
                   check.detail, spec.required and worth > 0, check.wire, check.mark)

    def rows(self, command: str, specs: Sequence[RowSpec], checks: Iterable[Check]) -> list[Row]:
        """Rows in the specs' order; a spec with no check is left out (not applicable)."""
        by_key = {c.key: c for c in checks}
        return [self.row(command, s, by_key[s.key]) for s in specs if s.key in by_key]

    def port_text(self) -> str:
        return f"{self.port_range[0]}-{self.port_range[1]}"

    def port_check(self, port: int) -> Check:
        """The lab's port row: the submission's port lies in the rubric's range."""
        low, high = self.port_range
        if low <= port <= high:
            return Check("port", True, f"port {port}")
        return Check("port", False, f"expected a port in {self.port_text()}, got {port}")


def merge(checks: Sequence[Check], key: str) -> Check:
    """Many instances of one check (one per table name) as one row: passed when all
    passed; the first failure's detail and octets are kept, with how many failed."""
    failed = [c for c in checks if not c.passed]
    if not failed:
        return Check(key, True, checks[0].detail if len(checks) == 1 else "")
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return Check(key, False, failed[0].detail + more, failed[0].wire, failed[0].mark)


def score(rows: Sequence[Row]) -> tuple[float, float]:
    return sum(r.points for r in rows), sum(r.max_points for r in rows)


def all_required_pass(rows: Sequence[Row]) -> bool:
    return all(r.passed for r in rows if r.required)


def load_rubric(path: str, known: Mapping[str, Sequence[RowSpec]]) -> Rubric:
    """Read a TOML rubric; every key is checked so a typo is an error, not a silent 0."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise RubricError(path, exc.strerror or str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(path, f"not TOML: {exc}") from None
    return parse_rubric(data, path, known)


def parse_rubric(data: Mapping[str, object], where: str,
                 known: Mapping[str, Sequence[RowSpec]]) -> Rubric:
    unknown = set(data) - {"table", "port_range", "points"}
    if unknown:
        raise RubricError(where, f"unknown key {sorted(unknown)[0]!r} (known: points, table, port_range)")
    rubric = Rubric()
    table = rubric.table
    if "table" in data:
        table = _table(data["table"], where)
    ports = rubric.port_range
    if "port_range" in data:
        ports = _ports(data["port_range"], where)
    points: dict[str, dict[str, float]] = {}
    raw_points = data.get("points", {})
    if not isinstance(raw_points, dict):
        raise RubricError(where, "points must be a table of [points.COMMAND] tables")
    for command, rows in raw_points.items():
        if command not in known or not isinstance(rows, dict):
            raise RubricError(where, f"points.{command}: not one of {', '.join(known)}")
        keys = {s.key for s in known[command]}
        points[command] = {}
        for key, value in rows.items():
            if key not in keys:
                raise RubricError(where, f"points.{command}.{key}: no such row "
                                  f"(rows: {', '.join(sorted(keys))})")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise RubricError(where, f"points.{command}.{key}: not a number of points")
            points[command][key] = float(value)
    return Rubric(table, ports, points)


def _table(value: object, where: str) -> tuple[Entry, ...]:
    if not isinstance(value, list) or not value:
        raise RubricError(where, "table must be a non-empty list of [[table]] entries")
    entries = []
    for index, item in enumerate(value):
        at = f"{where}: table[{index}]"
        if not isinstance(item, dict) or set(item) != {"name", "ttl", "addresses"}:
            raise RubricError(at, "needs exactly name, ttl and addresses")
        name, ttl, addresses = item["name"], item["ttl"], item["addresses"]
        if not isinstance(name, str) or not name.strip(".") or len(name) > 253:
            raise RubricError(at, "name must be a domain name")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 0x7FFFFFFF:
            raise RubricError(at, "ttl must be 0..2147483647")
        if not isinstance(addresses, list) or not addresses:
            raise RubricError(at, "addresses must be a non-empty list")
        for address in addresses:
            try:
                ipaddress.IPv4Address(address)
            except (ValueError, TypeError):
                raise RubricError(at, f"{address!r} is not an IPv4 address") from None
        entries.append(Entry(name.strip("."), ttl, tuple(addresses)))
    return tuple(entries)


def _ports(value: object, where: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535
                       for p in value) or value[0] > value[1]):
        raise RubricError(where, "port_range must be [low, high], ports 1-65535")
    return (int(value[0]), int(value[1]))
