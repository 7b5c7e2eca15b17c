from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from finetune_kit.catalog.prices import PriceTable, base_model_name, to_decimal
from finetune_kit.errors import ConfigError, UnknownModelError

CURRENT = {
    # model: (training, input, cached input, output) in USD per 1M tokens
    "gpt-3.5-turbo": ("8", "3", None, "6"),
    "davinci-002": ("6", "12", None, "12"),
    "babbage-002": ("0.40", "1.60", None, "1.60"),
    "gpt-4o-mini-2024-07-18": ("3", "0.30", "0.15", "1.20"),
    "gpt-4o-2024-08-06": ("25", "3.75", "1.875", "15"),
    "gpt-4.1-2025-04-14": ("25", "3", "0.75", "12"),
    "gpt-4.1-mini-2025-04-14": ("5", "0.80", "0.20", "3.20"),
    "gpt-4.1-nano-2025-04-14": ("1.50", "0.20", "0.05", "0.80"),
}


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load(as_of="2026-11-01")


@pytest.mark.parametrize("model", sorted(CURRENT))
def test_current_list_prices(table: PriceTable, model: str) -> None:
    p = table.get(model)
    expected = tuple(None if v is None else Decimal(v) for v in CURRENT[model])
    assert (p.training_per_1m, p.input_per_1m, p.cached_input_per_1m, p.output_per_1m) == expected
    assert p.currency == "USD"


def test_launch_day_gpt35_prices_come_out_of_2023(table: PriceTable) -> None:
    launch = table.as_of("2023-09-01").get("gpt-3.5-turbo")
    assert launch.model == "gpt-3.5-turbo-0613"
    assert launch.as_of == dt.date(2023, 8, 22)
    assert launch.per_1k("training") == Decimal("0.008")
    assert launch.per_1k("input") == Decimal("0.012")
    assert launch.per_1k("output") == Decimal("0.016")
    assert launch.example_token_limit == 4_096
    assert "2023-08-22" in launch.source


def test_history_is_kept_oldest_first(table: PriceTable) -> None:
    history = table.history("gpt-3.5-turbo-0613")
    assert [h.as_of for h in history] == sorted(h.as_of for h in history)
    assert [h.input_per_1m for h in history] == [Decimal(12), Decimal(3)]
    assert table.as_of("2023-11-06").get("gpt-3.5-turbo-0613").input_per_1m == Decimal(3)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
        ("gpt-4.1", "gpt-4.1-2025-04-14"),
        ("ft:gpt-4o-mini-2024-07-18:org::abc", "gpt-4o-mini-2024-07-18"),
        ("ft:gpt-3.5-turbo-0125:org:suffix:id:ckpt-step-10", "gpt-3.5-turbo-0125"),
        ("  gpt-4o  ", "gpt-4o-2024-08-06"),
    ],
)
def test_aliases_and_fine_tuned_names_resolve(table: PriceTable, name: str, canonical: str) -> None:
    assert table.resolve(name) == canonical
    assert table.get(name).model == canonical
    assert name in table


def test_base_model_name() -> None:
    assert base_model_name("ft:gpt-4o-mini-2024-07-18:org::abc") == "gpt-4o-mini-2024-07-18"
    assert base_model_name("gpt-4o") == "gpt-4o"


@pytest.mark.parametrize(
    ("model", "limit"),
    [
        ("gpt-3.5-turbo-0613", 4_096),
        ("gpt-3.5-turbo-1106", 16_385),
        ("gpt-3.5-turbo-0125", 16_385),
        ("gpt-4o-2024-08-06", 65_536),
        ("gpt-4o-mini-2024-07-18", 65_536),
        ("gpt-4.1-2025-04-14", 65_536),
        ("gpt-4.1-nano-2025-04-14", 32_768),
    ],
)
def test_per_example_limits(table: PriceTable, model: str, limit: int) -> None:
    assert table.get(model).example_token_limit == limit


