"""Mistral fine-tuning data (``mistral``).

Mistral's instruct format is close to OpenAI's: ``messages`` with system, user, assistant and
tool roles, ``tool_calls``, ``weight`` 0/1 on assistant messages and top-level ``tools``. The
differences are rules: tool-call ids are exactly nine characters from ``a-z A-Z 0-9``, the last
message is the assistant's, at most one system message, and an assistant message has either
content or tool calls, not both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from finetune_kit.export._common import ExportFormat
from finetune_kit.export.fidelity import Notes
from finetune_kit.export.mistral_rules import NINE_CHAR_ID, RULES

MISTRAL_DOCS = "https://docs.mistral.ai/capabilities/finetuning/text_vision_finetuning"
MISTRAL_FINETUNE = "https://github.com/mistralai/mistral-finetune#prepare-dataset"
MISTRAL_COMMON = (
    "https://github.com/mistralai/mistral-common/blob/main/src/mistral_common/protocol/instruct/"
    "validator.py"
)

_MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "weight")


_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _nine_char_id(original: str, taken: set[str]) -> str:
    """A 9-character alphanumeric id derived from ``original`` (stable, unique within ``taken``).

    Mistral requires tool-call ids of exactly 9 characters from ``a-z A-Z 0-9``.
    """
    if NINE_CHAR_ID.match(original) and original not in taken:
        return original
    salt = 0
    while True:
        digest = hashlib.blake2b(f"{original}#{salt}".encode(), digest_size=16).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(9):
            number, rem = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[rem])
        candidate = "".join(chars)
        if candidate not in taken:
            return candidate
        salt += 1


def write(example: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """OpenAI chat example -> Mistral fine-tuning record."""
    new_ids: dict[str, str] = {}

    def rewrite(old: str) -> str:
        if old not in new_ids:
            new_ids[old] = _nine_char_id(old, set(new_ids.values()))
            if new_ids[old] != old:
                notes.add("tool_call_id_rewritten")
        return new_ids[old]

    messages: list[dict[str, Any]] = []
    for msg in example["messages"]:
        out = dict(msg)
        if out.get("name") is not None and out["role"] != "tool":
            del out["name"]
            notes.add("name_dropped")
        if out.get("tool_calls"):
            out["tool_calls"] = [{**call, "id": rewrite(call["id"])} for call in out["tool_calls"]]
        if out.get("tool_call_id"):
            out["tool_call_id"] = rewrite(out["tool_call_id"])
        messages.append(out)
    record: dict[str, Any] = {"messages": messages}
    if example.get("tools"):
        record["tools"] = example["tools"]
    return record


def read(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Mistral fine-tuning record -> OpenAI chat example."""
    messages: list[dict[str, Any]] = []
    for msg in record["messages"]:
        out = {k: msg[k] for k in _MESSAGE_KEYS if k in msg}
        if "content" not in out and "text" in msg:
            out["content"] = msg["text"]  # mistral-finetune accepts either key
        if any(k not in _MESSAGE_KEYS and k != "text" for k in msg):
            notes.add("unsupported_part_dropped")
        messages.append(out)
    example: dict[str, Any] = {"messages": messages}
    if record.get("tools"):
        example["tools"] = record["tools"]
    if any(k not in ("messages", "tools") for k in record):
        notes.add("unsupported_part_dropped")
    return example


FORMAT = ExportFormat(
    name="mistral",
    title="Mistral fine-tuning",
    input_kind="chat",
    summary="Mistral instruct / function-calling JSONL: `messages` (+ `tools`), `weight` kept.",
    sources=(
        ("Mistral docs: Text & Vision Fine-tuning (dataset format)", MISTRAL_DOCS),
        ("mistral-finetune: Prepare dataset", MISTRAL_FINETUNE),
        ("mistral-common: request validator (fine-tuning mode)", MISTRAL_COMMON),
    ),
    write=write,
    read=read,
    rules=RULES,
    keeps=(
        (
            "everything OpenAI has except `name` on non-tool messages; tool-call ids rewritten "
            "to 9 alphanumeric characters; `weight` kept"
        ),
    ),
)
