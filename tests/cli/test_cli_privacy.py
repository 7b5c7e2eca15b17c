"""Tests for ``finetune-kit redact``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import finetune_kit.cli.privacy  # registers the command (and is patched below)
from finetune_kit.cli._common import app
from finetune_kit.privacy.redaction import SECRET_ENV

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    # With a single registered command typer runs it without its name.
    names = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    prefix = ["redact"] if len(names) > 1 or app.registered_groups else []
    return runner.invoke(app, [*prefix, *args], env=env)


def write(path: Path, *contents: str) -> Path:
    lines = [
        json.dumps(
            {"messages": [{"role": "user", "content": c}, {"role": "assistant", "content": "ok"}]}
        )
        for c in contents
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write(
        tmp_path / "train.jsonl",
        "mail jane.doe@example.com",
        "card 4242 4242 4242 4242 and jo@example.org",
        "nothing here, v1.2.3 on 2024-07-18",
    )


def test_redact_writes_a_masked_copy_and_prints_a_summary_table(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.jsonl"
    result = invoke(str(data), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "pii_email" in result.output and "j***@e***.com" in result.output
    assert "jane.doe@example.com" not in result.output
    contents = [json.loads(x)["messages"][0]["content"] for x in out.read_text().splitlines()]
    assert contents == [
        "mail [EMAIL]",
        "card [CARD] and [EMAIL]",
        "nothing here, v1.2.3 on 2024-07-18",
    ]


def test_redact_json_output_has_counts_and_no_raw_values(data: Path, tmp_path: Path) -> None:
    result = invoke(str(data), "-o", str(tmp_path / "clean.jsonl"), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {"pii_card": 1, "pii_email": 2}
    assert report["examples_changed"] == 2 and report["lines"] == 3
    assert "4242 4242 4242 4242" not in result.stdout


def test_redact_kinds_limits_what_is_redacted(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.jsonl"
    result = invoke(str(data), "-o", str(out), "--kinds", "card", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"pii_card": 1}
    assert "jane.doe@example.com" in out.read_text()


def test_redact_pseudonym_reads_the_secret_from_the_environment(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.jsonl"
    result = invoke(str(data), "-o", str(out), "--strategy", "pseudonym", env={SECRET_ENV: "k"})
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "jane.doe@example.com" not in text and "@example.com" in text


def test_redact_pseudonym_without_a_secret_exits_2(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    result = invoke(str(data), "-o", str(tmp_path / "clean.jsonl"), "--strategy", "pseudonym")
    assert result.exit_code == 2
    assert "needs a secret" in result.output
    assert not (tmp_path / "clean.jsonl").exists()


def test_redact_drop_leaves_out_examples_with_personal_data(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.jsonl"
    result = invoke(str(data), "-o", str(out), "--strategy", "drop")
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 1
    assert "2 dropped" in result.output


def test_redact_missing_file_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'nope.jsonl'}: file not found"
    ]


def test_redact_refuses_to_overwrite_its_input(data: Path) -> None:
    before = data.read_text()
    result = invoke(str(data), "-o", str(data))
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.output
    assert data.read_text() == before


def test_redact_unknown_kind_exits_2(data: Path, tmp_path: Path) -> None:
    result = invoke(str(data), "-o", str(tmp_path / "o.jsonl"), "--kinds", "email,passport")
    assert result.exit_code == 2
    assert "unknown PII kind 'passport'" in result.output


def test_redact_presidio_without_presidio_says_how_to_install_it(
    data: Path, tmp_path: Path
) -> None:
    result = invoke(str(data), "-o", str(tmp_path / "o.jsonl"), "--presidio")
    assert result.exit_code == 2
    assert "pip install 'finetune-kit[presidio]'" in result.output


def test_redact_warns_about_lines_it_could_not_parse(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", "a@example.com")
    with src.open("a") as fh:
        fh.write("{broken\n")
    result = invoke(str(src), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0
    assert "could not be parsed" in result.output and "lines 2" in result.output
    assert (tmp_path / "out.jsonl").read_text().splitlines()[1] == "{broken"


def test_redact_reports_when_nothing_is_found(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", "hello", "gpt-4o-mini-2024-07-18")
    result = invoke(str(src), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0
    assert "No personal data found." in result.output
    assert (tmp_path / "out.jsonl").read_bytes() == src.read_bytes()


@pytest.mark.parametrize("option", ["--jobs", "-j"])
def test_redact_takes_a_worker_count(
    option: str, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finetune_kit.privacy import redaction as privacy

    seen: list[int | None] = []
    real = privacy.redact_file

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(finetune_kit.cli.privacy, "redact_file", spy)
    result = invoke(str(data), "-o", str(tmp_path / "clean.jsonl"), option, "3", "-f", "json")
    assert result.exit_code == 0, result.output
    assert seen == [3]
    assert invoke(str(data), "-o", str(tmp_path / "c.jsonl"), option, "0").exit_code == 2
