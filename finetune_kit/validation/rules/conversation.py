"""Rules on the conversation as a whole: something to train on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    Problem,
    is_assistant,
)
from finetune_kit.validation.engine import RuleContext
from finetune_kit.validation.rules._base import (
    _USER,
    E,
    W,
    _rule,
    _semantic_rule,
)

_semantic_rule(
    "missing_assistant_message",
    E,
    "A chat example has no assistant message to learn from.",
    "end the conversation with the assistant's answer",
    bad='{"messages": [' + _USER + "]}",
)


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
    weights = [m.get("weight", 1) for m in msgs if isinstance(m, dict) and is_assistant(m)]
    if weights and all(w == 0 for w in weights):
        yield Problem("every assistant message has weight 0", "messages")
