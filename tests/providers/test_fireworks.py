"""The Fireworks adapter driven by JobClient and AsyncJobClient against the Fireworks emulator."""

from __future__ import annotations

from pathlib import Path

import fireworks
import pytest
from fireworks_helpers import MODEL, check_all
from together_helpers import SdkRunner, Seen, count, write_train_file

from finetune_kit import ConfigError, JobClient
from finetune_kit.errors import APIError, JobFailed, ProviderUnsupported
from finetune_kit.providers import fireworks as adapter
from finetune_kit.providers.base import JobSpec, UploadSpec
from finetune_kit.providers.fireworks import FIREWORKS, FireworksProvider, remote_job
from finetune_kit.testing import Fault, FireworksEmulator

pytestmark = pytest.mark.usefixtures("instant_waits")
DATASETS = "/v1/accounts/*/datasets"
UPLOAD = "/v1/accounts/*/datasets/*:upload"
JOBS = "/v1/accounts/*/supervisedFineTuningJobs"


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_train_file(tmp_path)


FAULT_PLANS: dict[str, list[Fault]] = {
    "503 with Retry-After on dataset create and job create": [
        Fault.error(503, method="POST", path=DATASETS, retry_after=0.01),
        Fault.error(503, method="POST", path=JOBS, retry_after=0.01),
    ],
    "429s on upload": [Fault.error(429, method="POST", path=UPLOAD, times=3)],
    "500s on job create": [Fault.error(500, method="POST", path=JOBS, times=2)],
    "drop before commit on dataset create, upload and job create": [
        Fault.drop_before(method="POST", path=DATASETS),
        Fault.drop_before(method="POST", path=UPLOAD),
        Fault.drop_before(method="POST", path=JOBS),
    ],
    "drop after commit on dataset create, upload and job create": [
        Fault.drop_after(method="POST", path=DATASETS),
        Fault.drop_after(method="POST", path=UPLOAD),
        Fault.drop_after(method="POST", path=JOBS),
    ],
    "500s on polling": [Fault.error(500, method="GET", path=f"{JOBS}/*", times=3)],
}

# (POST datasets, POST :upload, POST jobs) each plan leads to. A retried dataset create after
# a lost or refused upload answers ALREADY_EXISTS (409), which the adapter takes as "found".
WRITES: dict[str, tuple[int, int, int]] = {
    "503 with Retry-After on dataset create and job create": (2, 1, 2),
    "429s on upload": (4, 4, 1),
    "500s on job create": (1, 1, 3),
    "drop before commit on dataset create, upload and job create": (3, 2, 2),
    "drop after commit on dataset create, upload and job create": (2, 1, 1),
    "500s on polling": (1, 1, 1),
}


@pytest.mark.parametrize("duplicates", ["conflict", "return"])
@pytest.mark.parametrize("plan", list(FAULT_PLANS), ids=list(FAULT_PLANS))
def test_faults_end_with_exactly_one_dataset_and_one_job(
    plan: str, duplicates: str, kind: str, train_file: Path
) -> None:
    seen = Seen()
    with FireworksEmulator(speed=20_000, faults=FAULT_PLANS[plan], duplicate_ids=duplicates) as emu:
        run = SdkRunner(emu, kind, seen)
        job = run("train", train_file, MODEL, suffix="bard")
        assert job.status == "succeeded" and job.provider_status == "JOB_STATE_COMPLETED"
        assert job.fine_tuned_model == f"accounts/emulator/models/{job.id}"
        assert len(emu.faults) == sum(f.times or 1 for f in FAULT_PLANS[plan])
        creates, uploads, jobs = WRITES[plan]
        assert count(emu, "POST", DATASETS) == creates
        assert count(emu, "POST", UPLOAD) == uploads
        assert count(emu, "POST", JOBS) == jobs
        assert count(emu, "GET", DATASETS) >= 1 and count(emu, "GET", JOBS) >= jobs
        if plan.startswith("drop after"):  # each lost answer was followed by a look, not a write
            assert count(emu, "GET", DATASETS) == 3 and count(emu, "GET", JOBS) == 3
        sdk = emu.client(max_retries=0)
        assert len(sdk.datasets.list().datasets) == 1
        assert len(sdk.supervised_fine_tuning_jobs.list().supervised_fine_tuning_jobs) == 1
        names = check_all(seen)
        assert {"Dataset", "SupervisedFineTuningJob", "page of Dataset"} <= names
        # the one upload answer is lost under drop-after; every other plan sees one
        assert ("DatasetUploadResponse" in names) != plan.startswith("drop after")


