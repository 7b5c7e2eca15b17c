"""The job engine's pure core, driven step by step without a server (fast: mutation testing).

The clients' tests run the same plans against the emulator; these pin each decision exactly —
the idempotency key, look-before-write, the retry policy's waits, polling and paging.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
import openai
import pytest

from finetune_kit.errors import (
    APIConnectionFailed,
    APIError,
    AuthenticationFailed,
    ConfigError,
    JobCreationRefused,
    JobTimeout,
    QuotaExceeded,
)
from finetune_kit.jobs import _core as core
from finetune_kit.providers import openai as oa
from finetune_kit.providers.base import ErrorInfo, JobSpec

# -- helpers ------------------------------------------------------------------------------------


def status_error(
    status: int,
    *,
    code: str | None = None,
    message: str = "it went wrong",
    headers: dict[str, str] | None = None,
    path: str = "/v1/files",
) -> openai.APIStatusError:
    request = httpx2.Request("POST", f"https://api.test{path}")
    response = httpx2.Response(status, request=request, headers=headers or {})
    body = {"error": {"message": message, "code": code}}
    return openai.APIStatusError(message, response=response, body=body)


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx2.Request("GET", "https://api.test/v1/files"))


def drive(plan: core.Plan[Any], answer: Callable[[core.Call], Any]) -> tuple[Any, list[Any]]:
    """Run a plan like the sync client does; ``answer`` plays the SDK (it may raise)."""
    steps: list[Any] = []
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(result)
        except StopIteration as done:
            return done.value, steps
        steps.append(step)
        result, error = None, None
        if isinstance(step, core.Sleep):
            continue
        if isinstance(step, core.Run):
            result = step.func()
            continue
        try:
            result = answer(step)
        except Exception as exc:
            error = exc


def page(items: list[Any], has_more: bool = False) -> SimpleNamespace:
    return SimpleNamespace(data=items, has_more=has_more)


def failing(errors: list[BaseException], then: Any) -> Callable[[core.Call], Any]:
    """Raise each error in turn on the first calls, then answer ``then``."""
    queue = list(errors)

    def answer(_call: core.Call) -> Any:
        if queue:
            raise queue.pop(0)
        return then

    return answer


def sleeps(steps: list[Any]) -> list[tuple[float, str, int]]:
    return [(s.seconds, s.reason, s.attempt) for s in steps if isinstance(s, core.Sleep)]


ONE = core.Call("files.retrieve", {"file_id": "file-1"})


def _one(call: core.Call) -> core.Plan[Any]:
    """A plan of one SDK call (what an adapter's read methods are made of)."""
    return (yield call)


def one(call: core.Call = ONE) -> Callable[[], core.Plan[Any]]:
    return lambda: _one(call)


# -- Retry-After and retryable errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the finer one wins
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),  # unreadable: the next one
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),  # dates are not read
        ({}, None),
    ],
)
def test_retry_after_reads_the_servers_headers(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert core.retry_after(status_error(503, headers=headers)) == seconds


def test_retry_after_of_no_response_is_none() -> None:
    assert core.retry_after(None) is None
    assert core.retry_after(ValueError("x")) is None
    assert core.retry_after(connection_error()) is None


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (connection_error(), True),
        (status_error(408), True),
        (status_error(409), True),
        (status_error(429), True),
        (status_error(429, code="rate_limit_exceeded"), True),
        (status_error(429, code="insufficient_quota"), False),
        (status_error(500), True),
        (status_error(503), True),
        (status_error(599), True),
        (status_error(400), False),
        (status_error(401), False),
        (status_error(403), False),
        (status_error(404), False),
        (status_error(407), False),
        (status_error(422), False),
        (status_error(499), False),
        (ValueError("not an API error"), False),
    ],
)
def test_which_errors_are_worth_another_attempt(exc: BaseException, retryable: bool) -> None:
    assert core.is_retryable(exc) is retryable


def test_the_error_code_is_read_from_the_body_or_the_exception() -> None:
    def code(exc: BaseException) -> str | None:
        info = oa.OpenAIProvider().describe_error(exc)
        assert info is not None
        return info.code

    assert code(status_error(429, code="insufficient_quota")) == "insufficient_quota"
    exc = status_error(429)
    exc.body = {"code": 42}  # a body without the "error" envelope
    assert code(exc) == "42"
    exc.body = "not json"
    exc.code = "from_attribute"
    assert code(exc) == "from_attribute"


# -- the retry policy's waits -------------------------------------------------------------------


def test_retry_after_is_waited_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = core.RetryPolicy(max_retry_after=30)
    errors = [
        status_error(429, headers={"retry-after": "2"}),
        status_error(503, headers={"retry-after": "600"}),
    ]
    value, steps = drive(core.retried(policy, one()), failing(errors, "done"))
    assert value == "done"
    assert sleeps(steps) == [(2.0, "retry", 1), (30.0, "retry", 2)]
    retry = [s for s in steps if isinstance(s, core.Sleep)]
    assert [s.cause for s in retry] == errors


@pytest.mark.parametrize("jitter", ["low", "high"])
def test_backoff_doubles_from_initial_up_to_maximum_plus_jitter(
    jitter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[float, float]] = []

    def uniform(a: float, b: float) -> float:
        drawn.append((a, b))
        return a if jitter == "low" else b

    monkeypatch.setattr(core.random, "uniform", uniform)
    policy = core.RetryPolicy(attempts=6, initial=0.5, maximum=5.0)
    errors: list[BaseException] = [status_error(500) for _ in range(5)]
    _, steps = drive(core.retried(policy, one()), failing(errors, "done"))
    extra = 0.0 if jitter == "low" else 1.0
    expected = [min(0.5 * 2**n + extra, 5.0) for n in range(5)]
    assert [s for s, _, _ in sleeps(steps)] == expected
    assert [a for _, _, a in sleeps(steps)] == [1, 2, 3, 4, 5]
    assert drawn == [(0, core.JITTER)] * 5
    assert core.JITTER == 1.0


