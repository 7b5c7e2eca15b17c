from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import finetune_kit.cost.estimator as cost
from conftest import WriteLines, good_example
from finetune_kit.cost.estimator import CostEstimator, default_epochs
from finetune_kit.errors import ConfigError, DataError, UnknownModelError
from finetune_kit.tokens.counting import Tokenizer
from finetune_kit.validation.engine import validate


def cookbook_epochs(n: int) -> int:
    epochs = 3
    if n * 3 < 100:
        epochs = min(25, 100 // n)
    elif n * 3 > 25_000:
        epochs = max(1, 25_000 // n)
    return epochs


@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (1, 25),
        (9, 11),
        (10, 10),
        (33, 3),
        (34, 3),
        (100, 3),
        (8_333, 3),
        (8_334, 2),
        (25_000, 1),
        (100_000, 1),
    ],
)
def test_default_epochs_at_the_boundaries(n: int, epochs: int) -> None:
    assert default_epochs(n) == epochs == cookbook_epochs(n)


def test_default_epochs_of_nothing_is_the_target() -> None:
    assert default_epochs(0) == 3


@pytest.mark.parametrize(
    ("tokens", "rpd", "daily", "period"),
    [(4_000, 1_000, Decimal(112), Decimal(3_360)), (2_000, 500, Decimal(28), Decimal(840))],
)
def test_the_tutorials_usage_scenarios(
    tokens: int, rpd: int, daily: Decimal, period: Decimal
) -> None:
    # $0.012 / 1K input and $0.016 / 1K output, given per 1M
    explicit = CostEstimator().estimate_usage(
        tokens, tokens, rpd, input_per_1m=12, output_per_1m=16
    )
    from_table = CostEstimator(as_of="2023-09-01").estimate_usage(
        tokens, tokens, rpd, model="gpt-3.5-turbo"
    )
    for est in (explicit, from_table):
        assert (est.daily_cost, est.period_cost, est.days) == (daily, period, 30)
        assert est.to_dict()["daily_cost"] == float(daily)
        assert est.to_dict()["period_cost"] == float(period)
    assert from_table.model == "gpt-3.5-turbo-0613"


def test_usage_with_cached_input_and_explicit_prices_winning() -> None:
    est = CostEstimator().estimate_usage(
        1_000_000, 1_000_000, 1, 1, "gpt-4o-mini", cached_input_tokens=400_000, output_per_1m=2
    )
    # 600K fresh x 0.30 + 400K cached x 0.15 + 1M out x 2 (overridden) = 0.18 + 0.06 + 2
    assert est.cost_per_request == Decimal("2.24")
    assert est.to_dict()["cost_per_request"] == 2.24
    assert "$2.24" in est._repr_html_()


def test_usage_needs_prices() -> None:
    with pytest.raises(ConfigError, match="no inference price"):
        CostEstimator().estimate_usage(1, 1, 1, input_per_1m=1)
    with pytest.raises(ConfigError):
        CostEstimator().estimate_usage(-1, 1, 1, model="gpt-4o-mini")
    with pytest.raises(UnknownModelError):
        CostEstimator().estimate_usage(1, 1, 1, model="gpt-9")


def test_usage_checks_name_the_bad_argument() -> None:
    usage = CostEstimator().estimate_usage
    for args, kwargs, message in [
        ((-1, 1, 1), {}, "input_tokens must be >= 0, not -1"),
        ((1, -2, 1), {}, "output_tokens must be >= 0, not -2"),
        ((1, 1, -3), {}, "requests_per_day must be >= 0, not -3"),
        ((5, 1, 1), {"cached_input_tokens": -4}, "cached_input_tokens must be >= 0, not -4"),
        ((1, 1, 1, 0), {}, "days must be at least 1, not 0"),
        ((5, 1, 1), {"cached_input_tokens": 6}, "cached_input_tokens cannot exceed input_tokens"),
    ]:
        with pytest.raises(ConfigError) as info:
            usage(*args, input_per_1m=1, output_per_1m=1, **kwargs)
        assert info.value.message == message
    with pytest.raises(ConfigError) as info:
        usage(1, 1, 1, output_per_1m=1)
    assert info.value.message == (
        "no inference price: give a model from the price table or both the input and output prices"
    )
    assert (
        info.value.hint == "CLI: --model MODEL, or --input-price-per-1k and --output-price-per-1k"
    )
    est = usage(0, 0, 0, days=1, input_per_1m=1, output_per_1m=1)  # zero is allowed
    assert (est.cost_per_request, est.period_cost) == (0, 0)


