"""The [`Provider`][finetune_kit.providers.base.Provider] protocol and the plan steps it speaks.

A provider adapter answers a small set of questions for the job engine (``jobs``): list, upload
and read files; build a job request and find the jobs that already answer it; create, read,
cancel (pause, resume) jobs; read events, checkpoints and metrics; chat with a model. Each
answer is a *plan*: a generator that yields the SDK calls it needs (`Call`, `Run`) and
receives their results. The engine wraps those plans in its retry policy, looks before every
write, polls, de-duplicates events and drives them with a sync or an async SDK client, so an
adapter holds no retry, polling, sleeping or I/O-mode logic of its own: one adapter serves
``JobClient`` and ``AsyncJobClient`` alike.

What an adapter returns is provider-neutral: `RemoteFile`, `RemoteJob`,
`RemoteEvent`, `RemoteCheckpoint` (plain typed dicts, the provider's own object kept in
``raw``), with statuses mapped onto the product's (``validating_files``, ``queued``,
``running``, ``paused``, ``succeeded``, ``failed``, ``cancelled``) and the raw status kept in
``provider_status``. Its static `ProviderFacts` say what it can do: an operation it lacks
raises [`ProviderUnsupported`][finetune_kit.ProviderUnsupported], never
``AttributeError``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, TypeVar, runtime_checkable

from finetune_kit.errors import ProviderUnsupported

__all__ = [
    "PRODUCT_STATUSES",
    "Call",
    "Capability",
    "ErrorInfo",
    "EventPage",
    "JobSpec",
    "MetricsData",
    "Plan",
    "Provider",
    "ProviderFacts",
    "RemoteCheckpoint",
    "RemoteEvent",
    "RemoteFile",
    "RemoteJob",
    "Run",
    "Sleep",
    "Step",
    "UploadFile",
    "UploadSpec",
    "hash_file",
    "unsupported",
]

T = TypeVar("T")

PRODUCT_STATUSES = (
    "validating_files",
    "queued",
    "running",
    "paused",
    "succeeded",
    "failed",
    "cancelled",
)
"""The job statuses every provider's are mapped onto."""

Capability = Literal[
    "pause",
    "resume",
    "checkpoints",
    "metrics",
    "events",
    "chat",
    "dpo",
    "chunked_upload",
    "file_content",
]
"""Optional operations a provider may have (see `ProviderFacts.capabilities`)."""


# -- the steps a plan can ask for ---------------------------------------------------------------


@dataclass(frozen=True)
class UploadFile:
    """A file argument: the driver opens ``path`` and sends it under the name ``filename``.

    With ``as_path`` the driver passes a path whose name is ``filename`` instead of an open
    file (for SDKs that take a path and send its name, such as ``together``).
    """

    path: Path
    filename: str
    as_path: bool = False


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


def unsupported(provider: str, operation: str, hint: str | None = None) -> Plan[Any]:
    """A plan that raises [`ProviderUnsupported`][finetune_kit.ProviderUnsupported].

    Adapters return it for operations their provider does not have, so that the call fails
    with a clear error when the plan runs (never with ``AttributeError``).
    """
    raise ProviderUnsupported(provider, operation, hint=hint)
    yield  # pragma: no cover  (makes this a generator)


# -- what adapters return -----------------------------------------------------------------------


class RemoteFile(TypedDict):
    """An uploaded file, provider-neutral.

    ``status`` is ``uploaded`` (still being processed), ``processed`` or ``error``.
    """

    id: str
    filename: str
    bytes: int
    status: str
    purpose: str
    details: str | None
    raw: Any


class RemoteJob(TypedDict):
    """A fine-tuning job, provider-neutral (the keys of [`Job`][finetune_kit.Job])."""

    id: str
    status: str
    provider_status: str
    model: str
    fine_tuned_model: str | None
    training_file: str | None
    validation_file: str | None
    created_at: int | None
    finished_at: int | None
    trained_tokens: int | None
    estimated_cost: float | None
    error: dict[str, Any] | None
    method: dict[str, Any]
    hyperparameters: dict[str, Any]
    suffix: str | None
    seed: int | None
    metadata: dict[str, str]
    result_files: list[str]
    estimated_finish: int | None
    raw: Any


class RemoteEvent(TypedDict):
    """One job event; ``id`` is stable across reads (synthesised where the API has none)."""

    id: str
    created_at: int
    level: str
    message: str
    type: str
    data: dict[str, Any]


class RemoteCheckpoint(TypedDict):
    """One saved checkpoint of a job."""

    id: str
    step_number: int
    fine_tuned_model_checkpoint: str
    created_at: int
    metrics: dict[str, Any]


@dataclass(frozen=True)
class EventPage:
    """Events of one read, newest first; ``cursor`` fetches the next (older) page."""

    events: list[RemoteEvent]
    has_more: bool = False
    cursor: str | None = None


@dataclass(frozen=True)
class MetricsData:
    """Where a job's metrics come from: a result-file CSV, rows, or neither (use events)."""

    csv: bytes | None = None
    rows: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class ErrorInfo:
    """What the engine needs to know about an SDK exception.

    Attributes:
        kind: ``connection`` (no answer), ``status`` (an HTTP error answer) or ``other``.
        status_code: The HTTP status, for ``status``.
        code: The API's error code, if any.
        message: The API's error message (never containing the key).
        request_id: The request id the API gave, if any.
    """

    kind: Literal["connection", "status", "other"]
    status_code: int | None = None
    code: str | None = None
    message: str = ""
    request_id: str | None = None


