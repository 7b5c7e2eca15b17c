"""The docs' code blocks run, the walkthrough pages' outputs are current, the reference too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import doc_runner  # noqa: E402  (scripts/ is not a package)

DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

# Pages whose ```python blocks run top to bottom in one namespace, in a fresh folder. Blocks
# meant only to be read use ```py instead. The walkthrough pages (getting started, tutorial)
# also run their shell blocks, below.
PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if FENCE.search(p.read_text(encoding="utf-8")) and p not in doc_runner.PAGES
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_python_blocks_run(page: Path, tmp_path: Path) -> None:
    blocks = FENCE.findall(page.read_text(encoding="utf-8"))
    script = "\n\n".join(blocks)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, f"{page}:\n{result.stdout}\n{result.stderr}"


def test_generated_reference_pages_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)  # a whole page: the demo, a training run on the emulator, plots
@pytest.mark.parametrize("page", doc_runner.PAGES, ids=lambda p: p.name)
def test_walkthrough_page_runs_command_by_command_in_a_fresh_folder(
    page: Path, tmp_path: Path
) -> None:
    text = page.read_text(encoding="utf-8")
    runs = doc_runner.run_page_isolated(page, tmp_path)
    failed = [r for r in runs if not r.ok]
    assert not failed, f"{page.name}:{failed[0].line} failed:\n{failed[0].error}"
    assert len(runs) == len(doc_runner.blocks(text))
    assert {r.lang for r in runs} == {"bash", "python"}
    assert doc_runner.fill_outputs(text, runs) == text, (
        f"an output shown in {page.name} is not what its block prints; "
        "run python scripts/gen_docs.py --outputs"
    )


def test_walkthrough_shell_blocks_reject_an_install_line_naming_an_unknown_extra(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text("```bash\npip install 'finetune-kit[nope]'\necho ran\n```\n")
    (run,) = doc_runner.run_page(page, tmp_path)
    assert not run.ok and "no extra nope" in run.error and run.output == ""


def test_walkthrough_outputs_are_what_the_blocks_print(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    stale = (
        "```bash\necho one > f.txt\ncat f.txt\n```\n\n<!-- output -->\n```text\nold\n```\n"
        "```python\nprint(open('f.txt').read().strip() * 2)\n```\n"
        "\n<!-- output -->\n```text\n```\n"
    )
    page.write_text(stale)
    runs = doc_runner.run_page(page, tmp_path)
    assert [r.output for r in runs] == ["one\n", "oneone\n"]
    filled = doc_runner.fill_outputs(stale, runs)
    assert "```text\none\n```" in filled and "```text\noneone\n```" in filled
    assert doc_runner.fill_outputs(filled, runs) == filled
