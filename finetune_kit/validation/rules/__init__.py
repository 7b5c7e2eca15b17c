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

from finetune_kit.validation.engine import (
    CATALOG,
    CodeInfo,
    Rule,
    builtin_rules,
    register_plain_silent,
)
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

__all__ = ["BUILTIN_RULES", "CATALOG", "PLAIN_SILENT", "SPECIAL_TOKENS", "CodeInfo"]

BUILTIN_RULES: tuple[Rule, ...] = builtin_rules()
"""The built-in rules in the order they run."""

PLAIN_SILENT = frozenset(
    {
        "missing_messages",
        "messages_not_list",
        "empty_messages",
        "message_not_object",
        "unknown_key",
        "missing_role",
        "unknown_role",
        "invalid_content_type",
        "missing_content",
        "invalid_weight",
        "weight_on_non_assistant",
        "invalid_tool_call",
        "invalid_tool_arguments",
        "missing_tool_call_id",
        "unknown_tool_call_id",
        "unknown_content_part",
        "invalid_content_part",
        "image_in_assistant_message",
        "invalid_image",
        "too_many_images",
        "model_lacks_vision",
        "invalid_field_type",
        "unknown_tool_function",
        "parallel_calls_disabled",
        "nothing_to_train_on",
    }
)
"""Built-in rules that never find anything in a plain text-only chat example (only
``messages``, each message exactly a system/developer/user/assistant ``role`` and a string
``content``): the engine skips them there. The others (empty content, no assistant message,
special tokens, personal data) look at the text or the roles, and always run."""

register_plain_silent(PLAIN_SILENT)
