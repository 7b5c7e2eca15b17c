"""Shared data and fixtures of the emulator's own tests."""

from __future__ import annotations

import collections
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import openai
import pytest

from finetune_kit import recorded_waits
from finetune_kit.testing import Emulator, Fault

START = datetime(2026, 6, 1, tzinfo=timezone.utc)


def chat_jsonl(n: int = 12) -> bytes:
    """``n`` small, valid chat examples as JSONL bytes."""
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(n)
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def dpo_jsonl(n: int = 10) -> bytes:
    """``n`` valid preference examples as JSONL bytes."""
    line = {
        "input": {"messages": [{"role": "user", "content": "hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Good day to thee."}],
        "non_preferred_output": [{"role": "assistant", "content": "yo"}],
    }
    return (json.dumps(line) + "\n").encode() * n


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator with a frozen clock at ``START``."""
    with Emulator(manual_clock=True, start_time=START) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> openai.OpenAI:
    """An SDK client on ``emu`` without the SDK's own retries."""
    return emu.client(max_retries=0)


# -- fault plans and the exact request logs they imply (every job client runs them) --------

_ID = re.compile(r"/(?:file|ftjob|upload|part)-[A-Za-z0-9]+")


def request_log(emu: Emulator) -> collections.Counter[tuple[str, str]]:
    """Requests per (method, path), ids replaced by ``{id}``."""
    return collections.Counter((r.method, _ID.sub("/{id}", r.path)) for r in emu.requests)


def retries() -> list[tuple[str, int | None]]:
    """(request, status) of each retry wait recorded since ``set_testing``, ids as ``{id}``."""
    return [
        (_ID.sub("/{id}", w.request or "?"), w.status_code)
        for w in recorded_waits()
        if w.reason == "retry"
    ]


FILES, JOBS = "/v1/files", "/v1/fine_tuning/jobs"
JOB, EVENTS = "/v1/fine_tuning/jobs/{id}", "/v1/fine_tuning/jobs/{id}/events"
POST_FILES, POST_JOBS = f"POST {FILES}", f"POST {JOBS}"


@dataclass(frozen=True)
class Scenario:
    """A fault plan and what it implies: extra requests and the retries (request, status)."""

    faults: list[Fault]
    extra: dict[tuple[str, str], int]
    retries: list[tuple[str, int | None]]


FAULT_PLANS: dict[str, Scenario] = {
    "503 with Retry-After on upload and create": Scenario(
        [
            Fault.error(503, method="POST", path="/files", retry_after=0.01),
            Fault.error(503, method="POST", path="/fine_tuning/jobs", retry_after=0.01),
        ],
        {("GET", FILES): 1, ("POST", FILES): 1, ("GET", JOBS): 1, ("POST", JOBS): 1},
        [(POST_FILES, 503), (POST_JOBS, 503)],
    ),
    "429s on upload": Scenario(
        [Fault.error(429, method="POST", path="/files", times=3)],
        {("GET", FILES): 3, ("POST", FILES): 3},
        [(POST_FILES, 429)] * 3,
    ),
    "500s on create": Scenario(
        [Fault.error(500, method="POST", path="/fine_tuning/jobs", times=2)],
        {("GET", JOBS): 2, ("POST", JOBS): 2},
        [(POST_JOBS, 500)] * 2,
    ),
    "drop before commit on upload and create": Scenario(
        [
            Fault.drop_before(method="POST", path="/files"),
            Fault.drop_before(method="POST", path="/fine_tuning/jobs"),
        ],
        {("GET", FILES): 1, ("POST", FILES): 1, ("GET", JOBS): 1, ("POST", JOBS): 1},
        [(POST_FILES, None), (POST_JOBS, None)],
    ),
    "drop after commit on upload and create": Scenario(
        # the lost responses are not followed by second writes: the client looks first
        [
            Fault.drop_after(method="POST", path="/files"),
            Fault.drop_after(method="POST", path="/fine_tuning/jobs"),
        ],
        {("GET", FILES): 1, ("GET", JOBS): 1},
        [(POST_FILES, None), (POST_JOBS, None)],
    ),
    "500s on polling and events": Scenario(
        [
            Fault.error(500, method="GET", path="/fine_tuning/jobs/*", times=3),
            Fault.error(503, method="GET", path="/fine_tuning/jobs/*/events", retry_after=0),
        ],
        {("GET", JOB): 3, ("GET", EVENTS): 1},
        [(f"GET {JOB}", 500)] * 3 + [(f"GET {EVENTS}", 503)],
    ),
}


def clean_run_log(
    emu: Emulator, job_id: str, extra: dict[tuple[str, str], int] | None = None
) -> collections.Counter[tuple[str, str]]:
    """The requests of upload (no wait), create and one poll of an ended job, plus ``extra``."""
    pages = max(1, math.ceil(len(emu.state.list_events(job_id)) / 100))
    log = collections.Counter(
        {
            ("GET", FILES): 1,  # look for the same content
            ("POST", FILES): 1,
            ("GET", JOBS): 1,  # look for the same idempotency key
            ("POST", JOBS): 1,
            ("GET", JOB): 1,  # the job has ended by the first poll
            ("GET", EVENTS): pages,  # every event, once, when it ends
        }
    )
    log.update(extra or {})
    return log
