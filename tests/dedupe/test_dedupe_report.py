from __future__ import annotations

import json

from rich.console import Console

from finetune_kit.dedupe import DedupeReport, DuplicateGroup, ValidationLeak, find_duplicates


def report() -> DedupeReport:
    return DedupeReport(
        groups=[DuplicateGroup((2, 5, 9), 5, 0.91)],
        leaks=[ValidationLeak(2, 7, 0.88)],
        stats={"examples_in": 10, "examples_out": 8, "mode": "near"},
        validation_source="val.jsonl",
    )


def test_group_lists_dropped_lines() -> None:
    g = DuplicateGroup((2, 5, 9), 5, 0.91)
    assert g.dropped == (2, 9)
    assert report().dropped_lines == {2, 9}


def test_json_contract() -> None:
    data = json.loads(report().to_json())
    assert data["groups"] == [{"lines": [2, 5, 9], "kept": 5, "similarity": 0.91}]
    assert data["leaks"] == [{"line": 2, "validation_line": 7, "similarity": 0.88}]
    assert data["stats"]["examples_out"] == 8


def test_summary_rich_and_html_name_the_counts() -> None:
    r = report()
    assert (
        r.summary() == "10 examples in, 8 out: 1 group(s) of near duplicates, 1 validation leak(s)"
    )
    console = Console(record=True, width=120)
    console.print(r)
    text = console.export_text()
    assert "Duplicate groups" in text and "Leaks" in text and "2, 9" in text
    html = r._repr_html_()
    assert "<table>" in html and "2, 9" in html
    assert repr(r).startswith("<DedupeReport 10 examples in")


def test_savings_show_before_and_after() -> None:
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(12)
    ]
    r = find_duplicates(rows + rows[:3], model="gpt-4o-mini-2024-07-18")
    assert r.savings is not None
    assert r.savings.before.n_examples == 15 and r.savings.after.n_examples == 12
    assert "saves" in r.summary()
    pricing = r.to_dict()["stats"]["pricing"]
    assert (
        pricing["training_tokens_before"] - pricing["training_tokens_after"]
        == (pricing["tokens_saved_per_job"])
    )
    assert "saved" in r._repr_html_()
