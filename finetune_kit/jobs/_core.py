"""Pure job logic shared by [`JobClient`][finetune_kit.JobClient] and its async twin.

Every operation is written once, here, as a *plan*: a generator that yields the I/O it needs
([`Call`][] an SDK method, [`Sleep`][]) and receives the result. The sync and async clients
only perform what a plan asks for, so they cannot drift apart. Retries are declared with
tenacity inside the plans (its sleeps become ``Sleep`` steps), which keeps the "look before you
write" logic — the reason no retry ever creates a second file or job — in one place.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from finetune_kit.errors import (
    APIConnectionFailed,
    APIError,
    AuthenticationFailed,
    ConfigError,
    FinetuneKitError,
    JobCreationRefused,
    QuotaExceeded,
)
from finetune_kit.jobs.models import FileRef, Job, JobEvent

T = TypeVar("T")

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
FILE_READY = frozenset({"processed"})
FILE_PENDING = frozenset({"uploaded", "pending", "running"})
IDEMPOTENCY_KEY = "finetune_kit_key"
"""The job ``metadata`` key that holds the request's idempotency key."""
PROCESSING_TIMEOUT = 1800.0
"""Default longest wait, in seconds, for an uploaded file to be processed."""
FILES_API_LIMIT = 512 * 1024 * 1024
"""Largest file the Files API takes; larger ones go through the Uploads API in parts."""
JITTER = 1.0
"""Most seconds of random jitter added to each backoff."""
_MAX_METADATA_PAIRS = 16
_SECRET = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{4})[A-Za-z0-9_\-*]{8,}")


# -- the steps a plan can ask for ---------------------------------------------------------------


@dataclass(frozen=True)
class UploadFile:
    """A file argument: the driver opens ``path`` and sends it as ``filename``."""

    path: Path
    filename: str


