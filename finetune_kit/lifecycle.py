"""OpenAI's fine-tuning wind-down as data: cutoffs, shutdown dates and the warnings they give.

OpenAI is winding self-serve fine-tuning down: organisations lose job creation in stages (the
last stage, for everyone, on 2027-01-06) and fine-tuned models stop when their base model shuts
down. The dates live in ``finetune_kit/data/models.json`` with their sources;
[`ModelLifecycle`][finetune_kit.lifecycle.ModelLifecycle] loads them and
[`lifecycle_findings`][finetune_kit.lifecycle.lifecycle_findings] turns them into
[`Finding`][finetune_kit.Finding]s with stable codes:

| code | severity | when |
|---|---|---|
| ``training_access_restricted`` | warning | a staged cutoff passed (may apply to you) |
| ``training_cutoff_near`` | warning | the last day for new jobs is close (or after the job) |
| ``training_cutoff_passed`` | error | no new job can be created any more |
| ``model_shutdown_scheduled`` | warning | the model (or an ``ft:`` model's base) has a date |
| ``model_shut_down`` | error | that date has come |

Everything here is pure: the day is a parameter (``today``), nothing reads the clock except
[`warn_lifecycle`][finetune_kit.lifecycle.warn_lifecycle] when no day is given, and nothing
prints. [`fetch_shutdown_date`][finetune_kit.jobs.shutdown.fetch_shutdown_date] reads the live date
from ``GET /v1/models/{id}``; pass it as ``shutdown_date_override``.

Examples:
    >>> from datetime import date
    >>> from finetune_kit.lifecycle import lifecycle_findings
    >>> [f.code for f in lifecycle_findings("gpt-4o-mini", today=date(2027, 1, 6))]
    ['training_cutoff_passed', 'model_shutdown_scheduled']
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from finetune_kit.catalog.prices import _parse_date, base_model_name
from finetune_kit.errors import ConfigError
from finetune_kit.validation.engine import Finding, Severity

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = [
    "LIFECYCLE_CODES",
    "LIFECYCLE_PAGE",
    "NEAR_DAYS",
    "JobCreationCutoff",
    "LifecycleSource",
    "LifecycleWarning",
    "ModelDates",
    "ModelLifecycle",
    "Purpose",
    "lifecycle_findings",
    "warn_lifecycle",
]

NEAR_DAYS = 30
"""Days before the last day for new jobs from which ``training_cutoff_near`` is reported."""

LIFECYCLE_CODES = frozenset(
    {
        "training_access_restricted",
        "training_cutoff_near",
        "training_cutoff_passed",
        "model_shutdown_scheduled",
        "model_shut_down",
    }
)
"""Every finding code this module produces."""

Purpose = Literal["training", "inference"]
"""What the model is for: starting a fine-tuning job on it, or calling it."""

LIFECYCLE_PAGE = "docs/lifecycle.md"
"""Where the wind-down is explained (the docs site's "Lifecycle and archive" page)."""
_HEADLINES = {
    "training_access_restricted": "OpenAI is winding fine-tuning down; new jobs may already be "
    "refused for your organisation",
    "training_cutoff_near": "OpenAI stops accepting new fine-tuning jobs soon",
    "training_cutoff_passed": "OpenAI no longer accepts new fine-tuning jobs",
    "model_shutdown_scheduled": "the base model shuts down on a set day; its fine-tunes stop too",
    "model_shut_down": "the base model was shut down",
}

_NEXT_STEPS = (
    "archive your jobs and files (`finetune-kit archive DIR`) and export your data for "
    "another provider (`finetune-kit export`)"
)


@dataclass(frozen=True)
class LifecycleSource:
    """Where a date comes from.

    Attributes:
        key: The source's key in ``models.json``.
        title: What it is (page, section, notice).
        url: Where to read it.
        published: When it was published; a date is only reported from this day on.
    """

    key: str
    title: str
    url: str
    published: dt.date

    def __str__(self) -> str:
        return f"{self.title} ({self.url}, {self.published.isoformat()})"


@dataclass(frozen=True)
class JobCreationCutoff:
    """One stage of the wind-down: from ``date`` on, some organisations cannot create jobs.

    Attributes:
        date: The first day without job creation for ``applies_to``.
        announced: When the stage was announced.
        scope: ``never_fine_tuned``, ``no_recent_inference`` or ``all``.
        applies_to: Who loses job creation, in words.
        source: Where it is published.
    """

    date: dt.date
    announced: dt.date
    scope: str
    applies_to: str
    source: LifecycleSource


@dataclass(frozen=True)
class ModelDates:
    """The lifecycle of one base model.

    Attributes:
        model: The snapshot name (``gpt-4o-mini-2024-07-18``).
        fine_tunable: Whether OpenAI fine-tunes it.
        training_available_until: The first day no new job can be created on it (``None``:
            not fine-tunable, or only the platform's cutoffs apply).
        shutdown_date: The first day it (and its fine-tunes) no longer answers, if announced.
        announced: When the shutdown date was announced.
        replacement: OpenAI's recommended replacement, if one is recorded.
        source: Where the dates come from.
        as_of: The date of that information.
        notes: Caveats about the entry.
    """

    model: str
    fine_tunable: bool
    training_available_until: dt.date | None
    shutdown_date: dt.date | None
    announced: dt.date | None
    replacement: str | None
    source: LifecycleSource
    as_of: dt.date
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "model": self.model,
            "fine_tunable": self.fine_tunable,
            "training_available_until": _iso(self.training_available_until),
            "shutdown_date": _iso(self.shutdown_date),
            "announced": _iso(self.announced),
            "replacement": self.replacement,
            "source": str(self.source),
            "as_of": self.as_of.isoformat(),
            "notes": self.notes,
        }