def test_usage_prices_cached_input_at_its_own_price_or_the_input_price() -> None:
    usage = CostEstimator().estimate_usage
    est = usage(1_000_000, 0, 2, 3, input_per_1m=4, output_per_1m=9, cached_input_per_1m=1)
    assert (est.cached_input_tokens, est.cached_input_per_1m) == (0, None)
    assert (est.cost_per_request, est.daily_cost, est.period_cost) == (4, 8, 24)
    cached = usage(
        1_000_000,
        0,
        1,
        input_per_1m=4,
        output_per_1m=9,
        cached_input_tokens=250_000,
        cached_input_per_1m=1,
    )
    assert cached.cost_per_request == Decimal(3) + Decimal("0.25")
    assert (cached.cached_input_tokens, cached.cached_input_per_1m) == (250_000, 1)
    no_cached_price = usage(
        1_000_000, 0, 1, input_per_1m=4, output_per_1m=9, cached_input_tokens=250_000
    )
    assert no_cached_price.cost_per_request == 4  # billed at the input price
    assert no_cached_price.cached_input_per_1m == 4
    table = usage(1_000_000, 0, 1, model="gpt-4o-mini", cached_input_tokens=1_000_000)
    assert table.cost_per_request == table.cached_input_per_1m == Decimal("0.15")
    assert (table.model, table.currency, table.output_tokens) == (
        "gpt-4o-mini-2024-07-18",
        "USD",
        0,
    )
    assert table.prices_as_of is not None and est.prices_as_of is None


def test_tutorial_training_figure_is_cents_not_hundreds(write_lines: WriteLines) -> None:
    # the seed's price, $0.008 / 1K training tokens: the tutorial said $800 for 100K tokens
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator().estimate_training(path, "gpt-3.5-turbo", n_epochs=1, lifecycle=False)
    assert est.price_per_1m == Decimal(8)
    assert est.training_cost == Decimal(est.training_tokens) * Decimal("0.008") / 1000
    assert est.training_cost / est.training_tokens * 100_000 == Decimal("0.8")  # $0.80


def test_default_epochs_count_only_the_examples_that_are_counted(write_lines: WriteLines) -> None:
    lines: list[Any] = [good_example(i) for i in range(11)]
    lines.append({"messages": [{"role": "user", "content": "no answer"}]})  # skipped
    est = CostEstimator().estimate_training(write_lines(lines), "gpt-4o-mini", lifecycle=False)
    assert (est.n_examples, est.n_skipped) == (11, 1)
    assert est.n_epochs == 9 == default_epochs(11)  # 100 // 11; 100 // 12 would be 8
    assert est.training_tokens == est.billed_tokens_per_epoch * 9


def test_training_estimate_prices_capped_tokens_times_epochs(write_lines: WriteLines) -> None:
    examples = [good_example(i) for i in range(20)]
    for i, ex in enumerate(examples):
        ex["messages"][2]["content"] += " forsooth" * i
    path = write_lines(examples)
    tok = Tokenizer.for_model("gpt-4o-mini")
    counts = [tok.count_raw(ex) for ex in examples]
    limit = sorted(counts)[10]  # about half the examples are over it
    est = CostEstimator().estimate_training(path, "gpt-4o-mini", token_limit=limit, lifecycle=False)
    assert est.base_model == "gpt-4o-mini-2024-07-18"
    assert list(est.token_counts) == counts
    assert est.billed_tokens_per_epoch == sum(min(c, limit) for c in counts)
    assert est.total_tokens_per_epoch == sum(counts)
    assert est.n_truncated == sum(c > limit for c in counts)
    assert est.n_epochs == 5 and est.epochs_from_default  # 20 examples -> 100 // 20
    assert est.training_tokens == est.billed_tokens_per_epoch * 5
    assert est.training_cost == Decimal(est.training_tokens) * Decimal(3) / Decimal(1_000_000)
    assert {f.code for f in est.warnings} == {"example_too_long"}
    assert est.ok


def test_token_stats_are_true_percentiles(write_lines: WriteLines) -> None:
    examples = [good_example(i) for i in range(37)]
    for i, ex in enumerate(examples):
        ex["messages"][2]["content"] += " verily" * (i * 7 % 23)
    est = CostEstimator().estimate_training(write_lines(examples), "gpt-4o-mini")
    counts = np.array(est.token_counts)
    for key, q in (("p5", 5), ("median", 50), ("p95", 95)):
        assert est.token_stats[key] == pytest.approx(np.percentile(counts, q))
    assert est.token_stats["min"] == counts.min() and est.token_stats["max"] == counts.max()
    assert est.token_stats["mean"] == pytest.approx(counts.mean(), abs=0.01)