def test_attempts_stop_at_the_limit_and_the_last_error_is_raised() -> None:
    policy = core.RetryPolicy(attempts=3, initial=0.0)
    errors: list[BaseException] = [status_error(500, message=f"try {i}") for i in range(5)]
    calls: list[core.Call] = []
    answer = failing(errors, "never")

    def counted(call: core.Call) -> Any:
        calls.append(call)
        return answer(call)

    with pytest.raises(openai.APIStatusError, match="try 2"):
        drive(core.retried(policy, one()), counted)
    assert len(calls) == 3


def test_a_non_retryable_error_is_raised_without_a_wait() -> None:
    steps: list[Any] = []
    quota = status_error(429, code="insufficient_quota")
    with pytest.raises(openai.APIStatusError) as info:
        steps = drive(core.retried(core.RetryPolicy(), one()), failing([quota], "x"))[1]
    assert info.value is quota
    assert sleeps(steps) == []


def test_the_deadline_stops_retrying() -> None:
    policy = core.RetryPolicy(attempts=100, deadline=0.0, initial=0.0)
    calls: list[int] = []

    def always_503(_call: core.Call) -> Any:
        calls.append(1)
        raise status_error(503)

    with pytest.raises(openai.APIStatusError):
        drive(core.retried(policy, one()), always_503)
    assert len(calls) == 1


def test_default_policy() -> None:
    p = core.RetryPolicy()
    assert (p.attempts, p.deadline, p.initial, p.maximum, p.max_retry_after) == (
        6,
        120.0,
        0.5,
        20.0,
        60.0,
    )


def test_sleep_for_records_only_while_testing() -> None:
    core.set_testing(False)
    try:
        assert core.sleep_for(core.Sleep(3.0)) == 3.0
        assert core.recorded_waits() == []
        core.set_testing(True)
        cause = status_error(429, headers={"retry-after": "3"}, path="/v1/fine_tuning/jobs")
        assert core.sleep_for(core.Sleep(3.0, reason="retry", cause=cause, attempt=2)) == 0.0
        assert core.sleep_for(core.Sleep(10.0)) == 0.0
        assert core.is_testing()
        assert core.recorded_waits() == [
            core.RecordedWait(3.0, "retry", 2, 429, 3.0, "POST /v1/fine_tuning/jobs"),
            core.RecordedWait(10.0, "poll", 0, None, None, None),
        ]
        waits = core.recorded_waits()
        waits.clear()  # a copy
        assert len(core.recorded_waits()) == 2
    finally:
        core.set_testing(False)
    assert not core.is_testing() and core.recorded_waits() == []


# -- errors -------------------------------------------------------------------------------------


def test_api_keys_are_masked() -> None:
    assert core.scrub("key sk-abcdEFGH12345678 rejected") == "key sk-abcd… rejected"
    assert core.scrub("sk-short") == "sk-short"  # too short to be a key
    assert "abcdEFGH12345678" not in core.scrub("sk-abcdEFGH12345678")


@pytest.mark.parametrize(
    ("exc", "action", "kind", "needle"),
    [
        (status_error(401), "uploading the file", AuthenticationFailed, "OPENAI_API_KEY"),
        (status_error(403), "uploading the file", AuthenticationFailed, "fine-tuning"),
        (status_error(429, code="insufficient_quota"), "x", QuotaExceeded, "billing"),
        (status_error(429), "x", QuotaExceeded, "lower the request rate"),
        (
            status_error(403, message="Fine-tuning is no longer available"),
            "creating the job",
            JobCreationRefused,
            "2027-01-06",
        ),
        (
            status_error(400, code="fine_tuning_unavailable", message="x"),
            "creating the job",
            JobCreationRefused,
            "finetune-kit export",
        ),
        (status_error(400, message="Line 3 is bad"), "creating the job", APIError, "validate"),
        (status_error(404), "x", APIError, "another organisation"),
        (status_error(500), "x", APIError, "it was retried"),
        (status_error(418, code="teapot"), "x", APIError, "'teapot'"),
        (status_error(418), "x", APIError, "see the message"),
    ],
)
def test_sdk_errors_become_finetune_kit_errors_with_a_hint(
    exc: openai.APIStatusError, action: str, kind: type, needle: str
) -> None:
    err = core.translate(exc, action=action)
    assert type(err) is kind
    assert needle in (err.hint or "")
    assert err.status_code == exc.status_code


def test_refusal_words_only_count_when_creating_a_job() -> None:
    exc = status_error(403, message="fine-tuning is unavailable")
    assert type(core.translate(exc, action="uploading the file")) is AuthenticationFailed
    other = status_error(400, message="bad suffix")
    assert type(core.translate(other, action="creating the job")) is APIError


def test_error_messages_name_the_action_the_status_and_the_line() -> None:
    err = core.translate(status_error(400, message="line 7 has no answer"), action="doing it")
    assert err.message == "doing it failed (400): line 7 has no answer"
    assert err.line == 7
    assert core._line_in("see line 12 and line 13") == 12
    assert core._line_in("no number") is None
    assert core._line_in("lines 12") is None


def test_connection_and_other_errors_are_translated_too() -> None:
    conn = core.translate(connection_error(), action="listing files")
    assert type(conn) is APIConnectionFailed and "listing files" in str(conn)
    other = core.translate(ValueError("sk-abcdEFGH12345678 odd"), action="x")
    assert type(other) is APIError and "abcdEFGH12345678" not in str(other)
    same = ConfigError("already ours")
    assert core.translate(same, action="x") is same


