"""The built-in validation rules, each small, each with a stable code and a fix hint.

Rules here work on the raw parsed JSON of one line, so that every structural problem gets its
own precise code and field path (a typed model could only say "does not validate"). The same
functions back the schema's model validators, so the two never disagree.

[`CATALOG`][finetune_kit.rules.CATALOG] documents every code the engine can emit — the rules'
and the engine's own (``invalid_json``, ``too_few_examples``, ...) — with a bad and a fixed
example line that the test suite checks and the docs show.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from finetune_kit.validation import Format, Problem, Rule, RuleContext, Severity

__all__ = ["BUILTIN_RULES", "CATALOG", "SPECIAL_TOKENS", "CodeInfo", "single_example_errors"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|endofprompt|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
)
"""Special tokens that make a fine-tuning job fail when they appear inside text."""

_EXAMPLE_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
_PREFERENCE_KEYS = {"input", "preferred_output", "non_preferred_output"}
_MESSAGE_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "weight"}
_TOOL_CALL_KEYS = {"id", "type", "function"}
_FUNCTION_CALL_KEYS = {"name", "arguments"}
_PART_KEYS = {"text": {"type", "text"}, "image_url": {"type", "image_url"}}
_IMAGE_URL_KEYS = {"url", "detail"}


@dataclass(frozen=True)
class CodeInfo:
    """Documentation of one finding code.

    Attributes:
        code: The code.
        severity: Its severity.
        description: What it means.
        hint: The default fix hint.
        bad: A line (JSON text, or bytes for encoding problems) that triggers it.
        good: The same line fixed.
        file_level: True for codes about the whole file (no line number).
    """

    code: str
    severity: Severity
    description: str
    hint: str
    bad: str | bytes | None = None
    good: str | None = None
    file_level: bool = False


CATALOG: dict[str, CodeInfo] = {}
"""Every finding code the engine and the built-in rules emit, by code."""

_BUILTIN: list[Rule] = []
_SEMANTIC: dict[str, Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]]] = {}

_USER = '{"role": "user", "content": "What is overfitting?"}'
_ASSISTANT = '{"role": "assistant", "content": "A model that learns its lessons too well, sirrah."}'
_GOOD = f'{{"messages": [{_USER}, {_ASSISTANT}]}}'


def _code(
    code: str,
    severity: Severity,
    description: str,
    hint: str,
    *,
    bad: str | bytes | None = None,
    good: str | None = _GOOD,
    file_level: bool = False,
) -> None:
    CATALOG[code] = CodeInfo(code, severity, description, hint, bad, good, file_level)


def _rule(
    code: str,
    severity: Severity,
    description: str,
    hint: str,
    *,
    bad: str,
    good: str = _GOOD,
    formats: tuple[Format, ...] = ("chat", "preference"),
    semantic: bool = False,
) -> Callable[
    [Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]]],
    Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]],
]:
    """Register a built-in raw rule; ``semantic`` rules also run inside the schema models."""

    def decorator(
        func: Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]],
    ) -> Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]]:
        _code(code, severity, description, hint, bad=bad, good=good)
        _BUILTIN.append(
            Rule(code, func, severity, hint, description, frozenset(formats), typed=False)
        )
        if semantic:
            _SEMANTIC[code] = func
        return func

    return decorator


# -- engine codes (emitted by reading.py and validation.py) ---------------------------------

E, W = Severity.ERROR, Severity.WARNING

_code(
    "invalid_utf8",
    E,
    "The line is not valid UTF-8.",
    "re-encode the file as UTF-8 (`finetune-kit fix` converts cp1252 lines)",
    bad='{"messages": [{"role": "user", "content": "caf\xe9"}]}'.encode("cp1252"),
)
_code(
    "bom",
    W,
    "The line starts with a UTF-8 byte-order mark (Excel and Notepad add one).",
    "save the file as UTF-8 without BOM, or run `finetune-kit fix`",
    bad=b"\xef\xbb\xbf" + _GOOD.encode(),
)
_code(
    "blank_line",
    E,
    "The line is empty or only whitespace.",
    "remove blank lines: every line must hold one JSON object",
    bad="   ",
)
_code(
    "invalid_json",
    E,
    "The line is not valid JSON.",
    "each line must be one complete JSON object; check quotes, commas and brackets",
    bad='{"messages": [{"role": "user", "content": "Hi"}',
)
_code(
    "trailing_data",
    E,
    "Something follows the JSON value on the same line (often two objects on one line).",
    "put one JSON object per line",
    bad=_GOOD + " " + _GOOD,
)
_code(
    "not_an_object",
    E,
    "The line is valid JSON but not an object (a list, string, number or null).",
    'wrap the example in an object: {"messages": [...]}',
    bad=f"[{_USER}, {_ASSISTANT}]",
)
_code(
    "legacy_completion_format",
    E,
    "A legacy prompt/completion example; chat models are trained on `messages`.",
    'convert it: {"messages": [{"role": "user", "content": PROMPT}, '
    '{"role": "assistant", "content": COMPLETION}]}',
    bad='{"prompt": "What is overfitting?", "completion": "Learning too well."}',
)
_code(
    "mixed_formats",
    E,
    "Chat and preference (DPO) examples are mixed in one file.",
    "keep supervised and preference examples in separate files",
    bad=None,
)
_code(
    "wrong_format_for_method",
    E,
    "The example's format does not match the chosen method (supervised needs chat examples, "
    "dpo needs preference examples).",
    "pick the method that matches the data (--method supervised|dpo) or convert the data",
    bad=None,
)
_code(
    "too_few_examples",
    E,
    "The file has fewer than 10 examples; OpenAI rejects it.",
    "add examples: 50-100 good ones usually show a clear gain",
    file_level=True,
)
_code(
    "duplicate_example",
    W,
    "The same example appears more than once; duplicates overweight it in training.",
    "remove duplicates (`finetune-kit fix` or `Dataset.dedupe()`)",
)
_code(
    "near_duplicate",
    W,
    "The example nearly repeats an earlier one (same conversation up to case, whitespace, a "
    "typo or an added sentence); reported by `validate --near`.",
    "keep one of them: `finetune-kit dedupe FILE --near -o KEPT.jsonl`",
)
_code(
    "validation_leak",
    W,
    "An example of the validation file copies (or nearly copies) this training example, so "
    "the validation loss rewards memory; reported by `validate --near --validation VFILE`.",
    "remove the copy from the validation file (or from the training file)",
)
_code(
    "schema_error",
    E,
    "The example does not match the data model in a way no specific rule describes.",
    "compare the field with the format reference in the docs",
)
_code(
    "example_too_long",
    W,
    "The example has more tokens than the model's per-example limit; OpenAI truncates it.",
    "shorten the conversation or split it into several examples",
)
_code(
    "empty_cell",
    E,
    "Building from a table: a user, assistant or system cell is empty.",
    "fill in the cell, or remove the row before building",
    bad=None,
    good=None,
)
_code(
    "rule_failed",
    E,
    "A (custom) rule raised an exception instead of yielding findings.",
    "fix the rule function; the example itself may be fine",
)


# -- helpers ---------------------------------------------------------------------------------


def _conversation(obj: Mapping[str, Any], fmt: Format) -> tuple[str, Any]:
    """The conversation list and its path: ``messages`` or ``input.messages``."""
    if fmt == "chat":
        return "messages", obj.get("messages")
    inp = obj.get("input")
    return "input.messages", inp.get("messages") if isinstance(inp, dict) else None


@dataclass(frozen=True, slots=True)
class _Shape:
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


_NO_SHAPE = _Shape((), frozenset(), frozenset(), False, False)
# One-entry memo: some twenty rules walk the messages of the same example in a row. The entry
# is one tuple, replaced whole, so threads validating side by side never see a mixed entry; it
# holds the example itself, so its id cannot be reused while cached.
_LAST_SHAPE: list[tuple[Any, str, _Shape]] = [(None, "", _NO_SHAPE)]


def _shape(obj: Mapping[str, Any], fmt: Format) -> _Shape:
    """The messages of ``obj`` and what they hold (memoised for the example being checked)."""
    last = _LAST_SHAPE[0]
    if last[0] is obj and last[1] == fmt:
        return last[2]
    messages = tuple(_walk_messages(obj, fmt))
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
    shape = _Shape(messages, frozenset(keys), frozenset(roles), parts, odd)
    _LAST_SHAPE[0] = (obj, fmt, shape)
    return shape


def _messages(obj: Mapping[str, Any], fmt: Format) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Every message that is an object, with its path (preference outputs included)."""
    return _shape(obj, fmt).messages


