"""Rules on the text itself: special tokens that make a job fail."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    Problem,
    has_text,
    strings_in,
)
from finetune_kit.validation.engine import RuleContext
from finetune_kit.validation.rules._base import (
    _USER,
    E,
    _rule,
)

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
    if "<|" not in text if text is not None else not has_text(obj, "<|"):
        return
    for path, text in strings_in(obj, ""):
        if "<|" in text:
            for token in SPECIAL_TOKENS:
                if token in text:
                    yield Problem(f"contains the special token {token}", path)
