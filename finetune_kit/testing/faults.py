"""Fault plans: declarative rules that make the emulator misbehave on purpose.

A [`Fault`][finetune_kit.testing.Fault] matches requests by method and path pattern and, from
its ``nth`` match on, fires ``times`` times. It can answer with an HTTP error (with an optional
``Retry-After``), add latency, drop the connection before the server acts, or drop it after the
server committed the write (the response is lost: the case that makes naive retries create
duplicates). A [`FaultPlan`][finetune_kit.testing.FaultPlan] is a list of faults, built in
Python or loaded from JSON:

```json
{"faults": [
  {"kind": "status", "method": "POST", "path": "/files", "status": 429, "retry_after": 0.01},
  {"kind": "drop_after", "method": "POST", "path": "/fine_tuning/jobs"}
]}
```
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from finetune_kit.errors import ConfigError

__all__ = ["Fault", "FaultKind", "FaultPlan"]

FaultKind = Literal["status", "latency", "drop_before", "drop_after"]

_METHODS = frozenset({"*", "GET", "POST", "DELETE", "PUT", "PATCH"})


@functools.lru_cache(maxsize=256)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith(("/v1/", "*")) and pattern != "/v1":
        pattern = "/v1" + (pattern if pattern.startswith("/") else "/" + pattern)
    out = []
    for token in re.split(r"(\*\*|\*|\{[^}/]*\})", pattern.rstrip("/") or "/"):
        if token == "**":
            out.append(".*")
        elif token == "*" or (token.startswith("{") and token.endswith("}")):
            out.append("[^/]*")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out) + "/?")


class Fault(BaseModel):
    """One rule of a fault plan.

    Paths are matched against the request path without the query; a pattern without the
    ``/v1`` prefix gets it (``/files`` and ``/v1/files`` are the same). ``*`` (or ``{name}``)
    matches one path segment, ``**`` any number of them.

    Attributes:
        kind: ``status`` (answer with an HTTP error), ``latency`` (wait ``seconds`` first),
            ``drop_before`` (close the connection before the server acts) or ``drop_after``
            (the server acts, then the connection is closed and the response is lost).
        method: HTTP method to match, or ``*``.
        path: Path pattern, e.g. ``/fine_tuning/jobs/*/cancel``.
        nth: The first matching request (1-based) that triggers the fault.
        times: How many times it fires from then on (``None``: every time).
        status: HTTP status for ``status`` faults.
        retry_after: ``Retry-After`` header value in seconds, for ``status`` faults.
        message: ``error.message`` of the error body (a stock message by default).
        code: ``error.code`` of the error body.
        type: ``error.type`` of the error body.
        headers: Extra response headers for ``status`` faults (e.g. ``x-should-retry``).
        seconds: Delay for ``latency`` faults.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    method: str = "*"
    path: str = "**"
    nth: Annotated[int, Field(ge=1)] = 1
    times: Annotated[int, Field(ge=1)] | None = 1
    status: Annotated[int, Field(ge=400, le=599)] = 500
    retry_after: Annotated[float, Field(ge=0)] | None = None
    message: str | None = None
    code: str | None = None
    type: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    seconds: Annotated[float, Field(ge=0)] = 0.0

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        method = value.upper()
        if method not in _METHODS:
            raise ValueError(f"unknown HTTP method {value!r}")
        return method

    @field_validator("path")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("path pattern must not be empty")
        return value

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (method, path without query) matches this rule's pattern."""
        if self.method not in ("*", method.upper()):
            return False
        return _pattern_regex(self.path).fullmatch(path) is not None

    @classmethod
    def error(
        cls,
        status: int = 500,
        *,
        method: str = "*",
        path: str = "**",
        retry_after: float | None = None,
        nth: int = 1,
        times: int | None = 1,
        message: str | None = None,
        code: str | None = None,
    ) -> Fault:
        """Answer with HTTP ``status`` (and an OpenAI-style error body)."""
        return cls(
            kind="status",
            status=status,
            method=method,
            path=path,
            retry_after=retry_after,
            nth=nth,
            times=times,
            message=message,
            code=code,
        )

    @classmethod
    def delay(
        cls,
        seconds: float,
        *,
        method: str = "*",
        path: str = "**",
        nth: int = 1,
        times: int | None = 1,
    ) -> Fault:
        """Wait ``seconds`` (real time) before handling the request."""
        return cls(kind="latency", seconds=seconds, method=method, path=path, nth=nth, times=times)

    @classmethod
    def drop_before(
        cls, *, method: str = "*", path: str = "**", nth: int = 1, times: int | None = 1
    ) -> Fault:
        """Close the connection without acting: nothing happened on the server."""
        return cls(kind="drop_before", method=method, path=path, nth=nth, times=times)

    @classmethod
    def drop_after(
        cls, *, method: str = "*", path: str = "**", nth: int = 1, times: int | None = 1
    ) -> Fault:
        """Act (commit the write), then close the connection: the response is lost."""
        return cls(kind="drop_after", method=method, path=path, nth=nth, times=times)


class FaultPlan(BaseModel):
    """An ordered list of [`Fault`][finetune_kit.testing.Fault] rules.

    When several rules match one request, every ``latency`` rule adds its delay and the first
    other rule decides what happens.
    """

    model_config = ConfigDict(extra="forbid")

    faults: list[Fault] = Field(default_factory=list)

    @classmethod
    def from_json(cls, text: str, *, source: str | Path = "<string>") -> FaultPlan:
        """Parse a plan from JSON text: ``{"faults": [...]}`` or a bare list of faults.

        Raises:
            ConfigError: Naming ``source`` and the bad field when the plan is invalid.
        """
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"fault plan is not valid JSON: {exc}", file=source) from exc
        if isinstance(data, list):
            data = {"faults": data}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = _field_path(first["loc"])
            raise ConfigError(
                f"invalid fault plan: {first['msg']}",
                file=source,
                field=field or None,
                hint="see docs/testing.md for the fault plan format",
            ) from exc

    @classmethod
    def load(cls, path: str | Path) -> FaultPlan:
        """Read a plan from a JSON file.

        Raises:
            ConfigError: When the file cannot be read or the plan is invalid.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read fault plan: {exc.strerror}", file=path) from exc
        return cls.from_json(text, source=path)

    def to_json(self) -> str:
        """The plan as JSON (what [`load`][finetune_kit.testing.FaultPlan.load] reads)."""
        return self.model_dump_json(indent=2, exclude_defaults=True)


def _field_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
