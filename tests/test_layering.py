"""The packages' layering, read from their import statements: the core knows nothing of the
layers, the BPTT study tools are a leaf that nothing else imports, and no two modules import each
other (except the Tensor's operators and the ops, listed below)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("minigrad", "minigrad_layers")
KNOWN_PAIRS = {frozenset({"minigrad.tensor", "minigrad.ops"})}  # Tensor's operators call the ops


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports (``from a.b import c`` counts ``a.b.c`` when ``c`` is a
    module, else ``a.b``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_the_core_imports_nothing_from_the_layers():
    offenders = {
        m: sorted(i for i in imports if i.startswith("minigrad_layers"))
        for m, imports in _graph().items()
        if m.split(".")[0] == "minigrad"
    }
    assert not {m: i for m, i in offenders.items() if i}


def test_inspect_is_imported_only_by_the_package_face():
    importers = {
        m
        for m, imports in _graph().items()
        if any(i.startswith("minigrad_layers.inspect") for i in imports)
        and not m.startswith("minigrad_layers.inspect")
    }
    assert importers <= {"minigrad_layers"}, importers


def test_no_two_modules_import_each_other():
    graph = _graph()
    pairs = {
        frozenset({a, b}) for a, imports in graph.items() for b in imports if a in graph.get(b, ())
    }
    assert pairs <= KNOWN_PAIRS, sorted(sorted(p) for p in pairs - KNOWN_PAIRS)
