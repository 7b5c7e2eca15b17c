"""Every exception a user of finetune-kit can meet.

All of them derive from [`FinetuneKitError`][finetune_kit.FinetuneKitError], so
``except FinetuneKitError`` catches everything the library raises on purpose. Each carries a
human message and, where it applies, the file, line and field the problem is in, plus a hint
that says how to fix it. When an error wraps another library's exception (``json``, ``openai``,
``tiktoken``), the original is kept as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finetune_kit.validation.engine import Finding, ValidationReport

__all__ = [
    "APIConnectionFailed",
    "APIError",
    "AuthenticationFailed",
    "ConfigError",
    "DataError",
    "FinetuneKitError",
    "JobCreationRefused",
    "JobFailed",
    "JobTimeout",
    "PersonalDataFound",
    "ProviderUnsupported",
    "QuotaExceeded",
    "TokenizerUnavailable",
    "UnknownModelError",
    "ValidationFailed",
]


class FinetuneKitError(Exception):
    """Base class of every error finetune-kit raises.

    Args:
        message: What went wrong, in one sentence.
        file: The file the problem is in, if any.
        line: The 1-based line (or row) number, if any.
        field: A JSON path such as ``messages[2].content``, if any.
        hint: How to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.hint = hint

    @property
    def location(self) -> str:
        """``file:line: field`` as far as it is known (empty string when nothing is)."""
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class DataError(FinetuneKitError):
    """Input data that cannot be read or built into examples.

    Attributes:
        findings: Every problem found, when several were collected before raising.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
        findings: Sequence[Finding] = (),
    ) -> None:
        super().__init__(message, file=file, line=line, field=field, hint=hint)
        self.findings: list[Finding] = list(findings)


class ValidationFailed(DataError):
    """A dataset or file has validation errors and the operation refuses to go on.

    Attributes:
        report: The full [`ValidationReport`][finetune_kit.ValidationReport].
    """

    def __init__(self, report: ValidationReport, *, file: str | Path | None = None) -> None:
        errors = report.errors
        first = errors[0] if errors else None
        message = f"{len(errors)} validation error(s)"
        if first is not None:
            where = f"line {first.line}: " if first.line is not None else ""
            message += f"; first: {where}[{first.code}] {first.message}"
        super().__init__(
            message,
            file=file,
            hint="run `finetune-kit validate` to see every problem, or pass validate=False",
            findings=errors,
        )
        self.report = report


class PersonalDataFound(DataError):
    """Personal data was found and the caller asked to refuse it (``pii="error"``)."""


class ConfigError(FinetuneKitError):
    """A setting, argument or environment variable is missing or wrong."""


class UnknownModelError(ConfigError):
    """A model name is not in the bundled tables.

    Attributes:
        model: The name that was asked for.
        suggestions: Close matches, best first.
    """

    def __init__(self, model: str, suggestions: Sequence[str] = (), *, what: str = "model") -> None:
        self.model = model
        self.suggestions = list(suggestions)
        hint = (
            f"did you mean {', '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else "run `finetune-kit prices` to list the known models, or pass prices explicitly"
        )
        super().__init__(f"unknown {what} {model!r}", hint=hint)


class ProviderUnsupported(ConfigError):
    """The chosen fine-tuning provider does not have this operation (or model, or method).

    Attributes:
        provider: The provider's name (``together``, ``azure``, ...).
        operation: What was asked for (``pause``, ``dpo``, ...).
    """

    def __init__(self, provider: str, operation: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"{provider} does not support {operation}",
            hint=hint or "docs/providers.md lists what each provider has",
        )
        self.provider = provider
        self.operation = operation


class TokenizerUnavailable(FinetuneKitError):
    """tiktoken could not load an encoding (usually: offline with no cached copy)."""


class APIError(FinetuneKitError):
    """The fine-tuning API answered with an error, or could not be reached.

    Attributes:
        status_code: The HTTP status, when there was a response.
        code: The API's error code (``error.code``), when it gave one.
        request_id: The ``x-request-id`` of the failed request, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        line: int | None = None,
        field: str | None = None,
        file: str | Path | None = None,
    ) -> None:
        super().__init__(message, hint=hint, line=line, field=field, file=file)
        self.status_code = status_code
        self.code = code
        self.request_id = request_id


class AuthenticationFailed(APIError):
    """The API key is missing, wrong or lacks the permission for this call."""


class QuotaExceeded(APIError):
    """Rate limit or billing quota reached and retries did not get through."""


class APIConnectionFailed(APIError):
    """The API could not be reached (network, DNS, timeout) within the retry budget."""


class JobCreationRefused(APIError):
    """The API refused to create a fine-tuning job (for example after the wind-down cutoff)."""


class JobFailed(APIError):
    """A fine-tuning job ended in ``failed`` (or ``cancelled`` while waiting for success).

    Attributes:
        job: The final job object as returned by the API.
    """

    def __init__(self, message: str, *, job: Any = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.job = job


class JobTimeout(FinetuneKitError, TimeoutError):
    """Waiting for a job took longer than the timeout. The job itself keeps running.

    Attributes:
        job_id: The job that was being waited for.
        last_status: Its status at the last poll.
    """

    def __init__(self, job_id: str, timeout: float, last_status: str | None) -> None:
        super().__init__(
            f"job {job_id} did not finish within {timeout:g} s (last status: {last_status})",
            hint="the job was not cancelled; wait again or check `finetune-kit status`",
        )
        self.job_id = job_id
        self.last_status = last_status