class LifecycleWarning(UserWarning):
    """A Python warning carrying a lifecycle [`Finding`][finetune_kit.Finding].

    ``JobClient.train`` / ``create_job`` emit it; filter it like any warning
    (``warnings.simplefilter("ignore", LifecycleWarning)``) or turn it into an error
    (``"error"``) in a service that must not start jobs close to the cutoff. Its text is one
    short line (the code, what it means, where it is explained); the whole finding, dates
    included, is in ``finding``.

    Args:
        finding: The finding.

    Attributes:
        finding: The finding.
    """

    def __init__(self, finding: Finding) -> None:
        headline = _HEADLINES.get(finding.code, finding.message)
        super().__init__(
            f"{finding.code}: {headline} (see `finetune-kit lifecycle MODEL`, {LIFECYCLE_PAGE})"
        )
        self.finding = finding


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _opt_day(value: Any, what: str) -> dt.date | None:
    return None if value is None else _parse_date(value, what)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


class ModelLifecycle:
    """The lifecycle table: platform cutoffs and per-model dates, with their sources.

    Build it with [`load`][finetune_kit.lifecycle.ModelLifecycle.load]; it is immutable.

    Args:
        sources: Sources by key.
        cutoffs: The platform's job-creation cutoffs, oldest first.
        models: Per-model dates by snapshot name.
        aliases: Alias → snapshot.
        origin: Where the table was read from.
    """

    def __init__(
        self,
        *,
        sources: Mapping[str, LifecycleSource],
        cutoffs: tuple[JobCreationCutoff, ...],
        models: Mapping[str, ModelDates],
        aliases: Mapping[str, str],
        origin: str = "<memory>",
    ) -> None:
        self._sources = dict(sources)
        self._cutoffs = tuple(sorted(cutoffs, key=lambda c: c.date))
        self._models = dict(models)
        self._aliases = dict(aliases)
        self.origin = origin

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> ModelLifecycle:
        """Load the bundled table, or your own JSON file in the same format.

        Args:
            path: A file in the format of ``finetune_kit/data/models.json``.

        Returns:
            The table.

        Raises:
            ConfigError: The file cannot be read or is malformed.
        """
        if path is None:
            return _bundled()
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read lifecycle table {p}: {exc.strerror}") from exc
        return cls.from_json(text, origin=str(p))

    @classmethod
    def from_json(cls, text: str, *, origin: str = "<string>") -> ModelLifecycle:
        """Build a table from the text of a ``models.json`` file.

        Args:
            text: The JSON text.
            origin: Named in error messages.

        Returns:
            The table.

        Raises:
            ConfigError: Not JSON, or a field is missing or wrong.
        """
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"lifecycle table {origin} is not valid JSON: {exc.msg}") from exc
        try:
            sources = {
                key: LifecycleSource(
                    key, str(s["title"]), str(s["url"]), _parse_date(s["published"], "published")
                )
                for key, s in raw["sources"].items()
            }
            cutoffs = tuple(
                JobCreationCutoff(
                    date=_parse_date(c["date"], "date"),
                    announced=_parse_date(c["announced"], "announced"),
                    scope=str(c["scope"]),
                    applies_to=str(c["applies_to"]),
                    source=sources[c["source"]],
                )
                for c in raw["platform"]["job_creation_cutoffs"]
            )
            models = {name: _model(name, spec, sources) for name, spec in raw["models"].items()}
            aliases = {str(k): str(v) for k, v in raw.get("aliases", {}).items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"lifecycle table {origin} is malformed: missing or bad {exc}"
            ) from exc
        for alias, target in aliases.items():
            if target not in models:
                raise ConfigError(
                    f"lifecycle table {origin}: alias {alias!r} points to unknown {target!r}"
                )
        return cls(sources=sources, cutoffs=cutoffs, models=models, aliases=aliases, origin=origin)

    # -- questions ----------------------------------------------------------------------------

    @property
    def cutoffs(self) -> tuple[JobCreationCutoff, ...]:
        """The platform's job-creation cutoffs, oldest first."""
        return self._cutoffs

    @property
    def final_cutoff(self) -> JobCreationCutoff | None:
        """The cutoff that applies to every organisation (``None`` if the table has none)."""
        final = [c for c in self._cutoffs if c.scope == "all"]
        return final[0] if final else None

    def models(self) -> list[str]:
        """Every snapshot in the table, sorted."""
        return sorted(self._models)

    def aliases(self) -> dict[str, str]:
        """Alias → snapshot."""
        return dict(self._aliases)

    def resolve(self, model: str) -> str:
        """The base snapshot of a model: ``ft:`` names and aliases resolve; others stay.

        Args:
            model: A snapshot, an alias or an ``ft:`` model (checkpoints included).

        Returns:
            The snapshot name (the name itself when the table does not know it).
        """
        base = base_model_name(model)
        return self._aliases.get(base, base)

    def get(self, model: str) -> ModelDates | None:
        """The dates of a model's base snapshot, or ``None`` when the table does not know it."""
        return self._models.get(self.resolve(model))

    def training_cutoff(self, model: str, *, today: dt.date) -> dt.date | None:
        """The first day no new job can be created on ``model``, as known on ``today``.

        Args:
            model: Any model name.
            today: The day asking (dates announced later are not known yet).

        Returns:
            The earliest of the model's own date and the platform's final cutoff, or ``None``.
        """
        candidates: list[dt.date] = []
        final = self.final_cutoff
        if final is not None and final.announced <= today:
            candidates.append(final.date)
        entry = self.get(model)
        if (
            entry is not None
            and entry.training_available_until is not None
            and entry.source.published <= today
        ):
            candidates.append(entry.training_available_until)
        return min(candidates) if candidates else None

    def shutdown_date(self, model: str, *, today: dt.date | None = None) -> dt.date | None:
        """The shutdown date of a model's base snapshot.

        Args:
            model: Any model name (``ft:`` models inherit their base's date).
            today: Only count a date announced on or before this day (default: any).

        Returns:
            The date, or ``None`` when none is (yet) announced.
        """
        entry = self.get(model)
        if entry is None or entry.shutdown_date is None:
            return None
        if today is not None and entry.announced is not None and entry.announced > today:
            return None
        return entry.shutdown_date

    def findings(
        self,
        model: str,
        *,
        today: dt.date,
        expected_duration: dt.timedelta | None = None,
        shutdown_date_override: dt.date | None = None,
        purpose: Purpose = "training",
        near_days: int = NEAR_DAYS,
    ) -> list[Finding]:
        """The lifecycle findings for ``model`` on ``today`` (see the module's table of codes).

        Args:
            model: A snapshot, alias or ``ft:`` model.
            today: The day to judge (pass it; nothing here reads the clock).
            expected_duration: How long the job is expected to take; a job that would end on
                or after the last day for new jobs gives ``training_cutoff_near``.
            shutdown_date_override: A shutdown date known better than the table (the live one
                from [`fetch_shutdown_date`][finetune_kit.jobs.shutdown.fetch_shutdown_date]);
                ``None`` keeps the table's.
            purpose: ``training`` (a job on this model) or ``inference`` (calling it): only
                shutdown findings apply to inference.
            near_days: Report ``training_cutoff_near`` this many days ahead.

        Returns:
            Training findings first, then shutdown findings.
        """
        day = _parse_date(today, "today")
        out: list[Finding] = []
        if purpose == "training":
            out.extend(self._training(model, day, expected_duration, near_days))
        out.extend(self._shutdown(model, day, shutdown_date_override, purpose, expected_duration))
        return out

    # -- the rules ----------------------------------------------------------------------------

    def _training(
        self, model: str, today: dt.date, duration: dt.timedelta | None, near_days: int
    ) -> list[Finding]:
        end = self.training_cutoff(model, today=today)
        if end is None:
            return []
        final = self.final_cutoff
        who = final.applies_to if final is not None and final.date == end else "this model"
        if today >= end:
            return [
                Finding(
                    code="training_cutoff_passed",
                    severity=Severity.ERROR,
                    message=f"OpenAI stopped accepting new fine-tuning jobs on "
                    f"{end.isoformat()} ({who}): a job on {model} can no longer be created",
                    hint=f"fine-tune elsewhere: {_NEXT_STEPS}",
                    field="model",
                )
            ]
        left = (end - today).days
        finish = today + duration if duration is not None else None
        passed = [
            c
            for c in self._cutoffs
            if c.scope != "all" and c.announced <= today and c.date <= today
        ]
        restricted = "; ".join(f"since {c.date.isoformat()}: {c.applies_to}" for c in passed)
        if left <= near_days or (finish is not None and finish >= end):
            message = (
                f"OpenAI stops accepting new fine-tuning jobs on {end.isoformat()} ({who}), "
                f"{_days(left)} from {today.isoformat()}"
            )
            if finish is not None and finish >= end:
                message += (
                    f"; a job expected to take {_duration(duration)} would run until about "
                    f"{finish.isoformat()}, past that day"
                )
            if restricted:
                message += f" (already cut off {restricted})"
            return [
                Finding(
                    code="training_cutoff_near",
                    severity=Severity.WARNING,
                    message=message,
                    hint=f"start your last jobs now, then {_NEXT_STEPS}",
                    field="model",
                )
            ]
        if restricted:
            return [
                Finding(
                    code="training_access_restricted",
                    severity=Severity.WARNING,
                    message="OpenAI is winding fine-tuning down: job creation already ended "
                    f"for some organisations ({restricted}) and ends for {who} on "
                    f"{end.isoformat()}, {_days(left)} from {today.isoformat()}",
                    hint="if the API refuses the job (JobCreationRefused), your organisation is "
                    f"already cut off; either way, plan to {_NEXT_STEPS}",
                    field="model",
                )
            ]
        return []

    def _shutdown(
        self,
        model: str,
        today: dt.date,
        override: dt.date | None,
        purpose: Purpose,
        duration: dt.timedelta | None,
    ) -> list[Finding]:
        shutdown = override if override is not None else self.shutdown_date(model, today=today)
        if shutdown is None:
            return []
        base = self.resolve(model)
        entry = self.get(model)
        is_ft = model.strip().startswith("ft:")
        if is_ft:
            subject = f"{model} (a fine-tune of {base})"
        else:
            subject = model if base == model.strip() else f"{model} ({base})"
        replacement = entry.replacement if entry is not None else None
        instead = (
            f"the replacement named in the deprecation notice is {replacement} "
            f"(check it on OpenAI's deprecations page)"
            if replacement
            else "no replacement is recorded"
        )
        if today >= shutdown:
            return [
                Finding(
                    code="model_shut_down",
                    severity=Severity.ERROR,
                    message=f"{subject} was shut down on {shutdown.isoformat()}: "
                    + (
                        "it no longer answers"
                        if purpose == "inference" and not is_ft
                        else f"{base} and every fine-tune of it no longer answer"
                    ),
                    hint=f"{instead}; fine-tuned models cannot be moved: retrain elsewhere from "
                    "your data (`finetune-kit export`)",
                    field="model",
                )
            ]
        left = (shutdown - today).days
        message = (
            f"{subject} shuts down on {shutdown.isoformat()} ({_days(left)} from "
            f"{today.isoformat()}); fine-tunes of {base} stop the same day"
        )
        if purpose == "training":
            ready = today + duration if duration is not None else today
            serve = max(0, (shutdown - ready).days)
            message += f"; a model trained now would answer for at most {_days(serve)}"
        return [
            Finding(
                code="model_shutdown_scheduled",
                severity=Severity.WARNING,
                message=message,
                hint=f"{instead}; plan the move before {shutdown.isoformat()} and keep "
                "your data (`finetune-kit archive`, `finetune-kit export`)",
                field="model",
            )
        ]

    # -- output -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: cutoffs and models."""
        return {
            "origin": self.origin,
            "job_creation_cutoffs": [
                {
                    "date": c.date.isoformat(),
                    "announced": c.announced.isoformat(),
                    "scope": c.scope,
                    "applies_to": c.applies_to,
                    "source": str(c.source),
                }
                for c in self._cutoffs
            ],
            "models": [self._models[m].to_dict() for m in self.models()],
            "aliases": self.aliases(),
        }

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table

        cutoffs = Table("no new jobs from", "for", title="Job creation cutoffs")
        for c in self._cutoffs:
            cutoffs.add_row(c.date.isoformat(), c.applies_to)
        models = Table(
            "model", "new jobs until", "shuts down", "replacement", title="Fine-tunable models"
        )
        for name in self.models():
            m = self._models[name]
            models.add_row(
                name,
                _iso(m.training_available_until) or "—",
                _iso(m.shutdown_date) or "—",
                m.replacement or "—",
            )
        return Group(cutoffs, models)

    def __repr__(self) -> str:
        return f"<ModelLifecycle {len(self._models)} models, {len(self._cutoffs)} cutoffs>"


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else _days(round(hours / 24))


