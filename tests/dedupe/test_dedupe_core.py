from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteLines, good_example
from dedupe_corpus import Corpus, make_corpus
from finetune_kit import CostEstimator, Dataset, validate
from finetune_kit.dedupe import (
    DedupeReport,
    NearConfig,
    dedupe_file,
    find_duplicates,
    near_findings,
    with_near_findings,
)
from finetune_kit.dedupe import core as dedupe_core
from finetune_kit.errors import ConfigError, DataError

MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return make_corpus(600, seed=0)


@pytest.fixture(scope="module")
def found(corpus: Corpus) -> DedupeReport:
    return find_duplicates(corpus.train, near=True, validation=corpus.validation)


def reported_pairs(report: DedupeReport) -> set[tuple[int, int]]:
    return {p for g in report.groups for p in itertools.combinations(g.lines, 2)}


def test_planted_near_copies_are_recalled(corpus: Corpus, found: DedupeReport) -> None:
    planted = corpus.planted_pairs()
    recall = len(reported_pairs(found) & planted) / len(planted)
    assert len(planted) > 250
    assert recall >= 0.95


def test_reported_pairs_are_precise(corpus: Corpus, found: DedupeReport) -> None:
    reported = reported_pairs(found)
    precision = len(reported & corpus.planted_pairs()) / len(reported)
    assert precision >= 0.95


def test_every_kind_of_planted_copy_is_found(corpus: Corpus, found: DedupeReport) -> None:
    grouped = {line for g in found.groups for line in g.lines}
    for variant in ("case_whitespace", "typos", "appended_sentence", "greeting"):
        lines = [n for n, v in corpus.variants.items() if v == variant]
        assert sum(n in grouped for n in lines) / len(lines) >= 0.9, variant


def test_no_hard_negative_is_grouped(corpus: Corpus, found: DedupeReport) -> None:
    group_of = {line: i for i, g in enumerate(found.groups) for line in g.lines}
    assert len(corpus.negatives) > 50
    for original, negative in corpus.negatives:
        assert group_of.get(original, -1) != group_of.get(negative, -2)


def test_leaks_are_recalled_precisely_with_both_lines(corpus: Corpus, found: DedupeReport) -> None:
    planted_val = {v for _, v in corpus.leaks}
    correct = {
        x.validation_line for x in found.leaks if (x.line, x.validation_line) in corpus.leaks
    }
    assert len(correct) / len(planted_val) >= 0.95
    assert len(correct) / len(found.leaks) >= 0.95
    flagged = {(x.line, x.validation_line) for x in found.leaks}
    assert not flagged & corpus.validation_negatives


def test_stats_count_examples_in_and_out(corpus: Corpus, found: DedupeReport) -> None:
    st = found.stats
    assert st["examples_in"] == len(corpus.train)
    assert st["examples_out"] == len(corpus.train) - len(found.dropped_lines)
    assert st["n_groups"] == len(found.groups) and st["n_leaks"] == len(found.leaks)
    assert st["mode"] == "near" and st["threshold"] == 0.8


def test_system_prompt_alone_does_not_make_examples_alike() -> None:
    system = " ".join(f"rule{i}" for i in range(200))
    rows = [
        {
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": f"question {i} about item {i * 7}"},
                {"role": "assistant", "content": f"answer {i} with value {i * 13}"},
            ]
        }
        for i in range(30)
    ]
    assert find_duplicates(rows, near=True).groups == []
    assert len(find_duplicates(rows, near=True, config=NearConfig(system=True)).groups) == 1


def test_exact_mode_uses_the_validation_engine_digest(write_lines: WriteLines) -> None:
    rows = [good_example(i) for i in range(10)] + [good_example(3), good_example(3)]
    path = write_lines(rows)
    report = find_duplicates(path)
    assert [g.to_dict() for g in report.groups] == [
        {"lines": [4, 11, 12], "kept": 4, "similarity": 1.0}
    ]
    engine = [f.line for f in validate(path).findings if f.code == "duplicate_example"]
    assert sorted(report.dropped_lines) == engine


