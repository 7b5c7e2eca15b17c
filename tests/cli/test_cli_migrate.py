"""finetune-kit migrate: the plan, the run, the second run, JSON and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from migrate_helpers import FIREWORKS_MODEL, TOGETHER_MODEL, Archive
from together_helpers import count
from typer.testing import CliRunner

from finetune_kit import set_testing
from finetune_kit.cli import app
from finetune_kit.testing import FireworksEmulator, TogetherEmulator

runner = CliRunner()


@pytest.fixture(autouse=True)
def _instant_waits() -> Iterator[None]:
    set_testing(True)
    yield


def _point_at(monkeypatch: pytest.MonkeyPatch, emu: TogetherEmulator | FireworksEmulator) -> None:
    """The target provider's variables, as a user would set them for the emulator."""
    name = "TOGETHER" if isinstance(emu, TogetherEmulator) else "FIREWORKS"
    monkeypatch.setenv(f"{name}_BASE_URL", emu.base_url)
    monkeypatch.setenv(f"{name}_API_KEY", emu.api_key)
    if isinstance(emu, FireworksEmulator):
        monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", emu.account_id)


def test_dry_run_prints_the_plan_and_creates_nothing(
    emulated_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = emulated_archive.copy_to(tmp_path / "archive")
    with TogetherEmulator(manual_clock=True) as emu:
        _point_at(monkeypatch, emu)
        result = runner.invoke(
            app,
            ["migrate", str(folder), "--to", f"together:{TOGETHER_MODEL}", "--dry-run"],
            env={"COLUMNS": "250"},
        )
        assert emu.requests == []
    assert result.exit_code == 1, result.output  # two jobs cannot move: their data
    assert "Plan to together:openai/gpt-oss-20b" in result.output
    assert "10 would create, 2 skipped" in result.output
    assert "turns_not_alternating" in result.output and "line 3" in result.output
    assert not (folder / "migrations.json").exists()


def test_run_then_run_again_creates_each_job_once(
    emulated_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = emulated_archive.copy_to(tmp_path / "archive")
    with FireworksEmulator(manual_clock=True) as emu:
        _point_at(monkeypatch, emu)
        args = ["migrate", str(folder), "--to", f"fireworks:{FIREWORKS_MODEL}", "-f", "json"]
        wanted = [j for j in emulated_archive.succeeded if j not in emulated_archive.of_kind("dpo")]
        for job in wanted[:3]:
            args += ["--job", job]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        data = json.loads(first.stdout)
        assert data["counts"]["created"] == 3 and data["complete"]
        second = runner.invoke(app, args)
        assert second.exit_code == 0, second.output
        assert json.loads(second.stdout)["counts"]["recorded"] == 3
        assert count(emu, "POST", "/v1/accounts/*/supervisedFineTuningJobs") == 3


def test_a_bad_target_is_a_one_line_error(emulated_archive: Archive) -> None:
    result = runner.invoke(app, ["migrate", str(emulated_archive.path), "--to", "together"])
    assert result.exit_code == 2
    assert "is not PROVIDER:MODEL" in result.output
    assert "Traceback" not in result.output
