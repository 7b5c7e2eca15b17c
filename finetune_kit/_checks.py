"""What every layer needs to know about one example's shape, and the checks the models share.

The typed models in [`schema`][finetune_kit.schema] and the validation rules run the same
single-example checks, so the two never disagree. The checks live here, below both: the rules
register them with their codes and hints, the models call
[`single_example_errors`][finetune_kit._checks.single_example_errors]. Pure functions over parsed
JSON; nothing here imports the rest of the package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Method = Literal["supervised", "dpo"]
"""The fine-tuning method a file is meant for."""

Format = Literal["chat", "preference"]
"""The data format of one example: supervised chat or preference (DPO)."""


def detect_format(obj: Mapping[str, Any]) -> Format | Literal["completion"]:
    """Tell which format a parsed example is in.

    Args:
        obj: One parsed JSONL object.

    Returns:
        ``"preference"`` when it has preference keys, ``"completion"`` for legacy
        ``prompt``/``completion`` data, else ``"chat"``.
    """
    if "messages" in obj:
        return "chat"
    if any(
        k in obj
        for k in (
            "input",
            "preferred_output",
            "non_preferred_output",
            "preferred_completion",
            "non_preferred_completion",
        )
    ):
        return "preference"
    if "prompt" in obj and "completion" in obj:
        return "completion"
    return "chat"


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule yields: a message, and optionally the field and a more specific hint.

    The engine turns it into a [`Finding`][finetune_kit.Finding] with the rule's code, severity
    and the line number. A rule may also simply yield a string. ``code`` lets one rule report
    several related codes (the personal-data rule yields ``pii_email``, ``pii_phone``, ...).
    """

    message: str
    field: str | None = None
    hint: str | None = None
    code: str | None = None


class HasFormat(Protocol):
    """What a single-example check needs of its context: the example's format."""

    @property
    def format(self) -> Format:
        """The example's format."""
        ...


@dataclass(frozen=True, slots=True)
class _Context:
    format: Format


CheckFunc = Callable[[Mapping[str, Any], HasFormat], Iterable[Problem]]
"""A single-example check: ``(example, context) -> problems``."""

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
EXAMPLE_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
PREFERENCE_KEYS = {"input", "preferred_output", "non_preferred_output"}
MESSAGE_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "weight"}
TOOL_CALL_KEYS = {"id", "type", "function"}
FUNCTION_CALL_KEYS = {"name", "arguments"}
PART_KEYS = {"text": {"type", "text"}, "image_url": {"type", "image_url"}}
IMAGE_URL_KEYS = {"url", "detail"}


def conversation_of(obj: Mapping[str, Any], fmt: Format) -> tuple[str, Any]:
    """The conversation list and its path: ``messages`` or ``input.messages``."""
    if fmt == "chat":
        return "messages", obj.get("messages")
    inp = obj.get("input")
    return "input.messages", inp.get("messages") if isinstance(inp, dict) else None


@dataclass(frozen=True, slots=True)
class Shape:
    """One walk over an example's messages, shared by the rules that need it.

    Attributes:
        messages: Every message that is an object, with its path.
        keys: Every key used in those messages.
        roles: Every role that is a string.
        parts: Some message has a list of content parts.
        odd_content: Some message has content that is neither a string, a list nor null.
    """

    messages: tuple[tuple[str, dict[str, Any]], ...]
    keys: frozenset[str]
    roles: frozenset[str]
    parts: bool
    odd_content: bool


_NO_SHAPE = Shape((), frozenset(), frozenset(), False, False)
# One-entry memo: some twenty rules walk the messages of the same example in a row. The entry
# is one tuple, replaced whole, so threads validating side by side never see a mixed entry; it
# holds the example itself, so its id cannot be reused while cached.
_LAST_SHAPE: list[tuple[Any, str, Shape]] = [(None, "", _NO_SHAPE)]


def shape_of(obj: Mapping[str, Any], fmt: Format) -> Shape:
    """The messages of ``obj`` and what they hold (memoised for the example being checked)."""
    last = _LAST_SHAPE[0]
    if last[0] is obj and last[1] == fmt:
        return last[2]
    messages = tuple(walk_messages(obj, fmt))
    keys: set[str] = set()
    roles: set[str] = set()
    parts = odd = False
    for _, msg in messages:
        keys.update(msg)
        role = msg.get("role")
        if isinstance(role, str):
            roles.add(role)
        content = msg.get("content")
        if isinstance(content, list):
            parts = True
        elif content is not None and not isinstance(content, str):
            odd = True
    shape = Shape(messages, frozenset(keys), frozenset(roles), parts, odd)
    _LAST_SHAPE[0] = (obj, fmt, shape)
    return shape


