"""The planted-bug audit (scripts/planted_bugs.py) still fits the code it plants bugs in."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("planted_bugs", ROOT / "scripts" / "planted_bugs.py")
assert _spec is not None and _spec.loader is not None
planted = importlib.util.module_from_spec(_spec)
sys.modules["planted_bugs"] = planted
_spec.loader.exec_module(planted)


@pytest.mark.parametrize("name", sorted(planted.BUGS))
def test_each_bug_can_still_be_planted_and_names_existing_tests(name: str) -> None:
    bug = planted.BUGS[name]
    source = (ROOT / bug.path).read_text(encoding="utf-8")
    assert source.count(bug.old) == 1, f"{name}: {bug.old!r} must occur once in {bug.path}"
    assert bug.new != bug.old
    for test in bug.tests:
        file, _, function = test.partition("::")
        text = (ROOT / file).read_text(encoding="utf-8")
        assert f"def {function.split('[')[0]}(" in text, f"{name}: no {test}"