def test_the_message_comes_from_the_error_body() -> None:
    def message(exc: BaseException) -> str:
        info = oa.OpenAIProvider().describe_error(exc)
        assert info is not None
        return info.message

    exc = status_error(400, message="from the body")
    assert message(exc) == "from the body"
    exc.body = {"error": {"message": ""}}
    assert message(exc) == str(exc)


# -- upload: the name carries the content hash ------------------------------------------------


def spec(tmp_path: Path, content: bytes = b'{"a": 1}\n', name: str = "train.jsonl") -> Any:
    path = tmp_path / name
    path.write_bytes(content)
    sha, size = core.hash_file(path)
    return core.UploadSpec(path=path, sha256=sha, size=size, purpose="fine-tune")


def test_hash_file_reads_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    data = bytes(range(256)) * 5
    path.write_bytes(data)
    assert core.hash_file(path, chunk=7) == (hashlib.sha256(data).hexdigest(), len(data))
    assert core.hash_file(path) == core.hash_file(path, chunk=1)


def test_the_file_name_carries_the_hash(tmp_path: Path) -> None:
    s = spec(tmp_path, name="my data (v2).jsonl")
    assert s.filename == f"my_data__v2_-{s.sha256[:16]}.jsonl"
    assert s.marker == f"-{s.sha256[:16]}"
    long = spec(tmp_path, name="x" * 60 + ".jsonl")
    assert long.filename == "x" * 40 + f"-{long.sha256[:16]}.jsonl"
    bare = core.UploadSpec(path=Path("///"), sha256="0" * 64, size=1, purpose="fine-tune")
    assert bare.filename == f"data-{'0' * 16}.jsonl"


def test_an_uploaded_file_matches_by_hash_size_purpose_and_status(tmp_path: Path) -> None:
    s = spec(tmp_path)

    def obj(**kw: Any) -> Any:  # an SDK file object, as the OpenAI adapter reads it
        base = {"id": "file-1", "filename": s.filename, "bytes": s.size, "purpose": "fine-tune"}
        return oa.remote_file(SimpleNamespace(**{**base, **kw}))

    assert s.matches(obj())
    assert s.matches(obj(filename=f"renamed{s.marker}.jsonl"))
    assert s.matches(obj(status="processed")) and s.matches(obj(status="uploaded"))
    assert not s.matches(obj(filename="train.jsonl"))
    assert not s.matches(obj(bytes=s.size + 1))
    assert not s.matches(obj(purpose="batch"))
    assert not s.matches(obj(status="error"))
    assert not s.matches(obj(status="deleted"))
    assert not s.matches(oa.remote_file(SimpleNamespace(id="file-2")))


def test_list_all_follows_the_cursor(tmp_path: Path) -> None:
    items = [SimpleNamespace(id=f"f{i}") for i in range(5)]
    pages = {None: page(items[:2], True), "f1": page(items[2:4], True), "f3": page(items[4:])}
    calls: list[dict[str, Any]] = []

    def answer(call: core.Call) -> Any:
        calls.append(dict(call.kwargs))
        return pages[call.kwargs.get("after")]

    got, _ = drive(oa._list_all("files.list", {"purpose": "p"}, page_size=2), answer)
    assert got == items
    assert calls == [
        {"purpose": "p", "limit": 2},
        {"purpose": "p", "limit": 2, "after": "f1"},
        {"purpose": "p", "limit": 2, "after": "f3"},
    ]
    empty, _ = drive(oa._list_all("files.list", {}), lambda c: page([], True))
    assert empty == []


def _file(s: Any, status: str = "processed", **kw: Any) -> SimpleNamespace:
    base = {"id": "file-1", "filename": s.filename, "bytes": s.size, "purpose": "fine-tune"}
    return SimpleNamespace(**{**base, "status": status, **kw})


def test_upload_reuses_an_identical_file_and_writes_nothing(tmp_path: Path) -> None:
    s = spec(tmp_path)
    ref, steps = drive(core.upload_plan(s, core.RetryPolicy()), lambda c: page([_file(s)]))
    assert ref.reused and ref.id == "file-1" and ref.sha256 == s.sha256
    assert [c.method for c in steps if isinstance(c, core.Call)] == ["files.list"]


def test_upload_creates_once_and_polls_until_processed(tmp_path: Path) -> None:
    s = spec(tmp_path)
    statuses = iter(["running", "processed"])

    def answer(call: core.Call) -> Any:
        if call.method == "files.list":
            return page([_file(s, filename="other.jsonl")])
        if call.method == "files.create":
            assert call.write and call.kwargs["purpose"] == "fine-tune"
            assert call.kwargs["file"] == core.UploadFile(s.path, s.filename)
            return _file(s, status="uploaded")
        return _file(s, status=next(statuses))

    ref, steps = drive(core.upload_plan(s, core.RetryPolicy(), poll_interval=3.0), answer)
    assert not ref.reused and ref.status == "processed"
    methods = [c.method for c in steps if isinstance(c, core.Call)]
    assert methods == ["files.list", "files.create", "files.retrieve", "files.retrieve"]
    assert sleeps(steps) == [(3.0, "poll", 0), (3.0, "poll", 0)]


def test_upload_without_wait_returns_the_uploaded_file(tmp_path: Path) -> None:
    s = spec(tmp_path)

    def answer(call: core.Call) -> Any:
        return page([]) if call.method == "files.list" else _file(s, status="uploaded")

    ref, steps = drive(core.upload_plan(s, core.RetryPolicy(), wait=False), answer)
    assert ref.status == "uploaded" and sleeps(steps) == []


