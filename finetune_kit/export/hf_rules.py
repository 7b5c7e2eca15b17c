"""TRL's documented rules for conversational and preference datasets (``hf-*``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit.export._common import TargetRule, dicts
from finetune_kit.validation.engine import Problem, Severity

_ROLES = ("system", "user", "assistant", "tool")
_MESSAGE_COLUMNS = ("messages", "prompt", "chosen", "rejected")


def _message_lists(record: Mapping[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    for key in _MESSAGE_COLUMNS:
        value = record.get(key)
        if isinstance(value, list):
            yield key, value


def _missing_messages(record: Mapping[str, Any]) -> Iterator[Problem]:
    value = record.get("messages")
    if not isinstance(value, list) or not value:
        yield Problem("`messages` is missing, empty or not a list", "messages")


def _invalid_message(record: Mapping[str, Any]) -> Iterator[Problem]:
    for key, msgs in _message_lists(record):
        for i, msg in enumerate(msgs):
            path = f"{key}[{i}]"
            if not isinstance(msg, dict):
                yield Problem("a message is not an object", path)
            elif not isinstance(msg.get("role"), str):
                yield Problem("the message has no role", f"{path}.role")
            elif "content" not in msg and not msg.get("tool_calls"):
                yield Problem("the message has no content", f"{path}.content")


def _unknown_role(record: Mapping[str, Any]) -> Iterator[Problem]:
    for key, msgs in _message_lists(record):
        for i, msg in dicts(msgs):
            role = msg.get("role")
            if isinstance(role, str) and role not in _ROLES:
                yield Problem(
                    f"role {role!r} is not system/user/assistant/tool", f"{key}[{i}].role"
                )


def _placeholders(record: Mapping[str, Any]) -> int:
    return sum(
        1
        for _, msgs in _message_lists(record)
        for _, msg in dicts(msgs)
        for _, part in dicts(msg.get("content"))
        if part.get("type") == "image" and not any(part.get(k) for k in ("url", "image", "path"))
    )


def _image_count(record: Mapping[str, Any]) -> Iterator[Problem]:
    images = record.get("images")
    n_images = len(images) if isinstance(images, list) else int(record.get("image") is not None)
    n_placeholders = _placeholders(record)
    if n_images != n_placeholders:
        yield Problem(
            f"{n_placeholders} image placeholder(s) but {n_images} image(s) in `images`", "images"
        )


def _tools_missing(record: Mapping[str, Any]) -> Iterator[Problem]:
    if record.get("tools"):
        return
    for key, msgs in _message_lists(record):
        for i, msg in dicts(msgs):
            if msg.get("tool_calls"):
                yield Problem("tool calls but no `tools` column", f"{key}[{i}].tool_calls")
                return


def _arguments_not_object(record: Mapping[str, Any]) -> Iterator[Problem]:
    for key, msgs in _message_lists(record):
        for i, msg in dicts(msgs):
            for j, call in dicts(msg.get("tool_calls")):
                fn = call.get("function")
                if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), dict):
                    path = f"{key}[{i}].tool_calls[{j}].function.arguments"
                    yield Problem("arguments must be a JSON object", path)


def _preference_columns(record: Mapping[str, Any]) -> Iterator[Problem]:
    for key in ("prompt", "chosen", "rejected"):
        if key not in record:
            yield Problem(f"no `{key}` column", key)


def _preference_mixed(record: Mapping[str, Any]) -> Iterator[Problem]:
    kinds = {
        key: "conversational" if isinstance(record[key], list) else "standard"
        for key in ("prompt", "chosen", "rejected")
        if key in record
    }
    if len(set(kinds.values())) > 1:
        listing = ", ".join(f"{k}: {v}" for k, v in kinds.items())
        yield Problem(f"columns mix standard and conversational forms ({listing})")


def _completion_not_assistant(record: Mapping[str, Any]) -> Iterator[Problem]:
    for key in ("chosen", "rejected"):
        value = record.get(key)
        if isinstance(value, list):
            if not value:
                yield Problem(f"`{key}` is empty", key)
            for i, msg in dicts(value):
                if msg.get("role") != "assistant":
                    yield Problem(
                        f"`{key}` holds a {msg.get('role')!r} message", f"{key}[{i}].role"
                    )


_U = {"role": "user", "content": "What is a tensor?"}
_A = {"role": "assistant", "content": "A matrix grown ambitious, good sir."}
_GOOD: dict[str, Any] = {"messages": [_U, _A]}
_CALL = {
    "role": "assistant",
    "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": {"q": "x"}}}
    ],
}
_TOOL = {"role": "tool", "tool_call_id": "c1", "name": "lookup", "content": "found"}
_TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
_IMAGE_MSG = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What?"}]}
_PREF_GOOD: dict[str, Any] = {
    "prompt": [_U],
    "chosen": [_A],
    "rejected": [{**_A, "content": "No."}],
}

E, W = Severity.ERROR, Severity.WARNING

_MESSAGE_RULES = (
    TargetRule(
        "hf_invalid_message",
        E,
        "Every message is an object with a `role` and a `content` (an assistant message that "
        "only calls tools may omit `content`).",
        'write messages as {"role": ..., "content": ...}',
        _invalid_message,
        bad={"messages": [{"content": "Hi"}, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "hf_unknown_role",
        W,
        "Roles are system, user, assistant or tool; most chat templates reject other roles.",
        "map the role to one of system/user/assistant/tool",
        _unknown_role,
        bad={"messages": [{"role": "developer", "content": "Be brief."}, _U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "hf_image_count_mismatch",
        E,
        'Each `{"type": "image"}` placeholder has one entry in the `images` column, in order.',
        "give `images` one entry per image placeholder",
        _image_count,
        bad={"messages": [_IMAGE_MSG, _A], "images": []},
        good={"messages": [_IMAGE_MSG, _A], "images": ["https://example.com/a.png"]},
    ),
    TargetRule(
        "hf_tools_missing",
        W,
        "Tool-calling data carries the available tools in a `tools` column (the chat template "
        "renders them).",
        "add a `tools` column with the JSON schema of each function",
        _tools_missing,
        bad={"messages": [_U, _CALL, _TOOL, _A]},
        good={"messages": [_U, _CALL, _TOOL, _A], "tools": _TOOLS},
    ),
    TargetRule(
        "hf_tool_arguments_not_object",
        E,
        "A tool call's `arguments` is a JSON object, as chat templates expect.",
        "decode the arguments string into an object",
        _arguments_not_object,
        bad={
            "messages": [
                _U,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"type": "function", "function": {"name": "lookup", "arguments": "{}"}}
                    ],
                },
                _TOOL,
                _A,
            ],
            "tools": _TOOLS,
        },
        good={"messages": [_U, _CALL, _TOOL, _A], "tools": _TOOLS},
    ),
)

HF_MESSAGES_RULES: tuple[TargetRule, ...] = (
    TargetRule(
        "hf_missing_messages",
        E,
        "A conversational record has a non-empty `messages` list.",
        'put the conversation in "messages": [{"role": ..., "content": ...}, ...]',
        _missing_messages,
        bad={"conversation": [_U, _A]},
        good=_GOOD,
    ),
    *_MESSAGE_RULES,
)

HF_PREFERENCE_RULES: tuple[TargetRule, ...] = (
    TargetRule(
        "hf_preference_missing_column",
        E,
        "A preference record (explicit prompt) has `prompt`, `chosen` and `rejected`.",
        "add the missing column",
        _preference_columns,
        bad={"prompt": [_U], "chosen": [_A]},
        good=_PREF_GOOD,
    ),
    TargetRule(
        "hf_preference_mixed_formats",
        E,
        "`prompt`, `chosen` and `rejected` are all conversational (lists of messages) or all "
        "standard (strings).",
        "use lists of messages in every column",
        _preference_mixed,
        bad={"prompt": "What is a tensor?", "chosen": [_A], "rejected": [_A]},
        good=_PREF_GOOD,
    ),
    TargetRule(
        "hf_preference_completion_not_assistant",
        E,
        "`chosen` and `rejected` hold the assistant's answers.",
        "put only assistant messages in chosen and rejected",
        _completion_not_assistant,
        bad={"prompt": [_U], "chosen": [_U], "rejected": [_A]},
        good=_PREF_GOOD,
    ),
    *(
        TargetRule(r.code, r.severity, r.description, r.hint, r.check, bad=bad, good=_PREF_GOOD)
        for r, bad in zip(
            _MESSAGE_RULES,
            (
                {**_PREF_GOOD, "prompt": [{"content": "Hi"}]},
                {**_PREF_GOOD, "prompt": [{"role": "developer", "content": "Be brief."}, _U]},
                {**_PREF_GOOD, "prompt": [_IMAGE_MSG]},
                {**_PREF_GOOD, "prompt": [_U, _CALL, _TOOL, {"role": "user", "content": "So?"}]},
                {
                    **_PREF_GOOD,
                    "prompt": [
                        _U,
                        {
                            "role": "assistant",
                            "tool_calls": [{"function": {"name": "lookup", "arguments": "{}"}}],
                        },
                    ],
                    "tools": _TOOLS,
                },
            ),
            strict=True,
        )
    ),
)
