"""Keep everything you paid for: archive every fine-tuning job, its files and its metrics.

[`archive`][finetune_kit.jobs.archive.archive] writes, for every job of the organisation (all
pages of ``GET /fine_tuning/jobs``), into one folder::

    OUT_DIR/
      manifest.json               what is archived: file id -> sha256/size/path, job -> status
      files/<sha256>.jsonl        training and validation files, named by content hash
      files/<sha256>.csv          result files (step metrics as OpenAI wrote them)
      jobs/<job id>/job.json      the full job record (hyper-parameters, method, seed, suffix,
                                  status, error, fine-tuned model) and its checkpoints
      jobs/<job id>/events.jsonl  every event, oldest first
      jobs/<job id>/metrics.csv   metrics per step (result file, or metrics events while running)

It is **resumable and idempotent**: every file is written atomically (a temporary file renamed
into place), the manifest is saved after every download and at the end of the run (also when
it is interrupted), and a file already in the manifest is
only verified (size and SHA-256 on disk), never downloaded again. A finished job that was
archived completely is skipped; a job still running is archived as it is now, marked
``"final": false``, and brought up to date by the next run. A file that cannot be downloaded is
recorded in the report, not fatal; a file the API no longer has (404) is remembered in the
manifest as missing.

Examples:
    ```py
    from finetune_kit import JobClient
    from finetune_kit.jobs.archive import archive

    report = archive(JobClient(), "ft-archive")
    print(report.summary())
    ```
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune_kit._io import atomic_write
from finetune_kit.errors import DataError, FinetuneKitError
from finetune_kit.jobs.metrics import metrics_from_events, parse_result_file
from finetune_kit.jobs.models import Job, JobEvent

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType

    from finetune_kit.jobs.client import JobClient

__all__ = [
    "MANIFEST_NAME",
    "ArchiveIssue",
    "ArchiveReport",
    "ProgressCallback",
    "archive",
    "verify_archive",
]

MANIFEST_NAME = "manifest.json"
"""The manifest's file name inside the archive folder."""

