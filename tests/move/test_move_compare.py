"""compare: one read of the file, each target's figures as `estimate` makes them, plus usage,
hosting, lifecycle and totals."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

import finetune_kit.move.compare as compare_module
from finetune_kit import ConfigError, CostEstimator, Dataset, TrainingEstimate, compare
from finetune_kit.lifecycle import LIFECYCLE_CODES
from finetune_kit.move import DEFAULT_TARGETS, Target

SEED = {"input_tokens": 4000, "output_tokens": 4000, "requests_per_day": 1000}
# everything an estimate says, except the token list (same counts) and trainable tokens, which
# `estimate` leaves empty for OpenAI models and `compare` fills in
_SAME = [
    f.name
    for f in fields(TrainingEstimate)
    if f.name not in ("token_counts", "trainable_tokens_per_epoch", "source")
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample (the demo's 50 examples) as a JSONL file."""
    path: Path = Dataset.sample().to_jsonl(tmp_path_factory.mktemp("sample") / "train.jsonl")
    return path


@pytest.fixture(scope="module")
def result(sample: Path) -> compare_module.Comparison:
    return compare(sample)


def test_default_targets_cover_openai_azure_together_and_fireworks(
    result: compare_module.Comparison,
) -> None:
    assert {r.target.provider for r in result.rows} == {"openai", "azure", "together", "fireworks"}
    assert {str(r.target) for r in result.rows} == set(DEFAULT_TARGETS)


def test_each_target_has_the_figures_of_its_single_provider_estimate(
    result: compare_module.Comparison, sample: Path
) -> None:
    for row in result.rows:
        alone = CostEstimator(provider=row.target.provider).estimate_training(
            sample, row.target.model, method=None
        )
        for name in _SAME:
            assert getattr(row.estimate, name) == getattr(alone, name), (row.target, name)
        assert list(row.estimate.token_counts) == list(alone.token_counts)
        if alone.trainable_tokens_per_epoch is not None:  # open models: estimate counts them too
            assert row.estimate.trainable_tokens_per_epoch == alone.trainable_tokens_per_epoch
        else:  # OpenAI models: compare adds them; they are part of the billed tokens
            trainable = row.estimate.trainable_tokens_per_epoch
            assert trainable is not None and 0 < trainable < alone.billed_tokens_per_epoch


def test_each_provider_prices_with_its_own_epochs_limits_and_dates(
    result: compare_module.Comparison,
) -> None:
    by = {r.target.provider: r for r in result.rows}
    assert by["openai"].estimate.n_epochs == 3  # OpenAI's rule for 50 examples
    assert by["azure"].estimate.n_epochs == 3 and by["azure"].epochs_status == "unconfirmed"
    assert by["together"].estimate.n_epochs == 1 and by["together"].epochs_status == "confirmed"
    assert by["fireworks"].estimate.n_epochs == 1 and by["fireworks"].epochs_status == "unconfirmed"
    # Together trains at its own length, not gpt-oss-20b's 131,072-token context
    assert by["together"].estimate.token_limit == 16_384
    assert by["together"].limit_status == "unconfirmed"
    assert by["openai"].estimate.token_limit == 65_536 and by["openai"].limit_status == "confirmed"
    assert (by["openai"].training_available_until, by["openai"].shutdown_date) == (
        compare_module.dt.date(2027, 1, 6),
        compare_module.dt.date(2027, 1, 14),
    )
    assert (str(by["azure"].training_available_until), str(by["azure"].shutdown_date)) == (
        "2027-04-14",
        "2027-10-14",
    )
    assert by["together"].training_available_until is None and by["together"].shutdown_date is None
    # Azure bills hosting by the hour: $1.70 x 24 h x 30 days
    assert by["azure"].hosting_per_month == Decimal("1224.00")
    assert by["openai"].hosting_per_month == 0
    assert by["azure"].price("hosting").as_of is not None


def test_openai_wind_down_findings_only_on_openai_targets(
    result: compare_module.Comparison,
) -> None:
    for row in result.rows:
        codes = set(row.finding_counts)
        if row.target.provider == "openai":
            assert {"training_access_restricted", "model_shutdown_scheduled"} <= codes
        else:
            assert not codes & LIFECYCLE_CODES, row.target
    azure = next(r for r in result.rows if r.target.provider == "azure")
    assert azure.finding_counts == {"bom_missing": 1}
    assert azure.worst[0].code == "bom_missing" and azure.worst[0].line == 1