def test_plain_sdk_calls_duplicate_under_the_same_plan(train_file: Path) -> None:
    """The contrast: a job created without a chosen id, retried by the SDK, is created twice."""
    plan = [Fault.drop_after(method="POST", path=JOBS)]
    with FireworksEmulator(speed=20_000, faults=plan) as emu:
        sdk = emu.client(max_retries=2)  # the SDK's default retries
        dataset = sdk.datasets.create(dataset_id="plain", dataset={"user_uploaded": {}})
        with train_file.open("rb") as fh:
            sdk.datasets.upload("plain", file=fh)
        sdk.supervised_fine_tuning_jobs.create(dataset=str(dataset.name), base_model=MODEL)
        assert len(sdk.supervised_fine_tuning_jobs.list().supervised_fine_tuning_jobs) == 2


def test_a_chosen_id_that_exists_is_refused_or_returned_by_the_emulator(train_file: Path) -> None:
    for mode in ("conflict", "return"):
        with FireworksEmulator(speed=20_000, duplicate_ids=mode) as emu:
            sdk = emu.client(max_retries=0)
            sdk.datasets.create(dataset_id="same", dataset={"user_uploaded": {}})
            if mode == "conflict":
                with pytest.raises(fireworks.ConflictError):
                    sdk.datasets.create(dataset_id="same", dataset={"user_uploaded": {}})
            else:
                again = sdk.datasets.create(dataset_id="same", dataset={"user_uploaded": {}})
                assert again.name == "accounts/emulator/datasets/same"
            assert len(sdk.datasets.list().datasets) == 1


def test_same_train_call_twice_reuses_dataset_and_job_and_other_parameters_do_not(
    kind: str, train_file: Path
) -> None:
    with FireworksEmulator(speed=20_000) as emu:
        run = SdkRunner(emu, kind)
        first = run("train", train_file, MODEL, suffix="bard")
        second = run("train", train_file, MODEL, suffix="bard")
        assert second.id == first.id and second.reused and not first.reused
        other = run("train", train_file, MODEL, suffix="bard", n_epochs=2)
        rank = run("train", train_file, MODEL, suffix="bard", hyperparameters={"lora_rank": 16})
        assert len({first.id, other.id, rank.id}) == 3
        assert other.hyperparameters["n_epochs"] == 2 and rank.hyperparameters["lora_rank"] == 16
        assert len(emu.state.list_datasets()) == 1
        assert count(emu, "POST", JOBS) == 3


def test_a_failed_job_is_not_reused_and_its_retry_gets_the_next_id(
    kind: str, train_file: Path
) -> None:
    with FireworksEmulator(speed=20_000) as emu:
        run = SdkRunner(emu, kind)
        emu.fail_next_job()
        with pytest.raises(JobFailed) as caught:
            run("train", train_file, MODEL)
        failed = caught.value.job
        assert failed.status == "failed" and failed.provider_status == "JOB_STATE_FAILED"
        again = run("train", train_file, MODEL)
        assert again.status == "succeeded" and not again.reused
        assert again.id == f"{failed.id}-2"