_FORMAT = "finetune-kit-archive"
_VERSION = 1
_CHUNK = 1 << 20
_PARTIAL_PREFIX = ".download-"

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(jobs_done, jobs_total, job_id)``: once with ``(0, total, "")`` after the
jobs are listed, then after every job."""


@dataclass(frozen=True)
class ArchiveIssue:
    """Something that could not be archived.

    Attributes:
        code: ``file_not_found`` (404: deleted), ``size_mismatch`` (the download does not have
            the size the API reports), ``download_failed``, ``events_failed``,
            ``checkpoints_failed`` or ``metrics_failed``.
        message: What happened.
        job_id: The job concerned, if any.
        file_id: The file concerned, if any.
    """

    code: str
    message: str
    job_id: str | None = None
    file_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        where = " ".join(x for x in (self.job_id, self.file_id) if x)
        return (
            f"[{self.code}] {where}: {self.message}" if where else f"[{self.code}] {self.message}"
        )


@dataclass
class ArchiveReport:
    """What one run of [`archive`][finetune_kit.jobs.archive.archive] did.

    Attributes:
        out_dir: The archive folder.
        jobs: Jobs in scope (after ``since``).
        jobs_archived: Jobs written in this run.
        jobs_unchanged: Finished jobs already archived completely (only verified).
        files_downloaded: Files downloaded in this run.
        files_skipped: Files already archived and verified on disk.
        bytes_downloaded: Bytes downloaded in this run.
        in_progress: Jobs that had not finished: archived as they are now; run again later.
        errors: What failed in this run.
        missing_files: Files the API no longer has (404), as recorded in the manifest.
    """

    out_dir: Path
    jobs: int = 0
    jobs_archived: int = 0
    jobs_unchanged: int = 0
    files_downloaded: int = 0
    files_skipped: int = 0
    bytes_downloaded: int = 0
    in_progress: list[str] = field(default_factory=list)
    errors: list[ArchiveIssue] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when nothing failed and no file is missing."""
        return not self.errors and not self.missing_files

    def summary(self) -> str:
        """One line: jobs, files, bytes, errors."""
        text = (
            f"{self.jobs} jobs ({self.jobs_archived} archived, {self.jobs_unchanged} unchanged, "
            f"{len(self.in_progress)} still running); files: {self.files_downloaded} downloaded "
            f"({_size(self.bytes_downloaded)}), {self.files_skipped} already archived; "
            f"{len(self.errors)} errors"
        )
        if self.missing_files:
            text += f"; {len(self.missing_files)} files missing on the API"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the CLI's ``--format json`` output)."""
        return {
            "out_dir": str(self.out_dir),
            "complete": self.complete,
            "jobs": self.jobs,
            "jobs_archived": self.jobs_archived,
            "jobs_unchanged": self.jobs_unchanged,
            "in_progress": list(self.in_progress),
            "files_downloaded": self.files_downloaded,
            "files_skipped": self.files_skipped,
            "bytes_downloaded": self.bytes_downloaded,
            "errors": [e.to_dict() for e in self.errors],
            "missing_files": list(self.missing_files),
        }

    def _pairs(self) -> list[tuple[str, object]]:
        return [
            ("folder", self.out_dir),
            ("jobs", self.jobs),
            ("archived now", self.jobs_archived),
            ("unchanged (verified)", self.jobs_unchanged),
            ("still running", ", ".join(self.in_progress) or "—"),
            ("files downloaded", f"{self.files_downloaded} ({_size(self.bytes_downloaded)})"),
            ("files already archived", self.files_skipped),
            ("files missing on the API", len(self.missing_files)),
            ("errors", len(self.errors)),
        ]

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Archive", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for key, value in self._pairs():
            table.add_row(key, Text(str(value)))
        parts: list[RenderableType] = [table]
        if self.errors:
            problems = Table("code", "job", "file", "what happened", title="Problems")
            for e in self.errors:
                problems.add_row(
                    e.code, Text(e.job_id or "—"), Text(e.file_id or "—"), Text(e.message)
                )
            parts.append(problems)
        style = "bold green" if self.complete else "bold red"
        verdict = "complete" if self.complete else "incomplete: run again after fixing the above"
        parts.append(Text(f"archive {verdict}", style=style))
        return Group(*parts)

    def _repr_html_(self) -> str:
        from finetune_kit._html import key_values, table

        html = key_values(self._pairs(), caption=f"archive {self.out_dir}")
        if self.errors:
            rows = [(e.code, e.job_id or "", e.file_id or "", e.message) for e in self.errors]
            html += table(["code", "job", "file", "what happened"], rows, caption="problems")
        return html


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", value) or "_"


def _extension(filename: str, purpose: str) -> str:
    suffix = Path(filename).suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        return suffix
    return ".csv" if "result" in purpose else ".jsonl"


