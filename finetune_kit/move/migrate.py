"""Re-train archived fine-tuning jobs on another provider: [`migrate`][finetune_kit.migrate].

For every archived job that succeeded (made by [`archive`][finetune_kit.jobs.archive.archive]),
the migration takes its training and validation file from the archive, checks them against the
target provider's rules and estimates the training there; a file that breaks a rule goes
through the safe fixes ([`fix_file`][finetune_kit.fix_file]: Azure's byte-order mark, blank
lines, ...) and is used when that makes it clean, with a report of every change; otherwise the
job is skipped and its findings (with lines) are reported. The job's settings are mapped onto
the target's (see ``_mapping``), and the files are uploaded and the job created through the
job engine, with its usual guarantee: never a second upload or a second job.

Every migration is recorded in ``ARCHIVE_DIR/migrations.json`` (written atomically): saved as
``creating`` before anything is sent and ``created`` with the target job's id right after, so
a second run creates nothing, and a run after a crash in between asks the provider, whose
look-before-write finds the job already made.

The migration is a plan (a generator of steps) made of the job engine's own plans, driven by
the job client's own runner: [`migrate`][finetune_kit.migrate] with a
[`JobClient`][finetune_kit.JobClient] and [`amigrate`][finetune_kit.amigrate] with an
[`AsyncJobClient`][finetune_kit.AsyncJobClient] run the same code.

Examples:
    ```py
    from finetune_kit import migrate

    report = migrate("ft-archive", "together:openai/gpt-oss-20b", dry_run=True)
    print(report.summary())
    ```
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from finetune_kit.errors import ConfigError, DataError, FinetuneKitError
from finetune_kit.jobs.archive import MANIFEST_NAME
from finetune_kit.jobs.models import Job
from finetune_kit.move._manifest import MigrationManifest
from finetune_kit.move._mapping import ParameterMapping, map_settings
from finetune_kit.move.compare import Target
from finetune_kit.providers.base import ProviderFacts, Run, Step, hash_file
from finetune_kit.providers.registry import get_provider
from finetune_kit.validation.engine import Finding, Severity, Validator

if TYPE_CHECKING:
    from rich.console import RenderableType

    from finetune_kit.cost.estimator import TrainingEstimate
    from finetune_kit.jobs.client import AsyncJobClient, JobClient
    from finetune_kit.validation.fixes import FixReport

__all__ = ["Migration", "MigrationReport", "amigrate", "migrate"]

_Plan = Generator[Step, Any, Any]

STATUSES = ("planned", "created", "found", "recorded", "skipped", "failed", "ignored")
_DONE = ("created", "found", "recorded")
_SHOWN_FINDINGS = 5


@dataclass
class Migration:
    """One archived job and what its migration did (or would do).

    Attributes:
        source_job: The archived job's id.
        source_status: Its status (only ``succeeded`` jobs move).
        source_model: Its base model.
        target: ``provider:model``.
        method: ``supervised`` or ``dpo``.
        status: ``planned`` (dry run), ``created`` (a target job made now), ``found`` (the
            provider already had it: an earlier run stopped before recording it), ``recorded``
            (the manifest has it from an earlier run: nothing was asked), ``skipped`` (not
            moved: see ``reason``), ``failed`` (an upload or the create failed: run again) or
            ``ignored`` (the source job did not succeed).
        reason: Why it was skipped or ignored: ``not_succeeded``, ``invalid_data``,
            ``unsupported_method`` or ``file_missing``.
        message: What happened, for people.
        target_job: The job on the target provider.
        target_files: The uploaded files by role (``training_file``, ``validation_file``).
        files: The archived files used, by role (paths inside the archive).
        settings: The arguments the job is created with (epochs, learning rate, ...).
        mapping: How each setting was carried over.
        changes: What the safe fixes changed: ``{"file", "code", "lines", "what"}`` each.
        findings: The target's rules the data breaks (with lines), when skipped for it.
        estimate: The training estimate on the target (tokens, epochs, cost, price date).
    """

    source_job: str
    source_status: str
    source_model: str
    target: str
    method: str = "supervised"
    status: str = "planned"
    reason: str | None = None
    message: str | None = None
    target_job: str | None = None
    target_files: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    mapping: list[ParameterMapping] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    estimate: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (as the manifest and ``--format json`` hold it)."""
        out = dataclasses.asdict(self)
        out["mapping"] = [m.to_dict() for m in self.mapping]
        out["findings"] = [f.to_dict() for f in self.findings]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Migration:
        """Read a migration back from its ``to_dict`` form (the manifest's)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["mapping"] = [ParameterMapping(**m) for m in data.get("mapping") or []]
        values["findings"] = [
            Finding(
                f["code"],
                Severity(f["severity"]),
                f["message"],
                f["hint"],
                f.get("line"),
                f.get("field"),
            )
            for f in data.get("findings") or []
        ]
        return cls(**values)

    def _cost(self) -> str:
        if not self.estimate:
            return "—"
        cost = self.estimate.get("training_cost")
        tokens = f"{self.estimate['training_tokens']:,} tokens"
        return f"{tokens}, ${cost:,.4f}" if cost is not None else f"{tokens}, no price known"

    def _settings_text(self) -> str:
        shown = {k: v for k, v in self.settings.items() if k != "hyperparameters"}
        shown.update(self.settings.get("hyperparameters") or {})
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "—"

    def _row(self) -> tuple[str, str, str, str, str, str]:
        what = self.target_job or self.message or ""
        changes = ", ".join(f"{c['code']} ({c['lines']})" for c in self.changes) or "—"
        return (self.source_job, self.status, what, self._settings_text(), self._cost(), changes)


_HEADERS = ("source job", "status", "target job / why", "settings", "estimate", "fixed")


@dataclass
class MigrationReport:
    """What one run of [`migrate`][finetune_kit.migrate] did (or, dry, would do).

    Attributes:
        archive: The archive folder.
        target: ``provider:model``.
        dry_run: True when nothing was uploaded, created or written.
        migrations: One per archived job in scope, oldest first.
    """

    archive: Path
    target: str
    dry_run: bool = False
    migrations: list[Migration] = field(default_factory=list)

    def _with(self, *statuses: str) -> list[Migration]:
        return [m for m in self.migrations if m.status in statuses]

    @property
    def created(self) -> list[Migration]:
        """Target jobs created in this run."""
        return self._with("created")

    @property
    def planned(self) -> list[Migration]:
        """Jobs a dry run would create."""
        return self._with("planned")

    @property
    def skipped(self) -> list[Migration]:
        """Succeeded jobs that were not moved (invalid data, unsupported method, no file)."""
        return self._with("skipped")

    @property
    def failed(self) -> list[Migration]:
        """Migrations whose upload or create failed (a next run tries again)."""
        return self._with("failed")

    @property
    def complete(self) -> bool:
        """True when every succeeded source job has (or, dry, would get) its target job."""
        return not self._with("skipped", "failed")

    def summary(self) -> str:
        """One line: how many jobs moved, were skipped or failed."""
        counts = {s: len(self._with(s)) for s in STATUSES}
        moved = "would create" if self.dry_run else "created"
        parts = [f"{counts['planned' if self.dry_run else 'created']} {moved}"]
        parts += [
            f"{counts[s]} {s}" for s in ("found", "recorded", "skipped", "failed") if counts[s]
        ]
        return (
            f"{self.target}: {len(self.migrations)} archived jobs, "
            f"{len(self.migrations) - counts['ignored']} succeeded: {', '.join(parts)}; "
            f"{counts['ignored']} not succeeded (not moved)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the CLI's ``--format json`` output)."""
        return {
            "archive": str(self.archive),
            "target": self.target,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "counts": {s: len(self._with(s)) for s in STATUSES},
            "migrations": [m.to_dict() for m in self.migrations],
        }

    def _problems(self) -> list[tuple[str, str, str, str, str]]:
        rows: list[tuple[str, str, str, str, str]] = []
        for m in self.skipped:
            for f in m.findings[:_SHOWN_FINDINGS]:
                where = "file" if f.line is None else f"line {f.line}"
                rows.append((m.source_job, where, f.code, f.message, f.hint))
            if len(m.findings) > _SHOWN_FINDINGS:
                more = len(m.findings) - _SHOWN_FINDINGS
                rows.append((m.source_job, "", "", f"... and {more} more", ""))
        return rows

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        title = f"{'Plan' if self.dry_run else 'Migration'} to {self.target}"
        table = Table(*_HEADERS, title=title, title_justify="left")
        for m in self.migrations:
            table.add_row(*(Text(c) for c in m._row()))
        parts: list[RenderableType] = [table]
        problems = self._problems()
        if problems:
            found = Table("source job", "where", "code", "problem", "fix", title="Data problems")
            for row in problems:
                found.add_row(*(Text(c) for c in row))
            parts.append(found)
        style = "bold green" if self.complete else "bold red"
        parts.append(Text(self.summary(), style=style))
        return Group(*parts)

    def _repr_html_(self) -> str:
        from finetune_kit._html import table

        html = table(list(_HEADERS), [m._row() for m in self.migrations], caption=self.summary())
        problems = self._problems()
        if problems:
            html += table(
                ["source job", "where", "code", "problem", "fix"], problems, caption="data problems"
            )
        return html


