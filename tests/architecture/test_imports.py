"""The shape of the code, as docs/architecture.md draws it: every import between parts is an
arrow the document allows, no circle between modules, and imports inside functions say why.

Parsed from the source (no import is executed), so a forbidden arrow fails here even when
it hides in a function body or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
PACKAGES = ("exam_server", "question_bank")
# question_bank is the pure domain: no web, Redis or database library either.
NOT_IN_PURE = ("starlette", "sqlalchemy", "redis", "jinja2", "asyncpg", "psycopg", "uvicorn")
WHY = re.compile(r"#\s*(optional|heavy):")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (ours), or the top-level name of a library
    line: int
    in_function: bool
    source_line: str
    comment_above: str


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _ours(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> Iterator[Import]:
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)

    def visit(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import | ast.ImportFrom):
                names: list[str] = []
                if isinstance(child, ast.Import):
                    names = [a.name for a in child.names]
                elif child.level == 0 and child.module:
                    names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
                seen = set()
                for name in names:
                    target = _ours(name) or name.split(".")[0]
                    if target in seen:
                        continue
                    seen.add(target)
                    yield Import(
                        module,
                        target,
                        child.lineno,
                        in_function,
                        lines[child.lineno - 1],
                        lines[child.lineno - 2] if child.lineno > 1 else "",
                    )
            yield from visit(child, inner)

    yield from visit(tree, False)


ALL_IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def part_of(module: str) -> str:
    if module.startswith("question_bank"):
        return "question_bank"
    parts = module.split(".")
    if len(parts) == 1:
        return module
    return ".".join(parts[:2])


def allowed_arrows() -> dict[str, set[str]]:
    """The table of docs/architecture.md: part -> the parts it may import."""
    table: dict[str, set[str]] = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        part = cells[0].strip("`")
        may = cells[2]
        if may == "every part above":
            table[part] = set(table)
        else:
            table[part] = set(re.findall(r"`([\w.]+)`", may))
    return table


def test_the_document_names_every_part_of_the_code() -> None:
    table = allowed_arrows()
    parts = {part_of(m) for m in MODULES} - {"exam_server"}
    assert parts - set(table) == set(), "parts missing from docs/architecture.md"
    assert set(table) - parts == set(), "docs/architecture.md names parts that do not exist"


def test_every_import_between_parts_is_an_allowed_arrow() -> None:
    table = allowed_arrows()
    wrong = []
    for imp in ALL_IMPORTS:
        if imp.target not in MODULES:
            continue
        src, dst = part_of(imp.module), part_of(imp.target)
        if src != dst and dst != "exam_server" and dst not in table.get(src, set()):
            wrong.append(f"{imp.module}:{imp.line} imports {imp.target} ({src} -> {dst})")
    assert wrong == []


def test_the_pure_package_uses_no_web_redis_or_database_library() -> None:
    wrong = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in ALL_IMPORTS
        if part_of(imp.module) == "question_bank" and imp.target.split(".")[0] in NOT_IN_PURE
    ]
    assert wrong == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_no_module_imports_itself_through_a_circle() -> None:
    graph: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        # A package's __init__ is imported on the way to any of its modules: not an arrow.
        if imp.target in MODULES and imp.target != imp.module and imp.target not in PACKAGES:
            if MODULES[imp.target].name == "__init__.py":
                continue
            graph.setdefault(imp.module, set()).add(imp.target)
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_an_import_inside_a_function_says_why() -> None:
    silent = [
        f"{imp.module}:{imp.line}: {imp.source_line.strip()}"
        for imp in ALL_IMPORTS
        if imp.in_function and not WHY.search(imp.source_line) and not WHY.search(imp.comment_above)
    ]
    assert silent == []


def test_nothing_outside_the_cli_imports_it() -> None:
    wrong = [
        f"{imp.module}:{imp.line}"
        for imp in ALL_IMPORTS
        if part_of(imp.target) == "exam_server.cli" and part_of(imp.module) != "exam_server.cli"
    ]
    assert wrong == []