def messages_of(obj: Mapping[str, Any], fmt: Format) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Every message that is an object, with its path (preference outputs included)."""
    return shape_of(obj, fmt).messages


def forget_messages() -> None:
    """Drop the memo (the engine calls it after each example: the example may change later)."""
    _LAST_SHAPE[0] = (None, "", _NO_SHAPE)


def walk_messages(obj: Mapping[str, Any], fmt: Format) -> Iterator[tuple[str, dict[str, Any]]]:
    path, msgs = conversation_of(obj, fmt)
    if isinstance(msgs, list):
        for i, m in enumerate(msgs):
            if isinstance(m, dict):
                yield f"{path}[{i}]", m
    if fmt == "preference":
        for key in ("preferred_output", "non_preferred_output"):
            outs = obj.get(key)
            if isinstance(outs, list):
                for i, m in enumerate(outs):
                    if isinstance(m, dict):
                        yield f"{key}[{i}]", m


def parts_of(msg: Mapping[str, Any]) -> Iterable[tuple[int, Any]]:
    content = msg.get("content")
    return enumerate(content) if isinstance(content, list) else ()


def blank(text: str) -> bool:
    """True when ``text`` is empty or only whitespace (``not text.strip()``, without a copy)."""
    return not text or text.isspace()


def has_content(msg: Mapping[str, Any]) -> bool:
    content = msg.get("content")
    if isinstance(content, str):
        return not blank(content)
    return isinstance(content, list) and len(content) > 0


def is_assistant(msg: Mapping[str, Any]) -> bool:
    return msg.get("role") == "assistant"


def strings_in(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_in(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings_in(v, f"{path}[{i}]")


def has_text(value: Any, needle: str) -> bool:
    """True when some string inside a JSON value contains ``needle`` (no paths: fast)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if needle in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


# -- the checks the typed models run too --------------------------------------------------