# -- the archive ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    job: Job
    files: dict[str, dict[str, Any] | None]  # role -> the archive's file record (None: missing)


def _archived(root: Path, selected: Iterable[str] | None) -> list[_Source]:
    """Every archived job (or the ``selected`` ones), oldest first."""
    path = root / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise DataError(
            "no archive here", file=path, hint="make one with `finetune-kit archive DIR`"
        ) from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"the archive's manifest cannot be read: {exc}", file=path) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != "finetune-kit-archive":
        raise DataError("this manifest.json is not a finetune-kit archive's", file=path)
    entries: dict[str, Any] = manifest.get("jobs") or {}
    wanted = list(dict.fromkeys(selected)) if selected is not None else None
    if wanted is not None:
        unknown = [j for j in wanted if j not in entries]
        if unknown:
            raise ConfigError(
                f"not in the archive: {', '.join(unknown)}",
                field="job",
                hint=f"the archive holds {len(entries)} jobs; see {path}",
            )
    files: dict[str, Any] = manifest.get("files") or {}
    out: list[_Source] = []
    for job_id, entry in entries.items():
        if wanted is not None and job_id not in wanted:
            continue
        record_path = root / str(entry["path"]) / "job.json"
        try:
            record = json.loads(record_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"the job record cannot be read: {exc}", file=record_path) from exc
        job = Job.from_api(record["job"])
        roles = {"training_file": job.training_file, "validation_file": job.validation_file}
        out.append(
            _Source(job, {role: files.get(fid) for role, fid in roles.items() if fid is not None})
        )
    out.sort(key=lambda s: (s.job.created_at or 0, s.job.id))
    return out


