"""The emulator's fine-tuning jobs: lifecycle, parameters, listing, control and failures."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from datetime import datetime, timezone
from typing import Any

import openai
import pytest

from emulator_helpers import START, chat_jsonl, dpo_jsonl
from finetune_kit.testing import Emulator

DONE = 10_000  # emulated seconds after which any small job has finished


def upload(client: openai.OpenAI, content: bytes | None = None) -> str:
    data = chat_jsonl() if content is None else content
    return client.files.create(file=("train.jsonl", data), purpose="fine-tune").id


def small_job(client: openai.OpenAI, **kwargs: Any) -> Any:
    """A job with 12 examples, 1 epoch of 12 steps."""
    kwargs.setdefault("training_file", upload(client))
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault(
        "method", {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}}
    )
    return client.fine_tuning.jobs.create(**kwargs)


# -- lifecycle -----------------------------------------------------------------------------------


def test_job_walks_validating_queued_running_succeeded_as_the_clock_moves(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    seen = [job.status]
    for _ in range(12):
        emu.advance(5)
        status = client.fine_tuning.jobs.retrieve(job.id).status
        if status != seen[-1]:
            seen.append(status)

    assert seen == ["validating_files", "queued", "running", "succeeded"]


def test_running_job_has_estimated_finish_and_no_trained_tokens_yet(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    emu.advance(35)

    running = client.fine_tuning.jobs.retrieve(job.id)
    assert running.status == "running"
    assert running.estimated_finish is not None
    assert running.estimated_finish > emu.now()
    assert running.trained_tokens is None
    assert running.fine_tuned_model is None
    assert running.finished_at is None


def test_succeeded_job_reports_model_tokens_and_result_file(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client, suffix="my-suffix")
    emu.advance(DONE)

    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    assert done.fine_tuned_model is not None
    assert re.fullmatch(
        r"ft:gpt-4o-mini-2024-07-18:emulator:my-suffix:[A-Za-z0-9]{8}", done.fine_tuned_model
    )
    assert done.trained_tokens is not None
    assert done.trained_tokens > 0
    assert done.finished_at is not None
    assert done.estimated_finish is None
    assert len(done.result_files) == 1
    result = client.files.retrieve(done.result_files[0])
    assert result.purpose == "fine-tune-results"


def test_model_name_without_suffix_keeps_the_empty_field(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    emu.advance(DONE)

    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None
    assert re.fullmatch(r"ft:gpt-4o-mini-2024-07-18:emulator::[A-Za-z0-9]{8}", model)


def test_trained_tokens_scale_with_epochs(emu: Emulator, client: openai.OpenAI) -> None:
    file_id = upload(client)
    one = small_job(client, training_file=file_id)
    three = client.fine_tuning.jobs.create(
        model="gpt-4o-mini",
        training_file=file_id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    )
    emu.advance(DONE)

    tokens_one = client.fine_tuning.jobs.retrieve(one.id).trained_tokens
    tokens_three = client.fine_tuning.jobs.retrieve(three.id).trained_tokens
    assert tokens_one is not None
    assert tokens_three == 3 * tokens_one


def test_auto_hyperparameters_resolve_to_numbers_once_files_are_validated(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client))
    assert job.hyperparameters.n_epochs == "auto"

    emu.advance(15)

    resolved = client.fine_tuning.jobs.retrieve(job.id)
    assert resolved.hyperparameters.n_epochs == 8  # cookbook heuristic: 100 // 12 examples
    assert resolved.hyperparameters.batch_size == 1
    assert isinstance(resolved.hyperparameters.learning_rate_multiplier, float)
    assert resolved.method is not None
    assert resolved.method.supervised is not None
    assert resolved.method.supervised.hyperparameters is not None
    assert resolved.method.supervised.hyperparameters.n_epochs == 8


def test_explicit_and_deprecated_top_level_hyperparameters_are_kept(
    emu: Emulator, client: openai.OpenAI
) -> None:
    file_id = upload(client)
    explicit = client.fine_tuning.jobs.create(
        model="gpt-4o-mini",
        training_file=file_id,
        method={
            "type": "supervised",
            "supervised": {
                "hyperparameters": {
                    "n_epochs": 2,
                    "batch_size": 4,
                    "learning_rate_multiplier": 0.5,
                }
            },
        },
    )
    legacy = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, hyperparameters={"n_epochs": 4}
    )
    emu.advance(15)

    got = client.fine_tuning.jobs.retrieve(explicit.id).hyperparameters
    assert (got.n_epochs, got.batch_size, got.learning_rate_multiplier) == (2, 4, 0.5)
    assert client.fine_tuning.jobs.retrieve(legacy.id).hyperparameters.n_epochs == 4


def test_events_are_newest_first_with_metrics_and_paginate(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    emu.advance(DONE)

    events = list(client.fine_tuning.jobs.list_events(job.id, limit=5))
    assert events[0].message == "The job has successfully completed"
    assert events[-1].message == f"Created fine-tuning job: {job.id}"
    assert [e.created_at for e in events] == sorted((e.created_at for e in events), reverse=True)
    assert len({e.id for e in events}) == len(events)
    page = client.fine_tuning.jobs.list_events(job.id, limit=3)
    assert page.has_more is True
    following = client.fine_tuning.jobs.list_events(job.id, limit=3, after=page.data[-1].id)
    assert following.data[0].id == events[3].id
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) == 12
    data: Any = metrics[-1].data  # oldest metrics event: step 1
    assert data["step"] == 1
    assert data["total_steps"] == 12
    assert {"train_loss", "train_mean_token_accuracy"} <= set(data)
    assert "valid_loss" not in data


def test_loss_curve_decreases_and_is_reproducible_with_a_seed(emu: Emulator) -> None:
    def losses(client: openai.OpenAI, job_id: str) -> list[float]:
        events = client.fine_tuning.jobs.list_events(job_id, limit=1000)
        return [
            e.data["train_loss"]  # type: ignore[index]
            for e in reversed(events.data)
            if e.type == "metrics"
        ]

    client = emu.client()
    file_id = upload(client, chat_jsonl(60))
    method: Any = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}
    first = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, seed=42, method=method
    )
    second = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, seed=42, method=method
    )
    emu.advance(DONE)

    curve = losses(client, first.id)
    assert curve == losses(client, second.id)
    assert sum(curve[:10]) / 10 > sum(curve[-10:]) / 10
    assert client.fine_tuning.jobs.retrieve(first.id).seed == 42


def test_validation_file_adds_validation_metrics(emu: Emulator, client: openai.OpenAI) -> None:
    job = small_job(client, validation_file=upload(client, chat_jsonl(10)))
    emu.advance(DONE)

    events = client.fine_tuning.jobs.list_events(job.id, limit=100).data
    assert any("validation file" in e.message for e in events)
    with_valid = [e.data for e in events if e.type == "metrics" and "valid_loss" in e.data]  # type: ignore[operator]
    assert with_valid
    assert all("valid_mean_token_accuracy" in d for d in with_valid)  # type: ignore[operator]
    csv = client.files.content(client.fine_tuning.jobs.retrieve(job.id).result_files[0]).text
    rows = [line.split(",") for line in csv.splitlines()]
    assert rows[0] == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    assert len(rows) == 13
    assert any(row[3] for row in rows[1:])
    assert any(not row[3] for row in rows[1:])


def test_checkpoints_are_one_per_epoch_and_only_the_last_three_kept(
    emu: Emulator, client: openai.OpenAI
) -> None:
    method: Any = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 5}}}
    job = small_job(client, method=method)
    emu.advance(DONE)

    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id)
    assert [c.step_number for c in checkpoints.data] == [60, 48, 36]
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert checkpoints.data[0].fine_tuned_model_checkpoint == f"{model}:ckpt-step-60"
    assert checkpoints.data[0].metrics.train_loss is not None
    second_page = client.fine_tuning.jobs.checkpoints.list(
        job.id, limit=1, after=checkpoints.data[0].id
    )
    assert [c.step_number for c in second_page.data] == [48]


def test_result_file_is_a_csv_of_step_metrics(emu: Emulator, client: openai.OpenAI) -> None:
    job = small_job(client)
    emu.advance(DONE)

    result_id = client.fine_tuning.jobs.retrieve(job.id).result_files[0]
    lines = client.files.content(result_id).text.splitlines()
    assert lines[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert lines[1].startswith("1,")
    assert lines[-1].startswith("12,")


def test_result_file_can_be_served_base64_encoded() -> None:
    with Emulator(manual_clock=True, start_time=START, results_base64=True) as emu:
        client = emu.client()
        job = small_job(client)
        emu.advance(DONE)
        result_id = client.fine_tuning.jobs.retrieve(job.id).result_files[0]

        decoded = base64.b64decode(client.files.content(result_id).content).decode()
        assert decoded.startswith("step,train_loss")


def test_dpo_job_resolves_beta_and_succeeds(emu: Emulator, client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=upload(client, dpo_jsonl()),
        method={"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 1}}},
    )
    emu.advance(DONE)

    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    assert done.method is not None
    assert done.method.dpo is not None
    assert done.method.dpo.hyperparameters is not None
    assert done.method.dpo.hyperparameters.beta == 0.1


# -- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "method", "code"),
    [
        (chat_jsonl(3) + b"not json\n", None, "invalid_training_file"),
        (chat_jsonl(4), None, "invalid_training_file"),
        (chat_jsonl(12), {"type": "dpo"}, "invalid_training_file"),
        (dpo_jsonl(12), None, "invalid_training_file"),
    ],
    ids=["bad-line", "too-few", "chat-for-dpo", "dpo-for-supervised"],
)
def test_job_with_an_unusable_training_file_fails_with_an_openai_error(
    emu: Emulator, client: openai.OpenAI, content: bytes, method: Any, code: str
) -> None:
    kwargs: Any = {"method": method} if method else {}
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-2025-04-14", training_file=upload(client, content), **kwargs
    )
    emu.advance(DONE)

    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == code
    assert failed.error.param == "training_file"
    assert failed.error.message.startswith("The job failed due to an invalid training file.")
    assert failed.fine_tuned_model is None
    newest = client.fine_tuning.jobs.list_events(job.id, limit=1).data[0]
    assert newest.level == "error"


def test_invalid_validation_file_fails_the_job(emu: Emulator, client: openai.OpenAI) -> None:
    job = small_job(client, validation_file=upload(client, b'{"x": 1}\n'))
    emu.advance(DONE)

    error = client.fine_tuning.jobs.retrieve(job.id).error
    assert error is not None
    assert (error.code, error.param) == ("invalid_validation_file", "validation_file")


def test_fail_next_job_fails_the_next_job_half_way(emu: Emulator, client: openai.OpenAI) -> None:
    emu.fail_next_job("server_error", "Boom.", param="x")
    doomed = small_job(client)
    healthy = small_job(client)
    emu.advance(DONE)

    failed = client.fine_tuning.jobs.retrieve(doomed.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert (failed.error.code, failed.error.message, failed.error.param) == (
        "server_error",
        "Boom.",
        "x",
    )
    steps = [
        e for e in client.fine_tuning.jobs.list_events(doomed.id, limit=100) if e.type == "metrics"
    ]
    assert len(steps) == 6
    assert client.fine_tuning.jobs.retrieve(healthy.id).status == "succeeded"


def test_fail_next_job_can_fail_during_file_validation(
    emu: Emulator, client: openai.OpenAI
) -> None:
    emu.fail_next_job("invalid_training_file", "Nope.", stage="validating_files")
    job = small_job(client)
    emu.advance(15)

    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed"
    assert failed.hyperparameters.n_epochs == 1


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"suffix": "x" * 65}, "suffix"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        (
            {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 0}}}},
            "method.supervised.hyperparameters.n_epochs",
        ),
        (
            {
                "method": {
                    "type": "supervised",
                    "supervised": {"hyperparameters": {"batch_size": 300}},
                }
            },
            "method.supervised.hyperparameters.batch_size",
        ),
        (
            {"hyperparameters": {"learning_rate_multiplier": 0}},
            "hyperparameters.learning_rate_multiplier",
        ),
        (
            {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}},
            "method.dpo.hyperparameters.beta",
        ),
        ({"method": {"type": "supervised"}, "hyperparameters": {"n_epochs": 2}}, "hyperparameters"),
        ({"method": {"type": "reinforcement"}}, "method.type"),
        ({"model": "gpt-nope"}, "model"),
        ({"model": "gpt-4o-mini", "method": {"type": "dpo"}}, "method"),
        ({"training_file": "file-missing"}, "training_file"),
        ({"validation_file": "file-missing"}, "validation_file"),
        ({"seed": -1}, "seed"),
        ({"integrations": [{"type": "slack"}]}, "integrations[0].type"),
    ],
)
def test_job_creation_rejects_bad_parameters_with_400(
    client: openai.OpenAI, overrides: dict[str, Any], param: str
) -> None:
    kwargs: dict[str, Any] = {"model": "gpt-4.1-2025-04-14", "training_file": upload(client)}
    kwargs.update(overrides)

    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(**kwargs)

    assert info.value.param == param
    assert info.value.type == "invalid_request_error"


def test_unknown_argument_is_rejected(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument"):
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=upload(client), extra_body={"learning_rate": 1}
        )


def test_unknown_job_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-nope")


# -- listing -------------------------------------------------------------------------------------


def test_jobs_list_is_newest_first_and_paginates(client: openai.OpenAI) -> None:
    file_id = upload(client)
    ids = [small_job(client, training_file=file_id).id for _ in range(5)]

    page = client.fine_tuning.jobs.list(limit=2)
    assert [j.id for j in page.data] == [ids[4], ids[3]]
    assert page.has_more is True
    assert [j.id for j in client.fine_tuning.jobs.list(limit=2)] == ids[::-1]


def test_jobs_list_filters_by_metadata(emu: Emulator, client: openai.OpenAI) -> None:
    file_id = upload(client)
    tagged = small_job(client, training_file=file_id, metadata={"key": "abc", "team": "ml"})
    small_job(client, training_file=file_id, metadata={"key": "other"})
    bare = small_job(client, training_file=file_id)

    found = client.fine_tuning.jobs.list(metadata={"key": "abc"})
    assert [j.id for j in found] == [tagged.id]
    assert [j.id for j in client.fine_tuning.jobs.list(metadata={"key": "abc", "team": "x"})] == []
    null_only = client.fine_tuning.jobs.list(extra_query={"metadata": "null"})
    assert [j.id for j in null_only] == [bare.id]
    query = next(r.query for r in reversed(emu.requests) if "metadata[key]" in r.query)
    assert query["metadata[key]"] == "abc"


# -- cancel, pause, resume -----------------------------------------------------------------------


def test_cancel_stops_a_job_and_only_works_before_it_ends(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    emu.advance(35)

    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled"
    assert cancelled.finished_at is not None
    emu.advance(DONE)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    assert client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model is None
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job.id)
    done = small_job(client)
    emu.advance(DONE)
    with pytest.raises(openai.BadRequestError, match="succeeded"):
        client.fine_tuning.jobs.cancel(done.id)


def test_cancel_works_while_validating(client: openai.OpenAI) -> None:
    job = small_job(client)

    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"


def test_pause_freezes_a_running_job_and_resume_continues_it(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    with pytest.raises(openai.BadRequestError, match="not running"):
        client.fine_tuning.jobs.pause(job.id)
    emu.advance(35)

    paused = client.fine_tuning.jobs.pause(job.id)
    assert str(paused.status) == "paused"  # the SDK's Literal lacks "paused"; the API sends it
    events_before = len(client.fine_tuning.jobs.list_events(job.id, limit=1000).data)
    emu.advance(DONE)
    assert str(client.fine_tuning.jobs.retrieve(job.id).status) == "paused"
    assert len(client.fine_tuning.jobs.list_events(job.id, limit=1000).data) == events_before
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.pause(job.id)

    resumed = client.fine_tuning.jobs.resume(job.id)
    assert resumed.status == "running"
    assert resumed.estimated_finish is not None
    with pytest.raises(openai.BadRequestError, match="not paused"):
        client.fine_tuning.jobs.resume(job.id)
    emu.advance(DONE)
    finished = client.fine_tuning.jobs.retrieve(job.id)
    assert finished.status == "succeeded"
    messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=1000)]
    assert "Fine-tuning job paused" in messages
    assert "Fine-tuning job resumed" in messages


def test_paused_job_can_be_cancelled(emu: Emulator, client: openai.OpenAI) -> None:
    job = small_job(client)
    emu.advance(35)
    client.fine_tuning.jobs.pause(job.id)

    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"


# -- wind-down and models ------------------------------------------------------------------------


def test_job_creation_is_refused_from_the_cutoff_date() -> None:
    after = datetime(2027, 1, 6, 12, tzinfo=timezone.utc)
    with Emulator(manual_clock=True, start_time=after, job_creation_cutoff="2027-01-06") as emu:
        client = emu.client(max_retries=0)
        file_id = upload(client)
        with pytest.raises(openai.PermissionDeniedError) as info:
            client.fine_tuning.jobs.create(model="gpt-4.1-nano", training_file=file_id)
        assert info.value.code == "fine_tuning_unavailable"
        assert "winding down" in info.value.message


def test_job_creation_before_the_cutoff_date_works() -> None:
    with Emulator(manual_clock=True, start_time=START, job_creation_cutoff="2027-01-06") as emu:
        client = emu.client()
        job = client.fine_tuning.jobs.create(model="gpt-4.1-nano", training_file=upload(client))
        assert job.status == "validating_files"


def test_refusal_switch_can_be_turned_on_and_off(emu: Emulator, client: openai.OpenAI) -> None:
    file_id = upload(client)
    emu.refuse_job_creation(status=400, message="No more jobs.")

    with pytest.raises(openai.BadRequestError, match="No more jobs"):
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id)
    emu.refuse_job_creation(False)
    assert client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id).id


def test_job_on_a_shut_down_base_model_is_refused() -> None:
    after = datetime(2027, 1, 20, tzinfo=timezone.utc)
    with Emulator(manual_clock=True, start_time=after, enforce_shutdowns=True) as emu:
        client = emu.client(max_retries=0)
        with pytest.raises(openai.NotFoundError, match="deprecated"):
            client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client))


def test_fine_tuned_model_is_listed_inherits_shutdown_and_answers_trained_replies(
    emu: Emulator, client: openai.OpenAI
) -> None:
    job = small_job(client)
    emu.advance(DONE)
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None

    assert model in {m.id for m in client.models.list()}
    assert client.models.retrieve(model).shutdown_date == "2027-01-14"
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "q7"}]
    )
    assert reply.choices[0].message.content == "a7"
    other = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "unseen"}]
    )
    assert model in (other.choices[0].message.content or "")


def test_unfinished_fine_tuned_model_does_not_exist_yet(client: openai.OpenAI) -> None:
    small_job(client)

    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="ft:gpt-4o-mini-2024-07-18:emulator::abcdefgh",
            messages=[{"role": "user", "content": "x"}],
        )


def test_a_fine_tuned_model_can_be_fine_tuned_again(emu: Emulator, client: openai.OpenAI) -> None:
    first = small_job(client)
    emu.advance(DONE)
    parent = client.fine_tuning.jobs.retrieve(first.id).fine_tuned_model
    assert parent is not None

    child = small_job(client, model=parent, suffix="v2")
    emu.advance(DONE)

    done = client.fine_tuning.jobs.retrieve(child.id)
    assert done.model == parent
    assert done.fine_tuned_model is not None
    assert done.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:emulator:v2:")


def test_scaled_clock_runs_a_demo_job_to_completion_in_real_time() -> None:
    with Emulator(speed=2000, start_time=START) as emu:
        client = emu.client()
        job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client))
        deadline = time.monotonic() + 10
        while client.fine_tuning.jobs.retrieve(job.id).status != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.02)


# -- async ---------------------------------------------------------------------------------------


def test_async_client_runs_the_job_lifecycle(emu: Emulator) -> None:
    async def scenario() -> None:
        client = emu.async_client(max_retries=0)
        try:
            file = await client.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
            job = await client.fine_tuning.jobs.create(
                model="gpt-4o-mini", training_file=file.id, metadata={"run": "async"}
            )
            emu.advance(35)
            assert str((await client.fine_tuning.jobs.pause(job.id)).status) == "paused"
            assert (await client.fine_tuning.jobs.resume(job.id)).status == "running"
            emu.advance(DONE)
            done = await client.fine_tuning.jobs.retrieve(job.id)
            assert done.status == "succeeded"
            found = [j.id async for j in client.fine_tuning.jobs.list(metadata={"run": "async"})]
            assert found == [job.id]
            events = [e async for e in client.fine_tuning.jobs.list_events(job.id, limit=50)]
            assert events[0].message == "The job has successfully completed"
            checkpoints = await client.fine_tuning.jobs.checkpoints.list(job.id)
            assert len(checkpoints.data) == 3
            other = await client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file.id)
            assert (await client.fine_tuning.jobs.cancel(other.id)).status == "cancelled"
        finally:
            await client.close()

    asyncio.run(scenario())