def forget_messages() -> None:
    """Drop the memo (the engine calls it after each example: the example may change later)."""
    _LAST_SHAPE[0] = (None, "", _NO_SHAPE)


def _walk_messages(obj: Mapping[str, Any], fmt: Format) -> Iterator[tuple[str, dict[str, Any]]]:
    path, msgs = _conversation(obj, fmt)
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


def _parts(msg: Mapping[str, Any]) -> Iterable[tuple[int, Any]]:
    content = msg.get("content")
    return enumerate(content) if isinstance(content, list) else ()


def _has_content(msg: Mapping[str, Any]) -> bool:
    content = msg.get("content")
    if isinstance(content, str):
        return bool(content.strip())
    return isinstance(content, list) and len(content) > 0


def _is_assistant(msg: Mapping[str, Any]) -> bool:
    return msg.get("role") == "assistant"


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _has_text(value: Any, needle: str) -> bool:
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


# -- example-level structure -------------------------------------------------------------------


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
    path, msgs = _conversation(obj, ctx.format)
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
    path, msgs = _conversation(obj, ctx.format)
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
    path, msgs = _conversation(obj, ctx.format)
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
    allowed = _EXAMPLE_KEYS if ctx.format == "chat" else _PREFERENCE_KEYS
    for key in obj:
        if key not in allowed:
            yield Problem(f"unknown key {key!r} in the example", str(key))
    inp = obj.get("input")
    if ctx.format == "preference" and isinstance(inp, dict):
        for key in inp:
            if key not in _EXAMPLE_KEYS:
                yield Problem(f"unknown key {key!r} in `input`", f"input.{key}")
    shape = _shape(obj, ctx.format)
    if shape.keys <= _MESSAGE_KEYS and "tool_calls" not in shape.keys and not shape.parts:
        return  # every message key is known, and nothing nested to check
    for path, msg in shape.messages:
        for key in msg:
            if key not in _MESSAGE_KEYS:
                yield Problem(f"unknown key {key!r} in a message", f"{path}.{key}")
        calls = msg.get("tool_calls")
        if isinstance(calls, list):
            for i, call in enumerate(calls):
                if isinstance(call, dict):
                    for key in call:
                        if key not in _TOOL_CALL_KEYS:
                            yield Problem(
                                f"unknown key {key!r} in a tool call",
                                f"{path}.tool_calls[{i}].{key}",
                            )
        for i, part in _parts(msg):
            if isinstance(part, dict) and part.get("type") in _PART_KEYS:
                for key in part:
                    if key not in _PART_KEYS[part["type"]]:
                        yield Problem(
                            f"unknown key {key!r} in a {part['type']} part",
                            f"{path}.content[{i}].{key}",
                        )