# -- checking, fixing and estimating one job's files (local, blocking work) ---------------------


def _estimate(path: Path, target: Target, method: str, epochs: int | None) -> TrainingEstimate:
    from finetune_kit.cost.estimator import CostEstimator

    # the target's prices, rules, training length and default epochs (as `compare` prices it)
    return CostEstimator(provider=target.provider).estimate_training(
        path, target.model, n_epochs=epochs, method=cast(Any, method), jobs=1
    )


def _errors(
    path: Path, role: str, target: Target, facts: ProviderFacts, method: str, epochs: int | None
) -> tuple[list[Finding], TrainingEstimate | None]:
    """The target's rules ``path`` breaks, and (training file) the estimate on the target."""
    if role == "training_file":
        estimate = _estimate(path, target, method, epochs)
        return estimate.errors, estimate
    validator = Validator(pii="off", profile=facts.validation_profile, min_examples=1)
    return validator.validate(path, model=target.model, method=cast(Any, method)).errors, None


def _fix(
    path: Path, role: str, facts: ProviderFacts, method: str, out_dir: Path, scratch: Path
) -> tuple[Path, FixReport, set[int]]:
    """Apply the safe fixes for ``facts``' rules; the fixed file, the report, rejected lines."""
    from finetune_kit.validation.fixes import fix_file

    azure = facts.validation_profile == "azure"
    # lines are checked after their BOMs are stripped: Azure's line checks are then OpenAI's
    validator = Validator(
        plugins=False,
        profile="openai" if azure else facts.validation_profile,
        min_examples=1 if role == "validation_file" else None,
    )
    stem = f"{path.stem[:16]}-{role.split('_', 1)[0]}-{facts.name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    rejects = scratch / f"{stem}.rejects.jsonl"
    report = fix_file(
        path,
        out_dir / f"{stem}.jsonl",
        rejects=rejects,
        method=cast(Any, method),
        validator=validator,
        bom=azure,
    )
    with rejects.open(encoding="utf-8") as fh:
        rejected = {int(json.loads(line)["line"]) for line in fh if line.strip()}
    return Path(report.output), report, rejected


