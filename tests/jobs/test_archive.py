"""Archive against the emulator: complete, verified, resumable, never downloading twice."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from finetune_kit import DataError, JobClient, set_testing
from finetune_kit.jobs.archive import MANIFEST_NAME, ArchiveReport, archive, verify_archive
from finetune_kit.testing import Emulator, Fault

MODEL = "gpt-4o-mini-2024-07-18"
START = datetime(2026, 11, 2, tzinfo=timezone.utc)
CONTENT = "/v1/files/{}/content"


@pytest.fixture(autouse=True)
def _instant_waits() -> Iterator[None]:
    set_testing(True)
    yield
    set_testing(False)


def _data(n: int, tag: str) -> bytes:
    return "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"{tag}: question {i}?"},
                    {"role": "assistant", "content": f"Answer {i}, {tag}."},
                ]
            }
        )
        + "\n"
        for i in range(n)
    ).encode()


@dataclass
class Scenario:
    """Jobs of every kind: succeeded, failed, cancelled, and the newest one still running."""

    emu: Emulator
    client: JobClient
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> expected status
    running: str = ""

    def content_gets(self, since: int = 0) -> Counter[str]:
        """Successful GETs of file content per file id, from request ``since`` on."""
        counts: Counter[str] = Counter()
        for r in self.emu.requests[since:]:
            if r.method == "GET" and r.path.endswith("/content") and r.status == 200:
                counts[r.path.split("/")[3]] += 1
        return counts

    def file_ids(self) -> set[str]:
        """Every file the jobs refer to (training, validation, result files)."""
        ids: set[str] = set()
        for job in self.emu.state.list_jobs():
            ids.update(f for f in (job["training_file"], job["validation_file"]) if f)
            ids.update(job["result_files"])
        return ids


def _populate(emu: Emulator, n: int = 20, *, max_retries: int = 2) -> Scenario:
    """``n`` jobs on 6 training files (one validation file on some): every 6th fails, every
    6th (offset) is cancelled, the last one is left running."""
    sdk = emu.client(max_retries=max_retries)
    files = [
        sdk.files.create(file=(f"train-{i}.jsonl", _data(12, f"set {i}")), purpose="fine-tune")
        for i in range(6)
    ]
    valid = sdk.files.create(file=("valid.jsonl", _data(10, "valid")), purpose="fine-tune")
    emu.advance(5)
    scenario = Scenario(emu, JobClient(emu.client(max_retries=max_retries)))

    def create(i: int, **extra: Any) -> str:
        job = sdk.fine_tuning.jobs.create(
            model=MODEL,
            training_file=files[i % len(files)].id,
            suffix=f"run-{i}",
            seed=i,
            method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
            **extra,
        )
        return job.id

    for i in range(n - 1):
        if i % 6 == 3:
            emu.fail_next_job("server_error", "The job failed due to an internal error.")
            scenario.jobs[create(i)] = "failed"
        elif i % 6 == 5:
            job_id = create(i)
            sdk.fine_tuning.jobs.cancel(job_id)
            scenario.jobs[job_id] = "cancelled"
        else:
            extra = {"validation_file": valid.id} if i % 4 == 0 else {}
            scenario.jobs[create(i, **extra)] = "succeeded"
    emu.advance(3600)
    scenario.running = create(n - 1)
    scenario.jobs[scenario.running] = "running"
    emu.advance(45)
    return scenario


@pytest.fixture
def scenario() -> Iterator[Scenario]:
    """Twenty jobs: 13 succeeded, 3 failed, 3 cancelled, 1 running."""
    with Emulator(manual_clock=True, start_time=START) as emu:
        yield _populate(emu)


@pytest.fixture
def small() -> Iterator[Scenario]:
    """Seven jobs, for the error paths."""
    with Emulator(manual_clock=True, start_time=START) as emu:
        yield _populate(emu, 7)


def _files_of(emu: Emulator) -> dict[str, bytes]:
    return {f["id"]: emu.state.file_content(f["id"]) for f in emu.state.list_files()}


def _check_complete(scenario: Scenario, out: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    assert verify_archive(out) == []
    assert set(manifest["jobs"]) == set(scenario.jobs)
    contents = _files_of(scenario.emu)
    used = set()
    for job_id, status in scenario.jobs.items():
        entry = manifest["jobs"][job_id]
        assert entry["status"] == status
        assert entry["final"] is (status != "running")
        folder = out / entry["path"]
        record = json.loads((folder / "job.json").read_text("utf-8"))
        job = record["job"]
        assert job["id"] == job_id and job["status"] == status
        assert job["seed"] is not None and job["method"]["type"] == "supervised"
        assert job["method"]["supervised"]["hyperparameters"]["n_epochs"] == 2
        assert job["user_provided_suffix"].startswith("run-")
        if status == "failed":
            assert job["error"]["code"] == "server_error"
        if status == "succeeded":
            assert job["fine_tuned_model"].startswith(f"ft:{MODEL}")
            assert record["checkpoints"] and len(job["result_files"]) == 1
            metrics = (folder / "metrics.csv").read_text("utf-8").splitlines()
            assert metrics[0].startswith("step,train_loss") and len(metrics) > 2
        events = (folder / "events.jsonl").read_text("utf-8").splitlines()
        assert events and all(json.loads(line)["id"] for line in events)
        for file_id in entry["files"].values():
            used.add(file_id)
            saved = manifest["files"][file_id]
            data = (out / saved["path"]).read_bytes()
            assert data == contents[file_id]
            assert saved["sha256"] == hashlib.sha256(data).hexdigest()
            assert saved["path"] == f"files/{saved['sha256']}{Path(saved['path']).suffix}"
    assert used == set(manifest["files"])
    assert not list((out / "files").glob(".download-*"))
    return manifest


def test_archive_of_twenty_jobs_is_complete_verified_and_idempotent(
    scenario: Scenario, tmp_path: Path
) -> None:
    seen: list[tuple[int, int, str]] = []
    report = archive(
        scenario.client,
        tmp_path / "a",
        page_size=7,
        progress=lambda done, total, job: seen.append((done, total, job)),
    )
    assert report.complete, report.errors
    assert (report.jobs, report.jobs_archived, report.jobs_unchanged) == (20, 20, 0)
    assert report.in_progress == [scenario.running]
    assert Counter(scenario.jobs.values()) == Counter(
        succeeded=13, failed=3, cancelled=3, running=1
    )
    wanted = scenario.file_ids()
    assert len(wanted) == 6 + 1 + 13  # training, validation, one result file per success
    assert report.files_downloaded == len(wanted) and report_files(tmp_path / "a") == wanted
    contents = _files_of(scenario.emu)
    assert report.bytes_downloaded == sum(len(contents[i]) for i in wanted)
    assert seen[0] == (0, 20, "") and seen[-1][:2] == (20, 20) and len(seen) == 21
    pages = [
        r for r in scenario.emu.requests if r.method == "GET" and r.path == "/v1/fine_tuning/jobs"
    ]
    assert len(pages) == 3 and "after" in pages[-1].query  # 7 + 7 + 6
    assert scenario.content_gets().most_common(1)[0][1] == 1
    _check_complete(scenario, tmp_path / "a")

    # a second run downloads nothing and reads only the running job again
    out = tmp_path / "a"
    mark = len(scenario.emu.requests)
    again = archive(scenario.client, out)
    assert again.complete
    assert (again.jobs_archived, again.jobs_unchanged, again.files_downloaded) == (1, 19, 0)
    assert again.files_skipped == len(scenario.file_ids()) and again.bytes_downloaded == 0
    after = scenario.emu.requests[mark:]
    assert not [r for r in after if r.path.startswith("/v1/files")]  # no file request at all
    touched = {r.path.split("/")[4] for r in after if r.path.count("/") >= 4}
    assert touched == {scenario.running}  # only the running job is read again

    scenario.emu.advance(3600)  # the running job finishes
    mark = len(scenario.emu.requests)
    last = archive(scenario.client, out)
    assert last.complete and last.in_progress == []
    assert (last.jobs_archived, last.files_downloaded) == (1, 1)  # its result file
    scenario.jobs[scenario.running] = "succeeded"
    assert sum(scenario.content_gets(mark).values()) == 1
    manifest = _check_complete(scenario, out)
    assert manifest["jobs"][scenario.running]["final"] is True


def report_files(out: Path) -> set[str]:
    return set(json.loads((out / MANIFEST_NAME).read_text("utf-8"))["files"])


def test_dropped_downloads_are_reported_then_resumed_without_redownloads(
    tmp_path: Path,
) -> None:
    with Emulator(manual_clock=True, start_time=START) as emu:
        scenario = _populate(emu, max_retries=0)
        emu.add_faults(Fault.drop_after(method="GET", path="/files/*/content", nth=6, times=None))
        out = tmp_path / "a"
        first = archive(scenario.client, out)
        assert not first.complete
        assert first.files_downloaded == 5
        assert {e.code for e in first.errors} == {"download_failed"}
        assert not list((out / "files").glob(".download-*"))
        assert verify_archive(out) == []  # what is there is intact

        emu.set_fault_plan(None)
        second = archive(scenario.client, out)
        assert second.complete, second.errors
        assert second.files_downloaded == len(scenario.file_ids()) - 5
        counts = scenario.content_gets()
        assert set(counts) == report_files(out) and max(counts.values()) == 1
        _check_complete(scenario, out)


def test_interrupted_run_resumes_without_redownloads(small: Scenario, tmp_path: Path) -> None:
    scenario = small
    out = tmp_path / "a"

    def stop_after_four(done: int, total: int, job: str) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        archive(scenario.client, out, progress=stop_after_four)
    assert verify_archive(out) == []
    half = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    assert len(half["jobs"]) == 4 and half["files"]

    report = archive(scenario.client, out)
    assert report.complete and report.jobs_unchanged == 3  # the newest job is still running
    assert max(scenario.content_gets().values()) == 1
    _check_complete(scenario, out)


def test_interruption_in_the_middle_of_a_download_leaves_no_half_file(
    small: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = small
    streaming = scenario.client.openai.files.with_streaming_response
    real = streaming.content
    cut: list[str] = []

    @contextlib.contextmanager
    def half_then_ctrl_c(file_id: str, **kwargs: Any) -> Iterator[Any]:
        with real(file_id, **kwargs) as response:

            class Half:
                def iter_bytes(self, size: int) -> Iterator[bytes]:
                    yield next(response.iter_bytes(16))
                    cut.append(file_id)
                    raise KeyboardInterrupt

            yield Half()

    monkeypatch.setattr(streaming, "content", half_then_ctrl_c)
    out = tmp_path / "a"
    with pytest.raises(KeyboardInterrupt):
        archive(scenario.client, out)
    assert len(cut) == 1
    assert [p.name for p in (out / "files").iterdir()] == []  # no half file, no temporary file
    assert verify_archive(out) == []

    monkeypatch.setattr(streaming, "content", real)
    assert archive(scenario.client, out).complete
    counts = scenario.content_gets()
    assert counts[cut[0]] == 2 and max(c for f, c in counts.items() if f != cut[0]) == 1
    _check_complete(scenario, out)


def test_deleted_file_is_recorded_not_fatal_and_not_asked_again(
    small: Scenario, tmp_path: Path
) -> None:
    scenario = small
    sdk = scenario.emu.client()
    victim = next(j for j, s in scenario.jobs.items() if s == "failed")
    training = sdk.fine_tuning.jobs.retrieve(victim).training_file
    sdk.files.delete(training)
    out = tmp_path / "a"
    report = archive(scenario.client, out)
    assert not report.complete and report.missing_files == [training]
    assert [(e.code, e.file_id) for e in report.errors] == [("file_not_found", training)]
    assert report.jobs_archived == len(scenario.jobs)  # everything else is there

    mark = len(scenario.emu.requests)
    again = archive(scenario.client, out)
    assert again.errors == [] and again.missing_files == [training]
    assert not again.complete
    assert not [r for r in scenario.emu.requests[mark:] if training in r.path]


def test_size_mismatch_is_an_error_and_leaves_no_file(small: Scenario, tmp_path: Path) -> None:
    scenario = small
    stored = scenario.emu.state.files.get(
        next(iter(f["id"] for f in scenario.emu.state.list_files(purpose="fine-tune")))
    )
    honest = stored.to_api
    stored.to_api = lambda now: {**honest(now), "bytes": len(stored.content) + 1}  # type: ignore[method-assign]
    out = tmp_path / "a"
    report = archive(scenario.client, out)
    assert [(e.code, e.file_id) for e in report.errors] == [("size_mismatch", stored.id)]
    assert "API reports" in report.errors[0].message
    assert stored.id not in report_files(out)
    digest = hashlib.sha256(stored.content).hexdigest()
    assert not list((out / "files").glob(f"{digest}*"))
    assert not list((out / "files").glob(".download-*"))

    stored.to_api = honest  # type: ignore[method-assign]
    assert archive(scenario.client, out).complete


def test_a_damaged_file_on_disk_is_downloaded_again(small: Scenario, tmp_path: Path) -> None:
    scenario = small
    out = tmp_path / "a"
    archive(scenario.client, out)
    manifest = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    file_id, saved = next(iter(manifest["files"].items()))
    (out / saved["path"]).write_bytes(b"oops")
    assert verify_archive(out) and "does not match" not in verify_archive(out)[0]
    mark = len(scenario.emu.requests)
    report = archive(scenario.client, out)
    assert report.complete and report.files_downloaded == 1
    assert scenario.content_gets(mark) == Counter({file_id: 1})
    assert verify_archive(out) == []


def test_since_keeps_only_recent_jobs(tmp_path: Path) -> None:
    with Emulator(manual_clock=True, start_time=START) as emu:
        sdk = emu.client()
        file = sdk.files.create(file=("t.jsonl", _data(12, "t")), purpose="fine-tune")
        emu.advance(5)
        old = sdk.fine_tuning.jobs.create(model=MODEL, training_file=file.id, suffix="old")
        emu.advance(3 * 86400)
        new = sdk.fine_tuning.jobs.create(model=MODEL, training_file=file.id, suffix="new")
        emu.advance(3600)
        report = archive(JobClient(emu.client()), tmp_path / "a", since=date(2026, 11, 4))
    assert report.jobs == 1 and report.complete
    assert set(json.loads((tmp_path / "a" / MANIFEST_NAME).read_text())["jobs"]) == {new.id}
    assert old.id != new.id


def test_report_renders_for_humans_notebooks_and_scripts(tmp_path: Path) -> None:
    from rich.console import Console

    from finetune_kit.jobs.archive import ArchiveIssue

    report = ArchiveReport(
        out_dir=tmp_path,
        jobs=3,
        jobs_archived=2,
        jobs_unchanged=1,
        files_downloaded=2,
        bytes_downloaded=2048,
        in_progress=["ftjob-1"],
        errors=[
            ArchiveIssue("download_failed", "boom <b> [red]x", job_id="ftjob-2", file_id="file-9")
        ],
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["complete"] is False and data["errors"][0]["file_id"] == "file-9"
    console = Console(record=True, width=120)
    console.print(report)
    text = console.export_text()
    assert "download_failed" in text and "incomplete" in text and "2.0 KB" in text
    assert "[red]x" in text  # messages are shown as they are, not as markup
    html = report._repr_html_()
    assert "boom &lt;b&gt;" in html and "<table>" in html
    assert "1 errors" in report.summary()


def test_a_folder_that_is_not_an_archive_is_refused(small: Scenario, tmp_path: Path) -> None:
    scenario = small
    (tmp_path / MANIFEST_NAME).write_text('{"something": "else"}', "utf-8")
    with pytest.raises(DataError, match="not a finetune-kit archive"):
        archive(scenario.client, tmp_path)
    with pytest.raises(DataError, match="no archive manifest"):
        verify_archive(tmp_path / "empty")
