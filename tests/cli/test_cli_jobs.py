"""The job commands against the emulator, through OPENAI_BASE_URL like a user's shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import good_example
from finetune_kit import CostEstimator, set_testing
from finetune_kit.cli import app
from finetune_kit.testing import Emulator

MODEL = "gpt-4o-mini-2024-07-18"
runner = CliRunner()


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    set_testing(True)
    with Emulator(speed=5000) as emulator:
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        yield emulator
    set_testing(False)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.jsonl"
    path.write_text("".join(json.dumps(good_example(i)) + "\n" for i in range(20)), "utf-8")
    return path


def _train(sample: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(
        app,
        [
            "train",
            str(sample),
            "--model",
            MODEL,
            "--wait",
            "--format",
            "json",
            "--poll-interval",
            "0.01",
            *extra,
        ],
    )
    assert result.stdout, result.output
    data: dict[str, object] = json.loads(result.stdout)
    data["_exit"] = result.exit_code
    return data


def test_train_wait_json_prints_succeeded_and_an_ft_model(emu: Emulator, sample: Path) -> None:
    data = _train(sample)
    assert data["_exit"] == 0
    assert data["status"] == "succeeded"
    assert str(data["fine_tuned_model"]).startswith(f"ft:{MODEL}:")
    assert set(data) >= {
        "id",
        "status",
        "model",
        "fine_tuned_model",
        "training_file",
        "trained_tokens",
        "estimated_cost",
        "error",
    }
    expected = CostEstimator().estimate_training(sample, MODEL, lifecycle=False)
    assert data["estimated_cost"] == float(round(expected.training_cost, 6))
    assert data["currency"] == "USD"
    # the emulator bills the way the estimate counts: the two agree to the token
    assert data["trained_tokens"] == expected.training_tokens


def test_failed_job_exits_non_zero_with_openais_message(emu: Emulator, sample: Path) -> None:
    emu.fail_next_job("invalid_training_file", "Line 7 has no assistant message.")
    data = _train(sample)
    assert data["_exit"] == 1
    assert data["status"] == "failed"
    assert data["error"] == {
        "code": "invalid_training_file",
        "message": "Line 7 has no assistant message.",
    }


def test_train_refuses_invalid_data_without_uploading(emu: Emulator, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n' * 10, encoding="utf-8")
    result = runner.invoke(app, ["train", str(bad), "--model", MODEL, "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"]
    assert emu.requests == []


def test_validation_split_uploads_two_files(emu: Emulator, sample: Path) -> None:
    data = _train(sample, "--validation-split", "0.5", "--seed", "3")
    assert data["_exit"] == 0 and data["validation_file"]
    assert len(emu.state.list_files(purpose="fine-tune")) == 2


def test_job_inspection_commands(emu: Emulator, sample: Path, tmp_path: Path) -> None:
    job = _train(sample)
    job_id, model = str(job["id"]), str(job["fine_tuned_model"])
    status = runner.invoke(app, ["status", job_id, "--format", "json"])
    assert json.loads(status.stdout)["status"] == "succeeded"
    events = runner.invoke(app, ["events", job_id])
    assert "The job has successfully completed" in events.stdout
    csv_path = tmp_path / "m.csv"
    metrics = runner.invoke(app, ["metrics", job_id, "-o", str(csv_path)])
    assert metrics.exit_code == 0, metrics.output
    assert csv_path.read_text(encoding="utf-8").startswith("step,")
    checkpoints = runner.invoke(app, ["checkpoints", job_id, "--format", "json"])
    assert json.loads(checkpoints.stdout)[-1]["fine_tuned_model_checkpoint"].startswith("ft:")
    listed = runner.invoke(app, ["list", "--format", "json"])
    assert [j["id"] for j in json.loads(listed.stdout)] == [job_id]
    answer = runner.invoke(app, ["ask", model, "What is overfitting?", "--format", "json"])
    assert json.loads(answer.stdout)["answer"]


def test_cancel_a_running_job(monkeypatch: pytest.MonkeyPatch, sample: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        from finetune_kit import JobClient

        client = JobClient(emu.client())
        ref = client.upload(sample, wait=False)
        emu.advance(5)
        job = client.create_job(ref, MODEL)
        result = runner.invoke(app, ["cancel", job.id, "--format", "json"])
        assert json.loads(result.stdout)["status"] == "cancelled"


def test_missing_api_key_is_one_line_exit_two(
    monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 2
    assert "OPENAI_API_KEY" in result.stderr
    assert "Traceback" not in result.output