def test_errors_are_reported_and_the_rest_is_counted(write_lines: WriteLines) -> None:
    lines: list[Any] = [good_example(i) for i in range(12)]
    lines[3] = "not json"
    lines[7] = {"messages": [{"role": "user", "content": "no answer"}]}
    est = CostEstimator().estimate_training(write_lines(lines), "gpt-4o-mini", n_epochs=2)
    assert [(f.line, f.code) for f in est.errors] == [
        (4, "invalid_json"),
        (8, "missing_assistant_message"),
    ]
    assert (est.n_examples, est.n_skipped, est.n_epochs) == (10, 1, 2)
    assert not est.ok


def test_in_memory_examples_and_typed_examples() -> None:
    from finetune_kit.schema import Example

    dicts = [good_example(i) for i in range(10)]
    typed = [Example.model_validate(d) for d in dicts]
    a = CostEstimator().estimate_training(dicts, "gpt-4o-mini")
    b = CostEstimator().estimate_training(typed, "gpt-4o-mini")
    assert a.to_dict() == b.to_dict()
    assert a.source is None and a.n_examples == 10
    dup = CostEstimator().estimate_training([*dicts, dicts[0]], "gpt-4o-mini", lifecycle=False)
    assert [(f.line, f.code) for f in dup.warnings] == [(11, "duplicate_example")]


