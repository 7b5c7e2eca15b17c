from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import finetune_kit.cli.cost  # noqa: F401  (registers the commands)
from conftest import WriteLines, good_example, run_json
from finetune_kit.cli._common import app
from finetune_kit.lifecycle import LIFECYCLE_CODES

runner = CliRunner()

FINDING_KEYS = {"line", "code", "severity", "message", "hint", "field"}


def test_estimate_json_contract(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    data = run_json("estimate", str(path), "--model", "gpt-4o-mini")
    required = {
        "n_examples",
        "billed_tokens_per_epoch",
        "n_epochs",
        "training_tokens",
        "training_cost",
        "currency",
        "token_stats",
        "n_truncated",
        "errors",
        "warnings",
    }
    assert required <= set(data)
    assert data["n_examples"] == 10 and data["n_epochs"] == 10
    assert data["training_tokens"] == data["billed_tokens_per_epoch"] * 10
    assert data["training_cost"] == pytest.approx(data["training_tokens"] * 3 / 1_000_000)
    assert set(data["token_stats"]) == {"min", "max", "mean", "median", "p5", "p95"}
    data_warnings = [w for w in data["warnings"] if w["code"] not in LIFECYCLE_CODES]
    assert (data["errors"], data_warnings, data["currency"]) == ([], [], "USD")


def test_estimate_with_errors_exits_1_and_still_counts(write_lines: WriteLines) -> None:
    path = write_lines([*[good_example(i) for i in range(10)], "oops", good_example(3)])
    data = run_json("estimate", str(path), "-m", "gpt-4o-mini", code=1)
    assert data["n_examples"] == 11
    assert [(e["line"], e["code"]) for e in data["errors"]] == [(11, "invalid_json")]
    data_warnings = [w for w in data["warnings"] if w["code"] not in LIFECYCLE_CODES]
    assert [(w["line"], w["code"]) for w in data_warnings] == [(12, "duplicate_example")]
    for entry in data["errors"] + data["warnings"]:
        assert set(entry) == FINDING_KEYS
    text = runner.invoke(app, ["estimate", str(path), "-m", "gpt-4o-mini"])
    assert text.exit_code == 1
    assert "invalid_json" in text.stdout and "NOT OK" in text.stdout


def test_estimate_text_output(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    result = runner.invoke(app, ["estimate", str(path), "-m", "gpt-4o-mini", "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert "Training estimate" in result.stdout
    assert "OK: 10 examples" in result.stdout and "x 2 epochs" in result.stdout


def test_estimate_price_override_and_history(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    data = run_json("estimate", str(path), "-m", "gpt-4o-mini", "--price-per-1m", "8", "-j", "1")
    assert data["price_per_1m"] == 8 and data["price_per_1k"] == 0.008
    per_1k = run_json("estimate", str(path), "-m", "gpt-4o-mini", "--price-per-1k", "0.008")
    assert per_1k["price_per_1m"] == 8 and per_1k["training_cost"] == data["training_cost"]
    old = run_json("estimate", str(path), "-m", "gpt-3.5-turbo", "--prices-as-of", "2023-09-01")
    assert (old["base_model"], old["token_limit"], old["prices_as_of"]) == (
        "gpt-3.5-turbo-0613",
        4096,
        "2023-08-22",  # the price entry in force on 2023-09-01
    )


def test_estimate_dpo_method(write_lines: WriteLines) -> None:
    pref = {
        "input": {"messages": [{"role": "user", "content": "Hail?"}]},
        "preferred_output": [{"role": "assistant", "content": "Well met."}],
        "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
    }
    rows = [
        {**pref, "input": {"messages": [{"role": "user", "content": f"Q{i}"}]}} for i in range(10)
    ]
    path = write_lines(rows)
    data = run_json("estimate", str(path), "-m", "gpt-4.1-mini", "--method", "dpo")
    assert data["method"] == "dpo" and data["n_examples"] == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", "missing.jsonl", "-m", "gpt-4o-mini"], "file not found"),
        (["estimate", "{good}", "-m", "gpt-4o-mni"], "did you mean 'gpt-4o-mini'"),
        (["estimate", "{good}", "-m", "gpt-4o", "--prices-as-of", "yesterday"], "YYYY-MM-DD"),
        (["estimate", "{good}", "-m", "gpt-4o", "--price-per-1k", "x"], "per 1K"),
        (["estimate", "{good}", "-m", "gpt-4o", "--price-per-1m", "x"], "per 1M"),
        (
            ["estimate", "{good}", "-m", "gpt-4o", "--price-per-1m", "8", "--price-per-1k", "1"],
            "not both",
        ),
        (
            ["usage", "--input-tokens", "1", "--output-tokens", "1", "--requests-per-day", "1"],
            "--model",
        ),
        (["prices", "--as-of", "2023-13-45"], "YYYY-MM-DD"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_2(
    args: list[str], message: str, write_lines: WriteLines, tmp_path: Path
) -> None:
    good = write_lines([good_example(i) for i in range(10)])
    args = [
        a.replace("{good}", str(good)).replace("missing.jsonl", str(tmp_path / "m.jsonl"))
        for a in args
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("tokens", "rpd", "daily", "period"),
    [("4000", "1000", 112.0, 3360.0), ("2000", "500", 28.0, 840.0)],
)
def test_usage_scenarios_of_the_tutorial(
    tokens: str, rpd: str, daily: float, period: float
) -> None:
    base = ["usage", "--input-tokens", tokens, "--output-tokens", tokens, "--requests-per-day", rpd]
    explicit = run_json(*base, "--input-price-per-1m", "12", "--output-price-per-1m", "16")
    dated = run_json(*base, "--model", "gpt-3.5-turbo", "--prices-as-of", "2023-09-01")
    for data in (explicit, dated):
        assert (data["daily_cost"], data["period_cost"], data["days"]) == (daily, period, 30)
        assert {"cost_per_request", "daily_cost", "period_cost", "days"} <= set(data)
    text = runner.invoke(
        app, [*base, "--input-price-per-1k", "0.012", "--output-price-per-1k", "0.016"]
    )
    assert text.exit_code == 0
    assert f"${daily:,.2f}" in text.stdout and f"${period:,.2f}" in text.stdout


def test_usage_with_a_model_and_days() -> None:
    data = run_json(
        "usage",
        "--model",
        "gpt-4o-mini",
        "--input-tokens",
        "1000000",
        "--output-tokens",
        "0",
        "--requests-per-day",
        "1",
        "--days",
        "7",
    )
    assert (data["cost_per_request"], data["period_cost"], data["days"]) == (0.3, 2.1, 7)


def test_prices_lists_the_table_with_its_date() -> None:
    data = run_json("prices", "--as-of", "2023-09-01")
    assert data["as_of"] == "2023-09-01"
    rows = {m["model"]: m for m in data["models"]}
    assert rows["gpt-3.5-turbo-0613"]["input_per_1m"] == 12
    assert "gpt-4o-2024-08-06" not in rows
    assert all(m["source"] for m in data["models"])
    now = runner.invoke(app, ["prices"])
    assert now.exit_code == 0
    assert "as of" in now.stdout and "gpt-4o-mini-2024-07-18" in now.stdout


def test_estimate_pii_option(write_lines: WriteLines) -> None:
    rows = [good_example(i) for i in range(10)]
    rows[4]["messages"][1]["content"] = "Write to jane.doe@example.com, prithee."
    path = write_lines(rows)
    warn = run_json("estimate", str(path), "-m", "gpt-4o-mini", "--pii", "warn")
    off = run_json("estimate", str(path), "-m", "gpt-4o-mini")  # pricing does not scan by default
    assert [(w["line"], w["code"]) for w in warn["warnings"] if w["code"].startswith("pii")] == [
        (5, "pii_email")
    ]
    assert not [w for w in off["warnings"] if w["code"].startswith("pii")]
    assert off["training_tokens"] == warn["training_tokens"]
    refused = runner.invoke(app, ["estimate", str(path), "-m", "gpt-4o-mini", "--pii", "error"])
    assert refused.exit_code == 1


def test_estimate_open_model_reports_trainable_tokens(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    data = run_json(
        "estimate", str(path), "--model", "openai/gpt-oss-20b", "--price-per-1m", "0.40"
    )
    assert data["chat_format"] == "harmony"
    assert 0 < data["trainable_tokens_per_epoch"] < data["billed_tokens_per_epoch"]
    assert data["n_truncated"] == 0 and data["token_limit"] == 131_072
    assert data["training_cost"] == pytest.approx(data["training_tokens"] * 0.40 / 1e6)


def test_estimate_open_model_without_price_leaves_cost_empty(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    data = run_json("estimate", str(path), "--model", "openai/gpt-oss-20b")
    assert data["training_cost"] is None
    assert "--price-per-1m" in data["price_source"]
