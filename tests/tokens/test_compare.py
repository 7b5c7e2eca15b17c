"""One dataset, several models' chat formats, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_kit import Dataset
from finetune_kit.errors import ConfigError
from finetune_kit.tokens.compare import compare_tokens
from finetune_kit.tokens.registry import tokenizer_for_model

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["gpt-4o-mini-2024-07-18", "openai/gpt-oss-20b"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.jsonl"
    Dataset.sample().to_jsonl(path)
    return path


def test_each_row_sums_its_models_counts(sample: Path) -> None:
    table = compare_tokens(sample, MODELS)
    examples = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines()]
    for row, model in zip(table.rows, MODELS, strict=True):
        tok = tokenizer_for_model(model)
        counts = [tok.count_example(ex) for ex in examples]
        assert row.n_examples == 50
        assert row.billed_tokens == sum(c.billed for c in counts)
        assert row.trainable_tokens == sum(c.trainable for c in counts)
        assert row.longest == max(c.billed for c in counts)
        assert row.n_truncated == 0


def test_short_max_length_counts_truncated_examples(sample: Path) -> None:
    table = compare_tokens(sample, MODELS, max_length=80)
    by_model = {r.model: r for r in table.rows}
    assert (
        by_model["openai/gpt-oss-20b"].n_truncated == 50
    )  # the harmony system message alone is ~50
    assert 0 < by_model["gpt-4o-mini-2024-07-18"].n_truncated < 50


def test_docs_page_shows_the_current_table(sample: Path) -> None:
    page = (ROOT / "docs" / "tokens.md").read_text(encoding="utf-8")
    assert compare_tokens(sample, MODELS).to_markdown() in page


def test_lines_that_are_not_examples_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                "not json",
                json.dumps([1]),
                json.dumps({"prompt": "p", "completion": "c"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    table = compare_tokens(path, ["gpt-4o-mini"])
    assert table.rows[0].n_examples == 1
    assert table.n_skipped == 3


def test_dataframe_and_json_have_one_row_per_model(sample: Path) -> None:
    table = compare_tokens(sample, MODELS)
    frame = table.to_dataframe()
    assert list(frame.index) == MODELS
    assert frame.loc["openai/gpt-oss-20b", "chat_format"] == "harmony"
    data = table.to_dict()
    assert [m["model"] for m in data["models"]] == MODELS
    assert 0 < data["models"][1]["trainable_share"] < 1


def test_typed_examples_and_dicts_are_accepted() -> None:
    ds = Dataset.sample()
    from_typed = compare_tokens(list(ds)[:5], ["gpt-4o-mini"])
    from_dicts = compare_tokens([e.to_dict() for e in list(ds)[:5]], ["gpt-4o-mini"])
    assert from_typed.rows == from_dicts.rows


def test_no_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        compare_tokens([], [])
