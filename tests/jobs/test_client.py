"""JobClient and AsyncJobClient against the emulator: same scenarios, same results."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from client_runner import Runner as ClientRunner

from conftest import GOOD, good_example
from emulator_helpers import (
    EVENTS,
    FAULT_PLANS,
    FILES,
    JOB,
    JOBS,
    POST_FILES,
    clean_run_log,
    request_log,
    retries,
)
from finetune_kit import (
    APIConnectionFailed,
    APIError,
    AsyncJobClient,
    AuthenticationFailed,
    ConfigError,
    Dataset,
    FinetuneKitError,
    JobClient,
    JobCreationRefused,
    JobFailed,
    JobTimeout,
    QuotaExceeded,
    RecordedWait,
    RetryPolicy,
    ValidationFailed,
    recorded_waits,
    set_testing,
)
from finetune_kit.providers.openai import OpenAIProvider
from finetune_kit.testing import Emulator, Fault
from finetune_kit.testing._routes import dispatch
from finetune_kit.testing._wire import Request

MODEL = "gpt-4o-mini-2024-07-18"


pytestmark = pytest.mark.usefixtures("instant_waits")


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text(
        "".join(json.dumps(good_example(i)) + "\n" for i in range(12)), encoding="utf-8"
    )
    return path


class Runner(ClientRunner):
    """A `ClientRunner` on the OpenAI emulator."""

    def __init__(self, emu: Emulator, kind: str, **options: Any) -> None:
        super().__init__(kind, emu.client, emu.async_client, **options)


def _start_job(run: Runner, emu: Emulator, path: Path) -> Any:
    """Upload and create without waiting (the manual clock moves only when told)."""
    ref = run("upload", path, wait=False)
    emu.advance(5)
    return run("create_job", ref, MODEL)


def _posts(emu: Emulator, path: str) -> int:
    return sum(1 for r in emu.requests if r.method == "POST" and r.path == path)


@pytest.mark.parametrize("plan", list(FAULT_PLANS), ids=list(FAULT_PLANS))
def test_fault_plans_make_exactly_the_requests_they_imply(
    plan: str, kind: str, train_file: Path
) -> None:
    scenario = FAULT_PLANS[plan]
    with Emulator(manual_clock=True, faults=scenario.faults) as emu:
        run = Runner(emu, kind)
        job = _start_job(run, emu, train_file)
        emu.advance(3600)
        final = run("wait", job)
        assert final.status == "succeeded"
        assert final.fine_tuned_model.startswith(f"ft:{MODEL}:")
        assert len(emu.state.list_files(purpose="fine-tune")) == 1
        assert len(emu.state.list_jobs()) == 1
        assert len(emu.faults) == sum(f.times or 1 for f in scenario.faults)
        assert request_log(emu) == clean_run_log(emu, job.id, scenario.extra)
    assert retries() == scenario.retries


def test_train_under_lost_responses_ends_with_one_file_and_one_job(
    kind: str, train_file: Path
) -> None:
    scenario = FAULT_PLANS["drop after commit on upload and create"]
    with Emulator(speed=5000, faults=scenario.faults) as emu:
        run = Runner(emu, kind)
        job = run("train", train_file, MODEL, suffix="bard")
        assert job.status == "succeeded"
        assert len(emu.state.list_files(purpose="fine-tune")) == 1
        assert len(emu.state.list_jobs()) == 1
        log = request_log(emu)
        assert log["POST", FILES] == 1 and log["GET", FILES] == 2
        assert log["POST", JOBS] == 1 and log["GET", JOBS] == 2


# -- the retry policy, observed through the recorded waits ----------------------------------


def test_retry_after_is_honoured_and_recorded_instead_of_slept(kind: str, train_file: Path) -> None:
    faults = [Fault.error(429, method="POST", path="/files", retry_after=7, times=2)]
    with Emulator(manual_clock=True, faults=faults) as emu:
        run = Runner(emu, kind)
        started = time.monotonic()
        ref = run("upload", train_file, wait=False)
        assert time.monotonic() - started < 7  # 14 s were asked for; none was slept
        assert ref.status == "uploaded"
        assert request_log(emu) == {("GET", FILES): 3, ("POST", FILES): 3}
    assert recorded_waits() == [
        RecordedWait(7.0, "retry", attempt=1, status_code=429, retry_after=7.0, request=POST_FILES),
        RecordedWait(7.0, "retry", attempt=2, status_code=429, retry_after=7.0, request=POST_FILES),
    ]


def test_retry_after_ms_wins_and_long_retry_after_is_capped(kind: str, train_file: Path) -> None:
    faults = [
        Fault(kind="status", status=503, method="POST", path="/files",
              headers={"retry-after-ms": "250", "retry-after": "9"}),
        Fault.error(503, method="POST", path="/files", retry_after=600, nth=2),
    ]  # fmt: skip
    with Emulator(manual_clock=True, faults=faults) as emu:
        Runner(emu, kind, retry=RetryPolicy(max_retry_after=30))("upload", train_file, wait=False)
        assert request_log(emu)["POST", FILES] == 3
    assert [(w.seconds, w.retry_after) for w in recorded_waits()] == [(0.25, 0.25), (30, 600)]


def test_backoff_doubles_with_jitter_inside_its_bounds(kind: str, train_file: Path) -> None:
    policy = RetryPolicy(attempts=6, initial=0.5, maximum=3.0)
    faults = [Fault.error(500, method="POST", path="/fine_tuning/jobs", times=5)]
    with Emulator(manual_clock=True, faults=faults) as emu:
        run = Runner(emu, kind, retry=policy)
        job = _start_job(run, emu, train_file)  # the 6th and last attempt succeeds
        assert job.status and request_log(emu)["POST", JOBS] == 6
    waits = recorded_waits()
    assert [w.attempt for w in waits] == [1, 2, 3, 4, 5]
    assert {(w.reason, w.status_code, w.retry_after) for w in waits} == {("retry", 500, None)}
    for w in waits:  # initial * 2**(n-1) plus up to 1 s of jitter, capped at `maximum`
        low = min(0.5 * 2 ** (w.attempt - 1), 3.0)
        assert low <= w.seconds <= min(low + 1.0, 3.0), w
    assert waits[-1].seconds == waits[-2].seconds == 3.0  # 4 s and 8 s are capped
    assert any(w.seconds not in (0.5, 1.0, 2.0) for w in waits[:3])  # jitter was added


def test_retries_stop_after_the_last_attempt(kind: str, train_file: Path) -> None:
    faults = [Fault.error(500, method="POST", path="/files", times=None)]
    with Emulator(manual_clock=True, faults=faults) as emu:
        run = Runner(emu, kind, retry=RetryPolicy(attempts=3))
        with pytest.raises(APIError, match=r"\(500\)"):
            run("upload", train_file, wait=False)
        assert request_log(emu) == {("GET", FILES): 3, ("POST", FILES): 3}
    assert [w.attempt for w in recorded_waits()] == [1, 2]


def test_connection_errors_are_retried_then_reported(kind: str, train_file: Path) -> None:
    faults = [Fault.drop_before(method="POST", path="/files", times=None)]
    with Emulator(manual_clock=True, faults=faults) as emu:
        run = Runner(emu, kind, retry=RetryPolicy(attempts=2))
        with pytest.raises(APIConnectionFailed):
            run("upload", train_file, wait=False)
        assert request_log(emu) == {("GET", FILES): 2, ("POST", FILES): 2}
    assert retries() == [(POST_FILES, None)]


def _fails(status: int, code: str | None = None) -> Fault:
    return Fault.error(status, method="POST", path="/files", code=code, times=None)


NOT_RETRYABLE: dict[str, tuple[Fault, type[FinetuneKitError]]] = {
    "exhausted quota (429 insufficient_quota)": (_fails(429, "insufficient_quota"), QuotaExceeded),
    "bad key (401)": (_fails(401), AuthenticationFailed),
    "no permission (403)": (_fails(403), AuthenticationFailed),
    "invalid request (400)": (_fails(400), APIError),
    "not found (404)": (_fails(404), APIError),
}


@pytest.mark.parametrize("case", list(NOT_RETRYABLE), ids=list(NOT_RETRYABLE))
def test_errors_no_retry_can_fix_are_raised_at_once(case: str, kind: str, train_file: Path) -> None:
    fault, error = NOT_RETRYABLE[case]
    with Emulator(manual_clock=True, faults=[fault]) as emu:
        with pytest.raises(error) as info:
            Runner(emu, kind)("upload", train_file, wait=False)
        assert type(info.value) is error
        assert info.value.status_code == fault.status
        assert request_log(emu) == {("GET", FILES): 1, ("POST", FILES): 1}
    assert recorded_waits() == []


def test_a_rate_limit_that_is_not_a_quota_is_retried(kind: str, train_file: Path) -> None:
    faults = [Fault.error(429, method="POST", path="/files", code="rate_limit_exceeded")]
    with Emulator(manual_clock=True, faults=faults) as emu:
        assert Runner(emu, kind)("upload", train_file, wait=False).status == "uploaded"
        assert request_log(emu)["POST", FILES] == 2
    assert retries() == [(POST_FILES, 429)]


def test_polls_wait_the_poll_interval_and_are_recorded(kind: str, train_file: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        run = Runner(emu, kind)
        run.client.poll_interval = 30.0
        job = _start_job(run, emu, train_file)
        polls = {"n": 0}

        def tick(_job: Any) -> None:
            polls["n"] += 1
            emu.advance(30)

        final = run("wait", job, on_poll=tick)
        assert final.status == "succeeded"
        log = request_log(emu)
        assert log["GET", JOB] == polls["n"] > 1
        assert log["GET", EVENTS] == clean_run_log(emu, job.id)["GET", EVENTS]  # at the end only
    waits = recorded_waits()
    assert [w.seconds for w in waits] == [30.0] * (polls["n"] - 1)
    assert {(w.reason, w.request, w.attempt) for w in waits} == {("poll", None, 0)}


def test_set_testing_off_records_nothing_and_each_call_clears_the_record(
    train_file: Path,
) -> None:
    faults = [Fault.error(503, method="POST", path="/files", retry_after=0)]
    with Emulator(manual_clock=True, faults=faults) as emu:
        Runner(emu, "sync")("upload", train_file, wait=False)
        assert len(recorded_waits()) == 1
        set_testing(True)
        assert recorded_waits() == []
        set_testing(False)
        emu.add_faults(Fault.error(503, method="POST", path="/files", retry_after=0))
        other = train_file.with_name("other.jsonl")
        other.write_text(train_file.read_text(encoding="utf-8") * 2, encoding="utf-8")
        Runner(emu, "sync")("upload", other, wait=False)
        assert request_log(emu)["POST", FILES] == 4  # retried (Retry-After: 0), not recorded
        assert recorded_waits() == []


def test_plain_sdk_calls_duplicate_under_the_same_plan(train_file: Path) -> None:
    """The contrast: the SDK's own retries write twice when a response is lost."""
    plan = FAULT_PLANS["drop after commit on upload and create"].faults
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