def test_large_files_go_through_the_uploads_api(tmp_path: Path) -> None:
    s = spec(tmp_path)

    def answer(call: core.Call) -> Any:
        if call.method == "files.list":
            return page([])
        assert call.method == "uploads.upload_file_chunked" and call.write
        assert call.kwargs["bytes"] == s.size and call.kwargs["filename"] == s.filename
        assert call.kwargs["mime_type"] == "application/jsonl"
        return SimpleNamespace(file=_file(s))

    ref, _ = drive(core.upload_plan(s, core.RetryPolicy(), chunked_above=s.size - 1), answer)
    assert ref.status == "processed"
    ref, steps = drive(
        core.upload_plan(s, core.RetryPolicy(), chunked_above=s.size),
        lambda c: page([]) if c.method == "files.list" else _file(s),
    )
    assert [c.method for c in steps if isinstance(c, core.Call)][-1] == "files.create"


def test_processing_has_a_timeout(tmp_path: Path) -> None:
    s = spec(tmp_path)
    clock = iter([0.0, 5.0, 11.0])

    def answer(call: core.Call) -> Any:
        return page([]) if call.method == "files.list" else _file(s, status="uploaded")

    plan = core.upload_plan(s, core.RetryPolicy(), processing_timeout=10, now=lambda: next(clock))
    with pytest.raises(APIError, match="not processed within 10 s") as info:
        drive(plan, answer)
    assert info.value.file == str(s.path)


def test_a_file_the_api_cannot_process_names_the_line(tmp_path: Path) -> None:
    s = spec(tmp_path)

    def answer(call: core.Call) -> Any:
        if call.method == "files.list":
            return page([])
        return _file(s, status="error", status_details="Invalid file format on line 4.")

    with pytest.raises(APIError, match="could not process") as info:
        drive(core.upload_plan(s, core.RetryPolicy()), answer)
    assert info.value.line == 4


def test_upload_errors_are_translated(tmp_path: Path) -> None:
    s = spec(tmp_path)
    with pytest.raises(AuthenticationFailed, match="uploading the file"):
        drive(core.upload_plan(s, core.RetryPolicy()), failing([status_error(401)], None))


# -- create: the idempotency key ----------------------------------------------------------------

REQUEST: dict[str, Any] = {
    "training_file": "file-t",
    "validation_file": "file-v",
    "model": "gpt-4o-mini-2024-07-18",
    "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    "suffix": "bard",
    "seed": 7,
}


@pytest.mark.parametrize("field", list(REQUEST))
def test_the_key_changes_with_everything_that_changes_the_training(field: str) -> None:
    changed = dict(REQUEST, **{field: "something else"})
    assert oa.idempotency_key(changed) != oa.idempotency_key(REQUEST)


def test_the_key_ignores_metadata_and_integrations_and_is_stable() -> None:
    same = dict(REQUEST, metadata={"team": "x"}, integrations=[{"type": "wandb"}])
    key = oa.idempotency_key(REQUEST)
    assert oa.idempotency_key(same) == key
    assert re.fullmatch(r"ftk1-[0-9a-f]{40}", key)
    assert oa.idempotency_key(dict(reversed(list(REQUEST.items())))) == key


def _request(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "training_file": "file-t",
        "model": "m",
        "validation_file": None,
        "method": {"type": "supervised"},
        "suffix": None,
        "seed": None,
        "metadata": None,
        "integrations": None,
    }
    args.update(kw)
    kind = args["method"]["type"]
    hp = (args["method"].get(kind) or {}).get("hyperparameters") or {}
    spec = JobSpec(
        args["training_file"],
        args["model"],
        validation_file=args["validation_file"],
        method=kind,
        hyperparameters=hp,
        suffix=args["suffix"],
        seed=args["seed"],
        metadata=args["metadata"],
        integrations=args["integrations"],
    )
    return oa._job_request(spec)


def test_job_request_puts_the_key_in_the_metadata() -> None:
    req = _request(metadata={"team": "nlp", "n": 3}, suffix="s", seed=0, validation_file="v")  # type: ignore[dict-item]
    assert req["metadata"] == {
        "team": "nlp",
        "n": "3",
        core.IDEMPOTENCY_KEY: req["metadata"][core.IDEMPOTENCY_KEY],
    }
    assert req["metadata"][core.IDEMPOTENCY_KEY] == oa.idempotency_key(req)
    assert (req["suffix"], req["seed"], req["validation_file"]) == ("s", 0, "v")
    bare = _request()
    assert set(bare) == {"training_file", "model", "method", "metadata"}
    assert _request(integrations=[{"type": "wandb"}])["integrations"] == [{"type": "wandb"}]
    assert "integrations" not in _request(integrations=[])


def test_job_request_limits() -> None:
    _request(suffix="x" * 64)
    with pytest.raises(ConfigError, match="suffix"):
        _request(suffix="x" * 65)
    _request(metadata={f"k{i}": "v" for i in range(15)})
    with pytest.raises(ConfigError, match="at most 15 pairs"):
        _request(metadata={f"k{i}": "v" for i in range(16)})
    _request(metadata={"k" * 64: "v" * 512})
    with pytest.raises(ConfigError, match="≤ 64"):
        _request(metadata={"k" * 65: "v"})
    with pytest.raises(ConfigError, match="512"):
        _request(metadata={"k": "v" * 513})


def test_build_method() -> None:
    none: dict[str, Any] = {
        "n_epochs": None,
        "batch_size": None,
        "learning_rate_multiplier": None,
        "beta": None,
    }
    assert core.build_method("supervised", **none) == {
        "type": "supervised",
        "supervised": {"hyperparameters": {}},
    }
    dpo = core.build_method("dpo", **{**none, "beta": 0.1, "n_epochs": "auto", "batch_size": 8})
    assert dpo == {
        "type": "dpo",
        "dpo": {"hyperparameters": {"n_epochs": "auto", "batch_size": 8, "beta": 0.1}},
    }
    lr = core.build_method("supervised", **{**none, "learning_rate_multiplier": 0.5})
    assert lr["supervised"]["hyperparameters"] == {"learning_rate_multiplier": 0.5}
    with pytest.raises(ConfigError, match="unknown method"):
        core.build_method("reinforcement", **none)
    with pytest.raises(ConfigError, match="dpo method only") as info:
        core.build_method("supervised", **{**none, "beta": 0.1})
    assert info.value.field == "beta"