def _model(
    name: str, spec: Mapping[str, Any], sources: Mapping[str, LifecycleSource]
) -> ModelDates:
    return ModelDates(
        model=name,
        fine_tunable=bool(spec.get("fine_tunable", True)),
        training_available_until=_opt_day(
            spec.get("training_available_until"), "training_available_until"
        ),
        shutdown_date=_opt_day(spec.get("shutdown_date"), "shutdown_date"),
        announced=_opt_day(spec.get("announced"), "announced"),
        replacement=spec.get("replacement"),
        source=sources[spec["source"]],
        as_of=_parse_date(spec["as_of"], "as_of"),
        notes=str(spec.get("notes", "")),
    )


@functools.lru_cache(maxsize=1)
def _bundled() -> ModelLifecycle:
    text = resources.files("finetune_kit").joinpath("data/models.json").read_text("utf-8")
    return ModelLifecycle.from_json(text, origin="finetune_kit/data/models.json")


def lifecycle_findings(
    model: str,
    *,
    today: dt.date,
    expected_duration: dt.timedelta | None = None,
    shutdown_date_override: dt.date | None = None,
    purpose: Purpose = "training",
    near_days: int = NEAR_DAYS,
    table: ModelLifecycle | None = None,
) -> list[Finding]:
    """The lifecycle findings for ``model`` on ``today``, from the bundled table by default.

    A pure function: the same arguments give the same findings.

    Args:
        model: A snapshot, alias or ``ft:`` model.
        today: The day to judge.
        expected_duration: How long the job is expected to take.
        shutdown_date_override: A better-known shutdown date (e.g. the live one).
        purpose: ``training`` or ``inference``.
        near_days: Days ahead from which ``training_cutoff_near`` is reported.
        table: Another [`ModelLifecycle`][finetune_kit.lifecycle.ModelLifecycle].

    Returns:
        The findings (empty when nothing applies).
    """
    lifecycle = table if table is not None else ModelLifecycle.load()
    return lifecycle.findings(
        model,
        today=today,
        expected_duration=expected_duration,
        shutdown_date_override=shutdown_date_override,
        purpose=purpose,
        near_days=near_days,
    )


