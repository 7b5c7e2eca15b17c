"""Rules on each message: roles, content, weights."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    ROLES,
    Problem,
    blank,
    is_assistant,
    messages_of,
    shape_of,
)
from finetune_kit.validation.engine import RuleContext
from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    _USER,
    E,
    W,
    _rule,
    _semantic_rule,
)


@_rule(
    "missing_role",
    E,
    "A message has no `role`.",
    'add "role": one of system, developer, user, assistant, tool',
    bad='{"messages": [{"content": "What is overfitting?"}, ' + _ASSISTANT + "]}",
)
def _missing_role(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in messages_of(obj, ctx.format):
        if "role" not in msg:
            yield Problem("message has no role", f"{path}.role")


@_rule(
    "unknown_role",
    E,
    "A message's role is not one the API knows.",
    "use system, developer, user, assistant or tool (e.g. 'bot' -> 'assistant', 'human' -> 'user')",
    bad='{"messages": [' + _USER + ', {"role": "bot", "content": "Verily."}]}',
)
def _unknown_role(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in messages_of(obj, ctx.format):
        if "role" in msg and msg["role"] not in ROLES:
            yield Problem(f"unknown role {msg['role']!r}", f"{path}.role")


@_rule(
    "invalid_content_type",
    E,
    "`content` is neither a string, a list of content parts, nor null.",
    "make content a string (or a list of typed parts for images)",
    bad='{"messages": [{"role": "user", "content": 42}, ' + _ASSISTANT + "]}",
)
def _invalid_content_type(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not shape_of(obj, ctx.format).odd_content:
        return
    for path, msg in messages_of(obj, ctx.format):
        content = msg.get("content")
        if content is not None and not isinstance(content, str | list):
            yield Problem(
                f"content is a {type(content).__name__}; expected a string or a list of parts",
                f"{path}.content",
            )


_semantic_rule(
    "missing_content",
    E,
    "A system, user or tool message has no content.",
    'add "content" with the text of the message',
    bad='{"messages": [{"role": "user"}, ' + _ASSISTANT + "]}",
)


@_rule(
    "empty_content",
    W,
    "A message's content is an empty string.",
    "fill in the text, or drop the message",
    bad='{"messages": [{"role": "system", "content": ""}, ' + _USER + ", " + _ASSISTANT + "]}",
)
def _empty_content(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in messages_of(obj, ctx.format):
        content = msg.get("content")
        if isinstance(content, str) and blank(content) and not is_assistant(msg):
            yield Problem(f"{msg.get('role')} message has empty content", f"{path}.content")


_semantic_rule(
    "empty_assistant_message",
    E,
    "An assistant message has neither content nor tool calls.",
    "give the assistant message text, or the tool_calls it makes",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": ""}]}',
)


@_rule(
    "invalid_weight",
    E,
    "`weight` is not 0 or 1.",
    "use weight 1 to train on the message, 0 to skip it",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": "Aye.", "weight": 0.5}]}',
)
def _invalid_weight(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if "weight" not in shape_of(obj, ctx.format).keys:
        return
    for path, msg in messages_of(obj, ctx.format):
        if "weight" in msg:
            w = msg["weight"]
            if isinstance(w, bool) or w not in (0, 1):
                yield Problem(f"weight is {w!r}; it must be 0 or 1", f"{path}.weight")


_semantic_rule(
    "weight_on_non_assistant",
    E,
    "`weight` is set on a message that is not from the assistant.",
    "remove weight: only assistant messages can be weighted",
    bad='{"messages": [{"role": "user", "content": "Hi", "weight": 1}, ' + _ASSISTANT + "]}",
)
