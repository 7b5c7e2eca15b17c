"""`finetune-kit archive` and `finetune-kit lifecycle` through the shared typer app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from finetune_kit import set_testing
from finetune_kit.cli import lifecycle as _cli_lifecycle
from finetune_kit.cli._common import app
from finetune_kit.testing import Emulator

MODEL = "gpt-4o-mini-2024-07-18"
START = datetime(2026, 11, 2, tzinfo=timezone.utc)
runner = CliRunner()


def _data(tag: str) -> bytes:
    return "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"{tag} {i}?"},
                    {"role": "assistant", "content": f"{i}."},
                ]
            }
        )
        + "\n"
        for i in range(12)
    ).encode()


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    set_testing(True)
    with Emulator(manual_clock=True, start_time=START) as emulator:
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.delenv("FINETUNE_KIT_PROVIDER", raising=False)
        sdk = emulator.client()
        for tag in ("a", "b"):
            file = sdk.files.create(file=(f"{tag}.jsonl", _data(tag)), purpose="fine-tune")
            emulator.advance(5)
            sdk.fine_tuning.jobs.create(model=MODEL, training_file=file.id, suffix=tag)
        emulator.advance(3600)
        yield emulator
    set_testing(False)


def test_archive_json_then_again_with_nothing_to_download(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "archive"
    first = runner.invoke(app, ["archive", str(out), "--format", "json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["complete"] is True and data["jobs"] == 2 and data["files_downloaded"] == 4
    assert (out / "manifest.json").is_file()

    again = json.loads(runner.invoke(app, ["archive", str(out), "-f", "json"]).stdout)
    assert (again["files_downloaded"], again["jobs_unchanged"], again["files_skipped"]) == (0, 2, 4)


def test_archive_text_output_and_since(emu: Emulator, tmp_path: Path) -> None:
    result = runner.invoke(app, ["archive", str(tmp_path / "a"), "--since", "2026-11-03"])
    assert result.exit_code == 0, result.output
    assert "Archive" in result.stdout and "complete" in result.stdout
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["jobs"] == {}

    bad = runner.invoke(app, ["archive", str(tmp_path / "b"), "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since must be a date" in bad.output


def test_archive_exits_1_when_a_file_is_missing(emu: Emulator, tmp_path: Path) -> None:
    sdk = emu.client()
    job = sdk.fine_tuning.jobs.list().data[0]
    sdk.files.delete(job.training_file)
    result = runner.invoke(app, ["archive", str(tmp_path / "a"), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["missing_files"] == [job.training_file]
    assert data["errors"][0]["code"] == "file_not_found"


def test_archive_without_credentials_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(app, ["archive", str(tmp_path / "a")])
    assert result.exit_code == 2 and "OPENAI_API_KEY" in result.output


def test_azure_provider_names_the_missing_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["archive", str(tmp_path / "a"), "--provider", "azure"])
    assert result.exit_code == 2 and "AZURE_OPENAI_ENDPOINT" in result.output
    monkeypatch.setenv("FINETUNE_KIT_PROVIDER", "azure")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com")
    result = runner.invoke(app, ["archive", str(tmp_path / "a")])
    assert result.exit_code == 2 and "OPENAI_API_VERSION" in result.output


def test_job_client_for_each_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    from finetune_kit.providers.azure import is_azure

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    assert not is_azure(_cli_lifecycle.job_client().openai)
    client = _cli_lifecycle.job_client(_cli_lifecycle.Provider.azure, poll_interval=1.0)
    assert is_azure(client.openai) and client.poll_interval == 1.0


def test_lifecycle_table_and_model_checks() -> None:
    table = runner.invoke(app, ["lifecycle", "--format", "json"])
    assert table.exit_code == 0
    assert json.loads(table.stdout)["job_creation_cutoffs"][-1]["date"] == "2027-01-06"

    near = runner.invoke(app, ["lifecycle", "gpt-4o-mini", "--date", "2027-01-05", "-f", "json"])
    assert near.exit_code == 0
    data = json.loads(near.stdout)
    assert data["base_model"] == MODEL
    assert [f["code"] for f in data["findings"]] == [
        "training_cutoff_near",
        "model_shutdown_scheduled",
    ]

    passed = runner.invoke(app, ["lifecycle", "gpt-4o-mini", "--date", "2027-01-06"])
    assert passed.exit_code == 1 and "training_cutoff_passed" in passed.stdout

    calling = runner.invoke(
        app, ["lifecycle", f"ft:{MODEL}:org::x", "--inference", "--date", "2026-12-01"]
    )
    assert calling.exit_code == 0 and "model_shutdown_scheduled" in calling.stdout
    quiet = runner.invoke(app, ["lifecycle", "gpt-4.1-nano", "--date", "2026-01-01"])
    assert quiet.exit_code == 0 and "nothing to report" in quiet.stdout
    bad = runner.invoke(app, ["lifecycle", "gpt-4o", "--date", "soon"])
    assert bad.exit_code == 2
