"""The Together adapter driven by JobClient and AsyncJobClient against the Together emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
import together
from together_helpers import (
    MODEL,
    SdkRunner,
    Seen,
    check_all,
    count,
    write_train_file,
)

from finetune_kit import AuthenticationFailed, ConfigError, JobClient
from finetune_kit.errors import JobFailed, ProviderUnsupported
from finetune_kit.providers.base import JobSpec
from finetune_kit.providers.together import TOGETHER, TogetherProvider, remote_event, remote_job
from finetune_kit.testing import Fault, TogetherEmulator

pytestmark = pytest.mark.usefixtures("instant_waits")


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_train_file(tmp_path)


FAULT_PLANS: dict[str, list[Fault]] = {
    "503 with Retry-After on upload and create": [
        Fault.error(503, method="POST", path="/files", retry_after=0.01),
        Fault.error(503, method="POST", path="/fine-tunes", retry_after=0.01),
    ],
    "429s on upload": [Fault.error(429, method="POST", path="/files", times=3)],
    "500s on create": [Fault.error(500, method="POST", path="/fine-tunes", times=2)],
    "drop before commit on upload and create": [
        Fault.drop_before(method="POST", path="/files/*/preprocess"),
        Fault.drop_before(method="POST", path="/fine-tunes"),
    ],
    "drop after commit on upload and create": [
        Fault.drop_after(method="POST", path="/files/*/preprocess"),
        Fault.drop_after(method="POST", path="/fine-tunes"),
    ],
    "500s on polling and events": [
        Fault.error(500, method="GET", path="/fine-tunes/*", times=3),
        Fault.error(503, method="GET", path="/fine-tunes/*/events", retry_after=0),
    ],
}


# (POST /v1/files, POST /v1/files/{id}/preprocess, POST /v1/fine-tunes) each plan leads to
WRITES: dict[str, tuple[int, int, int]] = {
    "503 with Retry-After on upload and create": (2, 1, 2),
    "429s on upload": (4, 1, 1),
    "500s on create": (1, 1, 3),
    "drop before commit on upload and create": (2, 2, 2),
    "drop after commit on upload and create": (1, 1, 1),
    "500s on polling and events": (1, 1, 1),
}


@pytest.mark.parametrize("plan", list(FAULT_PLANS), ids=list(FAULT_PLANS))
def test_faults_end_with_exactly_one_file_and_one_job(
    plan: str, kind: str, train_file: Path
) -> None:
    seen = Seen()
    with TogetherEmulator(speed=20_000, faults=FAULT_PLANS[plan]) as emu:
        run = SdkRunner(emu, kind, seen)
        job = run("train", train_file, MODEL, suffix="bard")
        assert job.status == "succeeded" and job.provider_status == "completed"
        assert job.fine_tuned_model and "bard" in job.fine_tuned_model
        assert len(emu.faults) == sum(f.times or 1 for f in FAULT_PLANS[plan])
        # the request log: each write as often as the plan forces, and one look before each
        reserves, commits, creates = WRITES[plan]
        assert count(emu, "POST", "/v1/files") == reserves
        assert count(emu, "POST", "/v1/files/*/preprocess") == commits
        assert count(emu, "POST", "/v1/fine-tunes") == creates
        assert count(emu, "GET", "/v1/files") >= reserves
        assert count(emu, "GET", "/v1/fine-tunes") >= creates
        if plan.startswith("drop after"):  # the lost answers were followed by looks, not writes
            assert count(emu, "GET", "/v1/files") == 2 and count(emu, "GET", "/v1/fine-tunes") == 2
        sdk = emu.client(max_retries=0)
        assert len(sdk.files.list().data) == 1
        assert len(sdk.fine_tuning.list().data) == 1
        check_all(seen)


def test_plain_sdk_calls_duplicate_under_the_same_plan(train_file: Path) -> None:
    """The contrast: a retried upload and the SDK's own retried create write twice."""
    plan = FAULT_PLANS["drop after commit on upload and create"]
    with TogetherEmulator(speed=20_000, faults=plan) as emu:
        once = emu.client(max_retries=0)
        try:
            uploaded = once.files.upload(train_file, purpose="fine-tune", check=False)
        except together.APIConnectionError:  # the commit's answer was lost: upload again
            uploaded = once.files.upload(train_file, purpose="fine-tune", check=False)
        sdk = emu.client(max_retries=2)  # the SDK's default retries
        sdk.fine_tuning.create(training_file=uploaded.id, model=MODEL, train_on_inputs="auto")
        assert len(sdk.files.list().data) == 2
        assert len(sdk.fine_tuning.list().data) == 2


