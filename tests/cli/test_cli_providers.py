"""--provider on the command line: Together end to end, Azure's BOM, the same JSON keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import good_example
from finetune_kit import set_testing
from finetune_kit.cli import app
from finetune_kit.testing import Emulator, FireworksEmulator, TogetherEmulator

runner = CliRunner()
TOGETHER_MODEL = "openai/gpt-oss-20b"
KEYS = {
    "id",
    "status",
    "model",
    "fine_tuned_model",
    "training_file",
    "trained_tokens",
    "estimated_cost",
    "error",
    "provider",
    "provider_status",
}


@pytest.fixture
def together_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[TogetherEmulator]:
    set_testing(True)
    with TogetherEmulator(speed=20_000) as emulator:
        monkeypatch.setenv("TOGETHER_BASE_URL", emulator.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", emulator.api_key)
        yield emulator
    set_testing(False)


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(json.dumps(good_example(i)) + "\n" for i in range(20)), "utf-8")
    return path


def _train(path: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(
        app,
        ["train", str(path), "--wait", "--format", "json", "--poll-interval", "0.01", *extra],
    )
    assert result.stdout, result.output
    data: dict[str, object] = json.loads(result.stdout)
    data["_exit"] = result.exit_code
    return data


def test_train_twice_on_together_succeeds_and_leaves_one_file_and_one_job(
    together_env: TogetherEmulator, clean: Path
) -> None:
    args = ("--provider", "together", "--model", TOGETHER_MODEL)
    first, second = _train(clean, *args), _train(clean, *args)
    for run in (first, second):
        assert run["_exit"] == 0 and run["status"] == "succeeded"
        assert str(run["fine_tuned_model"]).startswith("emulator-user/gpt-oss-20b")
        assert run["provider"] == "together" and run["provider_status"] == "completed"
        assert set(run) >= KEYS
    assert first["id"] == second["id"] and first["fine_tuned_model"] == second["fine_tuned_model"]
    sdk = together_env.client(max_retries=0)
    assert len(sdk.files.list().data) == 1
    assert len(sdk.fine_tuning.list().data) == 1


def test_the_provider_comes_from_the_environment_and_status_keys_match_openais(
    together_env: TogetherEmulator, clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINETUNE_KIT_PROVIDER", "together")
    job = _train(clean, "--model", TOGETHER_MODEL)
    shown = runner.invoke(app, ["status", str(job["id"]), "--format", "json"])
    together_keys = set(json.loads(shown.stdout))
    with Emulator(speed=5000) as emu:
        monkeypatch.setenv("FINETUNE_KIT_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        openai_job = _train(clean, "--model", "gpt-4o-mini-2024-07-18")
        openai_keys = set(
            json.loads(runner.invoke(app, ["status", str(openai_job["id"]), "-f", "json"]).stdout)
        )
    assert together_keys == openai_keys and together_keys >= KEYS
    assert set(job) == set(openai_job)


def test_together_commands_read_events_checkpoints_metrics_and_refuse_pause(
    together_env: TogetherEmulator, clean: Path
) -> None:
    job = _train(clean, "--provider", "together", "--model", TOGETHER_MODEL)
    job_id = str(job["id"])
    for command in ("checkpoints", "metrics"):
        result = runner.invoke(app, [command, job_id, "--provider", "together", "-f", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)
    events = runner.invoke(app, ["events", job_id, "--provider", "together", "-f", "json"])
    assert events.exit_code == 0 and '"type": "job_complete"' in events.stdout
    paused = runner.invoke(app, ["pause", job_id, "--provider", "together"])
    assert paused.exit_code == 2 and "together does not support pause" in paused.output


def test_a_missing_together_key_is_one_line_naming_the_variable(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    result = runner.invoke(app, ["list", "--provider", "together"])
    assert result.exit_code == 2
    assert "set TOGETHER_API_KEY" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_validate_with_the_together_profile_flags_turn_order_and_long_examples(
    tmp_path: Path,
) -> None:
    path = tmp_path / "turns.jsonl"
    bad = {
        "messages": [
            {"role": "assistant", "content": "I speak first."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
        ]
    }
    path.write_text(json.dumps(bad) + "\n" + json.dumps(good_example(1)) + "\n", "utf-8")
    result = runner.invoke(
        app,
        ["validate", str(path), "--provider", "together", "--model", TOGETHER_MODEL, "-f", "json"],
    )
    report = json.loads(result.stdout)
    codes = {e["code"] for e in report["errors"]}
    assert result.exit_code == 1 and codes == {"turns_not_alternating"}
    assert report["errors"][0]["field"] == "messages[0].role" and report["errors"][0]["hint"]
    plain = json.loads(runner.invoke(app, ["validate", str(path), "-f", "json"]).stdout)
    assert "turns_not_alternating" not in {e["code"] for e in plain["errors"]}
    assert "too_few_examples" in {e["code"] for e in plain["errors"]}  # OpenAI wants 10


def test_azure_requires_a_bom_and_fix_adds_it(tmp_path: Path, clean: Path) -> None:
    azure = runner.invoke(app, ["validate", str(clean), "--provider", "azure", "-f", "json"])
    assert azure.exit_code == 1
    assert [e["code"] for e in json.loads(azure.stdout)["errors"]] == ["bom_missing"]
    fixed = tmp_path / "fixed.jsonl"
    done = runner.invoke(app, ["fix", str(clean), "-o", str(fixed), "--provider", "azure"])
    assert done.exit_code == 0, done.output
    assert fixed.read_bytes().startswith(b"\xef\xbb\xbf")
    assert fixed.read_bytes()[3:] == clean.read_bytes()
    ok = runner.invoke(app, ["validate", str(fixed), "--provider", "azure", "-f", "json"])
    assert ok.exit_code == 0, ok.stdout
    openai = json.loads(runner.invoke(app, ["validate", str(fixed), "-f", "json"]).stdout)
    assert [w["code"] for w in openai["warnings"]] == ["bom"]


def test_estimate_prices_together_models_with_their_dpo_price(tmp_path: Path) -> None:
    path = tmp_path / "dpo.jsonl"
    line = {
        "input": {"messages": [{"role": "user", "content": "hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Good day to thee."}],
        "non_preferred_output": [{"role": "assistant", "content": "yo"}],
    }
    path.write_text((json.dumps(line) + "\n") * 12, "utf-8")
    base = ["estimate", str(path), "-m", TOGETHER_MODEL, "--provider", "together", "-f", "json"]
    sft_like = json.loads(runner.invoke(app, [*base, "--epochs", "1"]).stdout)
    dpo = json.loads(runner.invoke(app, [*base, "--epochs", "1", "--method", "dpo"]).stdout)
    assert dpo["training_cost"] > 0
    assert dpo["price_per_1m"] == 1.0 and sft_like["price_per_1m"] == 0.4


@pytest.mark.slow
def test_demo_runs_the_whole_story_on_the_together_emulator(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--provider", "together", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Together AI emulator" in result.stdout and "succeeded" in result.stdout
    assert (tmp_path / "loss.png").exists() and (tmp_path / "metrics.csv").exists()
    assert "Overfitting, sirrah" in result.stdout  # answered from the training data


FIREWORKS_MODEL = "accounts/fireworks/models/gpt-oss-20b"


@pytest.fixture
def fireworks_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[FireworksEmulator]:
    set_testing(True)
    with FireworksEmulator(speed=20_000, api_key="fw_secret-cli-key-123456") as emulator:
        monkeypatch.setenv("FIREWORKS_BASE_URL", emulator.base_url)
        monkeypatch.setenv("FIREWORKS_API_KEY", emulator.api_key)
        monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", emulator.account_id)
        yield emulator
    set_testing(False)


def test_train_twice_on_fireworks_succeeds_and_leaves_one_dataset_and_one_job(
    fireworks_env: FireworksEmulator, clean: Path
) -> None:
    args = ("--provider", "fireworks", "--model", FIREWORKS_MODEL)
    first, second = _train(clean, *args), _train(clean, *args)
    for run in (first, second):
        assert run["_exit"] == 0 and run["status"] == "succeeded"
        assert str(run["fine_tuned_model"]) == f"accounts/emulator/models/{run['id']}"
        assert run["provider"] == "fireworks" and run["provider_status"] == "JOB_STATE_COMPLETED"
        assert set(run) >= KEYS
    assert first["id"] == second["id"]
    sdk = fireworks_env.client(max_retries=0)
    assert len(sdk.datasets.list().datasets) == 1
    assert len(sdk.supervised_fine_tuning_jobs.list().supervised_fine_tuning_jobs) == 1


def test_fireworks_commands_never_print_the_key(
    fireworks_env: FireworksEmulator, clean: Path
) -> None:
    job = _train(clean, "--provider", "fireworks", "--model", FIREWORKS_MODEL)
    outputs = [
        runner.invoke(app, [command, str(job["id"]), "--provider", "fireworks"]).output
        for command in ("status", "events", "metrics", "checkpoints", "cancel")
    ]
    refused = runner.invoke(app, ["checkpoints", str(job["id"]), "--provider", "fireworks"])
    assert refused.exit_code != 0 and "fireworks does not support checkpoints" in refused.output
    for output in outputs:
        assert fireworks_env.api_key not in output
    assert fireworks_env.api_key not in json.dumps(job)