@pytest.mark.parametrize(
    ("hp", "ok"),
    [
        ({"n_epochs": 1}, True),
        ({"n_epochs": 50}, True),
        ({"n_epochs": 0}, False),
        ({"n_epochs": 51}, False),
        ({"n_epochs": "auto"}, True),
        ({"n_epochs": 2.0}, False),
        ({"batch_size": 1}, True),
        ({"batch_size": 256}, True),
        ({"batch_size": 0}, False),
        ({"batch_size": 257}, False),
        ({"learning_rate_multiplier": 0.01}, True),
        ({"learning_rate_multiplier": 2}, True),
        ({"learning_rate_multiplier": 0}, False),
        ({"learning_rate_multiplier": "fast"}, False),
        ({"learning_rate_multiplier": "auto"}, True),
        ({"beta": 2}, True),
        ({"beta": 0.01}, True),
        ({"beta": 0}, False),
        ({"beta": 2.01}, False),
        ({"beta": "auto"}, True),
        ({"beta": "x"}, False),
    ],
)
def test_hyperparameter_bounds(hp: dict[str, Any], ok: bool) -> None:
    if ok:
        oa._check_hyperparameters(hp)
    else:
        with pytest.raises(ConfigError, match=next(iter(hp))):
            oa._check_hyperparameters(hp)


def _job(key: str, status: str = "running", **kw: Any) -> SimpleNamespace:
    return SimpleNamespace(
        id=kw.pop("id", "ftjob-1"),
        status=status,
        model="m",
        metadata={core.IDEMPOTENCY_KEY: key},
        **kw,
    )


def test_create_reuses_a_live_job_with_the_same_key() -> None:
    req = _request()
    key = req["metadata"][core.IDEMPOTENCY_KEY]
    listed = [_job("other", id="ftjob-0"), _job(key, "failed", id="ftjob-f"), _job(key, "queued")]
    calls: list[core.Call] = []

    def answer(call: core.Call) -> Any:
        calls.append(call)
        return page(listed)

    job, _ = drive(core.create_plan(req, core.RetryPolicy()), answer)
    assert job.reused and job.id == "ftjob-1"
    assert [c.method for c in calls] == ["fine_tuning.jobs.list"]
    assert calls[0].kwargs["metadata"] == {core.IDEMPOTENCY_KEY: key}


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_create_ignores_ended_jobs_and_other_keys(status: str) -> None:
    req = _request()
    key = req["metadata"][core.IDEMPOTENCY_KEY]
    listed = [
        _job("other"),
        _job(key, status),
        SimpleNamespace(id="j", status="running", metadata=None),
    ]

    def answer(call: core.Call) -> Any:
        if call.method == "fine_tuning.jobs.list":
            return page(listed)
        assert call.write and call.kwargs == req
        return _job(key, "validating_files", id="ftjob-new")

    job, _ = drive(core.create_plan(req, core.RetryPolicy()), answer)
    assert not job.reused and job.id == "ftjob-new"


def test_create_looks_again_before_a_retried_write() -> None:
    req = _request()
    key = req["metadata"][core.IDEMPOTENCY_KEY]
    created = {"n": 0}
    lost = connection_error()

    def answer(call: core.Call) -> Any:
        if call.method == "fine_tuning.jobs.list":
            return page([_job(key)] if created["n"] else [])
        created["n"] += 1
        raise lost  # the server made the job; the response was lost

    job, steps = drive(core.create_plan(req, core.RetryPolicy(initial=0)), answer)
    assert job.reused and created["n"] == 1
    methods = [s.method for s in steps if isinstance(s, core.Call)]
    assert methods == ["fine_tuning.jobs.list", "fine_tuning.jobs.create", "fine_tuning.jobs.list"]


def test_create_errors_are_translated() -> None:
    with pytest.raises(JobCreationRefused):
        drive(
            core.create_plan(_request(), core.RetryPolicy()),
            failing([status_error(403, message="fine-tuning is no longer available")], None),
        )


# -- events and polling -------------------------------------------------------------------------


def event(i: int) -> SimpleNamespace:
    return SimpleNamespace(id=f"ev{i}", created_at=i, level="info", message=f"m{i}", type="message")


def test_the_tracker_delivers_each_event_once_oldest_first() -> None:
    tracker = core.EventTracker()
    new, reached = tracker.fresh([event(2), event(1)])
    assert [e.id for e in new] == ["ev1", "ev2"] and not reached
    new, reached = tracker.fresh([event(4), event(3), event(2), event(1)])
    assert [e.id for e in new] == ["ev3", "ev4"] and reached
    assert len(tracker) == 4
    assert tracker.fresh([]) == ([], False)


def test_new_events_pages_back_until_a_seen_one() -> None:
    tracker = core.EventTracker()
    tracker.fresh([event(1)])
    pages = {
        None: page([event(5), event(4)], True),
        "ev4": page([event(3), event(2), event(1)], True),
    }
    calls: list[dict[str, Any]] = []

    def answer(call: core.Call) -> Any:
        calls.append(dict(call.kwargs))
        return pages[call.kwargs.get("after")]

    got, _ = drive(core.new_events_plan("ftjob-1", tracker, core.RetryPolicy()), answer)
    assert [e.id for e in got] == ["ev2", "ev3", "ev4", "ev5"]
    assert calls == [
        {"fine_tuning_job_id": "ftjob-1", "limit": 100},
        {"fine_tuning_job_id": "ftjob-1", "limit": 100, "after": "ev4"},
    ]
    everything, _ = drive(
        core.all_events_plan("ftjob-1", core.RetryPolicy()), lambda c: page([event(2), event(1)])
    )
    assert [e.id for e in everything] == ["ev1", "ev2"]


