"""The examples in docs/testing.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from finetune_kit.testing import FaultPlan

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[tuple[str, str]]:
    return [
        (attrs.strip(), body)
        for lang, attrs, body in BLOCK.findall(DOC.read_text(encoding="utf-8"))
        if lang == language
    ]


SCRIPTS = [body for attrs, body in blocks("python") if "title=" not in attrs]
TEST_FILES = [(attrs, body) for attrs, body in blocks("python") if "title=" in attrs]


@pytest.mark.parametrize("code", SCRIPTS, ids=[f"example-{i}" for i in range(len(SCRIPTS))])
def test_python_example_runs(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_example"})


def test_json_fault_plan_example_is_valid() -> None:
    (plan_text,) = [body for _, body in blocks("json")]

    plan = FaultPlan.from_json(plan_text)

    assert [f.kind for f in plan.faults] == [
        "status",
        "status",
        "latency",
        "drop_before",
        "drop_after",
    ]


def test_pytest_example_passes_with_the_plugin(pytester: pytest.Pytester) -> None:
    ((attrs, body),) = TEST_FILES
    name = re.search(r'title="([^"]+)\.py"', attrs)
    assert name is not None
    pytester.makepyfile(**{name.group(1): body})

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=3)
