"""JobClient and AsyncJobClient against the emulator: same scenarios, same results."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import good_example
from finetune_kit import (
    AsyncJobClient,
    AuthenticationFailed,
    ConfigError,
    Dataset,
    JobClient,
    JobCreationRefused,
    JobFailed,
    JobTimeout,
    ValidationFailed,
    set_testing,
)
from finetune_kit.testing import Emulator, Fault

MODEL = "gpt-4o-mini-2024-07-18"


_RUNNERS: list[Runner] = []


@pytest.fixture(autouse=True)
def _instant_waits() -> Iterator[None]:
    set_testing(True)
    yield
    set_testing(False)
    while _RUNNERS:
        _RUNNERS.pop().close()


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text(
        "".join(json.dumps(good_example(i)) + "\n" for i in range(12)), encoding="utf-8"
    )
    return path


class Runner:
    """Runs the same calls through the sync or the async client."""

    def __init__(self, emu: Emulator, kind: str, **options: Any) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop()
        if kind == "sync":
            self.client: Any = JobClient(emu.client(), poll_interval=0.01, **options)
        else:
            self.client = AsyncJobClient(emu.async_client(), poll_interval=0.01, **options)
        _RUNNERS.append(self)

    def close(self) -> None:
        if self.kind == "async":
            self.loop.run_until_complete(self.client.openai.close())
        self.loop.close()

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        if self.kind == "async":
            if inspect.isasyncgen(result):

                async def collect() -> list[Any]:
                    return [x async for x in result]

                return self.loop.run_until_complete(collect())
            return self.loop.run_until_complete(result)
        return list(result) if inspect.isgenerator(result) or name == "events" else result


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _start_job(run: Runner, emu: Emulator, path: Path) -> Any:
    """Upload and create without waiting (the manual clock moves only when told)."""
    ref = run("upload", path, wait=False)
    emu.advance(5)
    return run("create_job", ref, MODEL)


def _posts(emu: Emulator, path: str) -> int:
    return sum(1 for r in emu.requests if r.method == "POST" and r.path == path)


FAULT_PLANS: dict[str, list[Fault]] = {
    "503 with Retry-After on upload and create": [
        Fault.error(503, method="POST", path="/files", retry_after=0.01),
        Fault.error(503, method="POST", path="/fine_tuning/jobs", retry_after=0.01),
    ],
    "429s on upload": [Fault.error(429, method="POST", path="/files", times=3)],
    "500s on create": [Fault.error(500, method="POST", path="/fine_tuning/jobs", times=2)],
    "drop before commit on upload and create": [
        Fault.drop_before(method="POST", path="/files"),
        Fault.drop_before(method="POST", path="/fine_tuning/jobs"),
    ],
    "drop after commit on upload and create": [
        Fault.drop_after(method="POST", path="/files"),
        Fault.drop_after(method="POST", path="/fine_tuning/jobs"),
    ],
    "500s on polling and events": [
        Fault.error(500, method="GET", path="/fine_tuning/jobs/*", times=3),
        Fault.error(503, method="GET", path="/fine_tuning/jobs/*/events", retry_after=0),
    ],
}


@pytest.mark.parametrize("plan", list(FAULT_PLANS), ids=list(FAULT_PLANS))
def test_faults_end_with_exactly_one_file_and_one_job(
    plan: str, kind: str, train_file: Path
) -> None:
    with Emulator(speed=5000, faults=FAULT_PLANS[plan]) as emu:
        run = Runner(emu, kind)
        job = run("train", train_file, MODEL, suffix="bard")
        assert job.status == "succeeded"
        assert job.fine_tuned_model.startswith(f"ft:{MODEL}:")
        assert len(emu.state.list_files(purpose="fine-tune")) == 1
        assert len(emu.state.list_jobs()) == 1
        assert len(emu.faults) == sum(f.times or 1 for f in FAULT_PLANS[plan])
        if plan.startswith("drop after"):
            # the lost responses were not followed by second writes: the client looked first
            assert _posts(emu, "/v1/files") == 1
            assert _posts(emu, "/v1/fine_tuning/jobs") == 1


def test_plain_sdk_calls_duplicate_under_the_same_plan(train_file: Path) -> None:
    """The contrast: the SDK's own retries write twice when a response is lost."""
    plan = FAULT_PLANS["drop after commit on upload and create"]
    with Emulator(speed=5000, faults=plan) as emu:
        sdk = emu.client(max_retries=2)
        with train_file.open("rb") as fh:
            f = sdk.files.create(file=fh, purpose="fine-tune")
        sdk.fine_tuning.jobs.create(model=MODEL, training_file=f.id)
        assert len(emu.state.list_files(purpose="fine-tune")) == 2
        assert len(emu.state.list_jobs()) == 2


