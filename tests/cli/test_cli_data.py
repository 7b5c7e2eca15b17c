from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from conftest import WriteLines, good_example
from finetune_kit.cli import app

runner = CliRunner()


def test_validate_json_output_is_exactly_one_object(write_lines: WriteLines) -> None:
    path = write_lines([*[good_example(i) for i in range(10)], "oops", good_example(2)])
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"errors", "warnings", "stats"}
    assert [(e["line"], e["code"]) for e in data["errors"]] == [(11, "invalid_json")]
    assert [(w["line"], w["code"]) for w in data["warnings"]] == [(12, "duplicate_example")]
    for entry in data["errors"] + data["warnings"]:
        assert set(entry) == {"line", "code", "severity", "message", "hint", "field"}


def test_validate_exit_code_zero_on_clean_file(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK: 10 examples" in result.stdout


def test_validate_text_output_groups_by_code_with_line_numbers(write_lines: WriteLines) -> None:
    path = write_lines([*[good_example(i) for i in range(10)], "x", "y", {"messages": []}])
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "invalid_json" in result.stdout and "11, 12" in result.stdout
    assert "empty_messages" in result.stdout


def test_missing_file_is_one_line_and_exit_two(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "finetune_kit.cli", "validate", str(tmp_path / "none.jsonl")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "file not found" in result.stderr


def test_bad_method_is_a_usage_error(write_lines: WriteLines) -> None:
    path = write_lines([good_example()])
    result = runner.invoke(app, ["validate", str(path), "--method", "rlhf"])
    assert result.exit_code == 2


def test_convert_writes_jsonl_from_cp1252_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "in.csv"
    rows = "\n".join(f'Question {i} — café?,"Answer {i}, good sir"' for i in range(10))
    csv_path.write_bytes(("q,a\n" + rows + "\n").encode("cp1252"))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["convert", str(csv_path), "-o", str(out), "-u", "q", "-a", "a", "-s", "Be old."]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10
    assert json.loads(lines[0])["messages"][1]["content"] == "Question 0 — café?"


def test_convert_needs_columns_for_tables(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("q,a\nx,y\n", encoding="utf-8")
    result = runner.invoke(app, ["convert", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2


def test_fix_command_reports_changes_and_rejects(write_lines: WriteLines, tmp_path: Path) -> None:
    path = write_lines([*[good_example(i) for i in range(10)], "", "bad", good_example(1)])
    out = tmp_path / "fixed.jsonl"
    result = runner.invoke(app, ["fix", str(path), "-o", str(out), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["fixed"] == {"blank_line": 1, "duplicate_example": 1}
    assert data["n_written"] == 10 and data["n_rejected"] == 1
    assert Path(data["rejects"]).exists()


def test_demo_builds_and_validates_the_sample(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "train.jsonl").exists()
    assert "OK: 50 examples" in result.stdout


def test_validate_open_model_checks_its_maximum_length_in_its_tokens(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(
        '{"chat_template": "{% for m in messages %}{{ m.content }} {% endfor %}"}',
        encoding="utf-8",
    )
    examples = [good_example(i) for i in range(10)]
    examples[2]["messages"][2]["content"] = "word " * 140_000  # over the 131,072 of the table
    path = write_lines(examples)
    result = runner.invoke(
        app,
        [
            "validate",
            str(path),
            "--model",
            "openai/gpt-oss-20b",
            "--tokenizer",
            str(tmp_path),
            "--format",
            "json",
        ],
    )
    data = json.loads(result.stdout)
    too_long = [
        e["line"] for e in data["errors"] + data["warnings"] if e["code"] == "example_too_long"
    ]
    assert too_long == [3]