def test_same_train_call_twice_reuses_file_and_job_and_other_parameters_do_not(
    kind: str, train_file: Path
) -> None:
    with TogetherEmulator(speed=20_000) as emu:
        run = SdkRunner(emu, kind)
        first = run("train", train_file, MODEL, suffix="bard", seed=1)
        second = run("train", train_file, MODEL, suffix="bard", seed=1)
        assert second.id == first.id and second.reused and not first.reused
        other = run("train", train_file, MODEL, suffix="bard", seed=1, n_epochs=2)
        lora_off = run(
            "train", train_file, MODEL, suffix="bard", seed=1, hyperparameters={"lora": False}
        )
        assert len({first.id, other.id, lora_off.id}) == 3
        assert lora_off.hyperparameters["lora"] is False
        assert len(emu.state.list_files()) == 1
        assert count(emu, "POST", "/v1/fine-tunes") == 3


def test_a_failed_job_is_not_reused(kind: str, train_file: Path) -> None:
    with TogetherEmulator(speed=20_000) as emu:
        run = SdkRunner(emu, kind)
        emu.fail_next_job()
        with pytest.raises(JobFailed) as caught:
            run("train", train_file, MODEL)
        assert caught.value.job.status == "failed" and caught.value.job.provider_status == "error"
        again = run("train", train_file, MODEL)
        assert again.status == "succeeded" and not again.reused


def test_reads_events_checkpoints_metrics_cancel_and_ask(kind: str, train_file: Path) -> None:
    seen = Seen()
    with TogetherEmulator(manual_clock=True) as emu:
        run = SdkRunner(emu, kind, seen)
        job = run(
            "train", train_file, MODEL, n_epochs=2, wait=False, hyperparameters={"n_checkpoints": 2}
        )
        assert job.provider == "together" and job.status == "validating_files"
        emu.advance(3600)
        done = run("wait", job)
        assert done.status == "succeeded" and done.trained_tokens and done.finished_at
        events = run("events", job)
        assert events[0].type == "job_pending" and events[-1].type == "job_complete"
        assert len({e.id for e in events}) == len(events)
        points = run("checkpoints", job)
        assert [p.step_number for p in points] == sorted(p.step_number for p in points)
        assert points[-1].fine_tuned_model_checkpoint == f"{job.id}:{points[-1].step_number}"
        frame = run("metrics", job)
        assert list(frame["step"]) == sorted(frame["step"]) and "train_loss" in frame
        assert run("ask", done.fine_tuned_model, "Question 3: what is overfitting?") == (
            "A model that learns its lessons too well."
        )
        assert [j.id for j in run("list")] == [job.id]
        running = run("create_job", job.training_file, MODEL, n_epochs=3)
        emu.advance(20)
        cancelled = run("cancel", running)
        assert cancelled.status == "cancelled" and cancelled.provider_status == "cancel_requested"
        with pytest.raises(ProviderUnsupported, match="together does not support pause"):
            run("pause", running)
        with pytest.raises(ProviderUnsupported, match="resume"):
            run("resume", running)
        check_all(seen)


