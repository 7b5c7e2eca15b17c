"""The engine's own finding codes (reading, JSON, file-level), documented in the catalog."""

from __future__ import annotations

from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    _GOOD,
    _USER,
    E,
    W,
    _code,
)

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
    "bom_missing",
    E,
    "Azure OpenAI profile: the file does not start with a UTF-8 byte-order mark.",
    "save the file as UTF-8 with BOM, or run `finetune-kit fix --provider azure`",
    file_level=True,
)

_code(
    "turns_not_alternating",
    E,
    "Together AI profile: after an optional system message, the conversation must start with "
    "the user and user and assistant turns must alternate.",
    "merge consecutive turns of one role, or move system messages to the start",
)

_code(
    "file_too_large",
    E,
    "The file is larger than the provider takes.",
    "split the file, or drop examples that add little",
    file_level=True,
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