def _dump(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(obj, dict):
        return obj
    return {"value": str(obj)}


def _write_json(path: Path, data: Any) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


class _SizeMismatch(Exception):
    def __init__(self, got: int, expected: int) -> None:
        super().__init__(f"downloaded {got:,} bytes but the API reports {expected:,}")


class _Manifest:
    """The archive's index, saved atomically after every change that matters."""

    def __init__(self, root: Path) -> None:
        self.path = root / MANIFEST_NAME
        self.data: dict[str, Any] = {
            "format": _FORMAT,
            "version": _VERSION,
            "created_at": _now(),
            "updated_at": None,
            "files": {},
            "missing": {},
            "jobs": {},
        }
        if self.path.exists():
            try:
                loaded = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise DataError(
                    f"the archive's manifest cannot be read: {exc}",
                    file=self.path,
                    hint="move the folder aside and archive again into a new one",
                ) from exc
            if not isinstance(loaded, dict) or loaded.get("format") != _FORMAT:
                raise DataError(
                    "this folder holds a manifest.json that is not a finetune-kit archive",
                    file=self.path,
                    hint="choose an empty folder or an earlier archive",
                )
            for key in ("files", "missing", "jobs"):
                loaded.setdefault(key, {})
            self.data = loaded

    @property
    def files(self) -> dict[str, Any]:
        return self.data["files"]  # type: ignore[no-any-return]

    @property
    def missing(self) -> dict[str, Any]:
        return self.data["missing"]  # type: ignore[no-any-return]

    @property
    def jobs(self) -> dict[str, Any]:
        return self.data["jobs"]  # type: ignore[no-any-return]

    def save(self) -> None:
        self.data["updated_at"] = _now()
        _write_json(self.path, self.data)


def _file_roles(job: Job) -> list[tuple[str, str]]:
    roles: list[tuple[str, str]] = []
    if job.training_file:
        roles.append(("training_file", job.training_file))
    if job.validation_file:
        roles.append(("validation_file", job.validation_file))
    roles.extend(("result_file", f) for f in job.result_files)
    return roles


class _Archiver:
    """One run: the client, the folder, the manifest and the report being built."""

    def __init__(self, client: JobClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.files_dir = root / "files"
        self.jobs_dir = root / "jobs"
        for folder in (root, self.files_dir, self.jobs_dir):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataError(f"cannot create the folder: {exc.strerror}", file=folder) from exc
        for stale in self.files_dir.glob(f"{_PARTIAL_PREFIX}*"):
            stale.unlink(missing_ok=True)  # left by a run that was killed mid-download
        self.manifest = _Manifest(root)
        self.report = ArchiveReport(out_dir=root)
        self.verified: set[str] = set()
        self.failed: set[str] = set()  # not retried for other jobs in the same run

    # -- files --------------------------------------------------------------------------------

    def _is_verified(self, file_id: str) -> bool:
        """Whether the file is archived and intact (hashed once per run)."""
        if file_id in self.verified:
            return True
        record = self.manifest.files.get(file_id)
        if record is None:
            return False
        path = self.root / record["path"]
        try:
            ok = bool(path.stat().st_size == record["bytes"] and _sha256(path) == record["sha256"])
        except OSError:
            ok = False
        if ok:
            self.verified.add(file_id)
            self.report.files_skipped += 1
        return ok

    def _settled(self, file_id: str) -> bool:
        return self._is_verified(file_id) or file_id in self.manifest.missing

    def _path(self, file_id: str) -> Path:
        return self.root / str(self.manifest.files[file_id]["path"])

    def _issue(self, code: str, message: str, job_id: str, file_id: str | None = None) -> None:
        self.report.errors.append(ArchiveIssue(code, message, job_id=job_id, file_id=file_id))

    def _ensure_file(self, file_id: str, role: str, job_id: str) -> Path | None:
        """The archived copy of a file: verified if present, downloaded otherwise."""
        import openai

        from finetune_kit.jobs._core import scrub, translate

        if self._is_verified(file_id):
            return self._path(file_id)
        if file_id in self.manifest.missing or file_id in self.failed:
            return None
        try:
            meta = self.client.openai.files.retrieve(file_id)
            path, sha, size = self._download(file_id, meta)
        except openai.NotFoundError as exc:
            message = f"the API no longer has this {role.replace('_', ' ')}: {scrub(str(exc))}"
            self.manifest.missing[file_id] = {"job_id": job_id, "role": role, "message": message}
            self.manifest.save()
            self._issue("file_not_found", message, job_id, file_id)
            return None
        except _SizeMismatch as exc:
            self.failed.add(file_id)
            self._issue("size_mismatch", str(exc), job_id, file_id)
            return None
        except (openai.OpenAIError, FinetuneKitError, OSError) as exc:
            self.failed.add(file_id)
            reason = exc if isinstance(exc, OSError) else translate(exc, action="downloading")
            self._issue("download_failed", str(reason), job_id, file_id)
            return None
        self.manifest.files[file_id] = {
            "sha256": sha,
            "bytes": size,
            "path": path.relative_to(self.root).as_posix(),
            "filename": getattr(meta, "filename", "") or "",
            "purpose": getattr(meta, "purpose", "") or "",
            "role": role,
            "job_id": job_id,
        }
        self.manifest.save()
        self.verified.add(file_id)
        self.report.files_downloaded += 1
        self.report.bytes_downloaded += size
        return path

    def _download(self, file_id: str, meta: Any) -> tuple[Path, str, int]:
        """Stream a file to a temporary name, check its size, rename it to its hash."""
        expected = getattr(meta, "bytes", None)
        ext = _extension(getattr(meta, "filename", "") or "", getattr(meta, "purpose", "") or "")
        fd, tmp_name = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, suffix=".part", dir=self.files_dir)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as fh:
                streaming = self.client.openai.files.with_streaming_response
                with streaming.content(file_id) as response:
                    for chunk in response.iter_bytes(_CHUNK):
                        fh.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if isinstance(expected, int) and size != expected:
                raise _SizeMismatch(size, expected)
            sha = digest.hexdigest()
            final = self.files_dir / f"{sha}{ext}"
            if final.exists() and final.stat().st_size == size and _sha256(final) == sha:
                tmp.unlink()  # the same content under another file id
            else:
                tmp.replace(final)
            return final, sha, size
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    # -- jobs ---------------------------------------------------------------------------------

    def _unchanged(self, job: Job) -> bool:
        entry = self.manifest.jobs.get(job.id)
        if entry is None or not entry.get("complete") or not job.is_terminal:
            return False
        if not (self.root / entry["path"] / "job.json").is_file():
            return False
        ids = [fid for _, fid in _file_roles(job)]
        return all(self._settled(fid) for fid in ids)

    def job(self, raw: Any) -> None:
        """Archive one job (or only verify it when it is finished and already archived)."""
        job = Job.from_api(raw)
        if self._unchanged(job):
            self.report.jobs_unchanged += 1
            return
        errors_before = len(self.report.errors)
        folder = self.jobs_dir / _safe_name(job.id)
        folder.mkdir(exist_ok=True)
        files: dict[str, Path | None] = {}
        for role, file_id in _file_roles(job):
            files[file_id] = self._ensure_file(file_id, role, job.id)
        events = self._events(job)
        checkpoints = self._checkpoints(job)
        self._metrics(job, folder, files, events)
        record = {
            "archived_at": _now(),
            "final": job.is_terminal,
            "job": _dump(raw),
            "checkpoints": None if checkpoints is None else [vars(c) for c in checkpoints],
            "files": {
                file_id: self.manifest.files.get(file_id, {}).get("path")
                for _, file_id in _file_roles(job)
            },
        }
        _write_json(folder / "job.json", record)
        transient = [e for e in self.report.errors[errors_before:] if e.code != "file_not_found"]
        settled = all(self._settled(file_id) for _, file_id in _file_roles(job))
        self.manifest.jobs[job.id] = {
            "path": folder.relative_to(self.root).as_posix(),
            "status": job.status,
            "final": job.is_terminal,
            "complete": job.is_terminal and not transient and settled,
            "model": job.model,
            "fine_tuned_model": job.fine_tuned_model,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
            "files": dict(_file_roles(job)),
            "archived_at": record["archived_at"],
        }
        self.report.jobs_archived += 1
        if not job.is_terminal:
            self.report.in_progress.append(job.id)

    def _events(self, job: Job) -> list[JobEvent] | None:
        try:
            events = list(self.client.events(job.id))
        except FinetuneKitError as exc:
            self._issue("events_failed", str(exc), job.id)
            return None
        path = self.jobs_dir / _safe_name(job.id) / "events.jsonl"
        with atomic_write(path) as fh:
            for ev in events:
                fh.write(json.dumps(dataclasses.asdict(ev), ensure_ascii=False) + "\n")
        return events

    def _checkpoints(self, job: Job) -> list[Any] | None:
        try:
            return self.client.checkpoints(job.id)
        except FinetuneKitError as exc:
            self._issue("checkpoints_failed", str(exc), job.id)
            return None

    def _metrics(
        self,
        job: Job,
        folder: Path,
        files: dict[str, Path | None],
        events: list[JobEvent] | None,
    ) -> None:

        frame: pd.DataFrame | None = None
        result = files.get(job.result_files[0]) if job.result_files else None
        try:
            if result is not None:
                frame = parse_result_file(result.read_bytes())
            elif events is not None:
                frame = metrics_from_events(events)
        except (FinetuneKitError, OSError) as exc:
            self._issue("metrics_failed", str(exc), job.id)
        if frame is not None:
            with atomic_write(folder / "metrics.csv") as fh:
                frame.to_csv(fh, index=False)


def _listed(client: JobClient, since: dt.date | None, page_size: int) -> Iterator[Any]:
    """Every job, newest first (all pages), stopping at the first one created before ``since``."""
    for raw in client.openai.fine_tuning.jobs.list(limit=page_size):
        if since is not None:
            created = getattr(raw, "created_at", None)
            if isinstance(created, int | float):
                day = dt.datetime.fromtimestamp(created, tz=dt.timezone.utc).date()
                if day < since:
                    return
        yield raw


def archive(
    client: JobClient,
    out_dir: str | os.PathLike[str],
    *,
    since: dt.date | None = None,
    progress: ProgressCallback | None = None,
    page_size: int = 100,
) -> ArchiveReport:
    """Archive every fine-tuning job with its files, metrics, events and checkpoints.

    Resumable and idempotent: run it as often as you like, interrupted or not; it downloads
    only what is not archived and verified yet.

    Args:
        client: The [`JobClient`][finetune_kit.JobClient] to read from (its ``openai`` client
            lists jobs and downloads files).
        out_dir: The archive folder (created if needed; an earlier archive is updated).
        since: Only jobs created on or after this day (UTC).
        progress: Called as ``progress(jobs_done, jobs_total, job_id)``.
        page_size: Jobs per page when listing.

    Returns:
        The [`ArchiveReport`][finetune_kit.jobs.archive.ArchiveReport] of this run.

    Raises:
        APIError: The jobs could not be listed (nothing else is fatal).
        DataError: The folder cannot be written, or holds something that is not an archive.
    """
    import openai

    from finetune_kit.jobs._core import translate

    run = _Archiver(client, Path(out_dir))
    try:
        jobs = list(_listed(client, since, page_size))
    except openai.OpenAIError as exc:
        raise translate(exc, action="listing the jobs") from exc
    run.report.jobs = len(jobs)
    if progress is not None:
        progress(0, len(jobs), "")
    try:
        for done, raw in enumerate(jobs, start=1):
            run.job(raw)
            if progress is not None:
                progress(done, len(jobs), str(getattr(raw, "id", "")))
    finally:
        # Downloads are recorded as they happen; jobs once here, even when interrupted (a job
        # whose entry is lost is only read again next time, never downloaded again).
        run.manifest.save()
    run.report.missing_files = sorted(run.manifest.missing)
    return run.report


def verify_archive(out_dir: str | os.PathLike[str]) -> list[str]:
    """Check an archive on disk: every file's size and SHA-256, every job's record.

    Args:
        out_dir: The archive folder.

    Returns:
        One line per problem (an empty list: the archive is intact).

    Raises:
        DataError: The folder holds no readable archive manifest.
    """
    root = Path(out_dir)
    if not (root / MANIFEST_NAME).is_file():
        raise DataError("no archive manifest here", file=root / MANIFEST_NAME)
    manifest = _Manifest(root)
    problems: list[str] = []
    for file_id, record in sorted(manifest.files.items()):
        path = root / record["path"]
        if not path.is_file():
            problems.append(f"{file_id}: {record['path']} is missing")
            continue
        size = path.stat().st_size
        if size != record["bytes"]:
            problems.append(f"{file_id}: {record['path']} has {size} bytes, not {record['bytes']}")
        elif _sha256(path) != record["sha256"]:
            problems.append(f"{file_id}: {record['path']} does not match its SHA-256")
    for job_id, entry in sorted(manifest.jobs.items()):
        if not (root / entry["path"] / "job.json").is_file():
            problems.append(f"{job_id}: {entry['path']}/job.json is missing")
    with contextlib.suppress(OSError):
        for partial in (root / "files").glob(f"{_PARTIAL_PREFIX}*"):
            problems.append(f"{partial.name}: a partial download was left behind")
    return problems
