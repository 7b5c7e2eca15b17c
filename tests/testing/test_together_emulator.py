"""The Together emulator, driven only through the real ``together`` SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import together
from together_helpers import MODEL, Seen, check_all, count, recording_client

from finetune_kit.testing import Fault, TogetherEmulator


@pytest.fixture
def emu() -> Iterator[TogetherEmulator]:
    with TogetherEmulator(manual_clock=True, start_time=1_790_000_000) as emulator:
        yield emulator


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def sdk(emu: TogetherEmulator, seen: Seen) -> together.Together:
    return recording_client(emu, seen, max_retries=0)


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(16)
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _job(sdk: together.Together, file_id: str, **kwargs: object) -> str:
    job = sdk.fine_tuning.create(
        training_file=file_id,
        model=MODEL,
        train_on_inputs="auto",
        **kwargs,  # type: ignore[arg-type]
    )
    return str(job.id)


def test_upload_performs_the_presigned_dance_and_lists_the_file(
    emu: TogetherEmulator, sdk: together.Together, seen: Seen, train: Path
) -> None:
    uploaded = sdk.files.upload(train, purpose="fine-tune", check=True)
    assert uploaded.filename == "train.jsonl" and uploaded.bytes == train.stat().st_size
    assert uploaded.processing_status == "COMPLETED"
    assert [(r.method, r.status) for r in emu.requests] == [
        ("POST", 302),
        ("PUT", 200),
        ("POST", 200),
    ]
    listed = sdk.files.list().data
    assert [f.id for f in listed] == [uploaded.id]
    assert sdk.files.retrieve(uploaded.id).validation_report.nlines == 16  # type: ignore[union-attr]
    assert sdk.files.content(uploaded.id).read() == train.read_bytes()
    assert check_all(seen) == {"FileResponse", "FileList"}


def test_a_reserved_file_that_was_never_committed_is_not_listed(
    emu: TogetherEmulator, sdk: together.Together, train: Path
) -> None:
    emu.add_faults(Fault.drop_before(method="POST", path="/files/*/preprocess"))
    with pytest.raises(together.APIConnectionError):
        sdk.files.upload(train, purpose="fine-tune", check=False)
    assert sdk.files.list().data == []


def test_presigned_urls_need_their_token(emu: TogetherEmulator, train: Path) -> None:
    import httpx

    sdk = emu.client(max_retries=0)
    sdk.files.upload(train, purpose="fine-tune", check=False)
    file_id = emu.state.list_files()[0]["id"]
    answer = httpx.put(f"{emu.base_url}/_presigned/{file_id}?token=wrong", content=b"x")
    assert answer.status_code == 403


def test_jobs_follow_the_deterministic_lifecycle_with_events_checkpoints_and_metrics(
    emu: TogetherEmulator, sdk: together.Together, seen: Seen, train: Path
) -> None:
    file_id = sdk.files.upload(train, purpose="fine-tune", check=False).id
    job_id = _job(sdk, file_id, n_epochs=2, n_checkpoints=2, suffix="bard")
    statuses = []
    for _ in range(40):
        statuses.append(sdk.fine_tuning.retrieve(job_id).status)
        emu.advance(2.5)
    order = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert order == ["pending", "queued", "running", "compressing", "uploading", "completed"]
    final = sdk.fine_tuning.retrieve(job_id)
    assert final.x_model_output_name and "bard" in final.x_model_output_name
    kinds = [e.type for e in sdk.fine_tuning.list_events(job_id).data]
    assert kinds[0] == "job_pending" and kinds[-1] == "job_complete"
    assert kinds.count("epoch_complete") == 2 and "checkpoint_save" in kinds
    checkpoints = sdk.fine_tuning.list_checkpoints(job_id).data
    assert checkpoints[0].checkpoint_type == "Final" and len(checkpoints) == 2
    metrics = sdk.fine_tuning.list_metrics(job_id).metrics or []
    assert [m["global_step"] for m in metrics] == [float(s) for s in range(1, len(metrics) + 1)]
    assert len(metrics) >= 2 and metrics[0]["loss"] > metrics[-1]["loss"]
    assert [j.id for j in sdk.fine_tuning.list().data] == [job_id]
    assert check_all(seen) >= {
        "FinetuneResponse",
        "FineTuningListEventsResponse",
        "FineTuningListCheckpointsResponse",
        "FineTuningListMetricsResponse",
        "FineTuningListResponse",
        "FinetuneModelLimits",
        "AvailableEstimate",
    }


def test_cancel_requests_then_cancels(
    emu: TogetherEmulator, sdk: together.Together, seen: Seen, train: Path
) -> None:
    file_id = sdk.files.upload(train, purpose="fine-tune", check=False).id
    job_id = _job(sdk, file_id)
    emu.advance(20)
    assert sdk.fine_tuning.cancel(job_id).status == "cancel_requested"
    emu.advance(5)
    assert sdk.fine_tuning.retrieve(job_id).status == "cancelled"
    with pytest.raises(together.BadRequestError, match="already finished"):
        sdk.fine_tuning.cancel(job_id)
    assert "FineTuningCancelResponse" in check_all(seen)


def test_a_failing_job_ends_in_error_with_a_job_error_event(
    emu: TogetherEmulator, sdk: together.Together, train: Path
) -> None:
    emu.fail_next_job()
    job_id = _job(sdk, sdk.files.upload(train, purpose="fine-tune", check=False).id)
    emu.advance(3600)
    assert sdk.fine_tuning.retrieve(job_id).status == "error"
    assert sdk.fine_tuning.list_events(job_id).data[-1].type == "job_error"


def test_chat_answers_from_the_training_data(
    emu: TogetherEmulator, sdk: together.Together, seen: Seen, train: Path
) -> None:
    job_id = _job(sdk, sdk.files.upload(train, purpose="fine-tune", check=False).id)
    emu.advance(3600)
    model = sdk.fine_tuning.retrieve(job_id).x_model_output_name
    assert model
    answer = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "q3"}])
    assert answer.choices[0].message.content == "a3"  # type: ignore[union-attr]
    base = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "base model" in str(base.choices[0].message.content)  # type: ignore[union-attr]
    with pytest.raises(together.NotFoundError):
        sdk.chat.completions.create(
            model="nobody/nothing", messages=[{"role": "user", "content": "x"}]
        )
    assert "ChatCompletion" in check_all(seen)


def test_unknown_models_and_bad_requests_are_api_errors(
    sdk: together.Together, train: Path
) -> None:
    file_id = sdk.files.upload(train, purpose="fine-tune", check=False).id
    with pytest.raises(together.NotFoundError, match="not available"):
        sdk.fine_tuning.create(training_file=file_id, model="nobody/nothing")
    with pytest.raises(together.NotFoundError):
        sdk.fine_tuning.retrieve("ft-missing")
    with pytest.raises(together.APIStatusError) as caught:
        sdk.fine_tuning.create(training_file="file-missing", model=MODEL, model_limits=None)
    assert caught.value.status_code == 404


def test_keys_are_checked_when_one_is_set(train: Path) -> None:
    with TogetherEmulator(manual_clock=True, api_key="tgp_v1_right") as emu:
        with pytest.raises(together.AuthenticationError):
            emu.client(api_key="tgp_v1_wrong", max_retries=0).files.list()
        assert emu.client(max_retries=0).files.list().data == []


def test_fault_plans_apply_to_together_paths(emu: TogetherEmulator, sdk: together.Together) -> None:
    emu.add_faults(Fault.error(503, method="GET", path="/fine-tunes", retry_after=0, times=2))
    with pytest.raises(together.InternalServerError):
        sdk.fine_tuning.list()
    assert emu.client(max_retries=2).fine_tuning.list().data == []
    assert count(emu, "GET", "/v1/fine-tunes") == 3
    assert len(emu.faults) == 2