def test_reads_events_metrics_cancel_resume_and_ask(kind: str, train_file: Path) -> None:
    seen = Seen()
    with FireworksEmulator(manual_clock=True) as emu:
        run = SdkRunner(emu, kind, seen)
        job = run("train", train_file, MODEL, n_epochs=2, wait=False)
        assert job.provider == "fireworks" and job.status == "validating_files"
        emu.advance(20)
        running = run("get", job)
        assert running.status == "running" and running.provider_status == "JOB_STATE_RUNNING"
        emu.advance(3600)
        done = run("wait", job)
        assert done.status == "succeeded" and done.finished_at
        events = run("events", job)
        assert {e.message for e in events} >= {f"Fine-tuning job {job.id} created", "Job completed"}
        assert len({e.id for e in events}) == len(events)
        frame = run("metrics", job)
        assert list(frame["step"])[:3] == [1, 2, 3] and "train_loss" in frame.columns
        assert "Question 3" not in run(
            "ask", done.fine_tuned_model, "Question 3: what is overfitting?"
        )
        assert run("ask", done.fine_tuned_model, "Question 3: what is overfitting?") == (
            "A model that learns its lessons too well."
        )
        with pytest.raises(ProviderUnsupported):
            run("checkpoints", job)
        with pytest.raises(ProviderUnsupported):
            run("pause", job)
        # cancel, then resume from where it stopped
        later = run("train", train_file, MODEL, n_epochs=3, wait=False)
        emu.advance(25)
        cancelled = run("cancel", later)
        assert cancelled.status == "cancelled"
        emu.advance(10)
        resumed = run("resume", later)
        assert resumed.status == "queued" and resumed.provider_status == "JOB_STATE_RE_QUEUEING"
        emu.advance(3600)
        assert run("wait", later).status == "succeeded"
        check_all(seen)


def test_every_fireworks_state_maps_onto_the_products() -> None:
    from finetune_kit.providers.base import PRODUCT_STATUSES

    states = SupervisedFineTuningJobStates()
    assert set(FIREWORKS.statuses) == states
    assert set(FIREWORKS.statuses.values()) <= set(PRODUCT_STATUSES)
    assert FIREWORKS.product_status("JOB_STATE_EARLY_STOPPED") == "succeeded"
    assert FIREWORKS.product_status("JOB_STATE_CANCELLING") == "cancelled"
    assert FIREWORKS.product_status("JOB_STATE_SOMETHING_NEW") == "JOB_STATE_SOMETHING_NEW"


def SupervisedFineTuningJobStates() -> set[str]:
    from typing import get_args

    from fireworks.types import SupervisedFineTuningJob

    annotation = SupervisedFineTuningJob.model_fields["state"].annotation
    literal = next(a for a in get_args(annotation) if get_args(a))
    return set(get_args(literal))


def test_job_requests_choose_their_id_and_refuse_foreign_parameters() -> None:
    provider = FireworksProvider()
    spec = JobSpec("accounts/a/datasets/d", MODEL, hyperparameters={"n_epochs": 2})
    request = provider.job_request(spec)
    assert request["supervised_fine_tuning_job_id"].startswith("ftk-")
    assert request == {
        "dataset": "accounts/a/datasets/d",
        "base_model": MODEL,
        "epochs": 2,
        "supervised_fine_tuning_job_id": request["supervised_fine_tuning_job_id"],
    }
    assert provider.job_request(spec) == request  # the same request, the same id
    seeded = provider.job_request(
        JobSpec("accounts/a/datasets/d", MODEL, seed=3, hyperparameters={"n_epochs": 2})
    )
    assert "seed" not in seeded  # Fireworks takes none; the seed tells the requests apart
    assert seeded["supervised_fine_tuning_job_id"] != request["supervised_fine_tuning_job_id"]
    other = provider.job_request(
        JobSpec("accounts/a/datasets/d", MODEL, hyperparameters={"n_epochs": 3})
    )
    assert other["supervised_fine_tuning_job_id"] != request["supervised_fine_tuning_job_id"]
    warm = provider.job_request(
        JobSpec(
            "accounts/a/datasets/d",
            MODEL,
            hyperparameters={"warm_start_from": "accounts/a/models/m"},
        )
    )
    assert "base_model" not in warm and warm["warm_start_from"] == "accounts/a/models/m"
    bad: list[JobSpec] = [
        JobSpec("d", MODEL, method="dpo"),
        JobSpec("d", MODEL, hyperparameters={"learning_rate_multiplier": 2}),
        JobSpec("d", MODEL, hyperparameters={"beta": 0.1}),
        JobSpec("d", MODEL, hyperparameters={"n_epochs": 0}),
        JobSpec("d", MODEL, hyperparameters={"learning_rate": -1}),
    ]
    for wrong in bad:
        with pytest.raises(ConfigError):
            provider.job_request(wrong)