def test_unconfirmed_and_unknown_prices_are_marked_and_totals_sorted(
    result: compare_module.Comparison,
) -> None:
    by = {r.target.provider: r for r in result.rows}
    azure_training = by["azure"].price("training")
    assert azure_training.status == "unconfirmed" and azure_training.amount == Decimal(5)
    assert "?" in azure_training.cell() and "2025-04-14" in azure_training.cell()
    assert by["fireworks"].price("training").status == "unconfirmed"
    assert by["openai"].price("training").status == "confirmed"
    assert by["together"].price("input").status == "unknown"
    assert by["together"].usage is None and not by["together"].complete
    assert "inference price" in by["together"].missing
    complete = [r for r in result.rows if r.complete]
    assert [r.target.provider for r in complete] == ["openai", "azure"]
    assert result.rows[: len(complete)] == tuple(complete)  # complete totals come first
    totals = [r.total for r in complete]
    assert totals == sorted(totals)
    openai = by["openai"]
    expected = openai.estimate.training_cost + 3 * openai.usage_per_month  # type: ignore[operator]
    assert openai.total == expected


def test_every_price_carries_its_as_of_date_and_source(result: compare_module.Comparison) -> None:
    for row in result.rows:
        for point in row.prices:
            assert point.source
            if point.amount is not None and point.status != "given":
                assert point.as_of is not None, (row.target, point.what)
            assert "FACTS" not in point.source and "../shared" not in point.source


def test_seed_scenario_comes_out_of_the_usage_columns(sample: Path) -> None:
    given = compare(
        sample,
        [
            "openai:gpt-4o-mini",
            "together:openai/gpt-oss-20b",
            "fireworks:accounts/fireworks/models/gpt-oss-20b",
        ],
        **SEED,
        input_per_1m=Decimal("0.012") * 1000,
        output_per_1m=Decimal("0.016") * 1000,
    )
    for row in given.rows:
        assert row.usage is not None
        assert row.usage.daily_cost == 112 and row.cost_per_1k_requests == 112
        assert row.usage_per_month == 3360
        assert row.price("input").status == "given"
    # the seed's own prices, from the table as it was in 2023 (gpt-3.5-turbo's launch entry)
    old = compare(sample, ["openai:gpt-3.5-turbo"], **SEED, prices_as_of="2023-09-01")
    (row,) = old.rows
    assert (row.cost_per_1k_requests, row.usage_per_month) == (112, 3360)
    assert (
        str(row.price("input").as_of) == "2023-08-22" and "$0.012/1K" in row.price("input").source
    )


def test_the_file_is_read_and_parsed_once(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = compare_module.iter_jsonl

    def counting(path: object, *args: object, **kwargs: object) -> object:
        calls.append(str(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compare_module, "iter_jsonl", counting)
    monkeypatch.setattr("finetune_kit.cost.estimator.iter_jsonl", counting)
    monkeypatch.setattr("finetune_kit.reading.iter_jsonl", counting)
    assert len(compare(sample).rows) == 4
    assert calls == [str(sample)]


def test_json_dataframe_and_html_hold_every_target(result: compare_module.Comparison) -> None:
    data = json.loads(result.to_json())
    assert data == json.loads(json.dumps(result.to_dict()))
    assert [t["provider"] for t in data["targets"]] == [r.target.provider for r in result.rows]
    first = data["targets"][0]
    for key in (
        "finding_counts",
        "billed_tokens_per_epoch",
        "trainable_tokens_per_epoch",
        "n_epochs",
        "training_cost",
        "cost_per_1k_requests",
        "usage_per_month",
        "hosting_per_month",
        "training_available_until",
        "shutdown_date",
        "total",
        "prices",
    ):
        assert key in first
    frame = result.to_dataframe()
    assert list(frame["model"]) == [r.target.model for r in result.rows]
    assert {"training_price_as_of", "hosting_price_status", "total"} <= set(frame.columns)
    html = result._repr_html_()
    assert all(r.target.model in html for r in result.rows)
    assert "unconfirmed" in html and "training available until" in html


def test_in_memory_examples_compare_like_the_file(sample: Path) -> None:
    rows = Dataset.sample().to_records()
    memory = compare(rows, ["together:openai/gpt-oss-20b"])
    disk = compare(sample, ["together:openai/gpt-oss-20b"])
    assert memory.rows[0].estimate.billed_tokens_per_epoch == (
        disk.rows[0].estimate.billed_tokens_per_epoch
    )
    assert memory.source is None and disk.source == str(sample)


def test_bad_targets_and_horizons_say_how_to_fix_them(sample: Path) -> None:
    with pytest.raises(ConfigError, match="PROVIDER:MODEL") as exc:
        Target.parse("gpt-4o-mini")
    assert exc.value.hint and "together:openai/gpt-oss-20b" in exc.value.hint
    with pytest.raises(ConfigError, match="unknown provider 'mistral'"):
        compare(sample, ["mistral:open-mistral-7b"])
    with pytest.raises(ConfigError, match="months"):
        compare(sample, months=0)
    assert Target.parse("openai:ft:gpt-4o-mini-2024-07-18:org::abc").model == (
        "ft:gpt-4o-mini-2024-07-18:org::abc"
    )
