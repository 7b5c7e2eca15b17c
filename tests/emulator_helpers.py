"""Shared data and fixtures of the emulator's own tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import openai
import pytest

from finetune_kit.testing import Emulator

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