# -- message-level -----------------------------------------------------------------------------


@_rule(
    "missing_role",
    E,
    "A message has no `role`.",
    'add "role": one of system, developer, user, assistant, tool',
    bad='{"messages": [{"content": "What is overfitting?"}, ' + _ASSISTANT + "]}",
)
def _missing_role(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in _messages(obj, ctx.format):
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
    for path, msg in _messages(obj, ctx.format):
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
    if not _shape(obj, ctx.format).odd_content:
        return
    for path, msg in _messages(obj, ctx.format):
        content = msg.get("content")
        if content is not None and not isinstance(content, str | list):
            yield Problem(
                f"content is a {type(content).__name__}; expected a string or a list of parts",
                f"{path}.content",
            )


@_rule(
    "missing_content",
    E,
    "A system, user or tool message has no content.",
    'add "content" with the text of the message',
    bad='{"messages": [{"role": "user"}, ' + _ASSISTANT + "]}",
    semantic=True,
)
def _missing_content(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in _messages(obj, ctx.format):
        role = msg.get("role")
        if role in ROLES and role not in ("assistant", "function") and msg.get("content") is None:
            yield Problem(f"{role} message has no content", f"{path}.content")


@_rule(
    "empty_content",
    W,
    "A message's content is an empty string.",
    "fill in the text, or drop the message",
    bad='{"messages": [{"role": "system", "content": ""}, ' + _USER + ", " + _ASSISTANT + "]}",
)
def _empty_content(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in _messages(obj, ctx.format):
        content = msg.get("content")
        if isinstance(content, str) and not content.strip() and not _is_assistant(msg):
            yield Problem(f"{msg.get('role')} message has empty content", f"{path}.content")


@_rule(
    "empty_assistant_message",
    E,
    "An assistant message has neither content nor tool calls.",
    "give the assistant message text, or the tool_calls it makes",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": ""}]}',
    semantic=True,
)
def _empty_assistant(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, msg in _messages(obj, ctx.format):
        if (
            _is_assistant(msg)
            and not _has_content(msg)
            and not msg.get("tool_calls")
            and not msg.get("function_call")
        ):
            yield Problem("assistant message has no content and no tool calls", f"{path}.content")


@_rule(
    "invalid_weight",
    E,
    "`weight` is not 0 or 1.",
    "use weight 1 to train on the message, 0 to skip it",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": "Aye.", "weight": 0.5}]}',
)
def _invalid_weight(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if "weight" not in _shape(obj, ctx.format).keys:
        return
    for path, msg in _messages(obj, ctx.format):
        if "weight" in msg:
            w = msg["weight"]
            if isinstance(w, bool) or w not in (0, 1):
                yield Problem(f"weight is {w!r}; it must be 0 or 1", f"{path}.weight")


@_rule(
    "weight_on_non_assistant",
    E,
    "`weight` is set on a message that is not from the assistant.",
    "remove weight: only assistant messages can be weighted",
    bad='{"messages": [{"role": "user", "content": "Hi", "weight": 1}, ' + _ASSISTANT + "]}",
    semantic=True,
)
def _weight_on_non_assistant(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if "weight" not in _shape(obj, ctx.format).keys:
        return
    for path, msg in _messages(obj, ctx.format):
        if "weight" in msg and msg.get("role") in ROLES and not _is_assistant(msg):
            yield Problem(f"weight on a {msg.get('role')} message", f"{path}.weight")


@_rule(
    "invalid_tool_call",
    E,
    "A tool call is malformed (needs `id`, `type: function` and `function.name`), or "
    "`tool_calls` is on a message that is not from the assistant.",
    'write tool calls as {"id": "call_1", "type": "function", "function": {"name": ..., '
    '"arguments": "{...}"}}',
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"function": '
    '{"name": "search", "arguments": "{}"}}]}]}',
    semantic=True,
)
def _invalid_tool_call(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if "tool_calls" not in _shape(obj, ctx.format).keys:
        return
    for path, msg in _messages(obj, ctx.format):
        if "tool_calls" not in msg or msg["tool_calls"] is None:
            continue
        calls = msg["tool_calls"]
        if msg.get("role") in ROLES and not _is_assistant(msg):
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
            elif any(k not in _FUNCTION_CALL_KEYS for k in fn):
                extra = next(k for k in fn if k not in _FUNCTION_CALL_KEYS)
                yield Problem(f"unknown key {extra!r} in function", f"{cpath}.function.{extra}")


@_rule(
    "invalid_tool_arguments",
    E,
    "A tool call's `arguments` is not a JSON string that decodes to an object.",
    'encode the arguments object as a string: "arguments": "{\\"city\\": \\"Verona\\"}"',
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"id": "c1", '
    '"type": "function", "function": {"name": "search", "arguments": {"q": "x"}}}]}, '
    '{"role": "tool", "tool_call_id": "c1", "content": "found"}, ' + _ASSISTANT + "]}",
    semantic=True,
)
def _invalid_tool_arguments(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not {"tool_calls", "function_call"} & _shape(obj, ctx.format).keys:
        return
    for path, msg in _messages(obj, ctx.format):
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


@_rule(
    "missing_tool_call_id",
    E,
    "A tool message does not say which call it answers.",
    'add "tool_call_id" with the id of the assistant\'s tool call',
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"id": "c1", '
    '"type": "function", "function": {"name": "search", "arguments": "{}"}}]}, '
    '{"role": "tool", "content": "found"}, ' + _ASSISTANT + "]}",
    semantic=True,
)
def _missing_tool_call_id(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if "tool" not in _shape(obj, ctx.format).roles:
        return
    for path, msg in _messages(obj, ctx.format):
        if msg.get("role") == "tool" and not msg.get("tool_call_id"):
            yield Problem("tool message has no tool_call_id", f"{path}.tool_call_id")


@_rule(
    "unknown_tool_call_id",
    E,
    "A tool message answers a call id that no earlier assistant message made.",
    "make tool_call_id match the id of a preceding assistant tool call",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"id": "c1", '
    '"type": "function", "function": {"name": "search", "arguments": "{}"}}]}, '
    '{"role": "tool", "tool_call_id": "c2", "content": "found"}, ' + _ASSISTANT + "]}",
    semantic=True,
)
def _unknown_tool_call_id(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if "tool" not in _shape(obj, ctx.format).roles:
        return
    seen: set[str] = set()
    for path, msg in _messages(obj, ctx.format):
        calls = msg.get("tool_calls")
        if _is_assistant(msg) and isinstance(calls, list):
            seen.update(
                c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)
            )
        call_id = msg.get("tool_call_id")
        if msg.get("role") == "tool" and call_id and call_id not in seen:
            yield Problem(
                f"tool_call_id {call_id!r} answers no earlier call", f"{path}.tool_call_id"
            )


@_rule(
    "unknown_content_part",
    E,
    "A content part's `type` is not `text` or `image_url`.",
    'use {"type": "text", "text": ...} or {"type": "image_url", "image_url": {"url": ...}}',
    bad='{"messages": [{"role": "user", "content": [{"type": "audio", "audio": "x"}]}, '
    + _ASSISTANT
    + "]}",
)
def _unknown_content_part(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not _shape(obj, ctx.format).parts:
        return
    for path, msg in _messages(obj, ctx.format):
        for i, part in _parts(msg):
            if isinstance(part, dict) and part.get("type") not in _PART_KEYS:
                yield Problem(
                    f"unknown content part type {part.get('type')!r}", f"{path}.content[{i}].type"
                )


@_rule(
    "invalid_content_part",
    E,
    "A content part is malformed (not an object, text part without a string `text`, image part "
    "without `image_url.url`).",
    'write parts as {"type": "text", "text": "..."} or {"type": "image_url", "image_url": '
    '{"url": "https://..."}}',
    bad='{"messages": [{"role": "user", "content": [{"type": "text", "content": "Hi"}]}, '
    + _ASSISTANT
    + "]}",
)
def _invalid_content_part(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not _shape(obj, ctx.format).parts:
        return
    for path, msg in _messages(obj, ctx.format):
        for i, part in _parts(msg):
            ppath = f"{path}.content[{i}]"
            if not isinstance(part, dict):
                yield Problem(f"content part is a {type(part).__name__}, not an object", ppath)
            elif part.get("type") == "text" and not isinstance(part.get("text"), str):
                yield Problem("text part has no string `text`", f"{ppath}.text")
            elif part.get("type") == "image_url":
                image = part.get("image_url")
                if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                    yield Problem("image part has no image_url.url", f"{ppath}.image_url.url")
                elif any(k not in _IMAGE_URL_KEYS for k in image) or image.get("detail") not in (
                    None,
                    "auto",
                    "low",
                    "high",
                ):
                    yield Problem(
                        "image_url takes only url and detail (auto, low, high)",
                        f"{ppath}.image_url",
                    )


@_rule(
    "image_in_assistant_message",
    E,
    "Images are only allowed in user messages.",
    "move the image to a user message",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": [{"type": "image_url", '
    '"image_url": {"url": "https://example.com/a.png"}}]}]}',
    semantic=True,
)
def _image_in_assistant(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not _shape(obj, ctx.format).parts:
        return
    for path, msg in _messages(obj, ctx.format):
        if msg.get("role") == "user":
            continue
        for i, part in _parts(msg):
            if isinstance(part, dict) and part.get("type") == "image_url":
                role = msg.get("role")
                article = "an" if str(role)[:1] in "aeiou" else "a"
                yield Problem(f"image in {article} {role} message", f"{path}.content[{i}]")


_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
_MAX_IMAGE_BYTES = 10 * 1024 * 1024
_MAX_IMAGES = 10


def _images(obj: Mapping[str, Any], fmt: Format) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    shape = _shape(obj, fmt)
    if not shape.parts:
        return found
    for path, msg in shape.messages:
        content = msg.get("content")
        if isinstance(content, list):
            for i, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "image_url":
                    image = part.get("image_url")
                    if isinstance(image, dict) and isinstance(image.get("url"), str):
                        found.append((f"{path}.content[{i}].image_url.url", image))
    return found


@_rule(
    "invalid_image",
    E,
    "An image is not an http(s) URL or a base64 data URL of a JPEG, PNG or WEBP image of at "
    "most 10 MB.",
    "use JPEG, PNG or WEBP up to 10 MB, as https://... or data:image/png;base64,...",
    bad='{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": '
    '{"url": "data:image/gif;base64,R0lGOD=="}}]}, ' + _ASSISTANT + "]}",
)
def _invalid_image(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, image in _images(obj, ctx.format):
        url: str = image["url"]
        if url.startswith(("https://", "http://")):
            continue
        if not url.startswith("data:"):
            yield Problem(f"image URL scheme {url.split(':', 1)[0]!r} is not supported", path)
            continue
        header, _, payload = url.partition(",")
        mime = header[5:].split(";", 1)[0].lower()
        if mime not in _IMAGE_TYPES:
            yield Problem(f"image type {mime or 'unknown'!r} is not JPEG, PNG or WEBP", path)
        elif ";base64" not in header:
            yield Problem("data URL is not base64-encoded", path)
        elif len(payload) * 3 // 4 > _MAX_IMAGE_BYTES:
            yield Problem(
                f"image is about {len(payload) * 3 // 4 / 2**20:.1f} MB (max 10 MB)", path
            )


@_rule(
    "too_many_images",
    W,
    "An example has more than 10 images (OpenAI's guide; Azure allows 64).",
    "split the conversation or drop images",
    bad='{"messages": [{"role": "user", "content": ['
    + ", ".join(['{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}'] * 11)
    + "]}, "
    + _ASSISTANT
    + "]}",
)
def _too_many_images(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    n = len(_images(obj, ctx.format))
    if n > _MAX_IMAGES:
        yield Problem(f"{n} images in one example (at most {_MAX_IMAGES})", "messages")


@_rule(
    "image_in_preference_example",
    E,
    "Preference (DPO) fine-tuning takes text only.",
    "remove the image, or train it with supervised vision fine-tuning",
    bad='{"input": {"messages": [{"role": "user", "content": [{"type": "image_url", '
    '"image_url": {"url": "https://x.test/a.png"}}]}]}, "preferred_output": ['
    + _ASSISTANT
    + '], "non_preferred_output": [{"role": "assistant", "content": "No."}]}',
    good='{"input": {"messages": [' + _USER + ']}, "preferred_output": [' + _ASSISTANT + "], "
    '"non_preferred_output": [{"role": "assistant", "content": "It is when a model is bad."}]}',
    formats=("preference",),
)
def _image_in_preference(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, _image in _images(obj, ctx.format):
        yield Problem("image in a preference example", path.removesuffix(".image_url.url"))


@_rule(
    "model_lacks_vision",
    E,
    "The example has images but the chosen model cannot be fine-tuned on images.",
    "pick a model that supports vision fine-tuning (e.g. gpt-4o-2024-08-06) or drop the images",
    bad='{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": '
    '{"url": "https://x.test/a.png"}}]}, ' + _ASSISTANT + "]}",
    formats=("chat",),
)
def _model_lacks_vision(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if ctx.model is None or not _images(obj, ctx.format):
        return
    if not _supports_vision(ctx.model):
        yield Problem(f"{ctx.model} does not support vision fine-tuning", "messages")


@functools.lru_cache(maxsize=64)
def _supports_vision(model: str) -> bool:
    from finetune_kit.errors import FinetuneKitError
    from finetune_kit.pricing import PriceTable

    try:
        return "vision" in PriceTable.load().get(model).methods
    except FinetuneKitError:
        return True  # unknown model: nothing to say here (the price lookup reports it)


@_rule(
    "invalid_field_type",
    E,
    "`name`, `tool_call_id`, `parallel_tool_calls` or `tools` has the wrong JSON type.",
    "name and tool_call_id are strings, parallel_tool_calls is true/false, tools is a list of "
    '{"type": "function", "function": {"name": ...}}',
    bad='{"messages": [{"role": "user", "content": "Hi", "name": 7}, ' + _ASSISTANT + "]}",
)
def _invalid_field_type(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    containers: list[tuple[str, Any]] = [("", obj)]
    if ctx.format == "preference" and isinstance(obj.get("input"), dict):
        containers = [("input.", obj["input"])]
    for prefix, c in containers:
        ptc = c.get("parallel_tool_calls")
        if ptc is not None and not isinstance(ptc, bool):
            yield Problem(
                "parallel_tool_calls must be true or false", f"{prefix}parallel_tool_calls"
            )
        tools = c.get("tools")
        if tools is not None:
            if not isinstance(tools, list):
                yield Problem("tools must be a list", f"{prefix}tools")
            else:
                for i, tool in enumerate(tools):
                    fn = tool.get("function") if isinstance(tool, dict) else None
                    if (
                        not isinstance(fn, dict)
                        or not isinstance(fn.get("name"), str)
                        or tool.get("type", "function") != "function"
                    ):
                        yield Problem(
                            "tool must be {type: function, function: {name, ...}}",
                            f"{prefix}tools[{i}]",
                        )
    for path, msg in _messages(obj, ctx.format):
        for key in ("name", "tool_call_id"):
            if key in msg and msg[key] is not None and not isinstance(msg[key], str):
                yield Problem(f"{key} must be a string", f"{path}.{key}")


def _tool_names(container: Mapping[str, Any]) -> set[str] | None:
    names: set[str] = set()
    found = False
    for key in ("tools", "functions"):
        items = container.get(key)
        if isinstance(items, list):
            found = True
            for item in items:
                fn = item.get("function", item) if isinstance(item, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                    names.add(fn["name"])
    return names if found else None


def _container(obj: Mapping[str, Any], fmt: Format) -> Mapping[str, Any]:
    inp = obj.get("input")
    return inp if fmt == "preference" and isinstance(inp, dict) else obj


@_rule(
    "unknown_tool_function",
    W,
    "A tool call names a function that the example's `tools` do not define.",
    "add the function to `tools`, or fix the name in the call",
    bad='{"tools": [{"type": "function", "function": {"name": "search"}}], "messages": ['
    + _USER
    + ', {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": '
    '{"name": "serach", "arguments": "{}"}}]}]}',
)
def _unknown_tool_function(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    names = _tool_names(_container(obj, ctx.format))
    if names is None:
        return
    for path, msg in _messages(obj, ctx.format):
        calls = msg.get("tool_calls")
        if not isinstance(calls, list):
            continue
        for i, call in enumerate(calls):
            fn = call.get("function") if isinstance(call, dict) else None
            name = fn.get("name") if isinstance(fn, dict) else None
            if isinstance(name, str) and name not in names:
                yield Problem(
                    f"calls {name!r}, which `tools` does not define",
                    f"{path}.tool_calls[{i}].function.name",
                )


@_rule(
    "parallel_calls_disabled",
    E,
    "`parallel_tool_calls` is false but an assistant message makes several tool calls.",
    "split the calls over several assistant turns, or allow parallel tool calls",
    bad='{"parallel_tool_calls": false, "messages": [' + _USER + ', {"role": "assistant", '
    '"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "a", "arguments": '
    '"{}"}}, {"id": "c2", "type": "function", "function": {"name": "b", "arguments": "{}"}}]}]}',
)
def _parallel_calls_disabled(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if _container(obj, ctx.format).get("parallel_tool_calls") is not False:
        return
    for path, msg in _messages(obj, ctx.format):
        calls = msg.get("tool_calls")
        if isinstance(calls, list) and len(calls) > 1:
            yield Problem(f"{len(calls)} tool calls in one message", f"{path}.tool_calls")


@_rule(
    "special_token",
    E,
    "Text contains a special token such as `<|endoftext|>`; jobs fail on them.",
    "remove the special token or break it up (e.g. '<| endoftext |>')",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": "Fin.<|endoftext|>"}]}',
)
def _special_token(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    # Every special token starts with "<|": most examples end here, in one substring search.
    text = ctx.json_text
    if "<|" not in text if text is not None else not _has_text(obj, "<|"):
        return
    for path, text in _strings(obj, ""):
        if "<|" in text:
            for token in SPECIAL_TOKENS:
                if token in text:
                    yield Problem(f"contains the special token {token}", path)


# -- conversation-level --------------------------------------------------------------------------


@_rule(
    "missing_assistant_message",
    E,
    "A chat example has no assistant message to learn from.",
    "end the conversation with the assistant's answer",
    bad='{"messages": [' + _USER + "]}",
    formats=("chat",),
    semantic=True,
)
def _missing_assistant(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    msgs = obj.get("messages")
    if (
        isinstance(msgs, list)
        and msgs
        and not any(isinstance(m, dict) and _is_assistant(m) for m in msgs)
    ):
        yield Problem("no assistant message", "messages")


@_rule(
    "nothing_to_train_on",
    W,
    "Every assistant message has weight 0, so the example teaches nothing.",
    "set weight 1 on at least one assistant message (or drop the example)",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": "Aye.", "weight": 0}]}',
    formats=("chat",),
)
def _nothing_to_train_on(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    msgs = obj.get("messages")
    if not isinstance(msgs, list):
        return
    weights = [m.get("weight", 1) for m in msgs if isinstance(m, dict) and _is_assistant(m)]
    if weights and all(w == 0 for w in weights):
        yield Problem("every assistant message has weight 0", "messages")


# -- preference (DPO) ----------------------------------------------------------------------------

_PREF_GOOD = (
    '{"input": {"messages": [' + _USER + ']}, "preferred_output": [' + _ASSISTANT + "], "
    '"non_preferred_output": [{"role": "assistant", "content": "It is when a model is bad."}]}'
)


@_rule(
    "missing_input_messages",
    E,
    "A preference example has no `input.messages`.",
    'add "input": {"messages": [...]} with the conversation before the answers',
    bad='{"preferred_output": [' + _ASSISTANT + '], "non_preferred_output": '
    '[{"role": "assistant", "content": "No."}]}',
    good=_PREF_GOOD,
    formats=("preference",),
)
def _missing_input(obj: Mapping[str, Any], _ctx: RuleContext) -> Iterator[Problem]:
    inp = obj.get("input")
    if not isinstance(inp, dict):
        yield Problem("no `input` object", "input")
    elif "messages" not in inp:
        yield Problem("no `input.messages`", "input.messages")


def _output_rule(key: str) -> Callable[[Mapping[str, Any], RuleContext], Iterator[Problem]]:
    legacy = key.replace("_output", "_completion")

    def check(obj: Mapping[str, Any], _ctx: RuleContext) -> Iterator[Problem]:
        if key not in obj:
            extra = f" (found the old name `{legacy}`: rename it)" if legacy in obj else ""
            yield Problem(f"no `{key}`{extra}", key)

    return check


for _key in ("preferred_output", "non_preferred_output"):
    _rule(
        f"missing_{_key}",
        E,
        f"A preference example has no `{_key}`.",
        f'add "{_key}": [one assistant message] (older docs called it '
        f"`{_key.replace('_output', '_completion')}`)",
        bad='{"input": {"messages": ['
        + _USER
        + "]}, "
        + ('"non_preferred_output"' if _key == "preferred_output" else '"preferred_output"')
        + ": ["
        + _ASSISTANT
        + "]}",
        good=_PREF_GOOD,
        formats=("preference",),
    )(_output_rule(_key))


@_rule(
    "invalid_preference_output",
    E,
    "A preference output is not a list of exactly one assistant message.",
    "give each of preferred_output and non_preferred_output one assistant message in a list",
    bad='{"input": {"messages": ['
    + _USER
    + ']}, "preferred_output": '
    + _ASSISTANT
    + ', "non_preferred_output": [{"role": "assistant", "content": "No."}]}',
    good=_PREF_GOOD,
    formats=("preference",),
    semantic=True,
)
def _invalid_preference_output(obj: Mapping[str, Any], _ctx: RuleContext) -> Iterator[Problem]:
    for key in ("preferred_output", "non_preferred_output"):
        if key not in obj:
            continue
        outs = obj[key]
        if not isinstance(outs, list) or len(outs) != 1:
            n = len(outs) if isinstance(outs, list) else type(outs).__name__
            yield Problem(f"`{key}` must be a list of one message (got {n})", key)
        elif isinstance(outs[0], dict) and outs[0].get("role") != "assistant":
            yield Problem(f"`{key}` must be an assistant message", f"{key}[0].role")


@_rule(
    "identical_preference_outputs",
    W,
    "The preferred and non-preferred outputs are the same, so the pair teaches nothing.",
    "make the non-preferred output the answer you want less",
    bad='{"input": {"messages": ['
    + _USER
    + ']}, "preferred_output": ['
    + _ASSISTANT
    + '], "non_preferred_output": ['
    + _ASSISTANT
    + "]}",
    good=_PREF_GOOD,
    formats=("preference",),
)
def _identical_outputs(obj: Mapping[str, Any], _ctx: RuleContext) -> Iterator[Problem]:
    a, b = obj.get("preferred_output"), obj.get("non_preferred_output")
    if isinstance(a, list) and a and a == b:
        yield Problem("preferred_output equals non_preferred_output", "non_preferred_output")


# -- personal data ---------------------------------------------------------------------------

_PII_EXAMPLES = {
    "pii_email": ("e-mail address", "Write to jane.doe@example.com for the slides."),
    "pii_phone": ("phone number", "Call me on +44 20 7946 0958 tomorrow."),
    "pii_card": ("payment card number (Luhn-checked)", "My card is 4111 1111 1111 1111."),
    "pii_iban": ("IBAN (checksum-checked)", "Pay to GB82 WEST 1234 5698 7654 32 please."),
    "pii_ip": ("IP address", "The model server is at 81.2.69.160 now."),
    "pii_ssn": ("US social security number", "His SSN is 123-45-6789."),
    "pii_national_id": ("national id with a check letter (Spanish DNI/NIE)", "DNI 12345678Z."),
    "pii_secret": (
        "API key, token or private key",
        "Use the key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD here.",
    ),
    "pii_url_credentials": (
        "URL with a user name and password",
        "Connect to https://bob:hunter2@db.example.com/x first.",
    ),
}
for _pii_code, (_what, _text) in _PII_EXAMPLES.items():
    _code(
        _pii_code,
        W,
        f"The text contains what looks like a {_what}; it would leave the machine on upload.",
        "redact it first (`finetune-kit redact` or `Dataset.redact`), or validate with "
        "pii='error' to refuse such data",
        bad='{"messages": [{"role": "user", "content": '
        + json.dumps(_text)
        + "}, "
        + _ASSISTANT
        + "]}",
    )


@_rule(
    "pii",
    W,
    "Personal data (e-mail, phone, card, IBAN, IP, national ids, secrets, credentials in URLs) "
    "in the text; reported as the `pii_*` codes.",
    "redact it first (`finetune-kit redact` or `Dataset.redact`)",
    bad='{"messages": [{"role": "user", "content": "Mail jane.doe@example.com"}, '
    + _ASSISTANT
    + "]}",
)
def _personal_data(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    from finetune_kit.privacy import scan_example

    for found in scan_example(obj):
        yield Problem(
            f"{found.message}" if found.message else f"{found.code} {found.preview}",
            found.field,
            code=found.code,
        )


del CATALOG["pii"]  # the rule never reports its own code, only the pii_* codes above

BUILTIN_RULES: tuple[Rule, ...] = tuple(_BUILTIN)
"""The built-in rules in the order they run."""

# the error-severity semantic rules the schema runs, per format (computed once)
_SEMANTIC_BY_FORMAT: dict[Format, list[tuple[str, Any]]] = {
    fmt: [
        (r.code, _SEMANTIC[r.code])
        for r in BUILTIN_RULES
        if r.code in _SEMANTIC and r.severity is Severity.ERROR and fmt in r.formats
    ]
    for fmt in ("chat", "preference")
}


def single_example_errors(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Run the built-in semantic rules over one example (the schema's model validators).

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
    ctx = RuleContext(line=None, model=None, method=None, format=fmt)
    for code, func in _SEMANTIC_BY_FORMAT[fmt]:
        if code in skip:
            continue
        for item in func(data, ctx):
            problem = Problem(item) if isinstance(item, str) else item
            field = problem.field or ""
            if kind == "message":
                field = field.removeprefix("messages[0]").lstrip(".")
            yield code, field, problem.message
    forget_messages()
