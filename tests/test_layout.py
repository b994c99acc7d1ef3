"""Earshot's layout: its own modules import one another without a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("runtime.py", "collectors/*.py", "reputation/*.py")
SKIPPED = {".venv", "tests", "bench", "instance", "docs"}


def own_modules(root: Path) -> dict[str, Path]:
    """Every module of the project under `root`, by dotted name (a package by its __init__.py)."""
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[0] in SKIPPED or parts[0].startswith("."):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif len(parts) > 1 and not (path.parent / "__init__.py").exists():
            continue  # a loose script in a folder, not part of a package
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    """An `if TYPE_CHECKING:` block, whose imports never run."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


def _import_nodes(tree: ast.AST):
    """Every import statement, at module level or inside functions, outside TYPE_CHECKING blocks."""
    for node in ast.iter_child_nodes(tree):
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _import_nodes(node)


def imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that `module` imports (a submodule's package too, from outside the package)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for name in names:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b runs a's __init__ first
                prefix = ".".join(parts[:i])
                inside = module == prefix or module.startswith(prefix + ".")
                if prefix in modules and prefix != module and not (inside and i < len(parts)):
                    targets.add(prefix)
    return targets


def import_graph(root: Path, scanned: tuple[str, ...]) -> dict[str, set[str]]:
    """Imports among the project's modules, from the scanned files through everything they reach."""
    modules = own_modules(root)
    by_path = {path: name for name, path in modules.items()}
    todo = [by_path[p] for pattern in scanned for p in sorted(root.glob(pattern)) if p in by_path]
    graph: dict[str, set[str]] = {}
    while todo:
        module = todo.pop()
        if module not in graph:
            graph[module] = imports(module, modules[module], modules)
            todo.extend(graph[module] - graph.keys())
    return graph


def find_cycle(graph: dict[str, set[str]], through: set[str] | None = None) -> list[str] | None:
    """An import circle through one of `through` (default: any module), first module repeated at the end."""
    for start in sorted(graph if through is None else through & graph.keys()):
        seen: set[str] = set()
        paths = [[start]]
        while paths:
            path = paths.pop()
            for target in sorted(graph.get(path[-1], ()), reverse=True):
                if target == start:
                    return [*path, start]
                if target not in seen:
                    seen.add(target)
                    paths.append([*path, target])
    return None


def test_no_import_cycle():
    """No circle passes through runtime.py, collectors/ or reputation/, whatever modules it runs through."""
    graph = import_graph(ROOT, SCANNED)
    scanned = {m for m in graph if m == "runtime" or m.split(".")[0] in ("collectors", "reputation")}
    assert {"runtime", "collectors.schedule", "collectors.run", "reputation.jobs", "background"} <= graph.keys()
    cycle = find_cycle(graph, through=scanned)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_import_cycle_anywhere():
    """Nor anywhere else they reach."""
    cycle = find_cycle(import_graph(ROOT, SCANNED))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_background_imports_no_job_module():
    """PeriodicJob's home stays below runtime.py, collectors/ and reputation/."""
    graph = import_graph(ROOT, ("background.py",))
    assert not {m for m in graph if m == "runtime" or m.split(".")[0] in ("collectors", "reputation")}


def _write(root: Path, files: dict[str, str]) -> None:
    """Lay out a small project of modules."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_is_found(tmp_path):
    """The check finds a circle through a lazy import, a relative import and a package's __init__."""
    _write(tmp_path, {
        "runtime.py": "import jobs\n",
        "jobs.py": "import pkg\n",
        "pkg/__init__.py": "from . import inner\n",
        "pkg/inner.py": "def thing():\n    from runtime import go\n",
        "pkg/other.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import runtime\n",
    })  # fmt: skip
    graph = import_graph(tmp_path, ("runtime.py", "pkg/*.py"))
    assert graph["pkg.other"] == set()  # TYPE_CHECKING imports never run
    assert graph["jobs"] == {"pkg"} and graph["pkg"] == {"pkg.inner"}
    assert find_cycle(graph) == ["jobs", "pkg", "pkg.inner", "runtime", "jobs"]
    assert find_cycle(graph, through={"runtime"}) == ["runtime", "jobs", "pkg", "pkg.inner", "runtime"]
    assert find_cycle(graph, through={"pkg.other"}) is None
    (tmp_path / "pkg/inner.py").write_text("def thing():\n    pass\n", encoding="utf-8")
    assert find_cycle(import_graph(tmp_path, ("runtime.py", "pkg/*.py"))) is None
