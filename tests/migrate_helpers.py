"""An emulator-made archive of twenty OpenAI jobs to migrate, shared by the move and CLI tests.

Jobs ``i = 0..19`` on the OpenAI loopback emulator: ``i % 5 == 3`` fail, ``i % 5 == 4`` are
cancelled, the other twelve succeed. The succeeded ones train on (in turn) four clean chat
files, a file with a blank line (fixable: the safe fixes drop it), a file whose examples break
Together's turn order at two lines (not fixable) and a preference file (DPO); some have a
validation file. The archive is made once per session; each test migrates a copy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from finetune_kit import JobClient, set_testing
from finetune_kit.jobs.archive import archive
from finetune_kit.testing import Emulator

SOURCE_MODEL = "gpt-4.1-mini-2025-04-14"
START = datetime(2026, 11, 2, tzinfo=timezone.utc)
TOGETHER_MODEL = "openai/gpt-oss-20b"
FIREWORKS_MODEL = "accounts/fireworks/models/gpt-oss-20b"
NON_ALTERNATING_LINES = (3, 8)  # 1-based lines of the file that break Together's turn order


def _chat(i: int, tag: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You answer in the manner of the Bard."},
            {"role": "user", "content": f"{tag}: what is question {i}?"},
            {"role": "assistant", "content": f"Question {i}, good sir, is {tag}'s."},
        ]
    }


def _lines(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def clean(tag: str, n: int = 12) -> bytes:
    return _lines([_chat(i, tag) for i in range(n)])


def with_blank_line(n: int = 12) -> bytes:
    half = n // 2
    return clean("blank", half) + b"\n" + _lines([_chat(i, "blank") for i in range(half, n)])


def non_alternating(n: int = 12) -> bytes:
    records = [_chat(i, "turns") for i in range(n)]
    for line in NON_ALTERNATING_LINES:
        messages = records[line - 1]["messages"]
        messages.insert(2, {"role": "user", "content": "And another thing?"})
    return _lines(records)


def preference(n: int = 10) -> bytes:
    return _lines(
        [
            {
                "input": {"messages": [{"role": "user", "content": f"Greet me, {i}."}]},
                "preferred_output": [{"role": "assistant", "content": "Good morrow to thee."}],
                "non_preferred_output": [{"role": "assistant", "content": "hey"}],
            }
            for i in range(n)
        ]
    )


@dataclass
class Archive:
    """The archive folder and what its jobs are."""

    path: Path
    status: dict[str, str] = field(default_factory=dict)  # job id -> status
    data: dict[str, str] = field(default_factory=dict)  # succeeded job id -> its file's kind
    validated: set[str] = field(default_factory=set)  # jobs with a validation file

    @property
    def succeeded(self) -> list[str]:
        return [j for j, s in self.status.items() if s == "succeeded"]

    def of_kind(self, kind: str) -> list[str]:
        return [j for j, k in self.data.items() if k == kind]

    def copy_to(self, folder: Path) -> Path:
        """A fresh copy of the archive (migrations write into it)."""
        shutil.copytree(self.path, folder)
        return folder


def make_archive(out: Path) -> Archive:
    """Twenty jobs on the OpenAI emulator, archived into ``out``."""
    set_testing(True)
    kinds = {
        "clean-0": clean("alpha"),
        "clean-1": clean("beta"),
        "clean-2": clean("gamma"),
        "clean-3": clean("delta"),
        "blank": with_blank_line(),
        "turns": non_alternating(),
        "dpo": preference(),
    }
    order = ["clean-0", "blank", "clean-1", "turns", "clean-2", "dpo", "clean-3"]
    result = Archive(out)
    with Emulator(manual_clock=True, start_time=START) as emu:
        sdk = emu.client(max_retries=0)
        files = {
            kind: sdk.files.create(file=(f"{kind}.jsonl", content), purpose="fine-tune").id
            for kind, content in kinds.items()
        }
        valid = sdk.files.create(file=("valid.jsonl", clean("valid", 10)), purpose="fine-tune").id
        emu.advance(5)
        n_ok = 0
        for i in range(20):
            if i % 5 == 3:
                kind = "clean-0"
                emu.fail_next_job("server_error", "The job failed due to an internal error.")
            elif i % 5 == 4:
                kind = "clean-1"
            else:
                kind = order[n_ok % len(order)]
                n_ok += 1
            method_type = "dpo" if kind == "dpo" else "supervised"
            hp: dict[str, Any] = {"n_epochs": 2}
            if method_type == "dpo":
                hp["beta"] = 0.2
            extra = {"validation_file": valid} if i % 5 == 0 and kind.startswith("clean") else {}
            job = sdk.fine_tuning.jobs.create(
                model=SOURCE_MODEL,
                training_file=files[kind],
                suffix=f"bard-{i}",
                method={"type": method_type, method_type: {"hyperparameters": hp}},
                **extra,
            )
            if i % 5 == 4:
                sdk.fine_tuning.jobs.cancel(job.id)
                result.status[job.id] = "cancelled"
            elif i % 5 == 3:
                result.status[job.id] = "failed"
            else:
                result.status[job.id] = "succeeded"
                result.data[job.id] = kind
                if extra:
                    result.validated.add(job.id)
            emu.advance(1)
        emu.advance(7200)
        report = archive(JobClient(emu.client(max_retries=0)), out)
        assert report.complete, report.errors
        for job in emu.state.list_jobs():
            assert job["status"] == result.status[job["id"]]
    return result


@pytest.fixture(scope="session")
def emulated_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The twenty-job archive, made once (tests migrate copies, or dry-run the original)."""
    made = make_archive(tmp_path_factory.mktemp("archive") / "ft-archive")
    yield made
    set_testing(False)
