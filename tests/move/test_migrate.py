"""migrate: an emulator-made archive of 20 OpenAI jobs moved to the Together and Fireworks ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from migrate_helpers import (
    FIREWORKS_MODEL,
    NON_ALTERNATING_LINES,
    TOGETHER_MODEL,
    Archive,
)
from together_helpers import count

from finetune_kit import (
    AsyncJobClient,
    ConfigError,
    DataError,
    JobClient,
    MigrationReport,
    amigrate,
    migrate,
    set_testing,
)
from finetune_kit.move import Migration, Target
from finetune_kit.move._manifest import MIGRATIONS_NAME
from finetune_kit.testing import FireworksEmulator, TogetherEmulator

TOGETHER = f"together:{TOGETHER_MODEL}"
FIREWORKS = f"fireworks:{FIREWORKS_MODEL}"
T_JOBS = "/v1/fine-tunes"
F_JOBS = "/v1/accounts/*/supervisedFineTuningJobs"


@pytest.fixture(autouse=True)
def _instant_waits() -> Iterator[None]:
    set_testing(True)
    yield


@dataclass
class Run:
    """One migration of a fresh archive copy to a fresh emulator, and what it left."""

    folder: Path
    report: MigrationReport
    creates: int  # job-create requests the emulator answered


def _first_run(
    emulator: type[TogetherEmulator | FireworksEmulator],
    target: str,
    jobs_path: str,
    archive: Archive,
    factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, Run]]:
    """Migrate a fresh copy of the archive to a fresh emulator; the emulator stays up."""
    set_testing(True)
    folder = archive.copy_to(factory.mktemp(target.split(":")[0]) / "archive")
    with emulator(manual_clock=True) as emu:
        report = migrate(folder, target, client=JobClient(emu.client(max_retries=0)))
        yield emu, Run(folder, report, count(emu, "POST", jobs_path))


@pytest.fixture(scope="module")
def together(
    emulated_archive: Archive, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TogetherEmulator, Run]]:
    yield from _first_run(TogetherEmulator, TOGETHER, T_JOBS, emulated_archive, tmp_path_factory)


@pytest.fixture(scope="module")
def fireworks(
    emulated_archive: Archive, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FireworksEmulator, Run]]:
    yield from _first_run(FireworksEmulator, FIREWORKS, F_JOBS, emulated_archive, tmp_path_factory)


def _by_source(report: MigrationReport) -> dict[str, Migration]:
    return {m.source_job: m for m in report.migrations}


def _of_kind(run: Run, archive: Archive, kind: str) -> list[Migration]:
    """The migrations of the archived jobs trained on one kind of file (at least one)."""
    by_source = _by_source(run.report)
    found = [by_source[job_id] for job_id in archive.of_kind(kind)]
    assert found
    return found


# -- Together ---------------------------------------------------------------------------------


def test_together_gets_one_job_per_succeeded_job_and_none_for_the_others(
    together: tuple[TogetherEmulator, Run], emulated_archive: Archive
) -> None:
    emu, run = together
    movable = set(emulated_archive.succeeded) - set(emulated_archive.of_kind("turns"))
    assert len(emulated_archive.status) == 20 and len(movable) == 10
    by_source = _by_source(run.report)
    assert {j for j, m in by_source.items() if m.status == "created"} == movable
    assert run.creates == len(emu.state.jobs) == len(movable)
    # each target job is a different source job's: its suffix names it
    suffixes = sorted(job.body["suffix"] for job in emu.state.jobs.values())
    assert len(set(suffixes)) == len(movable)
    assert {by_source[j].target_job for j in movable} == set(emu.state.jobs)
    for job_id, status in emulated_archive.status.items():
        if status != "succeeded":
            assert by_source[job_id].status == "ignored"
            assert by_source[job_id].reason == "not_succeeded"
            assert by_source[job_id].target_job is None
    assert not run.report.complete  # two jobs could not be moved


def test_together_gets_mapped_settings_dpo_and_validation_files(
    together: tuple[TogetherEmulator, Run], emulated_archive: Archive
) -> None:
    emu, run = together
    by_source = _by_source(run.report)
    for job_id in set(emulated_archive.succeeded) - set(emulated_archive.of_kind("turns")):
        body = emu.state.jobs[str(by_source[job_id].target_job)].body
        assert body["n_epochs"] == 2
        assert body["learning_rate"] == pytest.approx(1.8e-5)  # Together's 1e-5 x OpenAI's 1.8
        assert body["batch_size"] == 8  # OpenAI's 1, raised to Together's smallest
        assert body["model"] == TOGETHER_MODEL
        kind = emulated_archive.data[job_id]
        method = body["training_method"]
        assert (method["method"] == "dpo") == (kind == "dpo")
        if kind == "dpo":
            assert method["dpo_beta"] == 0.2
        assert bool(body.get("validation_file")) == (job_id in emulated_archive.validated)
        assert by_source[job_id].estimate is not None
        assert by_source[job_id].estimate["training_tokens"] > 0


def test_a_file_that_breaks_togethers_turn_order_is_skipped_with_its_lines(
    together: tuple[TogetherEmulator, Run], emulated_archive: Archive
) -> None:
    _, run = together
    turns = _of_kind(run, emulated_archive, "turns")
    for m in turns:
        assert (m.status, m.reason) == ("skipped", "invalid_data")
        assert [(f.line, f.code) for f in m.findings] == [
            (line, "turns_not_alternating") for line in NON_ALTERNATING_LINES
        ]
        assert "lines 3, 8" in str(m.message)
    manifest = json.loads((run.folder / MIGRATIONS_NAME).read_text("utf-8"))
    recorded = manifest["targets"][TOGETHER][turns[0].source_job]
    assert recorded["status"] == "skipped"
    assert [f["line"] for f in recorded["findings"]] == list(NON_ALTERNATING_LINES)


def test_a_fixable_file_is_fixed_and_every_change_reported(
    together: tuple[TogetherEmulator, Run], emulated_archive: Archive
) -> None:
    emu, run = together
    for m in _of_kind(run, emulated_archive, "blank"):
        assert m.status == "created"
        assert m.changes == [
            {
                "file": "training_file",
                "code": "blank_line",
                "lines": 1,
                "what": "blank line dropped",
            }
        ]
        job = emu.state.jobs[str(m.target_job)]
        content = emu.state.files[job.body["training_file"]].content or b""
        assert b"\n\n" not in content and content.count(b"\n") == 12
    assert _of_kind(run, emulated_archive, "clean-0")[0].changes == []


def test_a_second_run_creates_nothing(
    together: tuple[TogetherEmulator, Run], emulated_archive: Archive
) -> None:
    emu, run = together
    before = len(emu.requests)
    again = migrate(run.folder, TOGETHER, client=JobClient(emu.client(max_retries=0)))
    assert count(emu, "POST", T_JOBS) == run.creates
    assert len(emu.requests) == before  # recorded migrations are not even looked up
    statuses = {m.source_job: m.status for m in again.migrations}
    created = {m.source_job for m in run.report.created}
    assert {statuses[j] for j in created} == {"recorded"}
    assert {m.target_job for m in again.migrations if m.status == "recorded"} == set(emu.state.jobs)


def test_a_run_after_a_crash_between_create_and_record_finds_the_job(
    emulated_archive: Archive, tmp_path: Path
) -> None:
    folder = emulated_archive.copy_to(tmp_path / "archive")
    job_id = emulated_archive.of_kind("clean-1")[0]
    with TogetherEmulator(manual_clock=True) as emu:
        client = JobClient(emu.client(max_retries=0))
        first = migrate(folder, TOGETHER, jobs=[job_id], client=client)
        (made,) = first.created
        # the process died after the job was created, before it was recorded
        path = folder / MIGRATIONS_NAME
        manifest = json.loads(path.read_text("utf-8"))
        entry = manifest["targets"][TOGETHER][job_id]
        entry.update(status="creating", target_job=None, target_files={})
        path.write_text(json.dumps(manifest), encoding="utf-8")
        again = migrate(folder, TOGETHER, jobs=[job_id], client=client)
        assert count(emu, "POST", T_JOBS) == 1
        assert [(m.status, m.target_job) for m in again.migrations] == [("found", made.target_job)]
    recorded = json.loads(path.read_text("utf-8"))["targets"][TOGETHER][job_id]
    assert (recorded["status"], recorded["target_job"]) == ("found", made.target_job)


def test_a_dry_run_creates_and_writes_nothing_and_plans_every_job(
    emulated_archive: Archive, tmp_path: Path
) -> None:
    folder = emulated_archive.copy_to(tmp_path / "archive")
    files_before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with TogetherEmulator(manual_clock=True) as emu:
        plan = migrate(folder, TOGETHER, dry_run=True, client=JobClient(emu.client()))
        assert emu.requests == []
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == files_before
    assert plan.dry_run
    assert len(plan.planned) == 10 and len(plan.skipped) == 2 and not plan.created
    assert all(m.estimate and m.settings for m in plan.planned)
    assert "would create" in plan.summary()


def test_a_dry_run_needs_no_client_nor_key(
    emulated_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    plan = migrate(emulated_archive.path, TOGETHER, dry_run=True)
    assert len(plan.planned) == 10
    assert not (emulated_archive.path / MIGRATIONS_NAME).exists()


def test_azure_gets_the_byte_order_mark_it_requires_reported_as_a_change(
    emulated_archive: Archive,
) -> None:
    plan = migrate(emulated_archive.path, "azure:gpt-4.1-mini-2025-04-14", dry_run=True)
    assert len(plan.planned) == 12  # Azure runs DPO and has no turn-order rule
    for m in plan.planned:
        codes = {c["code"] for c in m.changes}
        assert "bom_missing" in codes
        assert m.settings["learning_rate_multiplier"] == 1.8  # the same settings


def test_only_the_jobs_asked_for_are_moved(emulated_archive: Archive) -> None:
    wanted = (
        emulated_archive.succeeded[:2]
        + [j for j, s in emulated_archive.status.items() if s == "failed"][:1]
    )
    plan = migrate(emulated_archive.path, TOGETHER, jobs=wanted, dry_run=True)
    assert {m.source_job for m in plan.migrations} == set(wanted)
    assert [m.status for m in plan.migrations].count("ignored") == 1


# -- Fireworks --------------------------------------------------------------------------------


def test_fireworks_gets_one_job_per_succeeded_supervised_job_and_none_for_the_others(
    fireworks: tuple[FireworksEmulator, Run], emulated_archive: Archive
) -> None:
    emu, run = fireworks
    dpo = set(emulated_archive.of_kind("dpo"))
    movable = set(emulated_archive.succeeded) - dpo
    assert len(movable) == 11  # Fireworks has no turn-order rule: the "turns" file moves
    by_source = _by_source(run.report)
    assert {j for j, m in by_source.items() if m.status == "created"} == movable
    assert run.creates == len(emu.state.jobs) == len(movable)
    for job_id in dpo:
        assert (by_source[job_id].status, by_source[job_id].reason) == (
            "skipped",
            "unsupported_method",
        )
    jobs = {name.rsplit("/", 1)[-1]: job for name, job in emu.state.jobs.items()}
    assert {by_source[j].target_job for j in movable} == set(jobs)
    for job_id in movable:
        body = jobs[str(by_source[job_id].target_job)].body
        assert body["learningRate"] == pytest.approx(1.8e-4)  # 1e-4 (assumed) x 1.8
        assert body["epochs"] == 2 and "batchSize" not in body
        assert body["displayName"].startswith("bard-")


def test_fireworks_second_run_creates_nothing(
    fireworks: tuple[FireworksEmulator, Run],
) -> None:
    emu, run = fireworks
    again = migrate(run.folder, FIREWORKS, client=JobClient(emu.client(max_retries=0)))
    assert count(emu, "POST", F_JOBS) == run.creates
    assert len(again._with("recorded")) == run.creates
    assert not again.created


# -- async, arguments -------------------------------------------------------------------------


def test_amigrate_runs_the_same_plan_over_the_async_client(
    emulated_archive: Archive, tmp_path: Path, together: tuple[TogetherEmulator, Run]
) -> None:
    folder = emulated_archive.copy_to(tmp_path / "archive")
    _, sync_run = together

    async def go(emu: TogetherEmulator) -> MigrationReport:
        sdk = emu.async_client(max_retries=0)
        try:
            return await amigrate(folder, TOGETHER, client=AsyncJobClient(sdk))
        finally:
            await sdk.close()

    with TogetherEmulator(manual_clock=True) as emu:
        report = asyncio.run(go(emu))
        assert count(emu, "POST", T_JOBS) == sync_run.creates
    assert [(m.source_job, m.status, m.settings) for m in report.migrations] == [
        (m.source_job, m.status, m.settings) for m in sync_run.report.migrations
    ]


def test_the_report_renders_as_json_html_and_text(together: tuple[TogetherEmulator, Run]) -> None:
    from rich.console import Console

    _, run = together
    data = json.loads(json.dumps(run.report.to_dict()))
    assert data["counts"]["created"] == 10 and data["counts"]["ignored"] == 8
    html = run.report._repr_html_()
    assert "turns_not_alternating" in html and "<table>" in html
    console = Console(record=True, width=240)
    console.print(run.report)
    text = console.export_text()
    assert "line 3" in text and "10 created" in text
    again = Migration.from_dict(data["migrations"][0])
    assert again.to_dict() == data["migrations"][0]


def test_bad_targets_archives_and_clients_are_clear_errors(
    emulated_archive: Archive, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="PROVIDER:MODEL"):
        migrate(emulated_archive.path, "openai/gpt-oss-20b", dry_run=True)
    with pytest.raises(ConfigError, match="unknown provider"):
        migrate(emulated_archive.path, "nope:model", dry_run=True)
    with pytest.raises(ConfigError, match="not in the archive: ftjob-nope"):
        migrate(emulated_archive.path, TOGETHER, jobs=["ftjob-nope"], dry_run=True)
    with pytest.raises(DataError, match="no archive here"):
        migrate(tmp_path, TOGETHER, dry_run=True)
    with FireworksEmulator(manual_clock=True) as emu, pytest.raises(ConfigError, match="Fireworks"):
        migrate(emulated_archive.path, TOGETHER, client=JobClient(emu.client()))
    assert Target.parse("fireworks:accounts/x/models/y:z") == Target(
        "fireworks", "accounts/x/models/y:z"
    )


def test_a_damaged_archived_file_is_not_uploaded(emulated_archive: Archive, tmp_path: Path) -> None:
    folder = emulated_archive.copy_to(tmp_path / "archive")
    job_id = emulated_archive.of_kind("clean-2")[0]
    record = json.loads((folder / "jobs" / job_id / "job.json").read_text("utf-8"))
    damaged = folder / record["files"][record["job"]["training_file"]]
    damaged.write_bytes(damaged.read_bytes().replace(b"gamma", b"GAMMA", 1))
    (m,) = migrate(folder, TOGETHER, jobs=[job_id], dry_run=True).migrations
    assert (m.status, m.reason) == ("skipped", "file_missing")
    assert "SHA-256" in str(m.message)