def test_same_train_call_twice_reuses_file_and_job(kind: str, train_file: Path) -> None:
    with Emulator(speed=5000) as emu:
        run = Runner(emu, kind)
        first = run("train", train_file, MODEL, suffix="bard", seed=1)
        second = run("train", train_file, MODEL, suffix="bard", seed=1)
        assert second.id == first.id and second.reused
        other = run("train", train_file, MODEL, suffix="bard", seed=2)
        assert other.id != first.id
        assert len(emu.state.list_files(purpose="fine-tune")) == 1
        assert len(emu.state.list_jobs()) == 2


def test_upload_of_a_dataset_is_content_addressed(kind: str) -> None:
    dataset = Dataset.from_records([good_example(i) for i in range(10)])
    with Emulator(speed=5000) as emu:
        run = Runner(emu, kind)
        a = run("upload", dataset)
        b = run("upload", dataset)
        assert a.id == b.id and not a.reused and b.reused
        assert a.status == "processed" and a.sha256 and a.sha256[:16] in a.filename


def test_large_files_go_through_the_uploads_api(kind: str, train_file: Path) -> None:
    with Emulator(speed=5000) as emu:
        run = Runner(emu, kind, chunked_above=100)
        ref = run("upload", train_file)
        assert ref.status == "processed"
        assert _posts(emu, "/v1/uploads") == 1 and _posts(emu, "/v1/files") == 0
        assert run("upload", train_file).reused