def test_preference_data_with_dpo(write_lines: WriteLines) -> None:
    pref = [
        {
            "input": {"messages": [{"role": "user", "content": f"Question {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": "A fine answer, good sir."}],
            "non_preferred_output": [{"role": "assistant", "content": "Dunno."}],
        }
        for i in range(10)
    ]
    path = write_lines(pref)
    est = CostEstimator().estimate_training(path, "gpt-4.1-mini", method="dpo")
    assert est.ok and est.method == "dpo" and est.n_examples == 10
    assert est.price_per_1m == Decimal(5)
    with pytest.raises(ConfigError, match="does not support dpo"):
        CostEstimator().estimate_training(path, "gpt-4o-mini", method="dpo")
    wrong = CostEstimator().estimate_training(path, "gpt-4.1-mini")  # supervised by default
    assert {f.code for f in wrong.errors} == {"wrong_format_for_method"}


def test_overrides_and_historical_prices(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator().estimate_training(path, "gpt-4o-mini", training_per_1m="1.5")
    assert est.price_per_1m == Decimal("1.5") and "overridden" in est.price_source
    old = CostEstimator(as_of="2023-09-01").estimate_training(path, "gpt-3.5-turbo")
    assert (old.base_model, old.price_per_1m, old.token_limit) == ("gpt-3.5-turbo-0613", 8, 4096)


def test_bad_arguments(write_lines: WriteLines, tmp_path: Path) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    with pytest.raises(ConfigError):
        CostEstimator().estimate_training(path, "gpt-4o-mini", n_epochs=0)
    with pytest.raises(ConfigError):
        CostEstimator().estimate_training(path, "gpt-4o-mini", jobs=0)
    with pytest.raises(UnknownModelError):
        CostEstimator().estimate_training(path, "gpt-4o-mni")
    with pytest.raises(DataError, match="file not found"):
        CostEstimator().estimate_training(tmp_path / "missing.jsonl", "gpt-4o-mini")


def test_estimate_renders_for_notebooks_and_terminals(write_lines: WriteLines) -> None:
    est = CostEstimator().estimate_training(
        write_lines([good_example(i) for i in range(10)]), "gpt-4o-mini"
    )
    assert "training cost" in est._repr_html_()
    buf = io.StringIO()
    Console(file=buf, width=100).print(est)
    assert "billed tokens per epoch" in buf.getvalue()
    data = json.loads(json.dumps(est.to_dict()))
    assert {"n_examples", "billed_tokens_per_epoch", "n_epochs", "training_tokens"} <= set(data)
    assert isinstance(data["training_cost"], float) and data["currency"] == "USD"


# -- parallel == serial ------------------------------------------------------------------------


def _messy_dataset() -> list[Any]:
    """Errors and duplicates spread over the whole file (and so over many byte ranges)."""
    lines: list[Any] = [good_example(i) for i in range(240)]
    for i in range(5, 240, 37):
        lines[i] = "{broken json"
    for i in range(11, 240, 53):
        lines[i] = {"messages": [{"role": "user", "content": f"alone {i}"}]}
    lines[20] = ""
    lines[60] = good_example(1)  # duplicate of line 2, in another range
    lines[150] = good_example(1)  # ... and again further on
    lines[151] = good_example(1)  # ... twice in the same range
    lines[200] = good_example(100)  # duplicate of line 101
    lines[180] = lines[181] = good_example(300)  # first seen in a later range, twice in it
    lines[230] = good_example(230)
    lines[230]["messages"][2]["content"] = "long " * 400  # over the token limit below
    lines.append("[1, 2]")
    return lines


@pytest.fixture
def many_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cost, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(cost, "_CHUNK_BYTES", 2048)


@pytest.mark.usefixtures("many_ranges")
def test_parallel_scan_keeps_first_line_bom_rules_to_the_first_range(
    write_lines: WriteLines,
) -> None:
    from finetune_kit.validation.engine import Validator

    bom = b"\xef\xbb\xbf"
    lines: list[Any] = [bom + json.dumps(good_example(0)).encode()]
    lines += [good_example(i) for i in range(1, 120)]
    lines[70] = bom + json.dumps(good_example(70)).encode()  # a BOM inside the file
    path = write_lines(lines)
    estimator = CostEstimator(validator=Validator(pii="off", profile="azure"))
    serial = estimator.estimate_training(path, "gpt-4o-mini", jobs=1, lifecycle=False)
    parallel = estimator.estimate_training(path, "gpt-4o-mini", jobs=2, lifecycle=False)
    assert [(f.line, f.code) for f in serial.findings] == [(71, "bom")]
    assert parallel.findings == serial.findings


@pytest.mark.usefixtures("many_ranges")
def test_parallel_scan_equals_serial_scan(
    write_lines: WriteLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(_messy_dataset())
    merged: list[int] = []
    real_merge = cost._merge

    def spy(results: Any) -> Any:
        results = list(results)
        merged.append(len(results))
        return real_merge(results)

    monkeypatch.setattr(cost, "_merge", spy)
    serial = CostEstimator().estimate_training(
        path, "gpt-4o-mini", token_limit=300, jobs=1, lifecycle=False
    )
    assert merged == []
    parallel = CostEstimator().estimate_training(
        path, "gpt-4o-mini", token_limit=300, jobs=2, lifecycle=False
    )
    assert merged and merged[0] >= 8  # many byte ranges went through the process pool
    assert parallel.to_dict() == serial.to_dict()
    assert list(parallel.token_counts) == list(serial.token_counts)
    assert parallel.findings == serial.findings
    # and both equal the plain validator's report
    report = validate(path, model="gpt-4o-mini", token_limit=300)
    assert list(serial.findings) == report.findings
    assert serial.stats == report.stats
    dups = [(f.line, f.message) for f in serial.findings if f.code == "duplicate_example"]
    assert dups == [
        (61, "same example as line 2"),
        (151, "same example as line 2"),
        (152, "same example as line 2"),
        (182, "same example as line 181"),
        (201, "same example as line 101"),
    ]
    assert {f.code for f in serial.findings} >= {"invalid_json", "blank_line", "example_too_long"}


@pytest.mark.usefixtures("many_ranges")
def test_fast_path_and_fast_counter_give_the_one_process_reference_report(
    write_lines: WriteLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pool + plain fast path + bpe-openai == one process, every rule, tiktoken, canonical JSON."""
    from unittest import mock

    from finetune_kit.validation import engine

    lines = _messy_dataset()
    lines[40] = {"messages": [{"role": "user", "content": "Hi", "weight": 1}]}  # not plain
    lines[41] = {
        "messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": ""}]
    }
    lines[42] = {"messages": [{"role": "user", "content": "<|endoftext|>"}]}
    lines[43] = {
        "messages": [
            {"content": "Answer as Shakespeare would.", "role": "system"},
            *good_example(7)["messages"][1:],
        ]
    }
    lines[44] = dict(reversed(list(good_example(9).items())))
    lines[45] = {"tools": [], **good_example(3)}  # equal to line 4 but for `tools`: not plain
    lines[46] = "模型 " * 50
    path = write_lines(lines)
    monkeypatch.setattr(cost, "FAST_COUNT_MIN_BYTES", 0)
    fast = CostEstimator().estimate_training(
        path, "gpt-4o-mini", token_limit=300, jobs=2, lifecycle=False
    )
    monkeypatch.setattr(cost, "FAST_COUNT_MIN_BYTES", 1 << 62)
    with mock.patch.object(engine, "_plain_messages", lambda _obj: None):
        reference = CostEstimator().estimate_training(
            path, "gpt-4o-mini", token_limit=300, jobs=1, lifecycle=False
        )
    assert Tokenizer("o200k_base", fast=True).backend == "bpe-openai"
    assert fast.to_dict() == reference.to_dict()
    assert list(fast.token_counts) == list(reference.token_counts)
    assert fast.findings == reference.findings
    assert {"duplicate_example", "special_token", "empty_content"} <= {
        f.code for f in fast.findings
    }


@pytest.mark.usefixtures("many_ranges")
def test_parallel_reports_progress_and_detects_the_format(write_lines: WriteLines) -> None:
    path = write_lines(["oops", *[good_example(i) for i in range(200)]])
    seen: list[tuple[int, int]] = []
    est = CostEstimator().estimate_training(
        path, "gpt-4o-mini", method=None, jobs=2, progress=lambda d, t: seen.append((d, t))
    )
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert est.n_examples == 200 and est.method == "supervised"
    serial = CostEstimator().estimate_training(path, "gpt-4o-mini", method=None, jobs=1)
    assert est.to_dict() == serial.to_dict()


def test_serial_progress_ends_at_the_file_size(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    seen: list[tuple[int, int]] = []
    CostEstimator().estimate_training(
        path, "gpt-4o-mini", progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (path.stat().st_size,) * 2


# -- open-weight models: their own tokens, billed and trainable ----------------------------------


def test_open_model_counts_harmony_tokens_billed_and_trainable(write_lines: WriteLines) -> None:
    from finetune_kit.tokens.harmony import HarmonyTokenizer

    examples = [good_example(i) for i in range(12)]
    path = write_lines(examples)
    est = CostEstimator().estimate_training(path, "openai/gpt-oss-20b", n_epochs=2)
    tok = HarmonyTokenizer()
    counts = [tok.count_example(ex) for ex in examples]
    assert est.chat_format == "harmony"
    assert est.billed_tokens_per_epoch == sum(c.billed for c in counts)
    assert est.trainable_tokens_per_epoch == sum(c.trainable for c in counts)
    assert est.token_limit == 131_072 and est.n_truncated == 0
    assert est.training_tokens == 2 * est.billed_tokens_per_epoch
    # no price in the table for it: tokens yes, cost empty
    assert est.training_cost is None and est.price_per_1m is None
    data = est.to_dict()
    assert data["trainable_tokens_per_epoch"] == est.trainable_tokens_per_epoch
    assert data["training_cost"] is None
    assert "no price known" in est.summary()


def test_open_model_is_priced_with_a_given_price(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator().estimate_training(path, "gpt-oss-20b", n_epochs=3, training_per_1m="0.40")
    assert est.base_model == "openai/gpt-oss-20b"
    assert est.training_cost == Decimal(est.training_tokens) * Decimal("0.40") / 1_000_000


def test_open_model_truncation_caps_billed_and_trainable(write_lines: WriteLines) -> None:
    from finetune_kit.tokens.harmony import HarmonyTokenizer

    examples = [good_example(i) for i in range(10)]
    examples[3]["messages"][2]["content"] = "long " * 300
    path = write_lines(examples)
    est = CostEstimator().estimate_training(path, "openai/gpt-oss-20b", token_limit=200)
    tok = HarmonyTokenizer(max_length=200)
    counts = [tok.count_example(ex) for ex in examples]
    assert est.n_truncated == 1 == sum(c.truncated for c in counts)
    assert est.billed_tokens_per_epoch == sum(min(c.billed, 200) for c in counts)
    assert est.trainable_tokens_per_epoch == sum(c.kept_trainable for c in counts)
    assert [f.line for f in est.findings if f.code == "example_too_long"] == [4]


@pytest.mark.usefixtures("many_ranges")
def test_open_model_parallel_scan_equals_serial_scan(write_lines: WriteLines) -> None:
    path = write_lines(_messy_dataset())
    serial = CostEstimator().estimate_training(path, "openai/gpt-oss-20b", jobs=1)
    parallel = CostEstimator().estimate_training(path, "openai/gpt-oss-20b", jobs=2)
    assert parallel.to_dict() == serial.to_dict()
    assert serial.trainable_tokens_per_epoch is not None
    assert 0 < serial.trainable_tokens_per_epoch < serial.billed_tokens_per_epoch


def test_tokenizer_option_counts_with_a_local_hugging_face_tokenizer(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers

    tok = HFTokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(["<|user|>", "<|assistant|>", "<|system|>", "<|end|>"])
    tok.save(str(tmp_path / "tokenizer.json"))
    template = (
        "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": template}), encoding="utf-8"
    )
    examples = [good_example(i) for i in range(10)]
    path = write_lines(examples)
    est = CostEstimator().estimate_training(
        path, "my-org/my-model", tokenizer=tmp_path, training_per_1m=1
    )
    words = [
        sum(2 + len(m["content"].split()) for m in ex["messages"]) for ex in examples
    ]  # <|role|> + words (each unknown word is one [UNK]) + <|end|>
    assert est.chat_format == "hf"
    assert est.billed_tokens_per_epoch == sum(words)
    answers = [len(ex["messages"][2]["content"].split()) + 1 for ex in examples]
    assert est.trainable_tokens_per_epoch == sum(answers)  # words + <|end|>, not the header


def test_openai_models_keep_the_tiktoken_path(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator().estimate_training(path, "gpt-4o-mini")
    assert est.chat_format == "openai" and est.trainable_tokens_per_epoch is None
    assert est.billed_tokens_per_epoch == sum(
        Tokenizer.for_model("gpt-4o-mini").count_raw(good_example(i)) for i in range(10)
    )


def test_validate_counts_open_models_in_their_own_tokens(write_lines: WriteLines) -> None:
    examples = [good_example(i) for i in range(10)]
    examples[5]["messages"][2]["content"] = "long " * 300
    path = write_lines(examples)
    report = validate(path, model="openai/gpt-oss-20b", token_limit=200)
    assert [f.line for f in report.findings if f.code == "example_too_long"] == [6]


# -- the provider's own terms (CostEstimator(provider=...)) ------------------------------------


def test_prices_as_of_is_the_date_of_the_price_entry_used(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    now = CostEstimator().estimate_training(path, "gpt-4.1-mini", lifecycle=False)
    assert str(now.prices_as_of) == "2025-04-14"  # not today
    then = CostEstimator(as_of="2023-09-01").estimate_training(
        path, "gpt-3.5-turbo", lifecycle=False
    )
    assert str(then.prices_as_of) == "2023-08-22"
    usage = CostEstimator().estimate_usage(10, 10, 1, model="gpt-4o-mini")
    assert str(usage.prices_as_of) == "2024-10-01"
    together = CostEstimator(provider="together").estimate_training(path, "openai/gpt-oss-20b")
    assert str(together.prices_as_of) == "2026-09-11"


@pytest.mark.parametrize(
    ("provider", "model", "epochs", "note"),
    [
        ("openai", "gpt-4o-mini", 10, "default for this size"),  # OpenAI's rule for 10 examples
        ("azure", "gpt-4o-mini", 10, "default for this size"),
        ("together", "openai/gpt-oss-20b", 1, "Together AI's default"),
        ("fireworks", "accounts/fireworks/models/gpt-oss-20b", 1, "Fireworks AI's default"),
    ],
)
def test_default_epochs_are_the_providers_own(
    write_lines: WriteLines, provider: str, model: str, epochs: int, note: str
) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator(provider=provider).estimate_training(path, model, method=None)
    assert (est.n_epochs, est.epochs_from_default, est.epochs_note) == (epochs, True, note)
    assert est.training_tokens == est.billed_tokens_per_epoch * epochs
    assert est.provider == provider and est.to_dict()["epochs_note"] == note
    given = CostEstimator(provider=provider).estimate_training(path, model, n_epochs=2)
    assert given.n_epochs == 2 and given.to_dict()["epochs_note"] is None


def test_open_models_are_cut_at_the_providers_training_length(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    together = CostEstimator(provider="together")
    assert together.estimate_training(path, "openai/gpt-oss-20b").token_limit == 16_384
    dpo = together.estimate_training(path, "openai/gpt-oss-20b", method="dpo")
    assert (dpo.token_limit, dpo.price_per_1m) == (8192, Decimal("1.00"))
    fireworks = CostEstimator(provider="fireworks")
    est = fireworks.estimate_training(path, "accounts/fireworks/models/gpt-oss-20b")
    assert est.token_limit == 32_768
    # without a provider's length the model's own context applies
    assert CostEstimator().estimate_training(path, "openai/gpt-oss-20b").token_limit == 131_072


def test_openai_wind_down_findings_only_for_openai_jobs(write_lines: WriteLines) -> None:
    from finetune_kit.lifecycle import LIFECYCLE_CODES

    path = write_lines([good_example(i) for i in range(10)])
    openai = CostEstimator(as_of="2026-12-02").estimate_training(path, "gpt-4o-mini")
    assert {f.code for f in openai.findings} & LIFECYCLE_CODES
    azure = CostEstimator(provider="azure", as_of="2026-12-02").estimate_training(
        path, "gpt-4o-mini"
    )
    assert not {f.code for f in azure.findings} & LIFECYCLE_CODES


def test_a_missing_bom_on_azure_refuses_the_file_but_counts_every_example(
    write_lines: WriteLines,
) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    openai = CostEstimator().estimate_training(path, "gpt-4o-mini", lifecycle=False)
    azure = CostEstimator(provider="azure").estimate_training(path, "gpt-4o-mini")
    assert [f.code for f in azure.errors] == ["bom_missing"]
    assert (azure.n_examples, azure.n_skipped) == (10, 0)
    assert azure.billed_tokens_per_epoch == openai.billed_tokens_per_epoch


# -- arguments, prices and what an estimate says about itself ----------------------------------


def _price_table(tmp_path: Path, edit: Any) -> Any:
    """The bundled price table with ``edit(models)`` applied, loaded from a copy."""
    from finetune_kit.catalog.prices import PriceTable

    data = json.loads((Path(cost.__file__).parent.parent / "data" / "prices.json").read_text())
    edit(data["models"])
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    return PriceTable.load(path, as_of="2026-12-02")


def test_argument_bounds_are_inclusive_and_named(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator()
    top = est.estimate_training(path, "gpt-4o-mini", n_epochs=50, token_limit=1, lifecycle=False)
    assert (top.n_epochs, top.token_limit, top.billed_tokens_per_epoch) == (50, 1, 10)
    assert top.n_truncated == 10
    for kwargs, message in (
        ({"n_epochs": 51}, "n_epochs must be between 1 and 50, not 51"),
        ({"n_epochs": 0}, "n_epochs must be between 1 and 50, not 0"),
        ({"jobs": 0}, "jobs must be at least 1, not 0"),
        ({"token_limit": 0}, "token_limit must be at least 1, not 0"),
    ):
        with pytest.raises(ConfigError) as err:
            est.estimate_training(path, "gpt-4o-mini", **kwargs)
        assert str(err.value) == message


def test_an_unsupported_method_names_the_models_that_support_it(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    with pytest.raises(ConfigError) as err:
        CostEstimator().estimate_training(path, "gpt-4o-mini", method="dpo")
    assert err.value.hint == (
        "models that do: gpt-4.1-2025-04-14, gpt-4.1-mini-2025-04-14, gpt-4.1-nano-2025-04-14, "
        "gpt-4o-2024-08-06"
    )

    def no_dpo(models: dict[str, Any]) -> None:
        for row in models.values():
            row["methods"] = ["supervised"]

    est = CostEstimator(prices=_price_table(tmp_path, no_dpo))
    with pytest.raises(ConfigError) as err:
        est.estimate_training(path, "gpt-4.1-mini", method="dpo")
    assert err.value.hint == "models that do: none in the price table"


def test_a_model_without_a_training_price_asks_for_one(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    def unpriced(models: dict[str, Any]) -> None:
        for entry in models["gpt-4o-mini-2024-07-18"]["prices"]:
            entry["training_per_1m"] = None

    est = CostEstimator(prices=_price_table(tmp_path, unpriced))
    path = write_lines([good_example(i) for i in range(10)])
    with pytest.raises(ConfigError) as err:
        est.estimate_training(path, "gpt-4o-mini")
    assert str(err.value) == (
        "no training price for gpt-4o-mini-2024-07-18 on 2026-12-02"
        " (pass training_per_1m (CLI: --price-per-1m))"
    )
    assert err.value.hint == "pass training_per_1m (CLI: --price-per-1m)"
    given = est.estimate_training(path, "gpt-4o-mini", training_per_1m=2, lifecycle=False)
    assert given.training_cost == Decimal(given.training_tokens) * 2 / 1_000_000


def test_an_estimate_names_its_model_source_and_method(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    est = CostEstimator().estimate_training(path, "gpt-4o-mini", lifecycle=False)
    assert (est.model, est.source, est.method) == ("gpt-4o-mini", str(path), "supervised")
    assert est.to_dict()["source"] == str(path)
    # the method asked for is the method priced, whatever the file's format
    asked = CostEstimator().estimate_training(path, "gpt-4.1-mini", method="dpo", lifecycle=False)
    assert asked.method == "dpo" and {f.code for f in asked.errors} == {"wrong_format_for_method"}
    rows = [good_example(i) for i in range(10)]
    in_memory = CostEstimator().estimate_training(rows, "gpt-4.1-mini", method="dpo")
    assert {f.code for f in in_memory.errors} == {"wrong_format_for_method"}


def test_lifecycle_findings_are_on_by_default_for_openai_models_only(
    write_lines: WriteLines,
) -> None:
    import datetime as dt

    path = write_lines([good_example(i) for i in range(10)])
    day = dt.date(2026, 12, 2)
    est = CostEstimator().estimate_training(path, "gpt-4o-mini", today=day)
    assert {f.code for f in est.findings} == {
        "training_access_restricted",
        "model_shutdown_scheduled",
    }
    assert (
        not CostEstimator()
        .estimate_training(path, "gpt-4o-mini", today=day, lifecycle=False)
        .findings
    )
    open_model = CostEstimator().estimate_training(path, "openai/gpt-oss-20b", today=day)
    assert not open_model.findings


def test_each_model_is_counted_with_its_own_encoding(write_lines: WriteLines) -> None:
    examples = [good_example(i) for i in range(10)]
    examples[0]["messages"][2]["content"] = "naïve café — 東京 " * 20  # counts differ per encoding
    path = write_lines(examples)
    for model in ("gpt-3.5-turbo", "gpt-4o-mini"):
        tok = Tokenizer.for_model(model)
        est = CostEstimator().estimate_training(path, model, lifecycle=False)
        assert list(est.token_counts) == [tok.count_raw(ex) for ex in examples], model
    old = CostEstimator().estimate_training(path, "gpt-3.5-turbo", lifecycle=False)
    new = CostEstimator().estimate_training(path, "gpt-4o-mini", lifecycle=False)
    assert old.token_counts != new.token_counts


def test_the_model_reaches_the_rules_for_files_and_in_memory_data(write_lines: WriteLines) -> None:
    picture = good_example(0)
    picture["messages"][1]["content"] = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    data = [picture, *(good_example(i) for i in range(1, 10))]
    for source in (write_lines(data), data):
        est = CostEstimator().estimate_training(source, "gpt-4o-mini", lifecycle=False)
        assert [f.message for f in est.findings if f.line == 1] == [
            "gpt-4o-mini does not support vision fine-tuning"
        ]


def test_in_memory_examples_over_the_limit_are_reported_and_capped() -> None:
    data = [good_example(i) for i in range(10)]
    data[4]["messages"][2]["content"] = "long " * 300
    est = CostEstimator().estimate_training(data, "gpt-4o-mini", token_limit=100, lifecycle=False)
    assert [(f.line, f.code) for f in est.findings] == [(5, "example_too_long")]
    assert est.n_truncated == 1 and max(est.token_counts) > 100
    assert est.billed_tokens_per_epoch == sum(min(c, 100) for c in est.token_counts)


def test_a_tokenizer_without_a_maximum_length_truncates_nothing(write_lines: WriteLines) -> None:
    from finetune_kit.tokens.harmony import HarmonyTokenizer

    examples = [good_example(i) for i in range(10)]
    examples[2]["messages"][2]["content"] = "long " * 300
    path = write_lines(examples)
    est = CostEstimator().estimate_training(
        path, "openai/gpt-oss-20b", tokenizer=HarmonyTokenizer()
    )
    assert est.token_limit is None and est.n_truncated == 0
    assert est.billed_tokens_per_epoch == est.total_tokens_per_epoch == sum(est.token_counts)


def test_a_free_cached_price_makes_cached_tokens_free() -> None:
    est = CostEstimator().estimate_usage(
        1_000_000,
        0,
        1,
        days=1,
        cached_input_tokens=400_000,
        input_per_1m=2,
        output_per_1m=8,
        cached_input_per_1m=0,
    )
    assert est.cached_input_per_1m == 0
    assert est.cost_per_request == Decimal("1.2")  # 600K fresh at $2; 400K cached at $0


@pytest.mark.usefixtures("many_ranges")
def test_a_duplicate_with_another_finding_keeps_both_in_a_parallel_scan(
    write_lines: WriteLines,
) -> None:
    lines: list[Any] = [good_example(i) for i in range(60)]
    lines[3]["messages"][2]["content"] = "long " * 100  # over the limit below
    lines[50] = lines[51] = lines[3]  # ... and twice in a later byte range
    path = write_lines(lines)
    serial = CostEstimator().estimate_training(
        path, "gpt-4o-mini", token_limit=80, jobs=1, lifecycle=False
    )
    parallel = CostEstimator().estimate_training(
        path, "gpt-4o-mini", token_limit=80, jobs=2, lifecycle=False
    )
    assert [(f.line, f.code) for f in serial.findings] == [
        (4, "example_too_long"),
        (51, "example_too_long"),
        (51, "duplicate_example"),
        (52, "example_too_long"),
        (52, "duplicate_example"),
    ]
    assert parallel.findings == serial.findings
