"""Rules on an example's top level: messages present, a list, objects, known keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    EXAMPLE_KEYS,
    MESSAGE_KEYS,
    PART_KEYS,
    PREFERENCE_KEYS,
    TOOL_CALL_KEYS,
    Problem,
    conversation_of,
    parts_of,
    shape_of,
)
from finetune_kit.validation.engine import RuleContext
from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    _USER,
    E,
    _rule,
)


@_rule(
    "missing_messages",
    E,
    "A chat example has no `messages` key.",
    'add "messages": a list of {"role", "content"} objects',
    bad='{"conversation": [' + _USER + "]}",
    formats=("chat",),
)
def _missing_messages(obj: Mapping[str, Any], _ctx: RuleContext) -> Iterator[Problem]:
    if "messages" not in obj:
        yield Problem("no `messages` list", "messages")


@_rule(
    "messages_not_list",
    E,
    "`messages` (or `input.messages`) is not a list.",
    "make it a JSON list of message objects",
    bad='{"messages": ' + _USER + "}",
)
def _messages_not_list(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    path, msgs = conversation_of(obj, ctx.format)
    present = "messages" in obj if ctx.format == "chat" else msgs is not None
    if present and not isinstance(msgs, list):
        yield Problem(f"`{path}` is a {type(msgs).__name__}, not a list", path)


@_rule(
    "empty_messages",
    E,
    "The conversation is an empty list.",
    "add at least one user message and the assistant's answer",
    bad='{"messages": []}',
)
def _empty_messages(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    path, msgs = conversation_of(obj, ctx.format)
    if isinstance(msgs, list) and not msgs:
        yield Problem(f"`{path}` is empty", path)


@_rule(
    "message_not_object",
    E,
    "A message is not a JSON object.",
    'write each message as {"role": ..., "content": ...}',
    bad='{"messages": ["What is overfitting?", ' + _ASSISTANT + "]}",
)
def _message_not_object(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    path, msgs = conversation_of(obj, ctx.format)
    lists = [(path, msgs)]
    if ctx.format == "preference":
        lists += [(k, obj.get(k)) for k in ("preferred_output", "non_preferred_output")]
    for p, items in lists:
        if isinstance(items, list):
            for i, m in enumerate(items):
                if not isinstance(m, dict):
                    yield Problem(f"message is a {type(m).__name__}, not an object", f"{p}[{i}]")


@_rule(
    "unknown_key",
    E,
    "A key the fine-tuning API does not accept (typos such as `contents`, or extra columns).",
    "remove the key or fix its spelling",
    bad='{"messages": [{"role": "user", "contents": "What is overfitting?"}, ' + _ASSISTANT + "]}",
)
def _unknown_key(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    allowed = EXAMPLE_KEYS if ctx.format == "chat" else PREFERENCE_KEYS
    for key in obj:
        if key not in allowed:
            yield Problem(f"unknown key {key!r} in the example", str(key))
    inp = obj.get("input")
    if ctx.format == "preference" and isinstance(inp, dict):
        for key in inp:
            if key not in EXAMPLE_KEYS:
                yield Problem(f"unknown key {key!r} in `input`", f"input.{key}")
    shape = shape_of(obj, ctx.format)
    if shape.keys <= MESSAGE_KEYS and "tool_calls" not in shape.keys and not shape.parts:
        return  # every message key is known, and nothing nested to check
    for path, msg in shape.messages:
        for key in msg:
            if key not in MESSAGE_KEYS:
                yield Problem(f"unknown key {key!r} in a message", f"{path}.{key}")
        calls = msg.get("tool_calls")
        if isinstance(calls, list):
            for i, call in enumerate(calls):
                if isinstance(call, dict):
                    for key in call:
                        if key not in TOOL_CALL_KEYS:
                            yield Problem(
                                f"unknown key {key!r} in a tool call",
                                f"{path}.tool_calls[{i}].{key}",
                            )
        for i, part in parts_of(msg):
            if isinstance(part, dict) and part.get("type") in PART_KEYS:
                for key in part:
                    if key not in PART_KEYS[part["type"]]:
                        yield Problem(
                            f"unknown key {key!r} in a {part['type']} part",
                            f"{path}.content[{i}].{key}",
                        )
