"""The provider-neutral job engine shared by [`JobClient`][finetune_kit.JobClient] and its twin.

Every operation is written once, here, as a *plan*: a generator that yields the I/O it needs
([`Call`][] an SDK method, [`Sleep`][]) and receives the result. The sync and async clients
only perform what a plan asks for, so they cannot drift apart. What to call on which SDK is
the provider adapter's business (``providers``); *when* to call it is the engine's: retries
declared with tenacity (its sleeps become ``Sleep`` steps), "look before you write" around
every upload and job creation — the reason no retry ever creates a second file or job —,
polling with backoff and ``Retry-After``, event de-duplication and timeouts, the same for
every provider.
"""

from __future__ import annotations

import functools
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

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
    FinetuneKitError,
    JobCreationRefused,
    QuotaExceeded,
)
from finetune_kit.jobs.models import FileRef, Job, JobEvent
from finetune_kit.providers.base import (
    Call,
    ErrorInfo,
    JobSpec,
    Plan,
    Provider,
    RemoteFile,
    Run,
    Sleep,
    Step,
    UploadFile,
    UploadSpec,
    hash_file,
)
from finetune_kit.providers.openai import IDEMPOTENCY_KEY, OpenAIProvider, build_method

__all__ = [
    "FILES_API_LIMIT",
    "IDEMPOTENCY_KEY",
    "PROCESSING_TIMEOUT",
    "Call",
    "EventTracker",
    "JobSpec",
    "Plan",
    "RetryPolicy",
    "Run",
    "Sleep",
    "Step",
    "UploadFile",
    "UploadSpec",
    "WaitState",
    "build_method",
    "create_plan",
    "hash_file",
    "is_retryable",
    "is_testing",
    "read_plan",
    "retried",
    "retry_after",
    "scrub",
    "set_testing",
    "translate",
    "upload_plan",
    "wait_plan",
]

T = TypeVar("T")

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
FILE_PENDING = frozenset({"uploaded"})
PROCESSING_TIMEOUT = 1800.0
"""Default longest wait, in seconds, for an uploaded file to be processed."""
FILES_API_LIMIT = 512 * 1024 * 1024
"""Largest file the Files API takes; larger ones go through the Uploads API in parts."""
JITTER = 1.0
"""Most seconds of random jitter added to each backoff."""
_SECRET = re.compile(
    r"\b(sk-[A-Za-z0-9_\-*]{4})[A-Za-z0-9_\-*]{8,}"  # OpenAI keys
    r"|\b(tgp_v1_[A-Za-z0-9_\-]{2})[A-Za-z0-9_\-]{8,}"  # Together keys
    r"|\b(fw_[A-Za-z0-9]{2})[A-Za-z0-9]{8,}"  # Fireworks keys
)
_KEY_VARS = (
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
)
_DEFAULT = OpenAIProvider()


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

    def retrying(self, sleeps: list[float], provider: Provider | None = None) -> Retrying:
        """A tenacity ``Retrying`` whose sleeps are recorded in ``sleeps`` instead of slept."""
        chosen = provider or _DEFAULT
        return Retrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.deadline),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: is_retryable(exc, chosen)),
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


def is_retryable(exc: BaseException, provider: Provider | None = None) -> bool:
    """True for errors worth another attempt: connection problems, 408/409/429 and 5xx.

    A 429 for an exhausted quota (``insufficient_quota``) is not retried: waiting won't help.

    Args:
        exc: The exception a call raised.
        provider: The adapter whose SDK raised it (default: OpenAI's).
    """
    info = (provider or _DEFAULT).describe_error(exc)
    if info is None:
        return False
    if info.kind == "connection":
        return True
    if info.kind != "status" or info.status_code is None:
        return False
    if info.status_code == 429 and info.code == "insufficient_quota":
        return False
    return info.status_code in (408, 409, 429) or info.status_code >= 500


def retried(
    policy: RetryPolicy, attempt: Callable[[], Plan[T]], provider: Provider | None = None
) -> Plan[T]:
    """Run the plan made by ``attempt`` with retries; each retry starts the plan afresh."""
    sleeps: list[float] = []
    failed: BaseException | None = None
    for tries in policy.retrying(sleeps, provider):
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