def test_parallel_ranges_give_the_same_report_as_one_pass(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in corpus.train), encoding="utf-8")
    one = find_duplicates(path, near=True, jobs=1)
    monkeypatch.setattr(dedupe_core, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(dedupe_core, "_CHUNK_BYTES", 64 * 1024)
    many = find_duplicates(path, near=True, jobs=2)
    assert many.groups == one.groups
    assert many.stats["examples_in"] == one.stats["examples_in"]
    exact_one, exact_many = find_duplicates(path, jobs=1), find_duplicates(path, jobs=2)
    assert exact_one.groups == exact_many.groups


def test_savings_equal_estimate_before_minus_after(tmp_path: Path) -> None:
    src = tmp_path / "train.jsonl"
    small = make_corpus(120, seed=3)
    src.write_text("".join(json.dumps(e) + "\n" for e in small.train), encoding="utf-8")
    out = tmp_path / "kept.jsonl"
    report = dedupe_file(src, out, near=True, model=MODEL)
    est = CostEstimator()
    before = est.estimate_training(src, MODEL, method=None)
    after = est.estimate_training(out, MODEL, method=None)
    s = report.savings
    assert s is not None
    assert (
        s.tokens_saved_per_epoch == before.billed_tokens_per_epoch - after.billed_tokens_per_epoch
    )
    assert s.tokens_saved_per_job == before.training_tokens - after.training_tokens
    assert s.dollars_saved_per_job == before.training_cost - after.training_cost
    assert s.tokens_saved_per_epoch > 0
    stats = report.to_dict()["stats"]
    assert stats["tokens_saved_per_job"] == s.tokens_saved_per_job
    assert stats["dollars_saved_per_job"] == pytest.approx(float(s.dollars_saved_per_job), abs=1e-6)
    # without an output file the kept examples are priced straight from the input
    unwritten = dedupe_file(src, near=True, model=MODEL)
    assert unwritten.savings is not None
    assert unwritten.savings.tokens_saved_per_job == s.tokens_saved_per_job


def test_output_keeps_every_other_line_in_order_byte_for_byte(write_lines: WriteLines) -> None:
    rows: list[Any] = [good_example(i) for i in range(10)]
    path = write_lines(
        [*rows, "not json", rows[2], '{"messages": [{"role": "user", "content": "é"}]}']
    )
    out = path.with_name("kept.jsonl")
    report = dedupe_file(path, out)
    original = path.read_bytes().split(b"\n")
    assert report.dropped_lines == {12}
    assert out.read_bytes().split(b"\n") == original[:11] + original[12:]


def test_output_refuses_to_overwrite_the_input(write_lines: WriteLines) -> None:
    path = write_lines([good_example(0)])
    with pytest.raises(DataError, match="overwrite"):
        dedupe_file(path, path)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        find_duplicates(tmp_path / "nope.jsonl", near=True)


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        find_duplicates([], keep="biggest")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="near=True"):
        find_duplicates([], threshold=0.5)
    with pytest.raises(ConfigError):
        find_duplicates([], jobs=0)


def test_lines_that_are_not_examples_are_counted_not_grouped(write_lines: WriteLines) -> None:
    path = write_lines(["oops", "[1, 2]", good_example(1), {"messages": []}])
    report = find_duplicates(path, near=True)
    assert report.stats["n_lines"] == 4 and report.stats["examples_in"] == 2
    assert report.stats["examples_without_text"] == 1
    assert report.groups == []


def test_near_findings_are_warnings_on_dropped_and_leaking_lines(
    corpus: Corpus, found: DedupeReport
) -> None:
    findings = near_findings(found)
    near = [f for f in findings if f.code == "near_duplicate"]
    leaks = [f for f in findings if f.code == "validation_leak"]
    assert {f.line for f in near} == found.dropped_lines
    assert {f.line for f in leaks} == {x.line for x in found.leaks}
    assert all(f.severity.value == "warning" for f in findings)


def test_with_near_findings_skips_lines_already_exact_duplicates(write_lines: WriteLines) -> None:
    rows: list[Any] = [good_example(i) for i in range(10)]
    shouted = json.loads(json.dumps(rows[1]))
    shouted["messages"][1]["content"] = shouted["messages"][1]["content"].upper()
    path = write_lines([*rows, rows[0], shouted])
    combined = with_near_findings(validate(path), find_duplicates(path, near=True))
    codes = {(f.line, f.code) for f in combined.findings if f.line in (11, 12)}
    assert codes == {(11, "duplicate_example"), (12, "near_duplicate")}
    assert combined.stats["n_near_duplicates"] == 1


def test_dataset_dedupe_near_returns_kept_dataset_and_report(corpus: Corpus) -> None:
    ds = Dataset.from_records(corpus.train)
    kept, report = ds.dedupe(near=True, validation=Dataset.from_records(corpus.validation))
    assert len(kept) == len(ds) - len(report.dropped_lines)
    assert report.leaks
    assert "<table>" in report._repr_html_()
    exact_kept, exact = (ds + ds[:5]).dedupe()
    assert len(exact_kept) == len(ds) and len(exact.groups) == 5