def _poll(statuses: list[str], events: list[SimpleNamespace]) -> Callable[[core.Call], Any]:
    queue = iter(statuses)

    def answer(call: core.Call) -> Any:
        if call.method == "fine_tuning.jobs.retrieve":
            return SimpleNamespace(id="ftjob-1", status=next(queue), model="m")
        return page(events[::-1])

    return answer


def _wait(answer: Callable[[core.Call], Any], **kw: Any) -> tuple[Any, list[Any], Any]:
    state = core.WaitState()
    args: dict[str, Any] = {
        "policy": core.RetryPolicy(),
        "poll_interval": 10.0,
        "timeout": None,
        "now": lambda: 0.0,
        "on_event": None,
        "on_poll": None,
        **kw,
    }
    job, steps = drive(core.wait_plan("ftjob-1", state=state, **args), answer)
    return job, steps, state


def test_wait_polls_at_the_interval_and_reads_events_once_at_the_end() -> None:
    polled: list[str] = []
    answer = _poll(["queued", "running", "succeeded"], [event(1), event(2)])
    job, steps, state = _wait(answer, on_poll=lambda j: polled.append(j.status))
    assert job.status == "succeeded"
    assert polled == ["queued", "running", "succeeded"]
    methods = [s.method for s in steps if isinstance(s, core.Call)]
    assert methods == ["fine_tuning.jobs.retrieve"] * 3 + ["fine_tuning.jobs.list_events"]
    assert sleeps(steps) == [(10.0, "poll", 0), (10.0, "poll", 0)]
    assert (state.polls, state.events, state.job.status) == (3, 2, "succeeded")


def test_wait_with_a_callback_delivers_events_on_every_poll() -> None:
    seen: list[str] = []
    _, steps, _ = _wait(
        _poll(["running", "failed"], [event(1)]), on_event=lambda e: seen.append(e.id)
    )
    methods = [s.method for s in steps if isinstance(s, core.Call)]
    assert methods.count("fine_tuning.jobs.list_events") == 2
    assert seen == ["ev1"]


def test_wait_sleeps_at_most_the_time_left() -> None:
    times = [0.0, 0.0, 0.0, 7.0, 7.0]
    clock = iter(times + [12.0] * 5)
    collected: list[Any] = []

    def answer(call: core.Call) -> Any:
        collected.append(call)
        return SimpleNamespace(id="ftjob-1", status="running", model="m")

    plan = core.wait_plan(
        "ftjob-1",
        policy=core.RetryPolicy(),
        poll_interval=10.0,
        timeout=12.0,
        now=lambda: next(clock),
        on_event=None,
        on_poll=None,
        state=core.WaitState(),
    )
    steps: list[Any] = []
    with pytest.raises(JobTimeout) as info:
        result: Any = None
        while True:
            step = plan.send(result)
            steps.append(step)
            result = answer(step) if isinstance(step, core.Call) else None
    # the first wait is the interval; the second only what is left of the timeout (12 - 7)
    assert [s.seconds for s in steps if isinstance(s, core.Sleep)] == [10.0, 5.0]
    assert len(collected) == 3
    assert info.value.job_id == "ftjob-1" and "12 s" in str(info.value)


# -- another provider: its own error rules and names reach every plan ---------------------------


class OtherSDKError(Exception):
    """An exception of another provider's SDK (not an ``openai`` one)."""

    def __init__(self, info: ErrorInfo, text: str = "raw SDK text") -> None:
        super().__init__(text)
        self.info = info


OTHER_FACTS = replace(
    oa.OPENAI,
    name="other",
    title="Other AI",
    key_env=("OTHER_API_KEY", "OTHER_KEY"),
    base_url_env="OTHER_BASE_URL",
)


class OtherProvider(oa.OpenAIProvider):
    """OpenAI's calls, but another SDK's exceptions and another name (as Together's adapter)."""

    facts = OTHER_FACTS

    def describe_error(self, exc: BaseException) -> ErrorInfo | None:
        return exc.info if isinstance(exc, OtherSDKError) else None


OTHER = OtherProvider()


def other_error(status: int | None, kind: str = "status", **kw: Any) -> OtherSDKError:
    return OtherSDKError(ErrorInfo(kind, status_code=status, **kw))  # type: ignore[arg-type]


def _other_plans(tmp_path: Path) -> dict[str, tuple[Callable[[], core.Plan[Any]], Any]]:
    """Each plan run with OTHER, and what its SDK calls answer when they do not fail."""
    s = spec(tmp_path)
    key = _request()["metadata"][core.IDEMPOTENCY_KEY]
    policy = core.RetryPolicy(initial=0)

    def files(call: core.Call) -> Any:
        if call.method == "files.list":
            return page([])
        return _file(s, status="uploaded" if call.method == "files.create" else "processed")

    def jobs(call: core.Call) -> Any:
        if call.method == "fine_tuning.jobs.list":
            return page([])
        return _job(key, "succeeded")

    def events(call: core.Call) -> Any:
        if call.method == "fine_tuning.jobs.list_events":
            return page([event(2), event(1)])
        return SimpleNamespace(id="ftjob-1", status="succeeded", model="m")

    state = core.WaitState()
    wait_args: dict[str, Any] = {"poll_interval": 1.0, "timeout": None, "now": lambda: 0.0}
    return {
        "uploading the file": (lambda: core.upload_plan(s, policy, provider=OTHER), files),
        "creating the job": (lambda: core.create_plan(_request(), policy, provider=OTHER), jobs),
        "listing events": (lambda: core.all_events_plan("ftjob-1", policy, OTHER), events),
        "checking the job": (
            lambda: core.wait_plan(
                "ftjob-1",
                policy=policy,
                on_event=None,
                on_poll=None,
                state=state,
                provider=OTHER,
                **wait_args,
            ),
            events,
        ),
    }


