"""How nlp/ is put together: a cheap import, no import cycle, no process-global classifier."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nlp

PACKAGE = Path(nlp.__file__).parent
MODULES = {
    "nlp" if path.name == "__init__.py" else f"nlp.{path.stem}": path
    for path in sorted(PACKAGE.glob("*.py"))
}


def imports_of(name: str) -> set[str]:
    """The nlp modules (or the package itself) a module imports anywhere, functions included."""
    out: set[str] = set()
    package = name if name == "nlp" else "nlp"
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name.split(".")[0] == "nlp")
        elif isinstance(node, ast.ImportFrom):
            base = package if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            if target.split(".")[0] != "nlp":
                continue
            for alias in node.names:  # "from . import registry" names a module
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
    out.discard(name)
    return out


def test_import_is_cheap() -> None:
    code = (
        "import sys, nlp; print(any(m in sys.modules for m in ('numpy', 'sklearn', 'pythainlp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_import_cycle() -> None:
    graph = {name: imports_of(name) for name in MODULES}
    assert graph["nlp.classifier"] >= {"nlp.predict", "nlp.training", "nlp.evaluation"}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = " -> ".join(path[path.index(name) :] + (name,))
            raise AssertionError(f"import cycle: {cycle}")
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, path + (name,))
        done.add(name)

    for name in MODULES:
        visit(name, ())


def test_no_process_global_classifier() -> None:
    # A Classifier is built from explicit settings (the app factory builds one per app).
    assert not hasattr(nlp, "classify") and not hasattr(nlp, "configure")


def test_every_public_name_resolves() -> None:
    for name in nlp.__all__:
        assert getattr(nlp, name) is not None, name
