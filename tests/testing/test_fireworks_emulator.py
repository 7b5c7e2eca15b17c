"""The Fireworks emulator on its own, through the real fireworks-ai SDK."""

from __future__ import annotations

import json
from pathlib import Path

import fireworks
import httpx
import pytest
from fireworks_helpers import MODEL, check_all
from together_helpers import Seen, recording_client

from finetune_kit import ConfigError
from finetune_kit.testing import Fault, FireworksEmulator


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(16)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _ready(sdk: fireworks.Fireworks, dataset_id: str, data: Path) -> str:
    created = sdk.datasets.create(dataset_id=dataset_id, dataset={"user_uploaded": {}})
    assert created.state == "UPLOADING"
    with data.open("rb") as fh:
        sdk.datasets.upload(dataset_id, file=fh)
    return str(created.name)


def test_a_job_runs_its_states_in_order_on_the_manual_clock(data: Path) -> None:
    seen = Seen()
    with FireworksEmulator(manual_clock=True) as emu:
        sdk = recording_client(emu, seen, max_retries=0)  # type: ignore[arg-type]
        name = _ready(sdk, "d1", data)
        job = sdk.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=MODEL, epochs=2, supervised_fine_tuning_job_id="j1"
        )
        states = [job.state]
        for _ in range(40):
            emu.advance(2)
            state = sdk.supervised_fine_tuning_jobs.get("j1").state
            if state != states[-1]:
                states.append(state)
        assert states == [
            "JOB_STATE_CREATING",
            "JOB_STATE_VALIDATING",
            "JOB_STATE_PENDING",
            "JOB_STATE_RUNNING",
            "JOB_STATE_WRITING_RESULTS",
            "JOB_STATE_COMPLETED",
        ]
        done = sdk.supervised_fine_tuning_jobs.get("j1")
        assert done.output_model == "accounts/emulator/models/j1"
        assert done.job_progress is not None and done.job_progress.percent == 100
        rows = [
            json.loads(x) for x in httpx.get(str(done.metrics_file_signed_url)).text.splitlines()
        ]
        assert [r["step"] for r in rows] == list(range(1, 5))  # 16 examples / 8 per step x 2
        assert {"Dataset", "SupervisedFineTuningJob", "DatasetUploadResponse"} <= check_all(seen)


def test_datasets_and_jobs_are_listed_in_pages(data: Path) -> None:
    with FireworksEmulator(speed=20_000) as emu:
        sdk = emu.client(max_retries=0)
        for i in range(3):
            sdk.datasets.create(dataset_id=f"d{i}", dataset={"user_uploaded": {}})
        first = sdk.datasets.list(page_size=2)
        assert len(first.datasets) == 2 and first.next_page_token == "2"
        rest = sdk.datasets.list(page_size=2, page_token=first.next_page_token)
        assert [d.name for d in rest.datasets] == ["accounts/emulator/datasets/d2"]
        assert rest.next_page_token is None
        assert len(list(sdk.datasets.list(page_size=1))) == 3  # the SDK's auto-paging


def test_bad_requests_answer_with_the_grpc_status(data: Path) -> None:
    with FireworksEmulator(speed=20_000) as emu:
        sdk = emu.client(max_retries=0)
        with pytest.raises(fireworks.BadRequestError) as bad_id:
            sdk.datasets.create(dataset_id="Not_Valid", dataset={"user_uploaded": {}})
        body = bad_id.value.body
        assert isinstance(body, dict)
        assert body.get("error", body)["status"] == "INVALID_ARGUMENT"
        with pytest.raises(fireworks.NotFoundError):
            sdk.datasets.get("missing")
        name = sdk.datasets.create(dataset_id="empty", dataset={"user_uploaded": {}}).name
        with pytest.raises(fireworks.BadRequestError, match="not ready"):
            sdk.supervised_fine_tuning_jobs.create(dataset=str(name), base_model=MODEL)
        ready = _ready(sdk, "full", data)
        with pytest.raises(fireworks.NotFoundError, match="not available"):
            sdk.supervised_fine_tuning_jobs.create(dataset=ready, base_model="accounts/x/models/y")
        with pytest.raises(fireworks.APIStatusError) as twice, data.open("rb") as fh:
            sdk.datasets.upload("full", file=fh)
        assert twice.value.status_code == 412


def test_a_signed_url_takes_one_put_and_needs_its_token(data: Path) -> None:
    with FireworksEmulator(speed=20_000) as emu:
        sdk = emu.client(max_retries=0)
        sdk.datasets.create(dataset_id="big", dataset={"user_uploaded": {}})
        urls = sdk.datasets.get_upload_endpoint(
            "big", filename_to_size={"data.jsonl": str(data.stat().st_size)}
        ).filename_to_signed_urls
        assert urls is not None
        url = urls["data.jsonl"]
        assert httpx.put(url.split("?")[0] + "?token=wrong", content=b"x").status_code == 403
        assert httpx.put(url, content=data.read_bytes()).status_code == 200
        sdk.datasets.validate_upload("big", body={})
        assert sdk.datasets.get("big").state == "READY"
        assert sdk.datasets.get("big").example_count == "16"
        assert httpx.put(url, content=b"again").status_code == 403


def test_cancel_resume_delete_and_a_paused_job(data: Path) -> None:
    with FireworksEmulator(manual_clock=True) as emu:
        sdk = emu.client(max_retries=0)
        name = _ready(sdk, "d", data)
        sdk.supervised_fine_tuning_jobs.create(
            dataset=name, base_model=MODEL, epochs=4, supervised_fine_tuning_job_id="j"
        )
        emu.advance(17)
        assert sdk.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_RUNNING"
        emu.pause("accounts/emulator/supervisedFineTuningJobs/j")
        assert sdk.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_PAUSED"
        sdk.supervised_fine_tuning_jobs.resume("j", body={})
        assert sdk.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_RE_QUEUEING"
        emu.advance(12)
        sdk.supervised_fine_tuning_jobs.cancel("j", body={})
        assert sdk.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_CANCELLING"
        emu.advance(5)
        assert sdk.supervised_fine_tuning_jobs.get("j").state == "JOB_STATE_CANCELLED"
        with pytest.raises(fireworks.APIStatusError):
            sdk.supervised_fine_tuning_jobs.cancel("j", body={})
        sdk.supervised_fine_tuning_jobs.delete("j")
        with pytest.raises(fireworks.NotFoundError):
            sdk.supervised_fine_tuning_jobs.get("j")


def test_faults_apply_to_fireworks_paths(data: Path) -> None:
    plan = [Fault.error(503, method="POST", path="/v1/accounts/*/datasets/*:upload", retry_after=0)]
    with FireworksEmulator(speed=20_000, faults=plan) as emu:
        sdk = emu.client(max_retries=0)
        sdk.datasets.create(dataset_id="d", dataset={"user_uploaded": {}})
        with pytest.raises(fireworks.InternalServerError), data.open("rb") as fh:
            sdk.datasets.upload("d", file=fh)
        assert len(emu.faults) == 1


def test_the_key_is_checked_and_options_are_validated() -> None:
    with FireworksEmulator(speed=20_000, api_key="fw_right") as emu:
        with pytest.raises(fireworks.AuthenticationError):
            emu.client(api_key="fw_wrong", max_retries=0).datasets.list()
        assert emu.client(max_retries=0).datasets.list().datasets == []
    with pytest.raises(ConfigError, match="duplicate_ids"):
        FireworksEmulator(duplicate_ids="maybe")
    with pytest.raises(ConfigError, match="speed"):
        FireworksEmulator(speed=0)