def _conform(
    migration: Migration,
    source: _Source,
    root: Path,
    target: Target,
    facts: ProviderFacts,
    out_dir: Path,
    scratch: Path,
) -> dict[str, Path] | None:
    """The files to upload by role, fixed where needed (``None``: the job is skipped)."""
    epochs = migration.settings.get("n_epochs")
    if epochs is None and target.provider == "together":
        epochs = 1  # Together's default, which the adapter spells out
    ready: dict[str, Path] = {}
    for role, record in source.files.items():
        label = role.replace("_", " ")
        if record is None:
            migration.status, migration.reason = "skipped", "file_missing"
            migration.message = f"the {label} is not in the archive (the API no longer had it)"
            return None
        path = root / str(record["path"])
        migration.files[role] = str(record["path"])
        if not path.is_file() or hash_file(path)[0] != record.get("sha256"):
            migration.status, migration.reason = "skipped", "file_missing"
            migration.message = (
                f"the archived {label} is missing or does not match its SHA-256: "
                "run `finetune-kit archive` into the folder again to restore it"
            )
            return None
        errors, estimate = _errors(path, role, target, facts, migration.method, epochs)
        if errors:
            fixed, report, rejected = _fix(path, role, facts, migration.method, out_dir, scratch)
            after, estimate = (
                _errors(fixed, role, target, facts, migration.method, epochs)
                if report.ok
                else (errors, None)
            )
            if after:
                migration.status, migration.reason = "skipped", "invalid_data"
                bad = [e for e in errors if e.line is None or e.line in rejected] or errors
                migration.findings.extend(bad)
                lines = sorted({e.line for e in bad if e.line is not None})
                where = (
                    f" (lines {', '.join(map(str, lines[:10]))}{'...' if len(lines) > 10 else ''})"
                )
                migration.message = (
                    f"the {label} breaks {facts.title}'s rules{where if lines else ''}: "
                    f"{bad[0].code}, not safely fixable"
                )
                return None
            migration.changes.extend(
                {"file": role, "code": code, "lines": n, "what": what}
                for code, n, what in report.describe()
            )
            path = fixed
        if estimate is not None:
            data = estimate.to_dict()
            migration.estimate = {
                k: data[k]
                for k in (
                    "n_examples",
                    "n_epochs",
                    "training_tokens",
                    "trainable_tokens_per_epoch",
                    "training_cost",
                    "currency",
                    "price_per_1m",
                    "prices_as_of",
                    "price_source",
                )
            }
        ready[role] = path
    return ready


def _prepare(
    source: _Source, root: Path, target: Target, facts: ProviderFacts, out_dir: Path, scratch: Path
) -> tuple[Migration, dict[str, Path] | None]:
    job = source.job
    method = str(job.method.get("type") or "supervised") if job.method else "supervised"
    migration = Migration(job.id, job.status, job.model, str(target), method)
    if job.status != "succeeded":
        migration.status, migration.reason = "ignored", "not_succeeded"
        migration.message = f"the source job {job.status}: nothing to move"
        return migration, None
    if method not in facts.methods:
        migration.status, migration.reason = "skipped", "unsupported_method"
        migration.message = f"{facts.title} does not run {method} jobs here"
        return migration, None
    migration.settings, migration.mapping = map_settings(
        target.provider, method, job.hyperparameters, suffix=job.suffix, seed=job.seed
    )
    ready = _conform(migration, source, root, target, facts, out_dir, scratch)
    return migration, ready


# -- the plan ------------------------------------------------------------------------------------


def _hyperparameters(settings: dict[str, Any]) -> dict[str, Any]:
    named = ("n_epochs", "batch_size", "learning_rate_multiplier", "beta")
    return {
        **{k: settings[k] for k in named if settings.get(k) is not None},
        **(settings.get("hyperparameters") or {}),
    }


def _plan(
    root: Path,
    target: Target,
    sources: list[_Source],
    manifest: MigrationManifest,
    client: JobClient | AsyncJobClient | None,
) -> _Plan:
    """The whole migration: local work as ``Run`` steps, I/O as the job engine's own plans."""
    facts = get_provider(target.provider).facts
    key = str(target)
    report = MigrationReport(root, key, dry_run=client is None)
    out_dir = root / "migrations" / target.provider
    with tempfile.TemporaryDirectory(prefix="finetune-kit-migrate-") as tmp:
        scratch = Path(tmp)
        for source in sources:
            entry = manifest.get(key, source.job.id)
            if entry is not None and entry.get("target_job"):
                recorded = Migration.from_dict(entry)
                recorded.status = "recorded"
                report.migrations.append(recorded)
                continue
            migration, ready = yield Run(
                functools.partial(
                    _prepare,
                    source,
                    root,
                    target,
                    facts,
                    scratch if client is None else out_dir,
                    scratch,
                )
            )
            report.migrations.append(migration)
            if client is None or migration.status == "ignored":
                continue
            if ready is None:  # skipped: recorded with its reason and findings
                yield Run(functools.partial(manifest.put, key, source.job.id, migration.to_dict()))
                continue
            migration.status = "creating"
            yield Run(functools.partial(manifest.put, key, source.job.id, migration.to_dict()))
            yield from _train(client, migration, ready, target)
            yield Run(functools.partial(manifest.put, key, source.job.id, migration.to_dict()))
    return report


