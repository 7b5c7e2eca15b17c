from __future__ import annotations

import pickle

import numpy as np
import pytest

from finetune_kit.dedupe import (
    ExactIndex,
    NearConfig,
    NearIndex,
    example_shingles,
    example_signature,
    group_near,
    index,
)
from finetune_kit.dedupe.index import estimated_similarity, group_exact


def sig(text: str, config: NearConfig | None = None) -> np.ndarray:
    s = example_signature({"messages": [{"role": "user", "content": text}]}, config or NearConfig())
    assert s is not None
    return s


BASE = (
    "my order number four two seven arrived broken and the box was open when the courier "
    "left it at the door so i would like a replacement sent as soon as possible please"
)


def test_estimated_similarity_is_one_for_equal_signatures() -> None:
    a = (sig(BASE) & 0xFF).astype(np.uint8)
    assert estimated_similarity(a, a[None, :])[0] == 1.0


def test_estimated_similarity_tracks_the_true_jaccard() -> None:
    other = " ".join([*BASE.split()[:-4], "thanks", "a", "lot", "friend"])
    config = NearConfig()
    sa, sb = (
        example_shingles({"messages": [{"role": "user", "content": t}]}, config)
        for t in (BASE, other)
    )
    true = len(sa & sb) / len(sa | sb)
    a = (sig(BASE) & 0xFF).astype(np.uint8)
    b = (sig(other) & 0xFF).astype(np.uint8)
    assert abs(float(estimated_similarity(a, b[None, :])[0]) - true) < 0.15


def test_state_survives_pickling_and_merges_with_line_offsets() -> None:
    config = NearConfig()
    first, second = NearIndex(config), NearIndex(config)
    first.add(1, sig(BASE), 10, 1.0)
    first.n_lines = 3
    second.add(2, sig(BASE + " thanks"), 11, 1.0)
    second.n_lines = 2
    second = pickle.loads(pickle.dumps(second))
    first.merge(second, line_offset=first.n_lines)
    assert first.columns().lines.tolist() == [1, 5]
    assert first.n_lines == 5
    groups, _, _ = group_near(first, None, "first")
    assert [g.lines for g in groups] == [(1, 5)]


def test_states_with_other_settings_do_not_merge() -> None:
    with pytest.raises(ValueError, match="different settings"):
        NearIndex(NearConfig()).merge(NearIndex(NearConfig(threshold=0.9)))


def test_many_identical_copies_are_one_class_without_comparisons() -> None:
    index = NearIndex(NearConfig())
    s = sig(BASE)
    for line in range(1, 5001):
        index.add(line, s, 10, 1.0)
    groups, _, work = group_near(index, None, "first")
    assert len(groups) == 1 and len(groups[0].lines) == 5000
    assert work.candidate_pairs == 0


def test_keep_policies_pick_longest_or_heaviest_first_on_ties() -> None:
    index = NearIndex(NearConfig())
    s = sig(BASE)
    index.add(1, s, 10, 1.0)
    index.add(2, s, 30, 1.0)
    index.add(3, s, 30, 2.0)
    assert group_near(index, None, "first")[0][0].kept == 1
    assert group_near(index, None, "longest")[0][0].kept == 2
    assert group_near(index, None, "weight")[0][0].kept == 3


def test_leaks_name_the_most_similar_training_line() -> None:
    train, val = NearIndex(NearConfig()), NearIndex(NearConfig())
    train.add(1, sig(BASE + " thanks a lot"), 10, 1.0)
    train.add(2, sig(BASE), 10, 1.0)
    val.add(1, sig(BASE), 10, 1.0)
    val.add(2, sig("something else entirely about a refund for shoes"), 10, 1.0)
    _, leaks, _ = group_near(train, val, "first")
    assert [(x.line, x.validation_line, x.similarity) for x in leaks] == [(2, 1, 1.0)]