def test_dataset_ids_carry_the_content_hash_and_size(train_file: Path) -> None:
    spec = UploadSpec(train_file, "ab" * 32, 1234, "fine-tune")
    assert adapter.dataset_id(spec) == f"ftk-{'ab' * 12}-1234"
    assert len(adapter.dataset_id(UploadSpec(train_file, "c" * 64, 8 * 1024**3, "fine-tune"))) <= 63
    remote = adapter.remote_file(
        {"name": f"accounts/x/datasets/ftk-{'ab' * 12}-1234", "state": "READY", "displayName": "t"}
    )
    assert remote["bytes"] == 1234 and remote["status"] == "processed"
    failed = adapter.remote_file(
        {"name": "accounts/x/datasets/y", "state": "READY", "status": {"code": "INVALID_ARGUMENT"}}
    )
    assert failed["status"] == "error"


def test_large_files_go_through_the_signed_url(
    kind: str, train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter, "DIRECT_UPLOAD_LIMIT", 100)  # the file is larger than that
    seen = Seen()
    with FireworksEmulator(speed=20_000) as emu:
        run = SdkRunner(emu, kind, seen)
        job = run("train", train_file, MODEL)
        assert job.status == "succeeded"
        assert count(emu, "POST", UPLOAD) == 0
        assert count(emu, "POST", "/v1/accounts/*/datasets/*:getUploadEndpoint") == 1
        assert count(emu, "POST", "/v1/accounts/*/datasets/*:validateUpload") == 1
        assert "DatasetGetUploadEndpointResponse" in check_all(seen)


def test_metrics_files_are_read_as_json_lines_or_csv() -> None:
    assert adapter._metric_rows(b'{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n') == [
        {"step": 1, "train_loss": 0.5},
        {"step": 2, "train_loss": 0.4},
    ]
    assert adapter._metric_rows(b"step,train_loss,valid_loss\n1,0.5,\n2,0.4,0.6\n") == [
        {"step": 1, "train_loss": 0.5, "valid_loss": None},
        {"step": 2, "train_loss": 0.4, "valid_loss": 0.6},
    ]
    assert adapter._metric_rows(b"") == []


def test_remote_job_reads_a_failure_and_the_cost() -> None:
    job = remote_job(
        {
            "name": "accounts/a/supervisedFineTuningJobs/j",
            "state": "JOB_STATE_FAILED",
            "status": {"code": "INTERNAL", "message": "worker lost"},
            "estimated_cost": {"currency_code": "USD", "units": "1", "nanos": 250_000_000},
            "dataset": "accounts/a/datasets/d",
        }
    )
    assert job["status"] == "failed" and job["error"] == {
        "code": "INTERNAL",
        "message": "worker lost",
        "param": None,
    }
    assert job["estimated_cost"] == 1.25 and job["id"] == "j"


def test_missing_variables_are_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_API_KEY", raising=False)
    monkeypatch.delenv("FIREWORKS_ACCOUNT_ID", raising=False)
    with pytest.raises(ConfigError, match="FIREWORKS_ACCOUNT_ID"):
        FireworksProvider().new_client(async_=False)
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "me")
    with pytest.raises(ConfigError, match="FIREWORKS_API_KEY") as caught:
        FireworksProvider().new_client(async_=False)
    assert "\n" not in str(caught.value.args[0])


def test_a_rejected_key_never_appears_in_the_error(train_file: Path) -> None:
    secret = "fw_SECRETSECRETSECRET123456"
    with FireworksEmulator(speed=20_000, api_key="fw_the-right-one") as emu:
        client = JobClient(emu.client(api_key=secret, max_retries=0))
        with pytest.raises(APIError) as caught:
            client.train(train_file, MODEL)
        assert secret not in str(caught.value) and secret not in repr(caught.value)
        assert "FIREWORKS_API_KEY" in str(caught.value.hint)


def test_the_client_recognises_a_fireworks_client() -> None:
    with FireworksEmulator(speed=20_000) as emu:
        client = JobClient(emu.client())
        assert client.provider.facts.name == "fireworks"