def _fail_on(
    method: str, errors: list[BaseException], answer: Callable[[core.Call], Any]
) -> Callable[[core.Call], Any]:
    queue = list(errors)

    def answered(call: core.Call) -> Any:
        if call.method == method and queue:
            raise queue.pop(0)
        return answer(call)

    return answered


_FIRST_CALL = {
    "uploading the file": "files.list",
    "creating the job": "fine_tuning.jobs.list",
    "listing events": "fine_tuning.jobs.list_events",
    "checking the job": "fine_tuning.jobs.retrieve",
}


@pytest.mark.parametrize("action", list(_FIRST_CALL))
def test_each_plan_retries_by_the_providers_own_rules(action: str, tmp_path: Path) -> None:
    make, answer = _other_plans(tmp_path)[action]
    value, steps = drive(make(), _fail_on(_FIRST_CALL[action], [other_error(503)], answer))
    assert value is not None
    assert [(r, a) for _, r, a in sleeps(steps) if r == "retry"] == [("retry", 1)]
    if action in ("creating the job", "checking the job"):
        assert value.provider == "other"
    # the same error from OpenAI's point of view is no error it knows: not retried
    assert not core.is_retryable(other_error(503))
    assert core.is_retryable(other_error(503), OTHER)


@pytest.mark.parametrize("action", list(_FIRST_CALL))
def test_each_plan_names_its_action_and_the_providers_key(action: str, tmp_path: Path) -> None:
    make, answer = _other_plans(tmp_path)[action]
    rejected = other_error(401, message="bad key")
    with pytest.raises(AuthenticationFailed) as info:
        drive(make(), _fail_on(_FIRST_CALL[action], [rejected], answer))
    assert info.value.message == f"the API key was rejected while {action}: bad key"
    assert info.value.hint == "set OTHER_API_KEY or OTHER_KEY to a valid key"


def test_waiting_for_a_file_names_that_action_and_the_provider(tmp_path: Path) -> None:
    make, answer = _other_plans(tmp_path)["uploading the file"]
    fail = _fail_on("files.retrieve", [other_error(429, message="slow down")] * 9, answer)
    with pytest.raises(QuotaExceeded) as info:
        drive(make(), fail)
    assert info.value.message == (
        "rate limit or quota reached while waiting for the file to be processed: slow down"
    )
    assert info.value.hint == "wait and try again, or lower the request rate"


def test_the_default_poll_interval_and_list_purpose_of_an_upload(tmp_path: Path) -> None:
    s = spec(tmp_path)
    statuses = iter(["uploaded", "processed"])
    calls: list[core.Call] = []

    def answer(call: core.Call) -> Any:
        calls.append(call)
        if call.method == "files.list":
            return page([])
        return _file(s, status=next(statuses))

    _, steps = drive(core.upload_plan(s, core.RetryPolicy()), answer)
    assert sleeps(steps) == [(1.0, "poll", 0)]
    assert calls[0].kwargs["purpose"] == "fine-tune"


def test_processing_may_take_exactly_the_timeout(tmp_path: Path) -> None:
    s = spec(tmp_path)
    clock = iter([100.0, 110.0, 110.0, 111.0])
    statuses = iter(["uploaded", "uploaded", "processed"])

    def answer(call: core.Call) -> Any:
        return page([]) if call.method == "files.list" else _file(s, status=next(statuses))

    plan = core.upload_plan(s, core.RetryPolicy(), processing_timeout=10, now=lambda: next(clock))
    ref, _ = drive(plan, answer)
    assert ref.status == "processed"


def test_a_processing_timeout_says_the_upload_itself_worked(tmp_path: Path) -> None:
    s = spec(tmp_path)
    clock = iter([0.0, 11.0])

    def answer(call: core.Call) -> Any:
        return page([]) if call.method == "files.list" else _file(s, status="uploaded")

    plan = core.upload_plan(s, core.RetryPolicy(), processing_timeout=10, now=lambda: next(clock))
    with pytest.raises(APIError) as info:
        drive(plan, answer)
    assert info.value.hint == (
        "the upload itself succeeded; check the file later, or upload with wait=False"
    )


def test_a_file_the_api_rejects_without_details_is_named_with_the_fix(tmp_path: Path) -> None:
    s = spec(tmp_path)

    def answer(call: core.Call) -> Any:
        if call.method == "files.list":
            return page([])
        return _file(s, status="error", status_details=None)

    with pytest.raises(APIError) as info:
        drive(core.upload_plan(s, core.RetryPolicy()), answer)
    assert info.value.message == "the API could not process train.jsonl: no details"
    assert info.value.file == str(s.path) and info.value.line is None
    assert info.value.hint == "run `finetune-kit validate` on the file"


def test_a_wait_timeout_counts_from_its_start_and_names_the_last_status() -> None:
    clock = iter([1000.0, 1000.0, 1007.0, 1007.0, 1011.5, 1011.5, 1012.0, 1012.0])
    plan = core.wait_plan(
        "ftjob-1",
        policy=core.RetryPolicy(),
        poll_interval=10.0,
        timeout=12.0,
        now=lambda: next(clock),
        on_event=None,
        on_poll=None,
        state=core.WaitState(),
    )
    answer = _poll(["queued", "running", "running", "running"], [])
    with pytest.raises(JobTimeout) as info:
        drive(plan, answer)
    assert info.value.last_status == "running"
    assert "last status: running" in str(info.value)