def missing_content(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    for path, msg in messages_of(obj, ctx.format):
        role = msg.get("role")
        if role in ROLES and role not in ("assistant", "function") and msg.get("content") is None:
            yield Problem(f"{role} message has no content", f"{path}.content")


def empty_assistant(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    for path, msg in messages_of(obj, ctx.format):
        if (
            is_assistant(msg)
            and not has_content(msg)
            and not msg.get("tool_calls")
            and not msg.get("function_call")
        ):
            yield Problem("assistant message has no content and no tool calls", f"{path}.content")


def weight_on_non_assistant(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    if "weight" not in shape_of(obj, ctx.format).keys:
        return
    for path, msg in messages_of(obj, ctx.format):
        if "weight" in msg and msg.get("role") in ROLES and not is_assistant(msg):
            yield Problem(f"weight on a {msg.get('role')} message", f"{path}.weight")


def invalid_tool_call(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    if "tool_calls" not in shape_of(obj, ctx.format).keys:
        return
    for path, msg in messages_of(obj, ctx.format):
        if "tool_calls" not in msg or msg["tool_calls"] is None:
            continue
        calls = msg["tool_calls"]
        if msg.get("role") in ROLES and not is_assistant(msg):
            yield Problem(f"tool_calls on a {msg.get('role')} message", f"{path}.tool_calls")
            continue
        if not isinstance(calls, list):
            yield Problem("tool_calls is not a list", f"{path}.tool_calls")
            continue
        for i, call in enumerate(calls):
            cpath = f"{path}.tool_calls[{i}]"
            if not isinstance(call, dict):
                yield Problem("tool call is not an object", cpath)
                continue
            if not isinstance(call.get("id"), str) or not call.get("id"):
                yield Problem("tool call has no id", f"{cpath}.id")
            if call.get("type", "function") != "function":
                yield Problem(f"tool call type is {call.get('type')!r}", f"{cpath}.type")
            fn = call.get("function")
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
                yield Problem("tool call has no function name", f"{cpath}.function.name")
            elif any(k not in FUNCTION_CALL_KEYS for k in fn):
                extra = next(k for k in fn if k not in FUNCTION_CALL_KEYS)
                yield Problem(f"unknown key {extra!r} in function", f"{cpath}.function.{extra}")


def invalid_tool_arguments(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    if not {"tool_calls", "function_call"} & shape_of(obj, ctx.format).keys:
        return
    for path, msg in messages_of(obj, ctx.format):
        calls = msg.get("tool_calls")
        fcall = msg.get("function_call")
        fns: list[tuple[str, dict[str, Any]]] = []
        if isinstance(fcall, dict):
            fns.append((f"{path}.function_call", fcall))
        if isinstance(calls, list):
            fns += [
                (f"{path}.tool_calls[{i}].function", c["function"])
                for i, c in enumerate(calls)
                if isinstance(c, dict) and isinstance(c.get("function"), dict)
            ]
        for fpath, fn in fns:
            if "arguments" not in fn:
                yield Problem("function has no arguments", f"{fpath}.arguments")
                continue
            args = fn["arguments"]
            if not isinstance(args, str):
                yield Problem(
                    f"arguments is a {type(args).__name__}, not a JSON string",
                    f"{fpath}.arguments",
                )
                continue
            try:
                decoded = json.loads(args)
            except json.JSONDecodeError as exc:
                yield Problem(f"arguments are not valid JSON: {exc.msg}", f"{fpath}.arguments")
                continue
            if not isinstance(decoded, dict):
                yield Problem("arguments must encode a JSON object", f"{fpath}.arguments")


def missing_tool_call_id(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    if "tool" not in shape_of(obj, ctx.format).roles:
        return
    for path, msg in messages_of(obj, ctx.format):
        if msg.get("role") == "tool" and not msg.get("tool_call_id"):
            yield Problem("tool message has no tool_call_id", f"{path}.tool_call_id")


def unknown_tool_call_id(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    if "tool" not in shape_of(obj, ctx.format).roles:
        return
    seen: set[str] = set()
    for path, msg in messages_of(obj, ctx.format):
        calls = msg.get("tool_calls")
        if is_assistant(msg) and isinstance(calls, list):
            seen.update(
                c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)
            )
        call_id = msg.get("tool_call_id")
        if msg.get("role") == "tool" and call_id and call_id not in seen:
            yield Problem(
                f"tool_call_id {call_id!r} answers no earlier call", f"{path}.tool_call_id"
            )


def image_in_assistant(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    if not shape_of(obj, ctx.format).parts:
        return
    for path, msg in messages_of(obj, ctx.format):
        if msg.get("role") == "user":
            continue
        for i, part in parts_of(msg):
            if isinstance(part, dict) and part.get("type") == "image_url":
                role = msg.get("role")
                article = "an" if str(role)[:1] in "aeiou" else "a"
                yield Problem(f"image in {article} {role} message", f"{path}.content[{i}]")


def missing_assistant(obj: Mapping[str, Any], ctx: HasFormat) -> Iterator[Problem]:
    msgs = obj.get("messages")
    if (
        isinstance(msgs, list)
        and msgs
        and not any(isinstance(m, dict) and is_assistant(m) for m in msgs)
    ):
        yield Problem("no assistant message", "messages")


def invalid_preference_output(obj: Mapping[str, Any], _ctx: HasFormat) -> Iterator[Problem]:
    for key in ("preferred_output", "non_preferred_output"):
        if key not in obj:
            continue
        outs = obj[key]
        if not isinstance(outs, list) or len(outs) != 1:
            n = len(outs) if isinstance(outs, list) else type(outs).__name__
            yield Problem(f"`{key}` must be a list of one message (got {n})", key)
        elif isinstance(outs[0], dict) and outs[0].get("role") != "assistant":
            yield Problem(f"`{key}` must be an assistant message", f"{key}[0].role")


SEMANTIC: dict[str, tuple[CheckFunc, tuple[Format, ...]]] = {
    "missing_content": (missing_content, ("chat", "preference")),
    "empty_assistant_message": (empty_assistant, ("chat", "preference")),
    "weight_on_non_assistant": (weight_on_non_assistant, ("chat", "preference")),
    "invalid_tool_call": (invalid_tool_call, ("chat", "preference")),
    "invalid_tool_arguments": (invalid_tool_arguments, ("chat", "preference")),
    "missing_tool_call_id": (missing_tool_call_id, ("chat", "preference")),
    "unknown_tool_call_id": (unknown_tool_call_id, ("chat", "preference")),
    "image_in_assistant_message": (image_in_assistant, ("chat", "preference")),
    "missing_assistant_message": (missing_assistant, ("chat",)),
    "invalid_preference_output": (invalid_preference_output, ("preference",)),
}
"""The error checks the typed models run, by code, with the formats each applies to (in the
order the rules run)."""


def single_example_errors(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Run the semantic checks over one example (the schema's model validators).

    Args:
        kind: ``chat``, ``preference`` or ``message`` (one message on its own).
        data: The example (or message) as a JSON-ready dict.

    Yields:
        ``(code, field, message)`` for each error.
    """
    if kind == "message":
        data = {"messages": [data]}
        fmt: Format = "chat"
        skip = {"missing_assistant_message", "unknown_tool_call_id"}
    else:
        fmt = "chat" if kind == "chat" else "preference"
        skip = set()
    ctx = _Context(fmt)
    for code, (func, formats) in SEMANTIC.items():
        if code in skip or fmt not in formats:
            continue
        for problem in func(data, ctx):
            field = problem.field or ""
            if kind == "message":
                field = field.removeprefix("messages[0]").lstrip(".")
            yield code, field, problem.message
    forget_messages()
