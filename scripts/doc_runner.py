"""Run a docs page's code blocks in order, as a reader would, and fill in their outputs.

A page's ``python`` blocks share one namespace; its ``bash`` blocks run with ``bash -e`` in the
same folder, with the ``finetune-kit`` of this interpreter first on ``PATH`` and
``OPENAI_BASE_URL`` pointing at the loopback emulator (so nothing talks to a real API).
``pip install`` lines are not run (the tests run offline): each requirement they name is checked
against the installed package's extras instead.

An output block is a ``text`` block right after the marker line ``<!-- output -->``; the marker
follows the code block whose output it shows. ``fill_outputs`` writes what the block printed
into it, so expected outputs on the page are produced by the code (``scripts/gen_docs.py``
does it for the pages in [`PAGES`][]; ``--check`` fails on a stale one).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

PAGES = [DOCS / "getting-started.md", DOCS / "tutorial.md"]
"""The pages whose shell and Python blocks run top to bottom, with generated outputs."""

OUTPUT_MARKER = "<!-- output -->"
_BLOCK = re.compile(
    r"^```(?P<lang>python|bash)[^\n]*\n(?P<code>.*?)^```[ \t]*\n"
    r"(?P<out>\n" + re.escape(OUTPUT_MARKER) + r"\n```text\n(?P<text>.*?)^```[ \t]*\n)?",
    re.MULTILINE | re.DOTALL,
)
_PIP = re.compile(r"^\s*(?:python3? -m )?pip install (?P<args>.+)$")


@dataclass
class BlockRun:
    """One code block of a page and what running it gave.

    Attributes:
        lang: ``python`` or ``bash``.
        code: The block's text.
        line: The line of the page the block starts on.
        output: What it printed (stdout; for bash also stderr, as a terminal shows both).
        ok: Whether it ran without error.
        error: The traceback or the failing command's message when not ``ok``.
        has_output_block: Whether the page shows its output (an output block follows it).
    """

    lang: str
    code: str
    line: int
    output: str = ""
    ok: bool = True
    error: str = ""
    has_output_block: bool = False


def blocks(text: str) -> list[BlockRun]:
    """The runnable blocks of a page, in order."""
    return [
        BlockRun(
            m["lang"],
            m["code"],
            text.count("\n", 0, m.start()) + 1,
            has_output_block=m["out"] is not None,
        )
        for m in _BLOCK.finditer(text)
    ]


def _extras() -> set[str]:
    from importlib.metadata import metadata

    return set(metadata("finetune-kit").get_all("Provides-Extra") or [])


def _check_pip(line: str) -> str | None:
    """Why a ``pip install`` line would not work, or ``None`` (it is not run: tests are offline)."""
    match = _PIP.match(line)
    assert match is not None
    for arg in match["args"].split():
        requirement = arg.strip("'\"")
        name, _, rest = requirement.partition("[")
        if name != "finetune-kit":
            return f"{line.strip()}: the docs install only finetune-kit, not {name!r}"
        unknown = {e for e in rest.rstrip("]").split(",") if e} - _extras()
        if unknown:
            return f"{line.strip()}: finetune-kit has no extra {', '.join(sorted(unknown))}"
    return None


def _run_bash(code: str, folder: Path, env: dict[str, str]) -> tuple[str, str | None]:
    kept = []
    for line in code.splitlines():
        if _PIP.match(line):
            problem = _check_pip(line)
            if problem:
                return "", problem
            continue
        kept.append(line)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", "\n".join(kept)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        return result.stdout, f"exit code {result.returncode}:\n{result.stdout}"
    return result.stdout, None


def run_page(page: Path, folder: Path) -> list[BlockRun]:
    """Run every block of ``page`` in ``folder``; stop at the first failure.

    Args:
        page: The markdown page.
        folder: An empty folder to run in (the reader's fresh folder).

    Returns:
        The blocks with their outputs; the last one has ``ok=False`` if one failed.
    """
    from finetune_kit.testing import Emulator

    runs = blocks(page.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": "__main__"}
    old_cwd = Path.cwd()
    os.chdir(folder)
    try:
        with Emulator(speed=5000) as emulator:
            env = {
                **os.environ,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONPATH": str(ROOT),
                "OPENAI_BASE_URL": emulator.base_url,
                "OPENAI_API_KEY": emulator.api_key,
                "COLUMNS": "100",
                "NO_COLOR": "1",
                "TERM": "dumb",
            }
            for run in runs:
                if run.lang == "bash":
                    run.output, problem = _run_bash(run.code, folder, env)
                    if problem is not None:
                        run.ok, run.error = False, problem
                else:
                    buffer = io.StringIO()
                    try:
                        with contextlib.redirect_stdout(buffer):
                            exec(compile(run.code, f"{page.name}:{run.line}", "exec"), namespace)
                    except BaseException:
                        run.ok, run.error = False, traceback.format_exc()
                    run.output = buffer.getvalue()
                if not run.ok:
                    return runs[: runs.index(run) + 1]
    finally:
        os.chdir(old_cwd)
    return runs


def fill_outputs(text: str, runs: list[BlockRun]) -> str:
    """``text`` with each output block replaced by what the block before it printed."""
    outputs = iter(runs)

    def replace(match: re.Match[str]) -> str:
        run = next(outputs, None)
        if match["out"] is None or run is None:
            return match[0]
        shown = run.output if run.output.endswith("\n") or not run.output else run.output + "\n"
        head = match[0][: match.start("out") - match.start()]
        return f"{head}\n{OUTPUT_MARKER}\n```text\n{shown}```\n"

    return _BLOCK.sub(replace, text)


def run_page_isolated(page: Path, folder: Path) -> list[BlockRun]:
    """[`run_page`][] in a fresh interpreter (a page's imports and warnings stay out of ours)."""
    result = subprocess.run(
        [sys.executable, __file__, str(page), str(folder)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"running {page.name} crashed:\n{result.stdout}\n{result.stderr}")
    return [BlockRun(**item) for item in json.loads(result.stdout)]


if __name__ == "__main__":
    page_arg, folder_arg = sys.argv[1:3]
    done = run_page(Path(page_arg), Path(folder_arg))
    sys.stdout.write(json.dumps([asdict(r) for r in done]))