@dataclass(frozen=True)
class Call:
    """Call an SDK method, e.g. ``Call("fine_tuning.jobs.create", {...}, write=True)``.

    ``write`` marks calls that change state: plans only retry them after looking first.
    """

    method: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    write: bool = False


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (recorded, not slept, while [`set_testing`][finetune_kit.set_testing]).

    ``reason`` is ``"retry"`` for a retry policy's wait (``cause`` is the error retried and
    ``attempt`` the number of the attempt that failed) or ``"poll"`` between two polls.
    """

    seconds: float
    reason: Literal["retry", "poll"] = "poll"
    cause: BaseException | None = None
    attempt: int = 0


@dataclass(frozen=True)
class Run:
    """Run a blocking local function (hashing, validating); async clients use a thread."""

    func: Callable[[], Any]


Step = Call | Sleep | Run
Plan = Generator[Step, Any, T]


# -- retry policy -----------------------------------------------------------------------------

_TESTING = {"on": False}


@dataclass(frozen=True)
class RecordedWait:
    """A wait the job engine asked for while [`set_testing`][finetune_kit.set_testing] was on.

    Returned by [`recorded_waits`][finetune_kit.recorded_waits]: tests assert on the waits
    instead of sleeping them.

    Attributes:
        seconds: How long the engine would have slept.
        reason: ``"retry"`` (a retry policy's wait before the next attempt) or ``"poll"``
            (between two polls of a file being processed or of a job).
        attempt: For retries, the number of the attempt that failed (1 for the first try);
            0 for polls.
        status_code: HTTP status of the error that was retried (``None`` for a connection
            error and for polls).
        retry_after: Seconds the server asked for in ``Retry-After`` / ``retry-after-ms``
            (``None`` when it sent neither).
        request: The request that failed, e.g. ``"POST /v1/files"`` (``None`` for polls).
    """

    seconds: float
    reason: Literal["retry", "poll"]
    attempt: int = 0
    status_code: int | None = None
    retry_after: float | None = None
    request: str | None = None


_RECORDED: list[RecordedWait] = []


def set_testing(on: bool = True) -> None:
    """Make every retry wait and poll sleep instant, and record them (for tests).

    Like ``stamina.set_testing``: one call, no monkeypatching of ``time.sleep``. While it is
    on, nothing sleeps; each wait the engine asks for is appended to
    [`recorded_waits`][finetune_kit.recorded_waits] instead. Every call clears that record.

    Args:
        on: True to switch waits off (and start recording), False to restore them.
    """
    _TESTING["on"] = on
    _RECORDED.clear()


def is_testing() -> bool:
    """True while [`set_testing`][finetune_kit.set_testing] is on."""
    return _TESTING["on"]


def recorded_waits() -> list[RecordedWait]:
    """The waits asked for since the last [`set_testing`][finetune_kit.set_testing] call.

    Oldest first; empty while testing is off (real waits are slept, not recorded).

    Examples:
        ```py
        from finetune_kit import recorded_waits, set_testing

        set_testing(True)
        ...  # run a job client against the emulator with a 429 fault
        assert [w.seconds for w in recorded_waits() if w.reason == "retry"] == [2.0]
        ```
    """
    return list(_RECORDED)


def sleep_for(step: Sleep) -> float:
    """Seconds a driver really sleeps for ``step``: 0 while testing, the wait then recorded."""
    if not is_testing():
        return step.seconds
    exc = step.cause
    request = getattr(exc, "request", None)
    _RECORDED.append(
        RecordedWait(
            seconds=step.seconds,
            reason=step.reason,
            attempt=step.attempt,
            status_code=getattr(exc, "status_code", None),
            retry_after=retry_after(exc),
            request=f"{request.method} {request.url.path}" if request is not None else None,
        )
    )
    return 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """How writes and polls are retried.

    Attributes:
        attempts: Most attempts per operation (the first try included).
        deadline: Most seconds to keep retrying one operation.
        initial: First backoff in seconds (then doubling, plus up to 1 s of random jitter).
        maximum: Longest single backoff in seconds.
        max_retry_after: Longest ``Retry-After`` the server may ask for that is honoured.
    """

    attempts: int = 6
    deadline: float = 120.0
    initial: float = 0.5
    maximum: float = 20.0
    max_retry_after: float = 60.0

    def retrying(self, sleeps: list[float]) -> Retrying:
        """A tenacity ``Retrying`` whose sleeps are recorded in ``sleeps`` instead of slept."""
        return Retrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.deadline),
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            sleep=sleeps.append,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        # Retry-After (capped), else initial * 2**(n-1) plus up to JITTER seconds after the
        # n-th failed attempt, at most `maximum` (tenacity's wait_exponential_jitter formula)
        exc = state.outcome.exception() if state.outcome else None
        after = retry_after(exc)
        if after is not None:
            return min(after, self.max_retry_after)
        backoff = self.initial * 2.0 ** (state.attempt_number - 1) + random.uniform(0, JITTER)
        return min(backoff, self.maximum)


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms`` / ``retry-after``), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def is_retryable(exc: BaseException) -> bool:
    """True for errors worth another attempt: connection problems, 408/409/429 and 5xx.

    A 429 for an exhausted quota (``insufficient_quota``) is not retried: waiting won't help.
    """
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429 and _error_code(exc) == "insufficient_quota":
            return False
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def retried(policy: RetryPolicy, attempt: Callable[[], Plan[T]]) -> Plan[T]:
    """Run the plan made by ``attempt`` with retries; each retry starts the plan afresh."""
    sleeps: list[float] = []
    failed: BaseException | None = None
    for tries in policy.retrying(sleeps):
        if sleeps:
            number = tries.retry_state.attempt_number - 1
            yield Sleep(sleeps.pop(), reason="retry", cause=failed, attempt=number)
        with tries:
            try:
                return (yield from attempt())
            except Exception as exc:
                failed = exc
                raise
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover


# -- errors ---------------------------------------------------------------------------------------


def _error_code(exc: openai.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            code = inner.get("code")
            return str(code) if code is not None else None
    return getattr(exc, "code", None)


def scrub(text: str) -> str:
    """Mask anything that looks like an API key (``sk-abcd…``) in a message."""
    return _SECRET.sub(r"\1…", text)


def translate(exc: BaseException, *, action: str) -> FinetuneKitError:
    """Turn an ``openai`` exception into the matching finetune-kit error (keep it as cause).

    Args:
        exc: The SDK's exception.
        action: What was being done, e.g. ``"creating the job"``.

    Returns:
        The error to raise (``raise translate(e, ...) from e``).
    """
    if isinstance(exc, FinetuneKitError):
        return exc
    if isinstance(exc, openai.APIConnectionError):
        return APIConnectionFailed(
            f"could not reach the API while {action}: {scrub(str(exc))}",
            hint="check the network and OPENAI_BASE_URL; the request was retried",
        )
    if not isinstance(exc, openai.APIStatusError):
        return APIError(f"{action} failed: {scrub(str(exc))}")
    code = _error_code(exc)
    message = scrub(_error_message(exc))
    request_id = getattr(exc, "request_id", None)
    common: dict[str, Any] = {
        "status_code": exc.status_code,
        "code": code,
        "request_id": request_id,
    }
    if exc.status_code == 401:
        return AuthenticationFailed(
            f"the API key was rejected while {action}: {message}",
            hint="set OPENAI_API_KEY to a valid key (and OPENAI_ORG_ID / OPENAI_PROJECT_ID if "
            "the key belongs to several)",
            **common,
        )
    if exc.status_code == 429:
        hint = (
            "add credit or raise the limit in the billing settings"
            if code == "insufficient_quota"
            else "wait and try again, or lower the request rate"
        )
        return QuotaExceeded(
            f"rate limit or quota reached while {action}: {message}", hint=hint, **common
        )
    if (
        action == "creating the job"
        and exc.status_code in (400, 403)
        and _looks_like_refusal(message, code)
    ):
        return JobCreationRefused(
            f"the API refused to create the job: {message}",
            hint="OpenAI stops accepting new fine-tuning jobs on 2027-01-06 (earlier for some "
            "organisations); see `finetune-kit export` to move your data to another provider",
            **common,
        )
    if exc.status_code == 403:
        return AuthenticationFailed(
            f"permission denied while {action}: {message}",
            hint="check that the key's project may use fine-tuning",
            **common,
        )
    line = _line_in(message)
    return APIError(
        f"{action} failed ({exc.status_code}): {message}",
        hint=_hint_for(exc.status_code, code),
        line=line,
        **common,
    )


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and inner.get("message"):
            return str(inner["message"])
    return str(exc)


def _looks_like_refusal(message: str, code: str | None) -> bool:
    text = f"{message} {code or ''}".lower()
    return any(w in text for w in ("fine-tuning", "fine_tuning", "no longer", "unavailable"))


def _line_in(message: str) -> int | None:
    m = re.search(r"\bline (\d+)\b", message)
    return int(m.group(1)) if m else None


def _hint_for(status: int, code: str | None) -> str:
    if status == 404:
        return "check the id; it may belong to another organisation or project"
    if status == 400:
        return "fix the request as the message says; `finetune-kit validate` checks files first"
    if status >= 500:
        return "the service had a problem; it was retried — try again later"
    return f"see the API error code {code!r}" if code else "see the message"


# -- upload ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadSpec:
    """A file to upload, identified by its content hash."""

    path: Path
    sha256: str
    size: int
    purpose: str

    @property
    def filename(self) -> str:
        """``<stem>-<sha256[:16]>.jsonl``: the name carries the content hash."""
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", self.path.stem)[:40] or "data"
        return f"{stem}-{self.sha256[:16]}{self.path.suffix or '.jsonl'}"

    @property
    def marker(self) -> str:
        """The part of the name that identifies the content whatever the stem."""
        return f"-{self.sha256[:16]}"

    def matches(self, obj: Any) -> bool:
        """True when an already uploaded file has this content (hash in the name, same size)."""
        name = str(getattr(obj, "filename", "") or "")
        return (
            self.marker in name
            and getattr(obj, "bytes", None) == self.size
            and getattr(obj, "purpose", self.purpose) == self.purpose
            and getattr(obj, "status", "processed") not in ("error", "deleted")
        )


def hash_file(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def list_all(method: str, kwargs: Mapping[str, Any], *, page_size: int = 100) -> Plan[list[Any]]:
    """Every item of a cursor-paginated list."""
    items: list[Any] = []
    after: str | None = None
    while True:
        args = dict(kwargs, limit=page_size)
        if after is not None:
            args["after"] = after
        page = yield Call(method, args)
        data = list(page.data)
        items.extend(data)
        if not data or not getattr(page, "has_more", False):
            return items
        after = data[-1].id


def _find_or_upload(spec: UploadSpec, chunked_above: int) -> Plan[tuple[Any, bool]]:
    files = yield from list_all("files.list", {"purpose": spec.purpose})
    for obj in files:
        if spec.matches(obj):
            return obj, True
    if spec.size > chunked_above:
        upload = yield Call(
            "uploads.upload_file_chunked",
            {
                "file": spec.path,
                "filename": spec.filename,
                "bytes": spec.size,
                "mime_type": "application/jsonl",
                "purpose": spec.purpose,
            },
            write=True,
        )
        return upload.file, False
    created = yield Call(
        "files.create",
        {"file": UploadFile(spec.path, spec.filename), "purpose": spec.purpose},
        write=True,
    )
    return created, False


def upload_plan(
    spec: UploadSpec,
    policy: RetryPolicy,
    *,
    chunked_above: int = FILES_API_LIMIT,
    wait: bool = True,
    poll_interval: float = 1.0,
    processing_timeout: float = PROCESSING_TIMEOUT,
    now: Callable[[], float] = time.monotonic,
) -> Plan[FileRef]:
    """Upload a file once: reuse an identical one, else create it; then wait until processed."""
    try:
        obj, reused = yield from retried(policy, lambda: _find_or_upload(spec, chunked_above))
    except Exception as exc:
        raise translate(exc, action="uploading the file") from exc
    start = now()
    while wait and getattr(obj, "status", "processed") in FILE_PENDING:
        if now() - start > processing_timeout:
            raise APIError(
                f"{obj.id} was not processed within {processing_timeout:g} s "
                f"(status {obj.status!r})",
                file=spec.path,
                hint="the upload itself succeeded; check `client.files.retrieve` later, or "
                "upload with wait=False",
            )
        yield Sleep(poll_interval)
        try:
            retrieve = Call("files.retrieve", {"file_id": obj.id})
            obj = yield from retried(policy, functools.partial(_one, retrieve))
        except Exception as exc:
            raise translate(exc, action="waiting for the file to be processed") from exc
    ref = FileRef.from_api(obj, sha256=spec.sha256, reused=reused)
    if ref.status == "error":
        details = getattr(obj, "status_details", None) or "no details"
        raise APIError(
            f"the API could not process {spec.path.name}: {details}",
            file=spec.path,
            line=_line_in(str(details)),
            hint="run `finetune-kit validate` on the file",
        )
    return ref


def _one(call: Call) -> Plan[Any]:
    return (yield call)


# -- create job --------------------------------------------------------------------------------


def build_method(
    method: str,
    *,
    n_epochs: int | str | None,
    batch_size: int | str | None,
    learning_rate_multiplier: float | str | None,
    beta: float | str | None,
) -> dict[str, Any]:
    """The ``method`` object of a job request (hyper-parameters left out stay ``auto``)."""
    if method not in ("supervised", "dpo"):
        raise ConfigError(f"unknown method {method!r}", hint="use supervised or dpo")
    if beta is not None and method != "dpo":
        raise ConfigError("beta applies to the dpo method only", field="beta")
    hp: dict[str, Any] = {}
    for name, value in (
        ("n_epochs", n_epochs),
        ("batch_size", batch_size),
        ("learning_rate_multiplier", learning_rate_multiplier),
        ("beta", beta),
    ):
        if value is not None:
            hp[name] = value
    _check_hyperparameters(hp)
    return {"type": method, method: {"hyperparameters": hp}}


def _check_hyperparameters(hp: Mapping[str, Any]) -> None:
    limits = {"n_epochs": (1, 50), "batch_size": (1, 256)}
    for name, (low, high) in limits.items():
        v = hp.get(name)
        if v is not None and v != "auto" and not (isinstance(v, int) and low <= v <= high):
            raise ConfigError(f"{name} must be 'auto' or an integer {low}..{high}, got {v!r}")
    lr = hp.get("learning_rate_multiplier")
    if lr is not None and lr != "auto" and not (isinstance(lr, int | float) and lr > 0):
        raise ConfigError(f"learning_rate_multiplier must be 'auto' or > 0, got {lr!r}")
    beta = hp.get("beta")
    if (
        beta is not None
        and beta != "auto"
        and not (isinstance(beta, int | float) and 0 < beta <= 2)
    ):
        raise ConfigError(f"beta must be 'auto' or in (0, 2], got {beta!r}")


def idempotency_key(request: Mapping[str, Any]) -> str:
    """A key derived from what makes a job request the same request.

    Training and validation file, model, method with its hyper-parameters, suffix and seed —
    the user's own metadata and integrations do not change what is trained.
    """
    relevant = {
        k: request.get(k)
        for k in ("training_file", "validation_file", "model", "method", "suffix", "seed")
    }
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return "ftk1-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def job_request(
    *,
    training_file: str,
    model: str,
    validation_file: str | None,
    method: Mapping[str, Any],
    suffix: str | None,
    seed: int | None,
    metadata: Mapping[str, str] | None,
    integrations: Iterable[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """The ``fine_tuning.jobs.create`` arguments, with the idempotency key in ``metadata``."""
    if suffix is not None and len(suffix) > 64:
        raise ConfigError("suffix is longer than 64 characters", field="suffix")
    request: dict[str, Any] = {
        "training_file": training_file,
        "model": model,
        "method": dict(method),
    }
    for name, value in (("validation_file", validation_file), ("suffix", suffix), ("seed", seed)):
        if value is not None:
            request[name] = value
    user_meta = dict(metadata or {})
    if len(user_meta) >= _MAX_METADATA_PAIRS:
        raise ConfigError(
            f"metadata takes at most {_MAX_METADATA_PAIRS - 1} pairs here "
            f"(one is used for the idempotency key)",
            field="metadata",
        )
    for k, v in user_meta.items():
        if len(k) > 64 or len(str(v)) > 512:
            raise ConfigError("metadata keys are ≤ 64 and values ≤ 512 characters", field=k)
    request["metadata"] = {
        **{k: str(v) for k, v in user_meta.items()},
        IDEMPOTENCY_KEY: idempotency_key(request),
    }
    if integrations:
        request["integrations"] = [dict(i) for i in integrations]
    return request


def _find_or_create(request: Mapping[str, Any]) -> Plan[tuple[Any, bool]]:
    key = request["metadata"][IDEMPOTENCY_KEY]
    jobs = yield from list_all("fine_tuning.jobs.list", {"metadata": {IDEMPOTENCY_KEY: key}})
    for job in jobs:  # filter again: some deployments ignore the metadata filter
        meta = getattr(job, "metadata", None) or {}
        if meta.get(IDEMPOTENCY_KEY) == key and job.status not in ("failed", "cancelled"):
            return job, True
    created = yield Call("fine_tuning.jobs.create", request, write=True)
    return created, False


def create_plan(request: Mapping[str, Any], policy: RetryPolicy) -> Plan[Job]:
    """Create a job once: an equal request already made is found by its key and reused."""
    try:
        obj, reused = yield from retried(policy, lambda: _find_or_create(request))
    except Exception as exc:
        raise translate(exc, action="creating the job") from exc
    return Job.from_api(obj, reused=reused)


# -- reads, polling, events --------------------------------------------------------------------


def read_plan(call: Call, policy: RetryPolicy, *, action: str) -> Plan[Any]:
    """One read with retries, errors translated."""
    try:
        return (yield from retried(policy, lambda: _one(call)))
    except Exception as exc:
        raise translate(exc, action=action) from exc


class EventTracker:
    """Remembers which events were delivered so that each one is delivered exactly once."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def fresh(self, newest_first: Iterable[Any]) -> tuple[list[JobEvent], bool]:
        """New events oldest first, and whether an already-seen one was reached."""
        new: list[JobEvent] = []
        reached_seen = False
        for raw in newest_first:
            if raw.id in self._seen:
                reached_seen = True
                break
            new.append(JobEvent.from_api(raw))
        for ev in new:
            self._seen.add(ev.id)
        new.reverse()
        return new, reached_seen

    def __len__(self) -> int:
        return len(self._seen)


def new_events_plan(
    job_id: str, tracker: EventTracker, policy: RetryPolicy
) -> Plan[list[JobEvent]]:
    """Fetch pages of events (newest first) until one already delivered is reached."""
    collected: list[JobEvent] = []
    after: str | None = None
    while True:
        args: dict[str, Any] = {"fine_tuning_job_id": job_id, "limit": 100}
        if after is not None:
            args["after"] = after
        page = yield from read_plan(
            Call("fine_tuning.jobs.list_events", args), policy, action="listing events"
        )
        data = list(page.data)
        fresh, reached = tracker.fresh(data)
        collected = fresh + collected
        if reached or not data or not getattr(page, "has_more", False):
            return collected
        after = data[-1].id


def all_events_plan(job_id: str, policy: RetryPolicy) -> Plan[list[JobEvent]]:
    """Every event of a job, oldest first."""
    return (yield from new_events_plan(job_id, EventTracker(), policy))


@dataclass
class WaitState:
    """What a wait has seen so far (for callbacks and errors)."""

    job: Job | None = None
    polls: int = 0
    events: int = 0


def wait_plan(
    job_id: str,
    *,
    policy: RetryPolicy,
    poll_interval: float,
    timeout: float | None,
    now: Callable[[], float],
    on_event: Callable[[JobEvent], None] | None,
    on_poll: Callable[[Job], None] | None,
    state: WaitState,
) -> Plan[Job]:
    """Poll until the job reaches a terminal status, delivering each new event once."""
    from finetune_kit.errors import JobTimeout

    start = now()
    tracker = EventTracker()
    while True:
        obj = yield from read_plan(
            Call("fine_tuning.jobs.retrieve", {"fine_tuning_job_id": job_id}),
            policy,
            action="checking the job",
        )
        job = Job.from_api(obj)
        state.job, state.polls = job, state.polls + 1
        if on_event is not None or job.is_terminal:
            for event in (yield from new_events_plan(job_id, tracker, policy)):
                state.events += 1
                if on_event is not None:
                    on_event(event)
        if on_poll is not None:
            on_poll(job)
        if job.is_terminal:
            return job
        if timeout is not None and now() - start >= timeout:
            raise JobTimeout(job_id, timeout, job.status)
        delay = poll_interval
        if timeout is not None:
            delay = min(delay, max(0.0, timeout - (now() - start)))
        yield Sleep(delay)