def scrub(text: str) -> str:
    """Mask anything that looks like an API key (``sk-abcd…``), and any key set in the env."""
    text = _SECRET.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "…", text)
    for name in _KEY_VARS:
        value = os.environ.get(name, "")
        if len(value) >= 8 and value in text:
            text = text.replace(value, f"<{name}>")
    return text


def translate(
    exc: BaseException, *, action: str, provider: Provider | None = None
) -> FinetuneKitError:
    """Turn an SDK exception into the matching finetune-kit error (keep it as cause).

    Args:
        exc: The SDK's exception.
        action: What was being done, e.g. ``"creating the job"``.
        provider: The adapter whose SDK raised it (default: OpenAI's).

    Returns:
        The error to raise (``raise translate(e, ...) from e``).
    """
    if isinstance(exc, FinetuneKitError):
        return exc
    chosen = provider or _DEFAULT
    facts = chosen.facts
    info = chosen.describe_error(exc) or ErrorInfo("other", message=str(exc))
    if info.kind == "connection":
        return APIConnectionFailed(
            f"could not reach the {facts.title} API while {action}: {scrub(info.message)}",
            hint=f"check the network and {facts.base_url_env}; the request was retried",
        )
    if info.kind != "status" or info.status_code is None:
        return APIError(f"{action} failed: {scrub(info.message or str(exc))}")
    code = info.code
    message = scrub(info.message)
    status = info.status_code
    common: dict[str, Any] = {"status_code": status, "code": code, "request_id": info.request_id}
    keys = " or ".join(facts.key_env)
    if status == 401:
        extra = (
            " (and OPENAI_ORG_ID / OPENAI_PROJECT_ID if the key belongs to several)"
            if facts.name == "openai"
            else ""
        )
        return AuthenticationFailed(
            f"the API key was rejected while {action}: {message}",
            hint=f"set {keys} to a valid key{extra}",
            **common,
        )
    if status == 429:
        hint = (
            "add credit or raise the limit in the billing settings"
            if code == "insufficient_quota"
            else "wait and try again, or lower the request rate"
        )
        return QuotaExceeded(
            f"rate limit or quota reached while {action}: {message}", hint=hint, **common
        )
    if action == "creating the job" and status in (400, 403) and _looks_like_refusal(message, code):
        hint = (
            "OpenAI stops accepting new fine-tuning jobs on 2027-01-06 (earlier for some "
            "organisations); see `finetune-kit export` to move your data to another provider"
            if facts.name == "openai"
            else f"check that your {facts.title} account may fine-tune this model"
        )
        return JobCreationRefused(
            f"the API refused to create the job: {message}", hint=hint, **common
        )
    if status == 403:
        return AuthenticationFailed(
            f"permission denied while {action}: {message}",
            hint="check that the key's project may use fine-tuning",
            **common,
        )
    return APIError(
        f"{action} failed ({status}): {message}",
        hint=_hint_for(status, code),
        line=_line_in(message),
        **common,
    )


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


def _find_or_upload(
    provider: Provider, spec: UploadSpec, chunked_above: int
) -> Plan[tuple[RemoteFile, bool]]:
    for obj in (yield from provider.list_files(spec.purpose)):
        if spec.matches(obj):
            return obj, True
    chunked = spec.size > chunked_above and provider.facts.has("chunked_upload")
    return (yield from provider.upload_file(spec, chunked=chunked)), False


def upload_plan(
    spec: UploadSpec,
    policy: RetryPolicy,
    *,
    provider: Provider | None = None,
    chunked_above: int = FILES_API_LIMIT,
    wait: bool = True,
    poll_interval: float = 1.0,
    processing_timeout: float = PROCESSING_TIMEOUT,
    now: Callable[[], float] = time.monotonic,
) -> Plan[FileRef]:
    """Upload a file once: reuse an identical one, else create it; then wait until processed."""
    chosen = provider or _DEFAULT
    try:
        obj, reused = yield from retried(
            policy, lambda: _find_or_upload(chosen, spec, chunked_above), chosen
        )
    except Exception as exc:
        raise translate(exc, action="uploading the file", provider=chosen) from exc
    start = now()
    while wait and obj["status"] in FILE_PENDING:
        if now() - start > processing_timeout:
            raise APIError(
                f"{obj['id']} was not processed within {processing_timeout:g} s "
                f"(status {obj['status']!r})",
                file=spec.path,
                hint="the upload itself succeeded; check the file later, or upload with wait=False",
            )
        yield Sleep(poll_interval)
        obj = yield from read_plan(
            functools.partial(chosen.retrieve_file, obj["id"]),
            policy,
            action="waiting for the file to be processed",
            provider=chosen,
        )
    ref = FileRef.from_remote(obj, sha256=spec.sha256, reused=reused)
    if ref.status == "error":
        details = obj["details"] or "no details"
        raise APIError(
            f"the API could not process {spec.path.name}: {details}",
            file=spec.path,
            line=_line_in(details),
            hint="run `finetune-kit validate` on the file",
        )
    return ref


