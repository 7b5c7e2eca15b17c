"""Shared fixtures: tiny JSONL writers and good examples."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = [
    "emulator_helpers",  # the emulator tests' shared `emu` and `client` fixtures
    "client_runner",  # the client tests' `kind` and `instant_waits`
    "migrate_helpers",  # the twenty-job archive the migration tests move
]

GOOD: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Answer as Shakespeare would."},
        {"role": "user", "content": "What is overfitting?"},
        {"role": "assistant", "content": "A model that learns its lessons too well, sirrah."},
    ]
}


def good_example(i: int = 0) -> dict[str, Any]:
    """A valid chat example, distinct for each ``i``."""
    ex = json.loads(json.dumps(GOOD))
    ex["messages"][1]["content"] = f"Question {i}: what is overfitting?"
    return ex


WriteLines = Callable[[Sequence[str | bytes | dict[str, Any]]], Path]


@pytest.fixture
def write_lines(tmp_path: Path) -> WriteLines:
    """Write lines (dicts are JSON-encoded, str/bytes written as they are) to a JSONL file."""
    counter = iter(range(1_000_000))

    def write(lines: Sequence[str | bytes | dict[str, Any]]) -> Path:
        path = tmp_path / f"data{next(counter)}.jsonl"
        with path.open("wb") as fh:
            for line in lines:
                if isinstance(line, dict):
                    fh.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                elif isinstance(line, str):
                    fh.write(line.encode("utf-8") + b"\n")
                else:
                    fh.write(line + b"\n")
        return path

    return write


@pytest.fixture
def good_lines() -> list[dict[str, Any]]:
    """Ten distinct valid chat examples."""
    return [good_example(i) for i in range(10)]


@pytest.fixture(autouse=True)
def _lifecycle_warnings_forgotten() -> Any:
    """Each test starts as a fresh process would: no lifecycle code warned about yet."""
    from finetune_kit import lifecycle

    lifecycle._WARNED.clear()
    yield
    lifecycle._WARNED.clear()


def run_json(*args: str, code: int = 0) -> dict[str, Any]:
    """Run ``finetune-kit ARGS --format json``, check its exit code, return the parsed JSON."""
    from typer.testing import CliRunner

    import finetune_kit.cli  # noqa: F401  (registers every command)
    from finetune_kit.cli._common import app

    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data
