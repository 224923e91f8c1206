"""The import graph of the application, read from the source with ``ast`` (nothing is imported).

An edge ``a -> b`` means module ``a`` imports module ``b`` when it is itself imported: statements at
module level (also inside ``try``/``if`` and class bodies), not those inside functions (loaded when
called) nor under ``if TYPE_CHECKING:``.  ``from pkg import name`` is an edge to ``pkg.name`` when that
is a module, else to ``pkg``.  A module importing a package that contains it (``from . import bp`` in a
blueprint's ``routes``) is left out: Python loads the package before any module in it, so that is no
dependency of its own; every other edge counts.  ``graph(in_functions=True)`` also counts the imports
inside functions: a circle hidden behind a function-level import is still a circle in the design.

``python scripts/import_graph.py`` prints ``docs/layers.md``: the layers of the package and the
imports between them as a Mermaid diagram; ``tests/test_architecture.py`` fails when the committed
file and the code drift apart, when the graph has a circle, or when ``workflows`` imports the
application.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("artisan_awards", "workflows")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_statements(body: list[ast.stmt], in_functions: bool = False) -> Iterable[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported (``in_functions``: also those run when called)."""
    if in_functions:
        for node in body:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner
        return
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_statements(node.body)
            yield from _import_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _import_statements(block)
        elif isinstance(node, ast.ClassDef | ast.With):
            yield from _import_statements(node.body)


def imports_of(name: str, path: Path, known: set[str], in_functions: bool = False) -> set[str]:
    """The known modules ``name`` imports at module level (``in_functions``: anywhere)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in _import_statements(tree.body, in_functions):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            names: list[str] = []
        else:
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            bases = [base]
            names = [alias.name for alias in node.names]
        for base in bases:
            for sub in names or [None]:
                target = f"{base}.{sub}" if sub and f"{base}.{sub}" in known else base
                # `import a.b.c` of a module that is not ours: keep the longest part that is.
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
    # A module of a package reaching back into the package (``from . import bp`` in a blueprint's routes)
    # is not a dependency of its own: the package is loaded before any of its modules.
    return {t for t in targets if not name.startswith(t + ".")}


def graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES, in_functions: bool = False) -> dict[str, set[str]]:
    found = modules(root, packages)
    known = set(found)
    return {name: imports_of(name, path, known, in_functions) for name, path in found.items()}


def top_level_names(path: Path) -> set[str]:
    """Every distribution-level name a file imports anywhere (``flask``, ``sqlalchemy``, ...); relative
    imports count as the file's own package."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in _import_statements(tree.body, in_functions=True):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
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

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


# -- layers --------------------------------------------------------------------------------------
#
# Each module belongs to one layer; the diagram draws an arrow between two layers when any module of
# the one imports a module of the other at module level.

# The subpackages that define a Flask blueprint, read from the tree (their names are the URL prefixes).
BLUEPRINTS = tuple(sorted(init.parent.name for init in (ROOT / "artisan_awards").glob("*/__init__.py")
                          if "Blueprint(" in init.read_text(encoding="utf-8")))
LAYERS = (
    ("app", "create_app, CLI, demo", ("artisan_awards", "artisan_awards.cli", "artisan_awards.demo")),
    ("web", "blueprints (pages, API)",
     tuple(f"artisan_awards.{b}" for b in BLUEPRINTS) + ("artisan_awards.views", "artisan_awards.forms",
                                                         "artisan_awards.redirects", "artisan_awards.confirm",
                                                         "artisan_awards.integration.routes",
                                                         "artisan_awards.integration.forms",
                                                         "artisan_awards.report_files")),
    ("services", "services/ (operations, queries), integration/ (other systems)",
     ("artisan_awards.services", "artisan_awards.integration")),
    ("output", "exports, backup, sensitive fields as shown", ("artisan_awards.exports", "artisan_awards.backup",
                                                              "artisan_awards.field_view")),
    ("policy", "permissions.py", ("artisan_awards.permissions",)),
    ("data", "schemas, serializers, validation", ("artisan_awards.schemas", "artisan_awards.serializers",
                                                  "artisan_awards.validation", "artisan_awards.ballot_box",
                                                  "artisan_awards.nomination_data")),
    ("store", "storage, audit chain", ("artisan_awards.storage", "artisan_awards.audit_chain")),
    ("models", "models/ (SQLAlchemy 2)", ("artisan_awards.models",)),
    ("base", "extensions, config, errors, i18n, formatting, text, timeutil, field encryption, sensitivity registry, "
             "regions",
     ("artisan_awards.extensions", "artisan_awards.config", "artisan_awards.errors", "artisan_awards.i18n",
      "artisan_awards.formatting", "artisan_awards.text", "artisan_awards.timeutil", "artisan_awards.field_crypto",
      "artisan_awards.personal_fields", "artisan_awards.regions")),
    ("workflows", "workflows/ (state machine, award rules; no Flask)", ("workflows",)),
)


def layer_of(module: str) -> str:
    best, length = None, -1
    for key, _label, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = key, len(prefix)
    if best is None:
        raise KeyError(f"{module} belongs to no layer: add it to LAYERS in scripts/import_graph.py")
    return best


def layer_edges(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(layer_of(a), layer_of(b)) for a, targets in edges.items() for b in targets
            if layer_of(a) != layer_of(b)}


def document(edges: dict[str, set[str]] | None = None) -> str:
    edges = graph(in_functions=True) if edges is None else edges
    lines = [
        "# Layers and imports",
        "",
        "Generated by `python scripts/import_graph.py > docs/layers.md` from the package's own imports",
        "(read with `ast`, those inside functions included); `tests/test_architecture.py` fails when this",
        "file and the code drift apart, when an import circle appears, or when `workflows/` imports the",
        "application. An arrow: some module of the first layer imports one of the second.",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    lines += [f'    {key}["{label}"]' for key, label, _ in LAYERS]
    lines += [f"    {a} --> {b}" for a, b in sorted(layer_edges(edges))]
    lines += ["```", "", "## Modules by layer", ""]
    for key, label, _ in LAYERS:
        members = sorted(m for m in edges if layer_of(m) == key)
        lines.append(f"* **{label}**: " + ", ".join(f"`{m}`" for m in members))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(document())