# -- what the engine asks for -------------------------------------------------------------------


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

    def matches(self, file: RemoteFile) -> bool:
        """True when an already uploaded file has this content (hash in the name, same size)."""
        return (
            self.marker in file["filename"]
            and file["bytes"] == self.size
            and file["purpose"] == self.purpose
            and file["status"] not in ("error", "deleted")
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


@dataclass(frozen=True)
class JobSpec:
    """A job request in the product's terms; each adapter turns it into its API's request.

    Attributes:
        training_file: Training file id.
        model: Base model.
        validation_file: Validation file id, if any.
        method: ``supervised`` or ``dpo``.
        hyperparameters: ``n_epochs``, ``batch_size``, ``learning_rate_multiplier``, ``beta``,
            and provider-specific ones (``learning_rate``, ``lora``, ``n_checkpoints``, ...);
            ``None`` values are left to the provider's defaults.
        suffix: Model-name suffix.
        seed: Seed.
        metadata: The user's own metadata (providers without metadata ignore it).
        integrations: Provider integrations (OpenAI's ``wandb``).
    """

    training_file: str
    model: str
    validation_file: str | None = None
    method: str = "supervised"
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    suffix: str | None = None
    seed: int | None = None
    metadata: Mapping[str, str] | None = None
    integrations: Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class ProviderFacts:
    """What a provider is and can do, without asking it.

    Attributes:
        name: ``openai``, ``azure``, ``together``, ...
        title: Its name for people.
        key_env: The variables its API key is read from (first set wins).
        base_url_env: The variable that points its SDK at another host (the emulator).
        methods: Training methods it runs (``supervised``, ``dpo``).
        capabilities: The optional operations it has.
        max_file_bytes: Largest training file it takes.
        min_examples: Fewest training examples it takes.
        validation_profile: The name of its validation profile.
        idempotency: How it avoids duplicate jobs, in one sentence (for the docs and CLI).
        statuses: Its raw job statuses mapped onto the product's.
        default_model: A model it tunes, for examples and the demo.
    """

    name: str
    title: str
    key_env: tuple[str, ...]
    base_url_env: str
    methods: frozenset[str]
    capabilities: frozenset[str]
    max_file_bytes: int
    min_examples: int
    validation_profile: str
    idempotency: str
    statuses: Mapping[str, str]
    default_model: str

    def has(self, capability: str) -> bool:
        """Whether the provider has an optional operation."""
        return capability in self.capabilities

    def product_status(self, raw: str) -> str:
        """The product's status for one of the provider's (unknown ones kept as they are)."""
        return self.statuses.get(raw, raw)


@runtime_checkable
class Provider(Protocol):
    """One fine-tuning provider behind the job engine.

    Every method returns a plan of SDK calls (or a value, for pure ones); none sleeps, retries
    or polls: the engine does that the same way for every provider.
    """

    facts: ProviderFacts

    def new_client(self, *, async_: bool) -> Any:
        """Build the provider's SDK client from the environment.

        Raises:
            ConfigError: The key is not set (the message names the variable, never a value).
        """
        ...

    def owns(self, client: object) -> bool:
        """Whether an SDK client belongs to this provider."""
        ...

    def describe_error(self, exc: BaseException) -> ErrorInfo | None:
        """What an exception of its SDK means (``None``: not one of its SDK's)."""
        ...

    def list_files(self, purpose: str) -> Plan[list[RemoteFile]]:
        """Every uploaded file of a purpose."""
        ...

    def upload_file(self, spec: UploadSpec, *, chunked: bool) -> Plan[RemoteFile]:
        """Upload a file under ``spec.filename`` (one write; the engine looked first)."""
        ...

    def retrieve_file(self, file_id: str) -> Plan[RemoteFile]:
        """One file as it is now."""
        ...

    def file_content(self, file_id: str) -> Plan[bytes]:
        """The bytes of a file."""
        ...

    def job_request(self, spec: JobSpec) -> dict[str, Any]:
        """The API's job request for ``spec`` (pure; checks values; carries the key)."""
        ...

    def find_jobs(self, request: Mapping[str, Any]) -> Plan[list[RemoteJob]]:
        """The jobs that already answer this request, whatever their status."""
        ...

    def create_job(self, request: Mapping[str, Any]) -> Plan[RemoteJob]:
        """Create the job (one write; the engine looked first)."""
        ...

    def retrieve_job(self, job_id: str) -> Plan[RemoteJob]:
        """One job as it is now."""
        ...

    def list_jobs(self, limit: int) -> Plan[list[RemoteJob]]:
        """The most recent jobs, newest first."""
        ...

    def cancel_job(self, job_id: str) -> Plan[RemoteJob]:
        """Cancel a job."""
        ...

    def pause_job(self, job_id: str) -> Plan[RemoteJob]:
        """Pause a job (capability ``pause``)."""
        ...

    def resume_job(self, job_id: str) -> Plan[RemoteJob]:
        """Resume a paused job (capability ``resume``)."""
        ...

    def events(self, job_id: str, cursor: str | None) -> Plan[EventPage]:
        """One page of a job's events, newest first."""
        ...

    def checkpoints(self, job_id: str) -> Plan[list[RemoteCheckpoint]]:
        """Every checkpoint of a job."""
        ...

    def metrics(self, job: RemoteJob) -> Plan[MetricsData]:
        """Where the job's training metrics are."""
        ...

    def chat(self, model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> Plan[str]:
        """The text of a chat completion."""
        ...