# -- create job --------------------------------------------------------------------------------


def _find_or_create(provider: Provider, request: Mapping[str, Any]) -> Plan[tuple[Any, bool]]:
    for job in (yield from provider.find_jobs(request)):
        if job["status"] not in ("failed", "cancelled"):
            return job, True
    return (yield from provider.create_job(request)), False


def create_plan(
    request: Mapping[str, Any], policy: RetryPolicy, *, provider: Provider | None = None
) -> Plan[Job]:
    """Create a job once: an equal request already made is found and reused."""
    chosen = provider or _DEFAULT
    try:
        obj, reused = yield from retried(policy, lambda: _find_or_create(chosen, request), chosen)
    except Exception as exc:
        raise translate(exc, action="creating the job", provider=chosen) from exc
    return Job.from_remote(obj, provider=chosen.facts.name, reused=reused)


# -- reads, polling, events --------------------------------------------------------------------


def read_plan(
    attempt: Callable[[], Plan[T]],
    policy: RetryPolicy,
    *,
    action: str,
    provider: Provider | None = None,
) -> Plan[T]:
    """One read with retries, errors translated."""
    try:
        return (yield from retried(policy, attempt, provider))
    except Exception as exc:
        raise translate(exc, action=action, provider=provider) from exc


class EventTracker:
    """Remembers which events were delivered so that each one is delivered exactly once."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def fresh(self, newest_first: Iterable[Any]) -> tuple[list[JobEvent], bool]:
        """New events oldest first, and whether an already-seen one was reached."""
        new: list[JobEvent] = []
        reached_seen = False
        for raw in newest_first:
            event = JobEvent.from_api(raw)
            if event.id in self._seen:
                reached_seen = True
                break
            new.append(event)
        for ev in new:
            self._seen.add(ev.id)
        new.reverse()
        return new, reached_seen

    def __len__(self) -> int:
        return len(self._seen)


def new_events_plan(
    job_id: str, tracker: EventTracker, policy: RetryPolicy, provider: Provider | None = None
) -> Plan[list[JobEvent]]:
    """Fetch pages of events (newest first) until one already delivered is reached."""
    chosen = provider or _DEFAULT
    collected: list[JobEvent] = []
    cursor: str | None = None
    while True:
        page = yield from read_plan(
            functools.partial(chosen.events, job_id, cursor),
            policy,
            action="listing events",
            provider=chosen,
        )
        fresh, reached = tracker.fresh(page.events)
        collected = fresh + collected
        if reached or not page.events or not page.has_more:
            return collected
        cursor = page.cursor


def all_events_plan(
    job_id: str, policy: RetryPolicy, provider: Provider | None = None
) -> Plan[list[JobEvent]]:
    """Every event of a job, oldest first."""
    return (yield from new_events_plan(job_id, EventTracker(), policy, provider))


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
    provider: Provider | None = None,
) -> Plan[Job]:
    """Poll until the job reaches a terminal status, delivering each new event once."""
    from finetune_kit.errors import JobTimeout

    chosen = provider or _DEFAULT
    start = now()
    tracker = EventTracker()
    while True:
        obj = yield from read_plan(
            lambda: chosen.retrieve_job(job_id),
            policy,
            action="checking the job",
            provider=chosen,
        )
        job = Job.from_remote(obj, provider=chosen.facts.name)
        state.job, state.polls = job, state.polls + 1
        if chosen.facts.has("events") and (on_event is not None or job.is_terminal):
            for event in (yield from new_events_plan(job_id, tracker, policy, chosen)):
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
