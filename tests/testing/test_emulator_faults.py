"""Fault plans: every fault kind seen through the real openai SDK, records, and plan files."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import openai
import pytest

from emulator_helpers import chat_jsonl
from finetune_kit.errors import ConfigError
from finetune_kit.testing import Emulator, Fault, FaultPlan

# -- status faults -------------------------------------------------------------------------------


def test_status_fault_answers_with_openai_error_body_and_retry_after(emu: Emulator) -> None:
    emu.add_faults(Fault.error(429, method="GET", path="/models", retry_after=7))
    client = emu.client(max_retries=0)

    with pytest.raises(openai.RateLimitError) as info:
        client.models.list()

    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.body == {
        "message": "Rate limit reached for requests. Please try again later.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert client.models.list().data  # fired once only


def test_status_fault_can_carry_custom_message_code_and_headers(emu: Emulator) -> None:
    emu.add_faults(
        Fault(
            kind="status",
            status=503,
            path="/files",
            message="Down for maintenance.",
            code="maintenance",
            headers={"x-should-retry": "false"},
        )
    )

    with pytest.raises(openai.InternalServerError) as info:
        emu.client().files.list()  # x-should-retry: false stops the SDK's retries

    assert info.value.message.endswith("Down for maintenance.")
    assert info.value.code == "maintenance"
    assert len(emu.requests) == 1


def test_sdk_retries_honour_retry_after_and_get_through(emu: Emulator) -> None:
    emu.add_faults(Fault.error(429, method="POST", path="/files", retry_after=0.01, times=2))

    started = time.monotonic()
    created = emu.client().files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")

    assert time.monotonic() - started < 2
    assert [r.status for r in emu.requests] == [429, 429, 200]
    assert [f.id for f in emu.client().files.list()] == [created.id]


def test_nth_and_times_choose_which_matching_requests_fail(emu: Emulator) -> None:
    emu.add_faults(Fault.error(500, method="GET", path="/models/*", nth=2, times=2))
    client = emu.client(max_retries=0)

    outcomes = []
    for _ in range(5):
        try:
            client.models.retrieve("gpt-4o-mini-2024-07-18")
            outcomes.append("ok")
        except openai.InternalServerError:
            outcomes.append("500")

    assert outcomes == ["ok", "500", "500", "ok", "ok"]
    assert [f.request_index for f in emu.faults] == [1, 2]


def test_fault_without_times_limit_fires_every_time(emu: Emulator) -> None:
    emu.add_faults(Fault.error(502, path="/models", times=None))
    client = emu.client(max_retries=0)

    for _ in range(3):
        with pytest.raises(openai.InternalServerError):
            client.models.list()


def test_rules_match_by_method_and_path_pattern() -> None:
    cancel = Fault.error(method="POST", path="/fine_tuning/jobs/*/cancel")
    assert cancel.matches("POST", "/v1/fine_tuning/jobs/ftjob-1/cancel")
    assert not cancel.matches("GET", "/v1/fine_tuning/jobs/ftjob-1/cancel")
    assert not cancel.matches("POST", "/v1/fine_tuning/jobs/ftjob-1/pause")
    named = Fault.error(path="/v1/files/{file_id}")
    assert named.matches("GET", "/v1/files/file-abc")
    assert not named.matches("GET", "/v1/files/file-abc/content")
    everything = Fault.error(path="**")
    assert everything.matches("DELETE", "/v1/files/file-abc")
    assert Fault.error(path="/uploads/**").matches("POST", "/v1/uploads/u/parts")
    assert Fault.error(path="files").matches("GET", "/v1/files/")


# -- latency -------------------------------------------------------------------------------------


def test_latency_fault_delays_the_answer(emu: Emulator) -> None:
    emu.add_faults(Fault.delay(0.2, method="GET", path="/models"))
    client = emu.client()

    started = time.monotonic()
    client.models.list()
    assert time.monotonic() - started >= 0.2
    assert emu.requests[-1].fault == "latency"


def test_latency_longer_than_the_client_timeout_raises_a_timeout(emu: Emulator) -> None:
    emu.add_faults(Fault.delay(1.0, path="/models"))
    client = emu.client(max_retries=0, timeout=0.1)

    with pytest.raises(openai.APITimeoutError):
        client.models.list()


def test_latency_stacks_with_an_error_from_another_rule(emu: Emulator) -> None:
    emu.add_faults(Fault.delay(0.05, path="/models"), Fault.error(500, path="/models"))

    with pytest.raises(openai.InternalServerError):
        emu.client(max_retries=0).models.list()

    assert [f.kind for f in emu.faults] == ["latency", "status"]
    assert emu.requests[0].fault == "status"


# -- dropped connections -------------------------------------------------------------------------


def test_drop_before_commit_leaves_nothing_behind(emu: Emulator) -> None:
    emu.add_faults(Fault.drop_before(method="POST", path="/files"))

    with pytest.raises(openai.APIConnectionError):
        emu.client(max_retries=0).files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")

    assert emu.state.list_files() == []
    assert emu.requests[0].status is None
    assert emu.requests[0].fault == "drop_before"


def test_drop_after_commit_keeps_the_write_but_loses_the_response(emu: Emulator) -> None:
    emu.add_faults(Fault.drop_after(method="POST", path="/files"))

    with pytest.raises(openai.APIConnectionError):
        emu.client(max_retries=0).files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")

    assert len(emu.state.list_files()) == 1
    assert emu.requests[0].status is None
    assert emu.requests[0].fault == "drop_after"


def test_default_sdk_retries_create_duplicates_when_responses_are_lost(emu: Emulator) -> None:
    emu.add_faults(
        Fault.drop_after(method="POST", path="/files"),
        Fault.drop_after(method="POST", path="/fine_tuning/jobs"),
    )
    client = emu.client()  # the SDK's default: 2 retries on connection errors

    file = client.files.create(file=("train.jsonl", chat_jsonl()), purpose="fine-tune")
    client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file.id)

    assert len(emu.state.list_files(purpose="fine-tune")) == 2
    assert len(emu.state.list_jobs()) == 2
    assert [f.kind for f in emu.faults] == ["drop_after", "drop_after"]
    assert [(r.method, r.path, r.status) for r in emu.requests] == [
        ("POST", "/v1/files", None),
        ("POST", "/v1/files", 200),
        ("POST", "/v1/fine_tuning/jobs", None),
        ("POST", "/v1/fine_tuning/jobs", 200),
    ]


def test_drop_before_is_retried_by_the_sdk_without_duplicates(emu: Emulator) -> None:
    emu.add_faults(Fault.drop_before(method="POST", path="/files"))

    emu.client().files.create(file=("train.jsonl", chat_jsonl()), purpose="fine-tune")

    assert len(emu.state.list_files()) == 1
    assert [r.status for r in emu.requests] == [None, 200]


# -- records and plan management -----------------------------------------------------------------


def test_every_request_is_recorded_with_its_query(emu: Emulator) -> None:
    client = emu.client()
    client.files.list(limit=3, purpose="fine-tune")
    client.models.list()

    assert [(r.method, r.path, r.status, r.fault) for r in emu.requests] == [
        ("GET", "/v1/files", 200, None),
        ("GET", "/v1/models", 200, None),
    ]
    assert emu.requests[0].query == {"limit": "3", "purpose": "fine-tune"}
    emu.clear_records()
    assert emu.requests == []


def test_set_fault_plan_replaces_the_rules_and_restarts_counters(emu: Emulator) -> None:
    client = emu.client(max_retries=0)
    emu.set_fault_plan([Fault.error(500, path="/models", nth=2)])
    client.models.list()
    emu.set_fault_plan(FaultPlan(faults=[Fault.error(500, path="/models", nth=2)]))

    client.models.list()  # first match again under the new plan
    with pytest.raises(openai.InternalServerError):
        client.models.list()
    emu.set_fault_plan(None)
    assert emu.fault_plan.faults == []
    client.models.list()


def test_async_client_meets_the_same_faults(emu: Emulator) -> None:
    emu.add_faults(
        Fault.error(429, path="/fine_tuning/jobs", method="GET", retry_after=0.01),
        Fault.drop_after(method="POST", path="/files"),
    )

    async def scenario() -> None:
        client = emu.async_client()
        try:
            await client.fine_tuning.jobs.list()
            await client.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
        finally:
            await client.close()

    asyncio.run(scenario())

    assert [r.status for r in emu.requests] == [429, 200, None, 200]
    assert len(emu.state.list_files()) == 2


# -- plan files ----------------------------------------------------------------------------------


def test_fault_plan_round_trips_through_a_json_file(tmp_path: Path) -> None:
    plan = FaultPlan(
        faults=[
            Fault.error(429, method="POST", path="/files", retry_after=0.5, times=3),
            Fault.delay(0.1, path="**", times=None),
            Fault.drop_after(method="POST", path="/fine_tuning/jobs", nth=2),
        ]
    )
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json())

    assert FaultPlan.load(path) == plan


def test_fault_plan_file_may_be_a_bare_list(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps([{"kind": "drop_before", "method": "post", "path": "/uploads"}]))

    plan = FaultPlan.load(path)

    assert plan.faults == [Fault.drop_before(method="POST", path="/uploads")]


def test_emulator_accepts_the_path_of_a_plan_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"faults": [{"kind": "status", "status": 500, "path": "/models"}]}))

    with Emulator(faults=path) as emu, pytest.raises(openai.InternalServerError):
        emu.client(max_retries=0).models.list()


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('{"faults": [{"kind": "explode"}]}', "faults[0].kind", "Input should be"),
        ('{"faults": [{"kind": "status", "status": 200}]}', "faults[0].status", "greater than"),
        ('{"faults": [{"kind": "status", "nth": 0}]}', "faults[0].nth", "greater than"),
        ('{"faults": [{"kind": "latency", "sconds": 1}]}', "faults[0].sconds", "Extra inputs"),
        ('[{"kind": "status", "method": "FETCH"}]', "faults[0].method", "unknown HTTP method"),
        ('{"faults": [}', None, "not valid JSON"),
    ],
)
def test_invalid_plan_file_raises_config_error_naming_file_and_field(
    tmp_path: Path, text: str, field: str | None, words: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)

    with pytest.raises(ConfigError) as info:
        FaultPlan.load(path)

    assert info.value.file == str(path)
    assert info.value.field == field
    assert words in str(info.value)


def test_missing_plan_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read fault plan"):
        Emulator(faults=tmp_path / "missing.json")
