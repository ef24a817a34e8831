"""The layers stay one-way, and no module imports itself round a circle.

Parsed, not imported: every ``.py`` file of the packages is read with ``ast`` and each
``import`` / ``from ... import`` is an arrow, wherever it stands (a function-level import is an
arrow too; only ``if TYPE_CHECKING:`` blocks, which never run, are left out).  The rules:

* ``dispatch/`` never imports ``api/`` (the API is a thin layer on dispatch, not the reverse);
* ``dispatch/`` and ``api/`` never import ``fixtures/`` (the demo generator builds on dispatch:
  its commands reach ``carepath`` through the ``carepath.commands`` entry point);
* ``optimizer/`` imports none of ``dispatch``, ``api``, ``fixtures`` and no database or web
  library: it is pure;
* outside ``optimizer/``, code imports only the package itself (``from optimizer import
  solve``): ``optimizer/__init__.py`` is the public API.  ``benchmarks/`` does too, except the
  imports listed in ``BENCHMARK_INTERNALS`` with the reason each needs a phase the API does not
  offer.  ``tests/`` are exempt: a unit test of ``optimizer/timing.py`` tests timing's own
  functions;
* no import cycle among modules, counting the imports that run when a module is loaded
  (module and class level; function-level imports run later and do not make a load order).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("optimizer", "dispatch", "api", "fixtures", "benchmarks")

#: Libraries the optimizer must not import: it has no database, no HTTP, no web framework.
IMPURE = ("sqlmodel", "sqlalchemy", "fastapi", "starlette", "alembic", "psycopg", "uvicorn", "httpx")

#: Benchmark modules that import optimizer internals, with why the public API does not do.
BENCHMARK_INTERNALS: dict[tuple[str, str], str] = {
    ("benchmarks.kielce", "optimizer.construct"): "times the construction phase alone, per area",
    ("benchmarks.kielce", "optimizer.decompose"): "splits the day into the areas the solver would",
    ("benchmarks.kielce", "optimizer.rules"): "eligible workers per visit, the construction's input",
    ("benchmarks.peers.ortools_peer", "optimizer.routing"): "the plain OR-Tools peer: the routing model "
                                                            "searched alone, without our phases",
    ("benchmarks.peers.ortools_peer", "optimizer.nodes"): "turns that peer's raw routes into routes",
    ("benchmarks.lazy_identity", "optimizer.decompose"): "compares the areas a lazy and a dense day split into",
    ("benchmarks.lazy_identity", "optimizer.repair"): "compares the repair across areas on both matrices",
    ("benchmarks.lns_speed", "optimizer.construct"): "the LNS's starting plan, built once for both modes",
    ("benchmarks.lns_speed", "optimizer.decompose"): "the 10x day's largest area, searched alone",
    ("benchmarks.lns_speed", "optimizer.lns"): "counts the LNS's rounds per second (the phase alone)",
    ("benchmarks.lns_speed", "optimizer.rules"): "eligible workers per visit, the construction's input",
}


@dataclass(frozen=True)
class Arrow:
    source: str  # importing module, dotted
    target: str  # imported module (or module.name for ``from m import name`` when name is no module)
    line: int
    at_load: bool  # runs when the source module is loaded (module or class level)
    imported_from: str = ""  # ``m`` of ``from m import name`` ("" for ``import m``)
    name: str = ""  # ``name`` of ``from m import name``

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "versions" in path.parts and "migrations" in path.parts:
                continue  # revision files are frozen history, importing only alembic and sqlalchemy
            if path.parts[-2:-1] == ("tuning",) and "benchmarks" in path.parts:
                continue  # benchmarks/tuning is a lab notebook of past experiments, not shipped or run
            yield path


MODULES = {module_name(p): p for p in source_files()}
EXTENSIONS = {module_name(p) for package in PACKAGES for p in sorted((ROOT / package).rglob("*.c"))}
"""The C extension modules (``optimizer._timing`` from ``optimizer/_timing.c``): ``from optimizer
import _timing`` imports that module, not a name of ``optimizer/__init__.py``."""


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, level: int, source: str, is_package: bool) -> str:
    if not level:
        return module
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def arrows(module: str, path: Path) -> Iterator[Arrow]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, at_load: bool) -> Iterator[Arrow]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    yield from visit_one(sub, at_load)
                continue
            yield from visit_one(child, at_load)

    def visit_one(node: ast.AST, at_load: bool) -> Iterator[Arrow]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Arrow(module, alias.name, node.lineno, at_load)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, module, is_package)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield Arrow(module, full if full in MODULES or full in EXTENSIONS else f"{base}:{alias.name}",
                            node.lineno, at_load, base, alias.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from visit(node, False)
        else:
            yield from visit(node, at_load)

    yield from visit(tree, True)


ALL_ARROWS = [a for name, path in MODULES.items() for a in arrows(name, path)]


def _top(target: str) -> str:
    return target.split(":")[0].split(".")[0]


def _module_of(target: str) -> str:
    return target.split(":")[0]


def test_the_scan_sees_every_package_and_function_level_imports() -> None:
    """The test reads what it claims to: all five packages, and imports inside functions."""
    assert {name.split(".")[0] for name in MODULES} == set(PACKAGES)
    assert any(not a.at_load for a in ALL_ARROWS if a.source.startswith("dispatch."))
    assert any(a.target == "dispatch.storage.models" for a in ALL_ARROWS if a.source.startswith("api."))


def test_dispatch_does_not_import_api() -> None:
    bad = [str(a) for a in ALL_ARROWS if a.source.split(".")[0] == "dispatch" and _top(a.target) == "api"]
    assert not bad, "dispatch/ must not import api/:\n" + "\n".join(bad)


def test_dispatch_and_api_do_not_import_fixtures() -> None:
    bad = [str(a) for a in ALL_ARROWS if a.source.split(".")[0] in ("dispatch", "api") and _top(a.target) == "fixtures"]
    assert not bad, "dispatch/ and api/ must not import fixtures/:\n" + "\n".join(bad)


def test_the_optimizer_is_pure() -> None:
    forbidden = {"dispatch", "api", "fixtures", "benchmarks", *IMPURE}
    bad = [str(a) for a in ALL_ARROWS if a.source.split(".")[0] == "optimizer" and _top(a.target) in forbidden]
    assert not bad, "optimizer/ imports no application layer and no database or web library:\n" + "\n".join(bad)


def test_only_the_optimizers_public_api_is_imported_from_outside() -> None:
    import optimizer

    public = set(optimizer.__all__)
    bad = []
    for a in ALL_ARROWS:
        layer = a.source.split(".")[0]
        if layer == "optimizer" or _top(a.target) != "optimizer":
            continue
        target_module = _module_of(a.target)
        if a.imported_from == "optimizer":  # from optimizer import name
            if a.name not in public:
                bad.append(f"{a}: not in optimizer.__all__")
            continue
        if target_module == "optimizer":  # import optimizer
            continue
        if layer == "benchmarks" and (a.source, target_module) in BENCHMARK_INTERNALS:
            continue
        bad.append(f"{a}: import it from optimizer (its public API)")
    assert not bad, "\n".join(bad)


def test_no_private_optimizer_name_is_imported_from_outside() -> None:
    """Underscore modules and names are the optimizer's own, for benchmarks too (tests exempt)."""
    bad = []
    for a in ALL_ARROWS:
        if a.source.split(".")[0] == "optimizer" or _top(a.target) != "optimizer":
            continue
        parts = a.target.replace(":", ".").split(".")
        if any(p.startswith("_") for p in parts):
            bad.append(str(a))
    assert not bad, "\n".join(bad)


def test_the_benchmark_exceptions_are_still_needed() -> None:
    """An exception nobody uses any more is removed, so the list stays the truth."""
    used = {(a.source, _module_of(a.target)) for a in ALL_ARROWS}
    assert set(BENCHMARK_INTERNALS) <= used, set(BENCHMARK_INTERNALS) - used


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def load_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for a in ALL_ARROWS:
        target = _module_of(a.target)
        if a.at_load and target in MODULES and target != a.source:
            edges[a.source].add(target)
    return edges


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    cycles = _cycles(load_edges())
    assert not cycles, "import cycles (module-level imports):\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_a_compiled_submodule_is_that_module_not_the_package() -> None:
    """``from optimizer import _timing`` (in ``optimizer/timing.py``) points at the C module, so a
    module the package's ``__init__`` imports may load its own C half without an import cycle."""
    assert {"optimizer._sisr", "optimizer._linked", "optimizer._scan", "optimizer._timing"} <= EXTENSIONS
    targets = {a.target for a in ALL_ARROWS if a.source == "optimizer.timing"}
    assert "optimizer._timing" in targets and "optimizer:_timing" not in targets
