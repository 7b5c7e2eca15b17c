"""`finetune-kit compare`: the terminal table, the JSON contract, -o, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import finetune_kit.cli  # noqa: F401  (registers the commands)
from conftest import run_json
from finetune_kit import Dataset
from finetune_kit.cli._common import app
from finetune_kit.move import DEFAULT_TARGETS

runner = CliRunner()

ROW_LABELS = (
    "rank",
    "total, 3 month(s)",
    "errors / warnings",
    "findings by code",
    "examples counted",
    "billed tokens / epoch",
    "trainable tokens / epoch",
    "length limit (truncated)",
    "epochs",
    "training tokens",
    "training price",
    "training cost",
    "input price",
    "output price",
    "usage per 1,000 requests",
    "usage per month",
    "hosting price",
    "hosting per month",
    "training available until",
    "model shutdown",
)
# what `estimate --format json` and `compare --format json` both report per target
SHARED = (
    "base_model",
    "n_examples",
    "n_skipped",
    "billed_tokens_per_epoch",
    "n_epochs",
    "training_tokens",
    "training_cost",
    "token_limit",
    "n_truncated",
    "chat_format",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = Dataset.sample().to_jsonl(tmp_path_factory.mktemp("cli") / "train.jsonl")
    return path


def test_compare_prints_every_column_for_each_provider(sample: Path) -> None:
    result = runner.invoke(app, ["compare", str(sample)], env={"COLUMNS": "220"}, color=False)
    assert result.exit_code == 0, result.output
    for label in ROW_LABELS:
        assert label in result.output, label
    for title in ("OpenAI", "Azure OpenAI", "Together AI", "Fireworks AI"):
        assert title in result.output
    assert "$1.70/h · 2026-09-21" in result.output  # Azure's hosting, with its date
    assert "? unconfirmed" in result.output and "source of" in result.output
    assert "[bom_missing]" in result.output  # the worst finding, with its line
    assert "line 1" in result.output


def test_compare_figures_equal_estimate_for_each_target(sample: Path) -> None:
    data = run_json("compare", str(sample))
    assert {f"{t['provider']}:{t['model']}" for t in data["targets"]} == set(DEFAULT_TARGETS)
    for target in data["targets"]:
        alone = run_json(
            "estimate",
            str(sample),
            "--provider",
            target["provider"],
            "-m",
            target["model"],
            code=1 if target["errors"] else 0,
        )
        for key in SHARED:
            assert target[key] == alone[key], (target["provider"], key)
        training = next(p for p in target["prices"] if p["what"] == "training")
        assert (training["amount"], training["as_of"]) == (
            alone["price_per_1m"],
            alone["prices_as_of"],
        )
        assert target["errors"] == len(alone["errors"])
        assert target["warnings"] == len(alone["warnings"])


def test_seed_prices_per_1k_give_the_seed_usage_figures(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    data = run_json(
        "compare",
        str(sample),
        "--to",
        "openai:gpt-4.1-mini",
        "--to",
        "together:openai/gpt-oss-20b",
        "--input-tokens",
        "4000",
        "--output-tokens",
        "4000",
        "--requests-per-day",
        "1000",
        "--input-price-per-1k",
        "0.012",
        "--output-price-per-1k",
        "0.016",
        "--months",
        "2",
        "-o",
        str(out),
    )
    for target in data["targets"]:
        assert (target["cost_per_1k_requests"], target["usage_per_month"]) == (112, 3360)
    assert data["months"] == 2
    assert json.loads(out.read_text("utf-8")) == data


def test_bad_target_is_a_usage_error_naming_the_fix(sample: Path) -> None:
    result = runner.invoke(app, ["compare", str(sample), "--to", "gpt-4o-mini"])
    assert result.exit_code == 2
    assert "PROVIDER:MODEL" in result.output and "together:openai/gpt-oss-20b" in result.output
    missing = runner.invoke(app, ["compare", str(sample.with_name("nope.jsonl"))])
    assert missing.exit_code == 2 and "file not found" in missing.output