def _train(
    client: JobClient | AsyncJobClient, migration: Migration, ready: dict[str, Path], target: Target
) -> _Plan:
    """Upload the files and create the job (the engine looks before each write)."""
    settings = migration.settings
    try:
        uploaded = {}
        for role, path in ready.items():
            uploaded[role] = yield from client._upload_plan(
                path, "fine-tune", validate=False, method=cast(Any, migration.method), wait=True
            )
        job = yield from client._create_plan(
            uploaded["training_file"],
            target.model,
            validation_file=uploaded.get("validation_file"),
            method=migration.method,
            hyperparameters=_hyperparameters(settings),
            suffix=settings.get("suffix"),
            seed=settings.get("seed"),
            metadata={"migrated_from": migration.source_job},
            integrations=None,
        )
    except FinetuneKitError as exc:
        migration.status, migration.message = "failed", str(exc)
        return
    migration.target_files = {role: ref.id for role, ref in uploaded.items()}
    migration.target_job = job.id
    migration.status = "found" if job.reused else "created"
    migration.message = None


def _local(plan: _Plan) -> Any:
    """Run a plan that only has local steps (a dry run)."""
    result: Any = None
    while True:
        try:
            step = plan.send(result)
        except StopIteration as done:
            return done.value
        result = cast(Run, step).func()


def _setup(
    archive_dir: str | os.PathLike[str],
    to: str | Target,
    jobs: Iterable[str] | None,
    dry_run: bool,
    client: Any,
    make_client: Callable[[str], Any],
) -> tuple[_Plan, Any]:
    root = Path(archive_dir)
    target = Target.parse(to)
    sources = _archived(root, jobs)
    if dry_run:
        client = None
    elif client is None:
        client = make_client(target.provider)
    elif client.provider.facts.name != target.provider:
        raise ConfigError(
            f"the client is a {client.provider.facts.title} client, the target is {target}",
            hint=f"pass a client for {target.provider}, or leave client= out",
        )
    manifest = MigrationManifest(root, writable=not dry_run)
    return _plan(root, target, sources, manifest, client), client


def migrate(
    archive_dir: str | os.PathLike[str],
    to: str | Target,
    *,
    jobs: Iterable[str] | None = None,
    dry_run: bool = False,
    client: JobClient | None = None,
) -> MigrationReport:
    """Re-train the archive's succeeded jobs on another provider, each exactly once.

    Args:
        archive_dir: A folder made by [`archive`][finetune_kit.jobs.archive.archive].
        to: ``PROVIDER:MODEL`` (or a [`Target`][finetune_kit.move.Target]), e.g.
            ``together:openai/gpt-oss-20b``.
        jobs: Only these archived job ids (default: every job).
        dry_run: Check, fix (in a temporary folder), map and estimate, but upload, create and
            write nothing; needs no API key.
        client: The target provider's [`JobClient`][finetune_kit.JobClient] (default: one
            built from its environment variables).

    Returns:
        The [`MigrationReport`][finetune_kit.MigrationReport], one row per archived job.

    Raises:
        ConfigError: A bad target, a job id not in the archive, or a client of another
            provider.
        DataError: The folder holds no readable archive.
    """
    from finetune_kit.jobs.client import JobClient

    plan, runner = _setup(archive_dir, to, jobs, dry_run, client, lambda p: JobClient(provider=p))
    report: MigrationReport = _local(plan) if runner is None else runner._run(plan)
    return report


async def amigrate(
    archive_dir: str | os.PathLike[str],
    to: str | Target,
    *,
    jobs: Iterable[str] | None = None,
    dry_run: bool = False,
    client: AsyncJobClient | None = None,
) -> MigrationReport:
    """Async [`migrate`][finetune_kit.migrate] over an async job client.

    The same plan as ``migrate``, driven by the async client; its local work (reading, fixing,
    estimating) runs in a thread.
    """
    import asyncio

    from finetune_kit.jobs.client import AsyncJobClient

    plan, runner = _setup(
        archive_dir, to, jobs, dry_run, client, lambda p: AsyncJobClient(provider=p)
    )
    if runner is None:
        report: MigrationReport = await asyncio.to_thread(_local, plan)
    else:
        report = await runner._run(plan)
    return report
