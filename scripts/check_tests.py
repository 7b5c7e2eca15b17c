"""Find tests that cannot fail: test functions with no assertion about anything.

A test passes when it asserts (``assert``, ``pytest.raises``, ``pytest.warns``,
``pytest.fail``, a snapshot comparison), runs code that raises on failure (``exec`` of a
documented example, ``subprocess.run(..., check=True)``) or calls a helper that does — helpers are
followed through the test module and the shared test modules (``conftest``,
``emulator_helpers``) until no new asserting function is found. Everything else is reported::

    python scripts/check_tests.py            # tests/ by default; exit code 1 if any is found
    python scripts/check_tests.py tests/jobs

Hypothesis tests count like any other: their body must assert.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ("conftest.py", "emulator_helpers.py")
_ASSERTING_CALLS = {"raises", "warns", "fail", "deprecated_call", "approx_equal", "snapshot"}


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _checked_run(node: ast.Call) -> bool:
    """Code run so that a failure raises: ``exec(...)``, ``subprocess.run(..., check=True)``."""
    if _called_name(node) == "exec":
        return True
    return any(
        kw.arg == "check" and isinstance(kw.value, ast.Constant) and kw.value.value is True
        for kw in node.keywords
    )


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _asserts_directly(func: ast.AST) -> bool:
    for node in ast.walk(func):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and _called_name(node) in _ASSERTING_CALLS:
            return True
        if isinstance(node, ast.Call) and _checked_run(node):
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            return True  # a helper that raises on a mismatch
    return False


def _calls(func: ast.AST) -> set[str]:
    return {n for node in ast.walk(func) if isinstance(node, ast.Call) if (n := _called_name(node))}


def asserting_names(trees: list[ast.AST]) -> set[str]:
    """Names of functions (and classes, whose methods assert) that assert, transitively."""
    bodies: dict[str, list[ast.AST]] = {}
    for tree in trees:
        for func in _functions(tree):
            bodies.setdefault(func.name, []).append(func)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bodies.setdefault(node.name, []).append(node)
    found = {name for name, funcs in bodies.items() if any(map(_asserts_directly, funcs))}
    while True:
        more = {
            name
            for name, funcs in bodies.items()
            if name not in found and any(_calls(f) & found for f in funcs)
        }
        if not more:
            return found
        found |= more


def weak_tests(folder: Path) -> list[str]:
    """``path::name`` of every test function that asserts nothing, directly or through helpers."""
    shared = [
        ast.parse(p.read_text(encoding="utf-8")) for p in folder.rglob("*.py") if p.name in SHARED
    ]
    report: list[str] = []
    for path in sorted(folder.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helpers = asserting_names([tree, *shared])
        for func in _functions(tree):
            if not func.name.startswith("test"):
                continue
            if _asserts_directly(func) or _calls(func) & helpers:
                continue
            report.append(f"{path.relative_to(folder.parent)}:{func.lineno}::{func.name}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "tests"))
    folder = Path(parser.parse_args().folder).resolve()
    weak = weak_tests(folder)
    for line in weak:
        print(f"no assertion: {line}")
    total = sum(
        1
        for p in folder.rglob("test_*.py")
        for f in _functions(ast.parse(p.read_text(encoding="utf-8")))
        if f.name.startswith("test")
    )
    print(f"{total} test functions, {len(weak)} without an assertion")
    return 1 if weak else 0


if __name__ == "__main__":
    sys.exit(main())
