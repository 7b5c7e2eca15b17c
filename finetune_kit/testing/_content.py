"""The emulator's own, self-contained check of fine-tuning files, and its token counts.

The check is deliberately small: it finds what OpenAI's file processing rejects first (lines
that are not JSON objects in the chat or preference format, fewer than 10 examples) and reports
the first bad line. The project's real validator lives elsewhere and is far stricter.

Jobs are billed in the model's own tokens (`model_tokens`: the product's tokenizer, each
example capped at the model's training length), as the providers bill them, so an estimate and
a finished emulated job agree. The rough word count (`count_tokens`) serves chat usage and
models no tokenizer is known for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from finetune_kit.errors import FinetuneKitError
from finetune_kit.tokens.registry import billed_tokens

__all__ = [
    "MIN_EXAMPLES",
    "FileAnalysis",
    "analyse",
    "count_tokens",
    "messages_tokens",
    "model_tokens",
]

MIN_EXAMPLES = 10
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_IMAGE_TOKENS = 85

Kind = Literal["chat", "preference"]


@dataclass(frozen=True)
class FileAnalysis:
    """What the emulator learnt from a fine-tuning file.

    Attributes:
        kind: ``chat`` or ``preference`` (DPO); ``None`` when no example could be read.
        examples: Number of examples (non-blank lines) read before any error.
        tokens: Approximate token count of those examples.
        error: The first problem, worded like OpenAI's ``status_details``; ``None`` if fine.
        format_ok: Whether every line was in a known format (only the count may be short).
        answers: Last user message -> assistant reply, for deterministic chat completions.
    """

    kind: Kind | None
    examples: int
    tokens: int
    error: str | None
    format_ok: bool
    answers: Mapping[str, str] = field(default_factory=dict)


def count_tokens(text: str) -> int:
    """A rough token count: words and punctuation marks (no tokenizer involved)."""
    return len(_WORD.findall(text))


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(item) for item in value)
    if isinstance(value, dict):
        if value.get("type") == "text":
            return _text_of(value.get("text"))
        if value.get("type") == "image_url":
            return ""
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def messages_tokens(messages: Iterable[Any]) -> int:
    """Approximate prompt tokens of a chat: 3 per message + its values + 3 to prime the reply."""
    total = 3
    for message in messages:
        total += 3
        if not isinstance(message, dict):
            continue
        for key, value in message.items():
            if key == "weight":
                continue
            if isinstance(value, list):
                images = [p for p in value if isinstance(p, dict) and p.get("type") == "image_url"]
                total += _IMAGE_TOKENS * len(images)
            total += count_tokens(_text_of(value))
            if key == "name":
                total += 1
    return total


def _check_messages(messages: Any, where: str) -> str | None:
    if not isinstance(messages, list) or not messages:
        return f"{where}: 'messages' must be a non-empty list."
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            return f"{where}, message {number}: expected a JSON object."
        role = message.get("role")
        if role not in _ROLES:
            return f"{where}, message {number}: unrecognized role {role!r}."
    return None


def _check_line(obj: Any, line: int) -> tuple[Kind | None, str | None]:
    where = f"Invalid file format. Line {line}"
    if not isinstance(obj, dict):
        return None, f"{where}: expected a JSON object."
    if "messages" in obj:
        problem = _check_messages(obj["messages"], where)
        if problem:
            return "chat", problem
        if not any(m.get("role") == "assistant" for m in obj["messages"]):
            return "chat", f"{where}: the example has no assistant message."
        return "chat", None
    if {"input", "preferred_output", "non_preferred_output"} <= obj.keys():
        source = obj["input"]
        problem = _check_messages(
            source.get("messages") if isinstance(source, dict) else None, where
        )
        if problem:
            return "preference", problem
        for key in ("preferred_output", "non_preferred_output"):
            output = obj[key]
            if not isinstance(output, list) or not output:
                return "preference", f"{where}: '{key}' must be a non-empty list of messages."
            if not all(isinstance(m, dict) and m.get("role") == "assistant" for m in output):
                return "preference", f"{where}: '{key}' must hold assistant messages only."
        return "preference", None
    return None, (
        f"{where}: expected a 'messages' list (chat) or 'input', 'preferred_output' and"
        " 'non_preferred_output' (preference)."
    )


def _answer(obj: dict[str, Any], kind: Kind) -> tuple[str, str] | None:
    if kind == "preference":
        prompt = obj["input"]["messages"]
        reply = obj["preferred_output"][-1].get("content")
    else:
        messages = obj["messages"]
        last = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
        prompt, reply = messages[:last], messages[last].get("content")
    users = [m for m in prompt if m.get("role") == "user"]
    if not users or not isinstance(reply, str):
        return None
    return _text_of(users[-1].get("content")).strip(), reply


def _example_tokens(obj: dict[str, Any], kind: Kind) -> int:
    if kind == "chat":
        return messages_tokens(obj["messages"])
    return messages_tokens(
        [*obj["input"]["messages"], *obj["preferred_output"], *obj["non_preferred_output"]]
    )


def analyse(content: bytes, *, min_examples: int = MIN_EXAMPLES) -> FileAnalysis:
    """Check a fine-tuning JSONL file the way OpenAI's file processing does (in small).

    Args:
        content: The file's bytes.
        min_examples: Fewest examples the file must hold.

    Returns:
        The analysis; ``error`` names the first bad line (1-based) when there is one.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return FileAnalysis(None, 0, 0, "Invalid file format. The file is not UTF-8 text.", False)
    kind: Kind | None = None
    examples = tokens = 0
    answers: dict[str, str] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            bad_json = f"Invalid file format. Line {line_no}: the line is not valid JSON."
            return FileAnalysis(kind, examples, tokens, bad_json, False, answers)
        line_kind, problem = _check_line(obj, line_no)
        if problem is None and kind is not None and line_kind != kind:
            problem = f"Invalid file format. Line {line_no}: mixes chat and preference examples."
        if problem is not None or line_kind is None:
            return FileAnalysis(kind, examples, tokens, problem, False, answers)
        kind = line_kind
        examples += 1
        tokens += _example_tokens(obj, line_kind)
        pair = _answer(obj, line_kind)
        if pair is not None:
            answers.setdefault(pair[0], pair[1])
    error: str | None = None
    if examples < min_examples:
        error = (
            f"Training file has {examples} example(s), but must have at least"
            f" {min_examples} examples"
        )
    return FileAnalysis(kind, examples, tokens, error, True, answers)


@lru_cache(maxsize=64)
def _model_tokens(content: bytes, model: str) -> int | None:
    try:
        rows = [json.loads(line) for line in content.splitlines() if line.strip()]
        return billed_tokens(rows, model)
    except (FinetuneKitError, ValueError, TypeError, AttributeError):
        return None


def model_tokens(content: bytes, model: str, fallback: int) -> int:
    """Billed tokens per epoch of a (checked) training file for ``model``.

    Counted as finetune-kit's ``estimate`` counts them; ``fallback`` (the rough count) when the
    model has no known tokenizer or it cannot be loaded here.
    """
    found = _model_tokens(content, model)
    return fallback if found is None else found
