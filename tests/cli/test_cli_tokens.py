"""``finetune-kit tokens``: several models side by side, a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import finetune_kit.cli.tokens  # noqa: F401  (registers the command)
from finetune_kit import Dataset
from finetune_kit.cli._common import app

runner = CliRunner()
MODELS = ["gpt-4o-mini-2024-07-18", "openai/gpt-oss-20b"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "sample.jsonl"
    Dataset.sample().to_jsonl(path)
    return path


def _args(sample: Path) -> list[str]:
    return ["tokens", str(sample), "--model", MODELS[0], "--model", MODELS[1]]


def test_table_has_a_row_per_model(sample: Path) -> None:
    result = runner.invoke(app, _args(sample), terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "gpt-4o-mini-2024-07-18" in result.output
    assert "openai/gpt-oss-20b" in result.output
    assert "harmony" in result.output and "trainable" in result.output


def test_json_lists_billed_and_trainable_per_model(sample: Path) -> None:
    result = runner.invoke(app, [*_args(sample), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {m["model"]: m for m in data["models"]}
    assert list(rows) == MODELS
    assert rows["openai/gpt-oss-20b"]["billed_tokens"] > rows[MODELS[0]]["billed_tokens"]
    assert all(m["n_examples"] == 50 and m["n_truncated"] == 0 for m in rows.values())


def test_max_length_counts_truncated_examples(sample: Path) -> None:
    from finetune_kit.tokens.counting import Tokenizer

    result = runner.invoke(app, [*_args(sample), "--max-length", "60", "--format", "json"])
    assert result.exit_code == 0, result.output
    openai, oss = json.loads(result.stdout)["models"]
    tok = Tokenizer.for_model(MODELS[0])
    lines = sample.read_text(encoding="utf-8").splitlines()
    assert openai["n_truncated"] == sum(tok.count_raw(json.loads(x)) > 60 for x in lines)
    assert oss["n_truncated"] == 50  # harmony's system + developer messages alone pass 60


def test_skipped_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    good = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    path.write_text(json.dumps(good) + "\nnot json\n", encoding="utf-8")
    result = runner.invoke(app, ["tokens", str(path), "--model", "gpt-4o-mini"])
    assert result.exit_code == 0, result.output
    assert "1 line(s) are not examples" in result.output


def test_unknown_model_exits_2(sample: Path) -> None:
    result = runner.invoke(app, ["tokens", str(sample), "--model", "no-such-model"])
    assert result.exit_code == 2
    assert "no-such-model" in result.output


def test_hub_model_offline_names_tokenizer_option(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    def offline(*_a: object, **_k: object) -> str:
        raise huggingface_hub.errors.LocalEntryNotFoundError("offline")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    result = runner.invoke(app, ["tokens", str(sample), "--model", "Qwen/Qwen3-8B"])
    assert result.exit_code == 2
    assert "--tokenizer" in result.output
