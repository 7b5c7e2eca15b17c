"""The package's shape: subpackages by responsibility, no import cycles, contracts enforced."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "finetune_kit"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
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
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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


def test_no_module_imports_another_that_imports_it_back() -> None:
    # every import counts, function-level ones included; `if TYPE_CHECKING:` ones do not
    graph = grimp.build_graph("finetune_kit", exclude_type_checking_imports=True, cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


def test_the_package_root_holds_at_most_twenty_modules() -> None:
    modules = list(PACKAGE.glob("*.py"))
    assert len(modules) <= 20, sorted(p.name for p in modules)


def test_no_module_is_left_outside_a_subpackage_by_prefix() -> None:
    # name prefixes standing in for folders (`_cli_*`, `_export_*`) are what the layout replaced
    prefixed = [p.name for p in PACKAGE.glob("_*_*.py") if p.name != "__init__.py"]
    assert prefixed == []


def test_the_layer_contracts_hold_and_catch_an_upward_import(tmp_path: Path) -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    ok = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # a copy of the package where the data layer imports the job client must fail the contracts
    copy = tmp_path / "repo"
    shutil.copytree(PACKAGE, copy / "finetune_kit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    reading = copy / "finetune_kit" / "reading.py"
    upward = "from finetune_kit.jobs.client import JobClient"
    reading.write_text(
        reading.read_text() + f"\n\ndef _up():\n    {upward}\n\n    return JobClient\n"
    )
    bad = subprocess.run(
        [lint, "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(copy), "PATH": str(Path(sys.executable).parent)},
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "finetune_kit.reading -> finetune_kit.jobs.client" in bad.stdout
