"""The validation test corpus: a line for every finding code, and thirty one-defect lines.

Shared by the validation tests and the engines' tests (which check that a cluster finds what
one machine finds on every case).
"""

from __future__ import annotations

import json
from typing import Any

from conftest import good_example
from finetune_kit.validation.rules import BUILTIN_RULES, CATALOG

U = '{"role": "user", "content": "Q?"}'
A = '{"role": "assistant", "content": "A."}'
CALL = '{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}'

# Thirty lines, each with exactly one defect (and so exactly one finding).
THIRTY: list[tuple[str | bytes, str]] = [
    ("not json", "invalid_json"),
    ('{"messages": [' + U + ", " + A + "]} {}", "trailing_data"),
    ("[1, 2]", "not_an_object"),
    ('{"messages": [{"role": "user", "content": "caf\xe9"}, ' + A + "]}", "invalid_utf8"),
    ("", "blank_line"),
    ('{"prompt": "p", "completion": "c"}', "legacy_completion_format"),
    ("{}", "missing_messages"),
    ('{"messages": "hello"}', "messages_not_list"),
    ('{"messages": []}', "empty_messages"),
    ('{"messages": [' + U + ", 7, " + A + "]}", "message_not_object"),
    ('{"messages": [' + U + ", " + A + '], "extra": 1}', "unknown_key"),
    ('{"messages": [{"content": "Q?"}, ' + A + "]}", "missing_role"),
    ('{"messages": [' + U + ', {"role": "bot", "content": "A."}, ' + A + "]}", "unknown_role"),
    ('{"messages": [{"role": "user", "content": {"t": 1}}, ' + A + "]}", "invalid_content_type"),
    ('{"messages": [{"role": "user"}, ' + A + "]}", "missing_content"),
    ('{"messages": [' + U + ', {"role": "assistant", "content": ""}]}', "empty_assistant_message"),
    (
        '{"messages": [' + U + ', {"role": "assistant", "content": "A.", "weight": 2}]}',
        "invalid_weight",
    ),
    (
        '{"messages": [{"role": "user", "content": "Q?", "weight": 0}, ' + A + "]}",
        "weight_on_non_assistant",
    ),
    (
        '{"messages": [' + U + ', {"role": "assistant", "tool_calls": [{"id": "c1", "type": '
        '"function", "function": {"arguments": "{}"}}]}]}',
        "invalid_tool_call",
    ),
    (
        '{"messages": [' + U + ', {"role": "assistant", "tool_calls": [{"id": "c1", "type": '
        '"function", "function": {"name": "f", "arguments": "[1]"}}]}]}',
        "invalid_tool_arguments",
    ),
    (
        '{"messages": [' + U + ', {"role": "assistant", "tool_calls": [' + CALL + "]}, "
        '{"role": "tool", "content": "r"}, ' + A + "]}",
        "missing_tool_call_id",
    ),
    (
        '{"messages": [' + U + ', {"role": "assistant", "tool_calls": [' + CALL + "]}, "
        '{"role": "tool", "tool_call_id": "zz", "content": "r"}, ' + A + "]}",
        "unknown_tool_call_id",
    ),
    (
        '{"messages": [{"role": "user", "content": [{"type": "video", "video": 1}]}, ' + A + "]}",
        "unknown_content_part",
    ),
    (
        '{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}, ' + A + "]}",
        "invalid_content_part",
    ),
    (
        '{"messages": [' + U + ', {"role": "assistant", "content": [{"type": "image_url", '
        '"image_url": {"url": "https://x/a.png"}}]}]}',
        "image_in_assistant_message",
    ),
    (
        '{"messages": [{"role": "user", "content": "Q?", "name": 3}, ' + A + "]}",
        "invalid_field_type",
    ),
    (
        '{"messages": [' + U + ', {"role": "assistant", "content": "<|endoftext|>"}]}',
        "special_token",
    ),
    ('{"messages": [' + U + "]}", "missing_assistant_message"),
    (
        '{"messages": [' + U + ', {"role": "assistant", "content": "A.", "weight": 0}]}',
        "nothing_to_train_on",
    ),
    ('{"messages": [{"role": "system", "content": "  "}, ' + U + ", " + A + "]}", "empty_content"),
]


def thirty_lines() -> list[str | bytes]:
    out: list[str | bytes] = []
    for text, code in THIRTY:
        out.append(text.encode("cp1252") if code == "invalid_utf8" else text)
    return out


LINE_CODES = sorted(code for code, info in CATALOG.items() if info.bad is not None)
PREFERENCE_CODES = {r.code for r in BUILTIN_RULES if r.formats == frozenset({"preference"})}


def padding(code: str) -> list[Any]:
    """Nine valid examples in the same format as the code's example line."""
    info = CATALOG[code]
    if code in PREFERENCE_CODES or (info.good and '"input"' in info.good):
        base = json.loads(CATALOG["missing_input_messages"].good or "{}")
        out = []
        for i in range(9):
            ex = json.loads(json.dumps(base))
            ex["input"]["messages"][0]["content"] = f"Question {i}?"
            out.append(ex)
        return out
    return [good_example(i) for i in range(9)]
