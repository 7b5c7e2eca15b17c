"""Properties of near-duplicate grouping that hold for any data (hypothesis)."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe_corpus import make_corpus
from finetune_kit.dedupe import DedupeReport, NearConfig, example_words, find_duplicates

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80
)


def _chat(user: str, assistant: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    }


def _groups_as_contents(report: DedupeReport, rows: list[dict[str, Any]]) -> list[list[str]]:
    """Each group as the sorted JSON texts of its members (independent of line numbers)."""
    return sorted(
        sorted(json.dumps(rows[line - 1], sort_keys=True) for line in g.lines)
        for g in report.groups
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    others=st.lists(st.tuples(_TEXT, _TEXT), max_size=8),
    pair=st.tuples(_TEXT, _TEXT),
    at=st.integers(min_value=0),
    near=st.booleans(),
)
def test_an_example_and_its_exact_copy_are_always_grouped(
    others: list[tuple[str, str]], pair: tuple[str, str], at: int, near: bool
) -> None:
    rows = [_chat(u, a) for u, a in others]
    example = _chat(*pair)
    i = at % (len(rows) + 1)
    rows.insert(i, example)
    rows.append(json.loads(json.dumps(example)))
    report = find_duplicates(rows, near=near)
    first, copy = i + 1, len(rows)
    if near and not example_words(example, NearConfig()):
        return  # nothing to compare (only punctuation): near mode cannot group it
    assert any(first in g.lines and copy in g.lines for g in report.groups)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), shuffle=st.randoms(use_true_random=False))
def test_shuffling_the_file_changes_no_group(seed: int, shuffle: random.Random) -> None:
    rows = make_corpus(40, seed=seed).train
    shuffled = list(rows)
    shuffle.shuffle(shuffled)
    before = _groups_as_contents(find_duplicates(rows, near=True), rows)
    after = _groups_as_contents(find_duplicates(shuffled, near=True), shuffled)
    assert before == after
