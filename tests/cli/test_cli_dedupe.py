from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedupe_corpus import make_corpus
from finetune_kit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    corpus = make_corpus(80, seed=5)
    folder = tmp_path_factory.mktemp("cli-dedupe")
    train, val = folder / "train.jsonl", folder / "val.jsonl"
    train.write_text("".join(json.dumps(e) + "\n" for e in corpus.train), encoding="utf-8")
    val.write_text("".join(json.dumps(e) + "\n" for e in corpus.validation), encoding="utf-8")
    return train, val


def test_json_output_has_groups_leaks_and_stats(files: tuple[Path, Path]) -> None:
    train, val = files
    result = runner.invoke(
        app, ["dedupe", str(train), "--near", "--validation", str(val), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"groups", "leaks", "stats"}
    assert data["groups"] and set(data["groups"][0]) == {"lines", "kept", "similarity"}
    assert data["leaks"] and set(data["leaks"][0]) == {"line", "validation_line", "similarity"}
    assert data["stats"]["examples_out"] < data["stats"]["examples_in"]


def test_output_file_and_savings_at_a_models_price(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    train, _ = files
    out = tmp_path / "kept.jsonl"
    result = runner.invoke(
        app,
        ["dedupe", str(train), "--near", "-o", str(out), "--model", "gpt-4o-mini-2024-07-18"],
    )
    assert result.exit_code == 0, result.output
    assert "Saved by dropping copies" in result.stdout
    assert "saves" in result.stdout and "per job" in result.stdout
    kept = out.read_text(encoding="utf-8").splitlines()
    assert f"wrote {len(kept):,} examples" in result.stdout


def test_without_near_only_exact_copies(files: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = files
    doubled = tmp_path / "doubled.jsonl"
    text = train.read_text(encoding="utf-8")
    doubled.write_text(text + text.splitlines(keepends=True)[0], encoding="utf-8")
    result = runner.invoke(app, ["dedupe", str(doubled), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["stats"]["mode"] == "exact"
    n = data["stats"]["examples_in"]
    assert {"lines": [1, n], "kept": 1, "similarity": 1.0} in data["groups"]


def test_near_options_need_near(files: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["dedupe", str(files[0]), "--threshold", "0.5"])
    assert result.exit_code == 2
    assert "add --near" in result.output


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dedupe", str(tmp_path / "nope.jsonl"), "--near"])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_validate_near_adds_near_duplicate_and_leak_warnings(files: tuple[Path, Path]) -> None:
    train, val = files
    plain = json.loads(runner.invoke(app, ["validate", str(train), "-f", "json"]).stdout)
    result = runner.invoke(
        app, ["validate", str(train), "--near", "--validation", str(val), "-f", "json"]
    )
    data = json.loads(result.stdout)
    codes = {w["code"] for w in data["warnings"]}
    assert {"near_duplicate", "validation_leak"} <= codes
    assert not {"near_duplicate", "validation_leak"} & {w["code"] for w in plain["warnings"]}
    assert all(w["line"] for w in data["warnings"] if w["code"] == "validation_leak")
    assert data["stats"]["n_validation_leaks"] > 0


def test_validate_validation_file_needs_near(files: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["validate", str(files[0]), "--validation", str(files[1])])
    assert result.exit_code == 2