def test_every_together_status_maps_onto_the_products() -> None:
    expected = {
        "pending": "validating_files",
        "queued": "queued",
        "running": "running",
        "compressing": "running",
        "uploading": "running",
        "cancel_requested": "cancelled",
        "cancelled": "cancelled",
        "error": "failed",
        "completed": "succeeded",
    }
    for raw, product in expected.items():
        job = remote_job({"id": "ft-1", "status": raw, "model": MODEL, "model_output_name": "u/m"})
        assert (job["status"], job["provider_status"]) == (product, raw)
        assert (job["fine_tuned_model"] is not None) == (product == "succeeded")
    assert set(TOGETHER.statuses) == set(expected)


def test_event_ids_are_stable_and_distinct() -> None:
    a = {"created_at": "2026-12-01T00:00:00Z", "type": "job_start", "message": "started"}
    b = dict(a, message="other")
    assert remote_event(a)["id"] == remote_event(dict(a))["id"] != remote_event(b)["id"]
    assert remote_event(a)["created_at"] == 1_796_083_200


def test_job_requests_spell_every_parameter_out_and_refuse_foreign_ones() -> None:
    adapter = TogetherProvider()
    request = adapter.job_request(JobSpec("file-1", MODEL))
    assert request == {
        "training_file": "file-1",
        "model": MODEL,
        "n_epochs": 1,
        "n_checkpoints": 1,
        "learning_rate": 1e-5,
        "batch_size": "max",
        "lora": True,
        "training_method": "sft",
        "train_on_inputs": "auto",
    }
    dpo = adapter.job_request(JobSpec("file-1", MODEL, method="dpo", hyperparameters={"beta": 0.2}))
    assert (
        dpo["training_method"] == "dpo" and dpo["dpo_beta"] == 0.2 and "train_on_inputs" not in dpo
    )
    with pytest.raises(ConfigError, match="absolute learning_rate"):
        adapter.job_request(JobSpec("f", MODEL, hyperparameters={"learning_rate_multiplier": 2}))
    with pytest.raises(ConfigError, match="unknown hyper-parameter"):
        adapter.job_request(JobSpec("f", MODEL, hyperparameters={"warmup": 1}))
    with pytest.raises(ConfigError, match="suffix"):
        adapter.job_request(JobSpec("f", MODEL, suffix="x" * 41))
    with pytest.raises(ConfigError, match="beta"):
        adapter.job_request(JobSpec("f", MODEL, hyperparameters={"beta": 0.1}))


def test_a_missing_key_names_the_variable_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        JobClient(provider="together")
    assert caught.value.message == "no API key: set TOGETHER_API_KEY"
    assert "\n" not in str(caught.value)


def test_a_rejected_key_never_appears_in_the_error(
    monkeypatch: pytest.MonkeyPatch, train_file: Path
) -> None:
    secret = "tgp_v1_" + "s3cr3t" * 6
    with TogetherEmulator(manual_clock=True, api_key="tgp_v1_the-right-one") as emu:
        monkeypatch.setenv("TOGETHER_API_KEY", secret)
        monkeypatch.setenv("TOGETHER_BASE_URL", emu.base_url)
        client = JobClient(provider="together")
        with pytest.raises(AuthenticationFailed) as caught:
            client.list()
        text = f"{caught.value} {caught.value.hint} {caught.value.__cause__}"
        assert "TOGETHER_API_KEY" in str(caught.value)
        assert secret not in str(caught.value) and secret[8:] not in str(caught.value)
        assert secret not in repr(caught.value) and "s3cr3t" * 6 not in text.split("__cause__")[0]


def test_the_client_recognises_a_together_client_and_exposes_it_as_sdk() -> None:
    with TogetherEmulator(manual_clock=True) as emu:
        sdk = emu.client()
        client = JobClient(sdk)
        assert client.provider.facts.name == "together" and client.sdk is sdk
        with pytest.raises(ProviderUnsupported, match="openai SDK"):
            _ = client.openai