def test_a_wait_sleeps_less_than_a_second_when_that_is_all_that_is_left() -> None:
    clock = iter([50.0, 50.0, 50.0, 61.5, 61.5, 62.0, 62.0])
    plan = core.wait_plan(
        "ftjob-1",
        policy=core.RetryPolicy(),
        poll_interval=10.0,
        timeout=12.0,
        now=lambda: next(clock),
        on_event=None,
        on_poll=None,
        state=core.WaitState(),
    )
    steps: list[Any] = []
    with pytest.raises(JobTimeout):
        result: Any = None
        while True:
            step = plan.send(result)
            steps.append(step)
            result = _poll(["running"] * 5, [])(step) if isinstance(step, core.Call) else None
    assert [s.seconds for s in steps if isinstance(s, core.Sleep)] == [10.0, 0.5]


# -- the words of errors and hints --------------------------------------------------------------


def test_set_testing_switches_waits_off_by_default() -> None:
    try:
        core.set_testing()
        assert core.is_testing()
    finally:
        core.set_testing(False)


def test_keys_of_every_provider_and_from_the_environment_are_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert core.scrub("key tgp_v1_abCDEFGHIJKLMN no") == "key tgp_v1_ab… no"
    assert core.scrub("key fw_abCDEFGHIJKL no") == "key fw_ab… no"
    monkeypatch.setenv("TOGETHER_API_KEY", "12345678")
    monkeypatch.setenv("FIREWORKS_API_KEY", "1234567")  # too short to mask
    assert core.scrub("auth 12345678 / 1234567 failed") == (
        "auth <TOGETHER_API_KEY> / 1234567 failed"
    )


def test_errors_no_provider_describes_keep_their_own_text() -> None:
    assert core.translate(ValueError("odd"), action="x").message == "x failed: odd"
    err = core.translate(
        other_error(None, "other", message="from the body"), action="x", provider=OTHER
    )
    assert err.message == "x failed: from the body"
    bare = core.translate(other_error(None, "other", message=""), action="x", provider=OTHER)
    assert bare.message == "x failed: raw SDK text"
    # an answer without a status, or something that is not an answer, is not read as one
    none = core.translate(other_error(None, message="m"), action="x", provider=OTHER)
    assert type(none) is APIError and none.message == "x failed: m"
    odd = core.translate(other_error(500, "other", message="m"), action="x", provider=OTHER)
    assert type(odd) is APIError and odd.message == "x failed: m"
    assert not core.is_retryable(other_error(503, "other"), OTHER)
    assert not core.is_retryable(openai.OpenAIError("no status"))


def test_a_connection_failure_names_the_variable_to_check() -> None:
    err = core.translate(connection_error(), action="listing files")
    assert err.hint == "check the network and OPENAI_BASE_URL; the request was retried"
    other = core.translate(other_error(None, "connection"), action="x", provider=OTHER)
    assert other.hint == "check the network and OTHER_BASE_URL; the request was retried"


@pytest.mark.parametrize(
    ("provider", "exc", "action", "message", "hint"),
    [
        (
            None,
            status_error(401, message="bad key"),
            "x",
            "the API key was rejected while x: bad key",
            (
                "set OPENAI_API_KEY to a valid key (and OPENAI_ORG_ID / OPENAI_PROJECT_ID if the "
                "key belongs to several)"
            ),
        ),
        (
            OTHER,
            other_error(401, message="bad key"),
            "x",
            "the API key was rejected while x: bad key",
            "set OTHER_API_KEY or OTHER_KEY to a valid key",
        ),
        (
            None,
            status_error(429, code="insufficient_quota", message="no credit"),
            "x",
            "rate limit or quota reached while x: no credit",
            "add credit or raise the limit in the billing settings",
        ),
        (
            None,
            status_error(403, message="Fine-tuning is no longer available"),
            "creating the job",
            "the API refused to create the job: Fine-tuning is no longer available",
            (
                "OpenAI stops accepting new fine-tuning jobs on 2027-01-06 (earlier for some "
                "organisations); see `finetune-kit export` to move your data to another provider"
            ),
        ),
        (
            OTHER,
            other_error(403, message="fine-tuning disabled"),
            "creating the job",
            "the API refused to create the job: fine-tuning disabled",
            "check that your Other AI account may fine-tune this model",
        ),
        (
            None,
            status_error(403, message="nope"),
            "x",
            "permission denied while x: nope",
            "check that the key's project may use fine-tuning",
        ),
        (
            None,
            status_error(404, message="gone"),
            "x",
            "x failed (404): gone",
            "check the id; it may belong to another organisation or project",
        ),
        (
            None,
            status_error(400, message="bad"),
            "x",
            "x failed (400): bad",
            "fix the request as the message says; `finetune-kit validate` checks files first",
        ),
        (
            None,
            status_error(502, message="down"),
            "x",
            "x failed (502): down",
            "the service had a problem; it was retried — try again later",
        ),
        (None, status_error(418, message="tea"), "x", "x failed (418): tea", "see the message"),
    ],
)
def test_error_messages_and_hints_word_for_word(
    provider: Any, exc: BaseException, action: str, message: str, hint: str
) -> None:
    err = core.translate(exc, action=action, provider=provider)
    assert (err.message, err.hint) == (message, hint)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Fine-tuning is not allowed for this model", None),
        ("not for you", "fine_tuning_disabled"),
        ("This model is no longer offered", None),
        ("Model unavailable", None),
    ],
)
def test_each_refusal_word_alone_makes_a_refused_job(message: str, code: str | None) -> None:
    err = core.translate(status_error(400, message=message, code=code), action="creating the job")
    assert type(err) is JobCreationRefused


def test_a_wait_reads_events_by_the_providers_own_rules(tmp_path: Path) -> None:
    make, answer = _other_plans(tmp_path)["checking the job"]
    fail = _fail_on("fine_tuning.jobs.list_events", [other_error(503)], answer)
    job, steps = drive(make(), fail)
    assert job.status == "succeeded"
    assert [(r, a) for _, r, a in sleeps(steps) if r == "retry"] == [("retry", 1)]
