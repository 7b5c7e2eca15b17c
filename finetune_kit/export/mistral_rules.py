"""Mistral's documented rules for fine-tuning data (``mistral``)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit.export._common import TargetRule, dicts
from finetune_kit.validation.engine import Problem, Severity

NINE_CHAR_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
"""Mistral's tool-call ids: exactly 9 characters from a-z, A-Z, 0-9."""

_ROLES = ("system", "user", "assistant", "tool")
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_NEXT_ROLES = {
    "system": {"user", "assistant", "system"},
    "user": {"assistant", "system", "user"},
    "assistant": {"assistant", "user", "tool"},
    "tool": {"assistant", "tool", "user"},
}


def _is_nine_char_id(value: Any) -> bool:
    return isinstance(value, str) and bool(NINE_CHAR_ID.match(value))


def _messages(record: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return dicts(record.get("messages"))


def _missing_messages(record: Mapping[str, Any]) -> Iterator[Problem]:
    value = record.get("messages")
    if not isinstance(value, list) or not value:
        yield Problem("`messages` is missing, empty or not a list", "messages")


def _invalid_role(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, msg in _messages(record):
        if msg.get("role") not in _ROLES:
            yield Problem(f"role {msg.get('role')!r} is not one of {_ROLES}", f"messages[{i}].role")


def _last_assistant(record: Mapping[str, Any]) -> Iterator[Problem]:
    msgs = _messages(record)
    if msgs and msgs[-1][1].get("role") != "assistant":
        i, last = msgs[-1]
        yield Problem(f"the last message is {last.get('role')!r}", f"messages[{i}].role")


def _one_system(record: Mapping[str, Any]) -> Iterator[Problem]:
    systems = [i for i, m in _messages(record) if m.get("role") == "system"]
    for i in systems[1:]:
        yield Problem("a second system message", f"messages[{i}]")


def _role_order(record: Mapping[str, Any]) -> Iterator[Problem]:
    msgs = _messages(record)
    for (_, prev), (i, msg) in itertools.pairwise(msgs):
        allowed = _NEXT_ROLES.get(str(prev.get("role")))
        if allowed is not None and msg.get("role") in _ROLES and msg.get("role") not in allowed:
            yield Problem(
                f"a {msg.get('role')!r} message after a {prev.get('role')!r} message",
                f"messages[{i}].role",
            )


def _content_or_calls(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, msg in _messages(record):
        if msg.get("role") == "assistant" and bool(msg.get("content")) == bool(
            msg.get("tool_calls")
        ):
            both = "both content and tool_calls" if msg.get("content") else "neither"
            yield Problem(f"the assistant message has {both}", f"messages[{i}]")


def _call_ids(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, msg in _messages(record):
        for j, call in dicts(msg.get("tool_calls")):
            if not _is_nine_char_id(call.get("id")):
                yield Problem(
                    f"tool call id {call.get('id')!r}", f"messages[{i}].tool_calls[{j}].id"
                )
        if msg.get("role") == "tool" and not _is_nine_char_id(msg.get("tool_call_id")):
            yield Problem(
                f"tool_call_id {msg.get('tool_call_id')!r}", f"messages[{i}].tool_call_id"
            )


def _responses(record: Mapping[str, Any]) -> Iterator[Problem]:
    expected = 0
    for i, msg in _messages(record):
        if msg.get("role") == "tool":
            expected -= 1
        elif msg.get("role") == "assistant":
            if expected != 0:
                yield Problem(
                    "the earlier tool calls and tool results differ in number", f"messages[{i}]"
                )
            calls = msg.get("tool_calls")
            expected = len(calls) if isinstance(calls, list) else 0
    if expected < 0:
        yield Problem("more tool results than tool calls", "messages")


def _names(record: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for i, tool in dicts(record.get("tools")):
        fn = tool.get("function")
        if isinstance(fn, dict) and "name" in fn:
            yield f"tools[{i}].function.name", fn["name"]
    for i, msg in _messages(record):
        for j, call in dicts(msg.get("tool_calls")):
            fn = call.get("function")
            if isinstance(fn, dict):
                yield f"messages[{i}].tool_calls[{j}].function.name", fn.get("name")
        if msg.get("role") == "tool" and msg.get("name") is not None:
            yield f"messages[{i}].name", msg["name"]


def _function_names(record: Mapping[str, Any]) -> Iterator[Problem]:
    for path, name in _names(record):
        if not isinstance(name, str) or not _NAME.match(name):
            yield Problem(f"function name {name!r}", path)


def _tool_definitions(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, tool in enumerate(record.get("tools") or []):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict):
            yield Problem("the tool has no `function`", f"tools[{i}]")
            continue
        missing = [k for k in ("name", "description", "parameters") if k not in fn]
        if missing:
            yield Problem(f"the function has no {', '.join(missing)}", f"tools[{i}].function")
        elif not isinstance(fn["parameters"], dict):
            yield Problem("parameters must be an object", f"tools[{i}].function.parameters")


def _weights(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, msg in _messages(record):
        if "weight" not in msg:
            continue
        if msg.get("role") != "assistant":
            yield Problem(f"weight on a {msg.get('role')!r} message", f"messages[{i}].weight")
        elif isinstance(msg["weight"], bool) or msg["weight"] not in (0, 1):
            yield Problem(f"weight is {msg['weight']!r}", f"messages[{i}].weight")


def _missing_content(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, msg in _messages(record):
        if msg.get("content") is None and msg.get("text") is None and not msg.get("tool_calls"):
            yield Problem(f"the {msg.get('role')} message has no content", f"messages[{i}].content")


_U = {"role": "user", "content": "What is a tensor?"}
_A = {"role": "assistant", "content": "A matrix grown ambitious, good sir."}
_S = {"role": "system", "content": "Answer as Shakespeare would."}
_GOOD: dict[str, Any] = {"messages": [_S, _U, _A]}
_FN = {"name": "lookup", "arguments": '{"q": "x"}'}
_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look it up.",
            "parameters": {"type": "object"},
        },
    }
]
_TOOL_GOOD: dict[str, Any] = {
    "messages": [
        _U,
        {
            "role": "assistant",
            "tool_calls": [{"id": "TX92Jm8Zi", "type": "function", "function": _FN}],
        },
        {"role": "tool", "tool_call_id": "TX92Jm8Zi", "content": "found"},
        _A,
    ],
    "tools": _TOOLS,
}

E, W = Severity.ERROR, Severity.WARNING

RULES: tuple[TargetRule, ...] = (
    TargetRule(
        "mistral_missing_messages",
        E,
        "A record has a non-empty `messages` list.",
        'put the conversation in "messages": [...]',
        _missing_messages,
        bad={"interactions": []},
        good=_GOOD,
    ),
    TargetRule(
        "mistral_invalid_role",
        E,
        "Roles are system, user, assistant or tool.",
        "use one of system/user/assistant/tool",
        _invalid_role,
        bad={"messages": [{"role": "developer", "content": "Be brief."}, _U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "mistral_last_message_not_assistant",
        E,
        "In fine-tuning data the last message is the assistant's.",
        "end the example with the assistant's answer",
        _last_assistant,
        bad={"messages": [_U, _A, _U]},
        good=_GOOD,
    ),
    TargetRule(
        "mistral_multiple_system_messages",
        E,
        "At most one system message per example.",
        "merge the system messages into one",
        _one_system,
        bad={"messages": [_S, _U, _A, _S, _U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "mistral_unexpected_role_order",
        E,
        "Messages follow Mistral's order: a tool result comes only after an assistant message "
        "or another tool result, and a system message never right after either.",
        "put tool results right after the assistant message that calls the tools",
        _role_order,
        bad={"messages": [_U, {"role": "tool", "tool_call_id": "TX92Jm8Zi", "content": "x"}, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "mistral_content_and_tool_calls",
        E,
        "An assistant message has either content or tool calls, not both and not neither.",
        "split text and tool calls into two assistant messages",
        _content_or_calls,
        bad={
            **_TOOL_GOOD,
            "messages": [
                _U,
                {
                    "role": "assistant",
                    "content": "Let me look.",
                    "tool_calls": [{"id": "TX92Jm8Zi", "type": "function", "function": _FN}],
                },
                {"role": "tool", "tool_call_id": "TX92Jm8Zi", "content": "found"},
                _A,
            ],
        },
        good=_TOOL_GOOD,
    ),
    TargetRule(
        "mistral_invalid_tool_call_id",
        E,
        "Tool-call ids (and `tool_call_id`) are exactly 9 characters from a-z, A-Z, 0-9.",
        "use 9-character alphanumeric ids (finetune-kit's export rewrites them)",
        _call_ids,
        bad={
            **_TOOL_GOOD,
            "messages": [
                _U,
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "call_1", "type": "function", "function": _FN}],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "found"},
                _A,
            ],
        },
        good=_TOOL_GOOD,
    ),
    TargetRule(
        "mistral_tool_responses_mismatch",
        E,
        "Each assistant message's tool calls are answered by as many tool messages before the "
        "next assistant message.",
        "add the missing tool results (or remove the extra ones)",
        _responses,
        bad={
            **_TOOL_GOOD,
            "messages": [
                _U,
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "TX92Jm8Zi", "type": "function", "function": _FN}],
                },
                _A,
            ],
        },
        good=_TOOL_GOOD,
    ),
    TargetRule(
        "mistral_invalid_function_name",
        E,
        "Function names use a-z, A-Z, 0-9, underscores and dashes, at most 64 characters.",
        "rename the function (e.g. spaces and dots to underscores)",
        _function_names,
        bad={
            **_TOOL_GOOD,
            "tools": [{**_TOOLS[0], "function": {**_TOOLS[0]["function"], "name": "look up"}}],
        },
        good=_TOOL_GOOD,
    ),
    TargetRule(
        "mistral_incomplete_tool_definition",
        E,
        "Every tool's function has a name, a description and parameters (an object; `{}` when "
        "there are none).",
        "add the missing description or parameters",
        _tool_definitions,
        bad={**_TOOL_GOOD, "tools": [{"type": "function", "function": {"name": "lookup"}}]},
        good=_TOOL_GOOD,
    ),
    TargetRule(
        "mistral_invalid_weight",
        E,
        "`weight` is 0 or 1 and only on assistant messages.",
        "use weight 0 (do not train) or 1 on assistant messages only",
        _weights,
        bad={"messages": [_S, {**_U, "weight": 0}, _A]},
        good={"messages": [_S, _U, {**_A, "weight": 1}]},
    ),
    TargetRule(
        "mistral_missing_content",
        E,
        "Every message has content, except an assistant message that only calls tools.",
        'add "content" with the text of the message',
        _missing_content,
        bad={"messages": [_S, {"role": "user"}, _A]},
        good=_GOOD,
    ),
)