def warn_lifecycle(
    model: str,
    *,
    today: dt.date | None = None,
    expected_duration: dt.timedelta | None = None,
    purpose: Purpose = "training",
    table: ModelLifecycle | None = None,
    stacklevel: int | None = None,
) -> list[Finding]:
    """Emit a [`LifecycleWarning`][finetune_kit.lifecycle.LifecycleWarning] per finding.

    Under Python's default warning filters each code is shown once per process (a loop of
    ``train`` calls warns once); a filter set to ``"always"`` or ``"error"`` for
    ``LifecycleWarning`` sees every one.

    Args:
        model: The model.
        today: The day to judge (default: today's date).
        expected_duration: How long the job is expected to take.
        purpose: ``training`` or ``inference``.
        table: Another lifecycle table.
        stacklevel: Passed to ``warnings.warn``; default: the first caller outside
            finetune-kit (so ``JobClient.train`` warnings point at your line).

    Returns:
        The findings that were warned about.
    """
    day = today if today is not None else dt.date.today()
    found = lifecycle_findings(
        model, today=day, expected_duration=expected_duration, purpose=purpose, table=table
    )
    level = stacklevel if stacklevel is not None else _outside_level()
    for finding in found:
        warning = LifecycleWarning(finding)
        if finding.code in _WARNED and _action(warning) not in ("always", "error"):
            continue
        warnings.warn(warning, stacklevel=level)
        _WARNED.add(finding.code)  # not reached when the filter turned it into an error
    return found


_WARNED: set[str] = set()
"""The codes warned about in this process."""


def _action(warning: Warning) -> str:
    """The action the active warning filters take for ``warning`` (first matching filter)."""
    text = str(warning)
    for action, message, category, _module, _lineno in warnings.filters:
        if issubclass(type(warning), category) and (message is None or message.match(text)):
            return action
    return str(getattr(warnings, "defaultaction", "default"))


def _outside_level() -> int:
    """The ``stacklevel`` of the first frame outside this package, seen from our caller."""
    package = str(Path(__file__).resolve().parent) + os.sep
    frame = sys._getframe(2)  # the caller of warn_lifecycle: stacklevel 2
    level = 2
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
