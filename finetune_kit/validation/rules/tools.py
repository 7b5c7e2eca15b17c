"""Rules on assistant tool calls and the tool messages that answer them."""

from __future__ import annotations

from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    _USER,
    E,
    _semantic_rule,
)

_semantic_rule(
    "invalid_tool_call",
    E,
    "A tool call is malformed (needs `id`, `type: function` and `function.name`), or "
    "`tool_calls` is on a message that is not from the assistant.",
    'write tool calls as {"id": "call_1", "type": "function", "function": {"name": ..., '
    '"arguments": "{...}"}}',
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"function": '
    '{"name": "search", "arguments": "{}"}}]}]}',
)


_semantic_rule(
    "invalid_tool_arguments",
    E,
    "A tool call's `arguments` is not a JSON string that decodes to an object.",
    'encode the arguments object as a string: "arguments": "{\\"city\\": \\"Verona\\"}"',
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"id": "c1", '
    '"type": "function", "function": {"name": "search", "arguments": {"q": "x"}}}]}, '
    '{"role": "tool", "tool_call_id": "c1", "content": "found"}, ' + _ASSISTANT + "]}",
)


_semantic_rule(
    "missing_tool_call_id",
    E,
    "A tool message does not say which call it answers.",
    'add "tool_call_id" with the id of the assistant\'s tool call',
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"id": "c1", '
    '"type": "function", "function": {"name": "search", "arguments": "{}"}}]}, '
    '{"role": "tool", "content": "found"}, ' + _ASSISTANT + "]}",
)


_semantic_rule(
    "unknown_tool_call_id",
    E,
    "A tool message answers a call id that no earlier assistant message made.",
    "make tool_call_id match the id of a preceding assistant tool call",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "tool_calls": [{"id": "c1", '
    '"type": "function", "function": {"name": "search", "arguments": "{}"}}]}, '
    '{"role": "tool", "tool_call_id": "c2", "content": "found"}, ' + _ASSISTANT + "]}",
)
