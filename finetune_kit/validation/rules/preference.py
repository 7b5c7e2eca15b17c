"""Rules on preference (DPO) examples."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    Problem,
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


_semantic_rule(
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
)


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