def test_a_file_with_errors_is_refused_before_any_request(kind: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n', encoding="utf-8")
    with Emulator() as emu:
        run = Runner(emu, kind)
        with pytest.raises(ValidationFailed) as info:
            run("upload", bad)
        assert info.value.report.errors
        assert emu.requests == []


def test_failed_job_raises_with_openai_error(kind: str, train_file: Path) -> None:
    with Emulator(speed=5000) as emu:
        emu.fail_next_job("invalid_training_file", "Line 3 is bad.", param="training_file")
        run = Runner(emu, kind)
        with pytest.raises(JobFailed) as info:
            run("train", train_file, MODEL)
        assert info.value.code == "invalid_training_file"
        assert "Line 3 is bad." in str(info.value)
        assert info.value.job.status == "failed"


def test_timeout_does_not_cancel_the_job(kind: str, train_file: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        run = Runner(emu, kind)
        job = _start_job(run, emu, train_file)
        with pytest.raises(JobTimeout) as info:
            run("wait", job, timeout=0.05)
        assert info.value.job_id == job.id
        assert run("get", job).status not in ("cancelled", "succeeded")
        assert not any(r.path.endswith("/cancel") for r in emu.requests)


def test_a_thousand_polls_deliver_each_event_once(train_file: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        client = JobClient(emu.client(), poll_interval=0)
        job = _start_job(Runner(emu, "sync"), emu, train_file)
        seen: list[Any] = []
        polls = {"n": 0}

        def tick(_job: Any) -> None:
            polls["n"] += 1
            emu.advance(0.1)

        final = client.wait(job, on_event=seen.append, on_poll=tick)
        everything = list(client.events(job))
        assert final.status == "succeeded"
        assert polls["n"] >= 1000, polls
        assert [e.id for e in seen] == [e.id for e in everything]
        assert len({e.id for e in seen}) == len(seen)


def test_a_ten_minute_job_is_followed_in_well_under_ten_minutes(train_file: Path) -> None:
    with Emulator(speed=600) as emu:  # ten emulated minutes pass every real second
        client = JobClient(emu.client(), poll_interval=0.05)
        job = client.train(train_file, MODEL)
        assert job.status == "succeeded"
        assert job.finished_at - job.created_at >= 60


def test_events_checkpoints_metrics_and_ask(kind: str, train_file: Path) -> None:
    with Emulator(speed=5000, results_base64=(kind == "async")) as emu:
        run = Runner(emu, kind)
        job = run("train", train_file, MODEL, validation_data=train_file, n_epochs=3)
        events = run("events", job)
        assert events[0].created_at <= events[-1].created_at
        assert any(e.type == "metrics" for e in events)
        checkpoints = run("checkpoints", job)
        assert 1 <= len(checkpoints) <= 3
        assert checkpoints[-1].fine_tuned_model_checkpoint.startswith("ft:")
        metrics = run("metrics", job)
        assert {"step", "train_loss", "train_accuracy", "valid_loss"} <= set(metrics.columns)
        assert metrics["valid_loss"].notna().any()
        answer = run(
            "ask",
            job.fine_tuned_model,
            "Question 1: what is overfitting?",
            system="Answer as Shakespeare would.",
        )
        assert isinstance(answer, str) and answer
        listed = run("list", 10)
        assert [j.id for j in listed] == [job.id]


def test_metrics_while_running_come_from_events(train_file: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        client = JobClient(emu.client())
        job = _start_job(Runner(emu, "sync"), emu, train_file)
        emu.advance(120)
        running = client.get(job)
        assert running.status == "running", running
        frame = client.metrics(job)
        assert len(frame) > 0 and frame["step"].is_monotonic_increasing
        assert frame.attrs["status"] == "running"


def test_cancel_pause_resume(kind: str, train_file: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        run = Runner(emu, kind)
        job = _start_job(run, emu, train_file)
        emu.advance(120)
        assert run("pause", job).status == "paused"
        assert run("resume", job).status in ("running", "queued")
        assert run("cancel", job).status == "cancelled"
        with pytest.raises(JobFailed):
            run("wait", job)


def test_bad_api_key_is_an_authentication_error_without_the_key(train_file: Path) -> None:
    with Emulator(api_key="sk-right-key-0123456789") as emu:
        secret = "sk-wrong-key-0123456789abcdef"
        client = JobClient(emu.client(api_key=secret))
        with pytest.raises(AuthenticationFailed) as info:
            client.upload(train_file)
        assert secret not in str(info.value)
        assert "OPENAI_API_KEY" in str(info.value)


def test_refused_job_creation_explains_the_wind_down(train_file: Path) -> None:
    with Emulator() as emu:
        emu.refuse_job_creation()
        client = JobClient(emu.client())
        with pytest.raises(JobCreationRefused, match="2027-01-06"):
            client.train(train_file, MODEL)


def test_missing_api_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        JobClient()


def test_bad_hyperparameters_are_refused_before_any_request(train_file: Path) -> None:
    with Emulator() as emu:
        client = JobClient(emu.client())
        with pytest.raises(ConfigError, match="n_epochs"):
            client.create_job("file-x", MODEL, n_epochs=99)
        with pytest.raises(ConfigError, match="beta"):
            client.create_job("file-x", MODEL, beta=0.1)
        assert emu.requests == []


def _public(cls: type) -> dict[str, Callable[..., Any]]:
    return {n: f for n, f in vars(cls).items() if not n.startswith("_") and callable(f)}


def test_sync_and_async_clients_have_the_same_methods_and_parameters() -> None:
    sync, async_ = _public(JobClient), _public(AsyncJobClient)
    sync.pop("archive")  # a batch download: sync only (async code: asyncio.to_thread)
    assert sorted(sync) == sorted(async_)
    for name, func in sync.items():
        s = inspect.signature(func)
        a = inspect.signature(async_[name])
        assert list(s.parameters) == list(a.parameters), name
        assert [p.default for p in s.parameters.values()] == [
            p.default for p in a.parameters.values()
        ], name
        assert inspect.iscoroutinefunction(async_[name]) or inspect.isasyncgenfunction(
            async_[name]
        ), name


def test_train_timeout_also_bounds_waiting_for_file_processing(train_file: Path) -> None:
    from finetune_kit import APIError

    with Emulator(manual_clock=True) as emu:  # the file is never processed
        client = JobClient(emu.client())
        with pytest.raises(APIError, match="not processed within"):
            client.train(train_file, MODEL, timeout=0.05)
        assert emu.state.list_jobs() == []


def test_job_hyperparameters_come_from_the_method(train_file: Path) -> None:
    with Emulator(speed=5000) as emu:
        client = JobClient(emu.client(), poll_interval=0.01)
        job = client.train(train_file, MODEL, n_epochs=2, wait=False)
        assert job.hyperparameters["n_epochs"] == 2
        assert job.method["type"] == "supervised"
