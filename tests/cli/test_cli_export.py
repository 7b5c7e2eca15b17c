"""``finetune-kit export``: output, exit codes, JSON contract, safety."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import finetune_kit.cli.data  # several commands, so `export` is a subcommand
import finetune_kit.cli.export  # noqa: F401  (registers the command)
from conftest import WriteLines, good_example
from finetune_kit.cli._common import app

runner = CliRunner()

WEIGHTED = {
    "messages": [
        {"role": "user", "content": "What is a tensor?"},
        {"role": "assistant", "content": "Nay.", "weight": 0},
        {"role": "user", "content": "Pray, again?"},
        {"role": "assistant", "content": "A matrix grown ambitious."},
    ]
}


def test_export_writes_the_file_and_prints_the_fidelity_table(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    path = write_lines([good_example(0), WEIGHTED])
    out = tmp_path / "gemini.jsonl"
    result = runner.invoke(app, ["export", str(path), "--to", "vertex-gemini", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "weight_zero_trained" in result.stdout and "wrote 2 of 2" in result.stdout
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["contents"][0]["role"] for r in records] == ["user", "user"]


def test_export_json_output_is_one_object(write_lines: WriteLines, tmp_path: Path) -> None:
    path = write_lines([good_example(0), "oops", WEIGHTED])
    out = tmp_path / "hf.jsonl"
    result = runner.invoke(
        app, ["export", str(path), "--to", "hf-messages", "-o", str(out), "--format", "json"]
    )
    assert result.exit_code == 1  # a line was skipped
    data = json.loads(result.stdout)
    assert data["n_written"] == 2 and data["n_lines"] == 3 and data["ok"] is False
    assert [(s["line"], s["code"]) for s in data["skipped"]] == [(2, "invalid_json")]
    assert [(f["kind"], f["lines"]) for f in data["fidelity"]] == [("weight_zero_trained", [3])]
    assert data["errors"] == [] and data["lossless"] is False


def test_target_errors_give_exit_one_but_the_file_is_written(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    ends_with_user = {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hail"},
            {"role": "user", "content": "Bye"},
        ]
    }
    path = write_lines([good_example(0), ends_with_user])
    out = tmp_path / "mistral.jsonl"
    result = runner.invoke(
        app, ["export", str(path), "--to", "mistral", "-o", str(out), "-f", "json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(e["line"], e["code"]) for e in data["errors"]] == [
        (2, "mistral_last_message_not_assistant")
    ]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_unknown_format_is_exit_two_and_lists_the_known_ones(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    path = write_lines([good_example(0)])
    result = runner.invoke(app, ["export", str(path), "--to", "axolotl", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    for name in (
        "hf-messages",
        "hf-preference",
        "vertex-gemini",
        "bedrock-conversation",
        "mistral",
    ):
        assert name in result.output
    assert not (tmp_path / "x").exists()


def test_missing_input_is_exit_two(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", str(tmp_path / "none.jsonl"), "--to", "mistral", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "file not found" in result.output


def test_refuses_to_overwrite_its_input(write_lines: WriteLines) -> None:
    path = write_lines([good_example(0)])
    before = path.read_bytes()
    result = runner.invoke(app, ["export", str(path), "--to", "hf-messages", "-o", str(path)])
    assert result.exit_code == 2 and "overwrite the input" in result.output
    assert path.read_bytes() == before


def test_missing_output_folder_is_exit_two(write_lines: WriteLines, tmp_path: Path) -> None:
    path = write_lines([good_example(0)])
    out = tmp_path / "no" / "such" / "out.jsonl"
    result = runner.invoke(app, ["export", str(path), "--to", "hf-messages", "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()


def test_preference_data_exports_to_hf_preference(write_lines: WriteLines, tmp_path: Path) -> None:
    pref = {
        "input": {"messages": [{"role": "user", "content": "What is a tensor?"}]},
        "preferred_output": [{"role": "assistant", "content": "A matrix grown ambitious."}],
        "non_preferred_output": [{"role": "assistant", "content": "A number."}],
    }
    path = write_lines([pref])
    out = tmp_path / "dpo.jsonl"
    result = runner.invoke(app, ["export", str(path), "--to", "hf-preference", "-o", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    assert set(record) == {"prompt", "chosen", "rejected"}