class _Obj(dict[str, Any]):
    """A JSON object readable as attributes, like the SDK's models."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class InProcessPolls:
    """The two polling calls (retrieve a job, list its events) answered by the emulator's
    routes in-process: the engine's polling at full speed, without HTTP or SDK parsing."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.fine_tuning = self.jobs = self

    def with_options(self, **_options: Any) -> InProcessPolls:
        return self

    def _get(self, path: str, query: dict[str, str]) -> Any:
        auth = {"authorization": f"Bearer {self.emu.api_key}"}
        request = Request(method="GET", path=path, query=query, headers=auth, body=b"")
        response = dispatch(self.emu.state, request)
        assert response.status == 200, response.body
        return json.loads(response.body, object_hook=_Obj)

    def retrieve(self, fine_tuning_job_id: str) -> Any:
        return self._get(f"/v1/fine_tuning/jobs/{fine_tuning_job_id}", {})

    def list_events(self, fine_tuning_job_id: str, limit: int, after: str | None = None) -> Any:
        query = {"limit": str(limit), **({"after": after} if after else {})}
        return self._get(f"/v1/fine_tuning/jobs/{fine_tuning_job_id}/events", query)


class _InProcessOpenAI(OpenAIProvider):
    """OpenAI's adapter, accepting the in-process polling client as one of its SDK's."""

    def owns(self, client: object) -> bool:
        return isinstance(client, InProcessPolls) or super().owns(client)


def test_a_thousand_polls_deliver_each_event_once(train_file: Path) -> None:
    with Emulator(manual_clock=True) as emu:
        job = _start_job(Runner(emu, "sync"), emu, train_file)
        polls_client = InProcessPolls(emu)
        client = JobClient(polls_client, provider=_InProcessOpenAI(), poll_interval=0)  # type: ignore[arg-type]
        seen: list[Any] = []
        polls = {"n": 0}

        def tick(_job: Any) -> None:
            polls["n"] += 1
            emu.advance(0.1)

        final = client.wait(job, on_event=seen.append, on_poll=tick)
        everything = list(JobClient(emu.client()).events(job))
        assert final.status == "succeeded"
        assert polls["n"] >= 1000, polls
        assert [e.id for e in seen] == [e.id for e in everything]
        assert len(recorded_waits()) == polls["n"] - 1  # one (instant) wait between two polls


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
        assert answer == GOOD["messages"][-1]["content"]  # the trained answer to that question
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
