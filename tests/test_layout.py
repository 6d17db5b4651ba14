"""The tree keeps its design: the layer rule, no import cycles, and a README that lists it.

Imports are read with ``ast``, not by importing, so a module that breaks the rule is
named even when it would import fine. The rule: the sans-I/O cores (everything under
``craft/dns/`` and ``craft/http/protocol.py``) reach no ``socket``, ``selectors`` or
``signal``, not even through another craft module. The README's Layout table has one row
per module path; it must name every module in the tree and nothing else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "craft"
FORBIDDEN = frozenset({"socket", "selectors", "signal"})


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
PURE = sorted(name for name in MODULES
              if name.startswith("craft.dns.") or name in ("craft.dns", "craft.http.protocol"))


def imports(name: str) -> set[str]:
    """Every module ``name`` imports anywhere in its text (functions included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # "from craft.http import files" imports the module craft.http.files
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if f"{base}.{alias.name}" in MODULES)
    return found


def craft_imports(name: str) -> set[str]:
    return {module for module in imports(name) if module in MODULES and module != name}


def test_the_tree_is_read() -> None:
    assert {"craft.dns.answering", "craft.dns.answer_cache", "craft.http.protocol"} <= set(MODULES)
    assert imports("craft.web") >= {"socket", "selectors", "craft.http.files"}  # the reader sees


@pytest.mark.parametrize("name", PURE)
def test_sans_io_cores_reach_no_socket_selector_or_signal(name: str) -> None:
    """What ``name`` imports, and what the craft modules it imports import, transitively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        bad = {module.split(".")[0] for module in imports(current)} & FORBIDDEN
        assert not bad, f"{current} (reached from {name}) imports {sorted(bad)}"
        todo.extend(craft_imports(current))


def test_no_import_cycles_among_craft_modules() -> None:
    graph = {name: craft_imports(name) for name in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target):], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def layout_rows() -> list[str]:
    """The module paths of the README's Layout table, one per row, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    paths = []
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        found = re.fullmatch(r"`([^`]+)`", cells[0])
        assert found, f"one module path per row: {row}"
        paths.append(found.group(1))
    return paths


def test_readme_layout_lists_exactly_the_modules_in_the_tree() -> None:
    listed = layout_rows()
    assert len(listed) == len(set(listed)), "a module listed twice"
    in_tree = {str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
               if path.name not in ("__init__.py", "__main__.py")}
    missing = sorted(in_tree - set(listed))
    absent = sorted(set(listed) - in_tree)
    assert not missing, f"modules missing from the README's Layout table: {missing}"
    assert not absent, f"the README's Layout table names modules that do not exist: {absent}"


def top_level_names(name: str) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(MODULES[name].read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("name", sorted(MODULES))
def test_docstrings_name_modules_that_exist(name: str) -> None:
    """A docstring that names ``craft.x.y`` (or ``craft.x.y.Member``) names what is there."""
    path = MODULES[name]
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    for dotted in re.findall(r"``(craft(?:\.\w+)+)", doc):
        parts = dotted.split(".")
        n = max(n for n in range(1, len(parts) + 1) if ".".join(parts[:n]) in MODULES)
        rest = parts[n:]
        assert not rest or rest[0] in top_level_names(".".join(parts[:n])), (
            f"{path.relative_to(ROOT)} names {dotted}, which is not in the tree")
