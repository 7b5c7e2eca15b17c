"""Every emulator bills a finished job the way `estimate` counts: the two agree to the token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune_kit import CostEstimator, JobClient, set_testing
from finetune_kit.testing import Emulator, FireworksEmulator, TogetherEmulator
from finetune_kit.testing._content import model_tokens
from finetune_kit.tokens.registry import billed_tokens


@pytest.fixture(autouse=True)
def _instant() -> object:
    set_testing(True)
    yield None
    set_testing(False)


def _rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "messages": [
                {"role": "system", "content": "Answer as Shakespeare would, in one sentence."},
                {"role": "user", "content": f"Question {i}: why does my loss go up? " * (i + 1)},
                {"role": "assistant", "content": "Thy learning rate, good sir, is too bold."},
            ]
        }
        for i in range(n)
    ]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(12)), encoding="utf-8")
    return path


def test_openai_jobs_bill_what_the_estimate_counts(data: Path) -> None:
    model = "gpt-4o-mini-2024-07-18"
    expected = CostEstimator().estimate_training(data, model, lifecycle=False)
    with Emulator(speed=100_000) as emu:
        job = JobClient(emu.client(max_retries=0), poll_interval=0.01).train(data, model)
    assert job.status == "succeeded"
    assert job.trained_tokens == expected.training_tokens
    assert expected.training_tokens == expected.billed_tokens_per_epoch * expected.n_epochs


def test_together_jobs_bill_what_the_estimate_counts(data: Path) -> None:
    model = "openai/gpt-oss-20b"
    expected = CostEstimator().estimate_training(data, model, n_epochs=2, lifecycle=False)
    with TogetherEmulator(speed=100_000) as emu:
        client = JobClient(emu.client(max_retries=0), poll_interval=0.01)
        job = client.train(data, model, n_epochs=2)
    assert job.status == "succeeded"
    assert job.trained_tokens == expected.training_tokens


def test_fireworks_jobs_are_counted_in_the_models_tokens(data: Path) -> None:
    """Fireworks reports no token count on a job; the emulator's own record is checked."""
    model = "accounts/fireworks/models/gpt-oss-20b"
    expected = CostEstimator().estimate_training(data, model, n_epochs=2, lifecycle=False)
    with FireworksEmulator(speed=100_000) as emu:
        client = JobClient(emu.client(max_retries=0), poll_interval=0.01)
        job = client.train(data, model, n_epochs=2)
        (stored,) = emu.state.jobs.values()
    assert job.status == "succeeded" and job.trained_tokens is None
    assert stored.tokens == expected.training_tokens


def test_each_example_is_billed_at_most_the_models_training_length() -> None:
    long = _rows(1)[0]
    long["messages"][1]["content"] = "word " * 200_000  # type: ignore[index]
    assert billed_tokens([long], "gpt-4o-mini-2024-07-18") == 65_536
    assert billed_tokens([long, *_rows(2)], "gpt-4o-mini-2024-07-18") == 65_536 + billed_tokens(
        _rows(2), "gpt-4o-mini-2024-07-18"
    )


def test_a_model_without_a_known_tokenizer_falls_back_to_the_rough_count() -> None:
    content = "".join(json.dumps(r) + "\n" for r in _rows(3)).encode()
    assert model_tokens(content, "no-such-model", 123) == 123
    assert model_tokens(content, "gpt-4o-mini-2024-07-18", 123) == billed_tokens(
        _rows(3), "gpt-4o-mini-2024-07-18"
    )
