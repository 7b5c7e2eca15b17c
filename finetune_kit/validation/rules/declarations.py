"""Rules on an example's declared fields: tools, functions, parallel tool calls."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    Format,
    Problem,
    messages_of,
)
from finetune_kit.validation.engine import RuleContext
from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    _USER,
    E,
    W,
    _rule,
)


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
    for path, msg in messages_of(obj, ctx.format):
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
    for path, msg in messages_of(obj, ctx.format):
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
    for path, msg in messages_of(obj, ctx.format):
        calls = msg.get("tool_calls")
        if isinstance(calls, list) and len(calls) > 1:
            yield Problem(f"{len(calls)} tool calls in one message", f"{path}.tool_calls")
