"""The built-in validation rules, each small, each with a stable code and a fix hint.

Rules work on the raw parsed JSON of one line, so that every structural problem gets its own
precise code and field path (a typed model could only say "does not validate"). Each topic
module registers its rules and codes into the engine's registry when imported, in the order
below, which is the order the rules run. The checks the typed models share live in
[`finetune_kit._checks`][], so the schema and the rules never disagree.

[`CATALOG`][finetune_kit.validation.engine.CATALOG] documents every code the engine can emit —
the rules' and the engine's own (``invalid_json``, ``too_few_examples``, ...) — with a bad and a
fixed example line that the test suite checks and the docs show.
"""

from __future__ import annotations

from finetune_kit.validation.engine import CATALOG, CodeInfo, Rule, builtin_rules
from finetune_kit.validation.rules import (  # noqa: F401  (importing a topic registers its rules)
    codes,
    conversation,
    declarations,
    images,
    messages,
    preference,
    privacy,
    structure,
    text,
    tools,
)
from finetune_kit.validation.rules.text import SPECIAL_TOKENS

__all__ = ["BUILTIN_RULES", "CATALOG", "SPECIAL_TOKENS", "CodeInfo"]

BUILTIN_RULES: tuple[Rule, ...] = builtin_rules()
"""The built-in rules in the order they run."""