def test_unknown_model_lists_close_matches(table: PriceTable) -> None:
    with pytest.raises(UnknownModelError) as info:
        table.get("gpt-4o-mni")
    assert info.value.suggestions[0] == "gpt-4o-mini"
    assert "did you mean" in str(info.value)


def test_model_not_yet_priced_on_the_date_says_when_it_was(table: PriceTable) -> None:
    with pytest.raises(UnknownModelError, match="first priced 2024-08-20"):
        table.as_of("2023-09-01").get("gpt-4o")
    assert "gpt-4o-2024-08-06" not in table.as_of("2023-09-01").models()


def test_override_changes_only_the_given_figures(table: PriceTable) -> None:
    cheaper = table.with_override("gpt-4o-mini", training_per_1m=2.5, output_per_1m="1")
    p = cheaper.get("gpt-4o-mini-2024-07-18")
    assert p.training_per_1m == Decimal("2.5")
    assert p.output_per_1m == Decimal(1)
    assert p.input_per_1m == Decimal("0.30")
    assert p.overridden and "overridden" in p.source
    assert table.get("gpt-4o-mini").training_per_1m == Decimal(3)  # the original is untouched
    assert cheaper.as_of("2025-01-01").get("gpt-4o-mini").training_per_1m == Decimal("2.5")


def test_override_can_add_a_model(table: PriceTable) -> None:
    added = table.with_override("my-new-model", training_per_1m=1, example_token_limit=1000)
    p = added.get("my-new-model")
    assert (p.training_per_1m, p.example_token_limit, p.input_per_1m) == (Decimal(1), 1000, None)
    assert "my-new-model" in added.models()


def test_bad_override_is_a_config_error(table: PriceTable) -> None:
    with pytest.raises(ConfigError):
        table.with_override("gpt-4o-mini", training_per_1m=-1)
    with pytest.raises(ConfigError):
        table.with_override("gpt-4o-mini", training_per_1m="cheap")


def test_prices_are_exact_decimals() -> None:
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")
    assert PriceTable.load().get("babbage-002").training_per_1m == Decimal("0.40")


def test_every_bundled_entry_has_a_date_and_a_source() -> None:
    raw = json.loads(
        resources.files("finetune_kit").joinpath("data/prices.json").read_text("utf-8")
    )
    for name, spec in raw["models"].items():
        assert spec["prices"], name
        assert spec.get("example_token_limit_source"), name
        for entry in spec["prices"]:
            dt.date.fromisoformat(entry["as_of"])
            assert entry["source"].strip(), name
    for name, history in raw["aliases"].items():
        for entry in history:
            dt.date.fromisoformat(entry["as_of"])
            assert entry["target"] in raw["models"], name
            assert entry["source"].strip(), name


def test_table_to_dict_is_json_ready(table: PriceTable) -> None:
    data = json.loads(json.dumps(table.to_dict()))
    assert data["as_of"] == "2026-11-01"
    assert data["aliases"]["gpt-4o-mini"] == "gpt-4o-mini-2024-07-18"
    row = next(m for m in data["models"] if m["model"] == "gpt-4o-2024-08-06")
    assert row["cached_input_per_1m"] == 1.875 and row["training_per_1m"] == 25
    assert "<table>" in table._repr_html_()


def test_load_your_own_table(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "models": {
                    "m-1": {
                        "example_token_limit": 100,
                        "prices": [{"as_of": "2024-01-01", "training_per_1m": 2, "source": "me"}],
                    }
                }
            }
        )
    )
    assert PriceTable.load(path).get("m-1").training_per_1m == Decimal(2)
    path.write_text('{"models": {"m-1": {}}}')
    with pytest.raises(ConfigError, match="malformed"):
        PriceTable.load(path)
    with pytest.raises(ConfigError):
        PriceTable.load(tmp_path / "missing.json")


def test_bad_date_is_a_config_error(table: PriceTable) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        table.as_of("last year")
