"""A grade as text for a person, as JSON, and as Gradescope's results.json.

Every failed row shows what was expected and what came; a row that carries DNS octets
shows them in the annotated hex view (up to the octet where decoding stopped) with Scapy's
verdict. JSON and Gradescope get the same text without colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from craft.grade.rubric import Row, score
from craft.view.exchange import annotated, verdict_line
from craft.view.hexview import RESET

GREEN, RED = 32, 31


@dataclass(frozen=True, slots=True)
class Grade:
    command: str
    target: str
    isolation: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> tuple[float, float]:
        return score(self.rows)


def row_detail(row: Row, color: bool = False) -> str:
    """What a row says: for a failure, the expectation and what came (with the octets)."""
    text = row.detail
    if not row.passed and row.wire is not None:
        view = annotated(row.wire, color, row.mark) + "\n" + verdict_line(row.wire)
        text = f"{text}\n{view}" if text else view
    return text


def _points(value: float) -> str:
    return f"{value:g}"


def terminal(grade: Grade, color: bool) -> str:
    got, out_of = grade.score
    lines = [f"craft grade {grade.command}: {grade.target}",
             f"network namespace: {grade.isolation}"]
    lines += [f"note: {n}" for n in grade.notes]
    lines.append("")
    shown: dict[tuple[bytes, tuple[int, int] | None], str] = {}  # drawn, under which row
    for row in grade.rows:
        mark = "PASS" if row.passed else "FAIL"
        if color:
            mark = f"\x1b[{GREEN if row.passed else RED}m{mark}{RESET}"
        extra = "" if row.required else " (beyond the lab)"
        lines.append(f"{mark}  {_points(row.points):>3}/{_points(row.max_points):<3} {row.name}{extra}")
        if row.passed:
            continue
        seen = (row.wire, row.mark) if row.wire is not None else None
        if seen is not None and seen in shown:
            detail = f"{row.detail}\n(the same reply as drawn under “{shown[seen]}”)"
        else:
            detail = row_detail(row, color)
            if seen is not None:
                shown[seen] = row.name
        lines += ["      " + line for line in detail.splitlines()]
    lines += ["", f"score {_points(got)}/{_points(out_of)}"]
    return "\n".join(lines)


def as_json(grade: Grade) -> dict[str, object]:
    got, out_of = grade.score
    return {
        "command": grade.command, "target": grade.target, "network_namespace": grade.isolation,
        "notes": list(grade.notes), "score": got, "max_score": out_of,
        "rows": [{"name": r.name, "key": r.key, "points": r.points, "max_points": r.max_points,
                  "passed": r.passed, "required": r.required, "detail": row_detail(r)}
                 for r in grade.rows],
    }


def gradescope(grade: Grade) -> dict[str, object]:
    """Gradescope's results.json: the total and one test per row."""
    got, _ = grade.score
    header = [f"craft grade {grade.command}: {grade.target}",
              f"network namespace: {grade.isolation}", *grade.notes]
    return {
        "score": got,
        "output": "\n".join(header),
        "tests": [_test(r) for r in grade.rows],
    }


def _test(row: Row) -> dict[str, object]:
    return {"name": row.name, "score": row.points, "max_score": row.max_points,
            "status": "passed" if row.passed else "failed", "output": row_detail(row)}
