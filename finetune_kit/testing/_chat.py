"""``POST /chat/completions``: deterministic answers from the emulator's own models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from finetune_kit.testing._content import count_tokens, messages_tokens
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._jobs import JobStore
from finetune_kit.testing._models import ModelCatalog, shut_down_error, unknown_model_error
from finetune_kit.testing._wire import bad_request, require_str

__all__ = ["complete_chat", "word_chat"]


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content.strip()
            if isinstance(content, list):
                parts = [p.get("text", "") for p in content if isinstance(p, dict)]
                return " ".join(str(p) for p in parts).strip()
    return ""


def complete_chat(
    body: Mapping[str, Any], *, now: float, models: ModelCatalog, jobs: JobStore, ids: IdMaker
) -> dict[str, Any]:
    """Answer a chat completion request.

    A fine-tuned model answers a user message it was trained on with the trained reply; any
    other message (and any base model) gets a fixed reply naming the model.

    Raises:
        ApiError: 400 for bad parameters, 404 for unknown or shut-down models.
    """
    model = require_str(body, "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("Missing required parameter: 'messages'.", param="messages")
    if body.get("stream"):
        raise bad_request("The emulator does not support streaming.", param="stream")
    answers: Mapping[str, str] = {}
    if model.startswith("ft:"):
        job = jobs.by_model(model)
        if job is None:
            raise unknown_model_error(model)
        base, answers = job.base_model, job.training.answers
    else:
        info = models.base(model)
        if info is None:
            raise unknown_model_error(model)
        base = info.id
    if models.is_shut_down(base, now):
        raise shut_down_error(model)
    question = _last_user_text(messages)
    answer = answers.get(question) or f"This is a reply from {model} (finetune-kit emulator)."
    prompt_tokens = messages_tokens(messages)
    completion_tokens = count_tokens(answer)
    return {
        "id": ids.make("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(now),
        "model": model,
        "system_fingerprint": "fp_emulator",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def word_chat(
    body: Mapping[str, Any],
    messages: list[Any],
    *,
    answers: Mapping[str, str] | None,
    now: float,
    completion_id: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAI-compatible chat answer of the Together and Fireworks emulators.

    A fine-tuned model (``answers`` given: its training file's user message -> reply) answers
    what it was trained on with the trained reply; anything else echoes the last user message
    and names the model. ``max_tokens`` cuts the answer to that many words; usage counts words.
    """
    model = str(body.get("model") or "")
    last = next(
        (
            str(m.get("content"))
            for m in reversed(messages)
            if isinstance(m, Mapping) and m.get("role") == "user"
        ),
        "",
    )
    if answers is None:
        answer = f"(base model {model}) You said: {last}"
    else:
        answer = answers.get(last, f"(fine-tuned {model}) You said: {last}")
    limit = body.get("max_tokens")
    if isinstance(limit, int) and limit > 0:
        answer = " ".join(answer.split()[:limit])
    prompt_tokens = sum(
        len(str(m.get("content", "")).split()) for m in messages if isinstance(m, Mapping)
    )
    completion_tokens = len(answer.split())
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(now),
        "model": model,
        **(extra or {}),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": answer},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