def test_validation_examples_do_not_bridge_training_groups() -> None:
    words = BASE.split()
    half = len(words) // 2
    left = " ".join(words[:half] + ["alpha"] * 3)
    right = " ".join(["omega"] * 3 + words[half:])
    cfg = NearConfig(threshold=0.4, bands=64)  # two rows per band: a pair at 0.4 is found
    train, val = NearIndex(cfg), NearIndex(cfg)
    train.add(1, sig(left, cfg), 10, 1.0)
    train.add(2, sig(right, cfg), 10, 1.0)
    val.add(1, sig(BASE, cfg), 10, 1.0)
    groups, leaks, _ = group_near(train, val, "first")
    assert groups == []
    assert len(leaks) == 1  # the validation example is near both, and reported once


def test_empty_states_group_to_nothing() -> None:
    assert group_near(NearIndex(NearConfig()), NearIndex(NearConfig()), "first")[:2] == ([], [])
    assert group_exact(ExactIndex(), ExactIndex())[:2] == ([], [])


def test_exact_groups_and_leaks_by_digest() -> None:
    train, val = ExactIndex(), ExactIndex()
    for line, d in enumerate([b"a" * 12, b"b" * 12, b"a" * 12], 1):
        train.add(line, d)
    val.add(1, b"b" * 12)
    val.add(2, b"c" * 12)
    val = pickle.loads(pickle.dumps(val))
    groups, leaks, _ = group_exact(train, val)
    assert [(g.lines, g.kept) for g in groups] == [((1, 3), 1)]
    assert [(x.line, x.validation_line) for x in leaks] == [(2, 1)]


def test_exact_leaks_before_after_and_between_training_digests() -> None:
    train, val = ExactIndex(), ExactIndex()
    for line, d in enumerate([b"m" * 12, b"f" * 12, b"m" * 12, b"t" * 12], 1):
        train.add(line, d)
    for line, d in enumerate([b"z" * 12, b"m" * 12, b"a" * 12, b"t" * 12, b"g" * 12], 1):
        val.add(line, d)
    groups, leaks, _ = group_exact(train, val)
    assert [(g.lines, g.kept) for g in groups] == [((1, 3), 1)]
    assert [(x.line, x.validation_line) for x in leaks] == [(1, 2), (4, 4)]
    assert group_exact(ExactIndex(), val)[:2] == ([], [])


def test_give_back_trims_with_glibc_and_is_a_no_op_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    index._malloc_trim.cache_clear()
    monkeypatch.setattr(index.ctypes, "CDLL", lambda name: _FakeLibc(calls))
    assert index._give_back() is True
    assert calls == [0]
    index._malloc_trim.cache_clear()

    def no_libc(name: str) -> None:
        raise OSError("no C library")

    monkeypatch.setattr(index.ctypes, "CDLL", no_libc)
    assert index._give_back() is False
    index._malloc_trim.cache_clear()


class _FakeLibc:
    def __init__(self, calls: list[int]) -> None:
        self.calls = calls

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(pad)
        return 1


def test_a_large_bucket_compares_with_its_first_members_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from finetune_kit.dedupe import index as index_module

    index = NearIndex(NearConfig())
    for i in range(12):  # twelve distinct near-copies: buckets of up to twelve classes
        index.add(i + 1, sig(f"{BASE} and thanks number {i}"), 10, 1.0)
    _, _, unbounded = group_near(index, None, "first")
    monkeypatch.setattr(index_module, "MAX_BUCKET", 4)
    groups, _, work = group_near(index, None, "first")
    assert work.large_buckets >= 1 and unbounded.large_buckets == 0
    assert work.candidate_pairs < unbounded.candidate_pairs
    assert [g.lines for g in groups] == [tuple(range(1, 13))]


def test_a_pickled_state_holds_its_rows_once_and_groups_the_same() -> None:
    index = NearIndex(NearConfig())
    for line in range(1, 3001):  # more than one block of rows, some still pending
        index.add(line, sig(BASE if line % 1000 == 0 else f"{BASE} {line}"), 10, 1.0)
    copy = pickle.loads(pickle.dumps(index))
    assert len(copy) == len(index) == 3000
    assert copy.columns().lines.tolist() == list(range(1, 3001))
    assert group_near(copy, None, "first")[0] == group_near(index, None, "first")[0]
