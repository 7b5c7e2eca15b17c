from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import finetune_kit
from conftest import WriteLines, good_example
from finetune_kit import Example, Problem, Rule, RuleContext, Severity, Validator, validate
from finetune_kit.validation import engine as validation_module
from validation_corpus import THIRTY, thirty_lines


def test_thirty_defects_on_thirty_lines_give_thirty_findings(write_lines: WriteLines) -> None:
    assert len({code for _, code in THIRTY}) == 30
    path = write_lines(thirty_lines())
    report = validate(path)
    got = [(f.line, f.code) for f in report.findings]
    assert got == [(i + 1, code) for i, (_, code) in enumerate(THIRTY)]


def test_every_problem_of_a_line_is_reported_not_just_the_first() -> None:
    bad: dict[str, Any] = {"messages": [{"role": "bot", "content": 5, "weight": 3}], "x": 1}
    codes = {f.code for f in validate([bad]).findings}
    assert {"unknown_role", "invalid_content_type", "invalid_weight", "unknown_key"} <= codes


def test_in_memory_line_is_row_index_plus_one() -> None:
    rows = [good_example(i) for i in range(10)]
    rows[6] = {"messages": []}
    report = validate(rows)
    assert [(f.line, f.code) for f in report.errors] == [(7, "empty_messages")]


def test_report_json_contract(write_lines: WriteLines) -> None:
    report = validate(write_lines(thirty_lines()[:3]))
    data = json.loads(report.to_json())
    assert set(data) == {"errors", "warnings", "stats"}
    for entry in data["errors"] + data["warnings"]:
        assert set(entry) == {"line", "code", "severity", "message", "hint", "field"}
    assert data["errors"][-1]["line"] is None  # too_few_examples is file-level
    assert data["stats"]["n_lines"] == 3


def test_report_renders_as_dataframe_and_html(write_lines: WriteLines) -> None:
    report = validate(write_lines(thirty_lines()))
    df = report.to_dataframe()
    assert list(df.columns) == ["line", "code", "severity", "field", "message", "hint"]
    assert len(df) == 30
    html = report._repr_html_()
    assert "<table>" in html and "invalid_json" in html
    assert "NOT OK" in repr(report)


def test_stats_count_examples_without_system_or_user_and_message_lengths() -> None:
    no_system = {
        "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]
    }
    rows = [good_example(i) for i in range(9)] + [no_system]
    stats = validate(rows).stats
    assert stats["n_examples"] == 10
    assert stats["examples_without_system_message"] == 1
    assert stats["examples_without_user_message"] == 0
    assert stats["messages_per_example"]["distribution"] == {"2": 1, "3": 9}


def test_custom_rule_runs_with_its_code_severity_and_hint() -> None:
    validator = Validator()

    @validator.rule(code="no_modern_words", severity="warning", hint="say 'thee'")
    def _rule(example: Example, ctx: RuleContext) -> Any:
        if "you" in example.messages[-1].text:
            yield Problem("says 'you'", field="messages[-1].content")

    rows = [good_example(i) for i in range(10)]
    rows[2]["messages"][-1]["content"] = "you"
    report = validator.validate(rows)
    assert [(f.line, f.code, f.severity, f.hint) for f in report.findings] == [
        (3, "no_modern_words", Severity.WARNING, "say 'thee'")
    ]


def test_add_rule_with_raw_dicts_and_plain_string_messages() -> None:
    validator = Validator()
    validator.add_rule(
        lambda obj, ctx: ["too many messages"] if len(obj.get("messages", [])) > 2 else [],
        code="short_only",
        hint="keep it short",
        typed=False,
        formats=("chat",),
    )
    report = validator.validate([good_example(i) for i in range(10)])
    assert len([f for f in report.errors if f.code == "short_only"]) == 10


def test_a_crashing_rule_becomes_a_finding_not_a_crash() -> None:
    validator = Validator()
    validator.add_rule(lambda ex, ctx: [1 / 0], code="broken", hint="h")
    report = validator.validate([good_example(i) for i in range(10)])
    assert {f.code for f in report.errors} == {"rule_failed"}
    assert "ZeroDivisionError" in report.errors[0].message


def test_remove_rule_disables_a_builtin_rule() -> None:
    examples = [
        {"messages": [{"role": "user", "content": "x"}]},
        {"messages": [{"role": "wizard", "content": "x"}, {"role": "assistant", "content": "y"}]},
    ]
    before = {f.code for f in Validator().validate(examples).findings}
    assert {"missing_assistant_message", "unknown_role", "too_few_examples"} <= before
    validator = Validator()
    validator.remove_rule("too_few_examples")  # file-level codes are not rules: still reported
    validator.remove_rule("missing_assistant_message")
    after = {f.code for f in validator.validate(examples).findings}
    assert after == before - {"missing_assistant_message"}  # the other rules still run
    assert "missing_assistant_message" in {r.code for r in Validator().rules}  # per validator


def test_globally_registered_rule_applies_to_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation_module, "_GLOBAL_RULES", {})

    @finetune_kit.rule(code="global_check", severity="warning", hint="h")
    def _global(example: Example, ctx: RuleContext) -> Any:
        yield "seen"

    report = validate([good_example(i) for i in range(10)])
    assert len([f for f in report.warnings if f.code == "global_check"]) == 10


def test_entry_point_plugins_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin_rule = Rule("plugin_rule", lambda ex, ctx: ["from plugin"], Severity.WARNING, "hint")

    class FakeEP:
        name = "acme"
        value = "acme:rules"

        def load(self) -> Any:
            return [plugin_rule]

    monkeypatch.setattr(validation_module, "_PLUGINS", None)
    monkeypatch.setattr(
        metadata,
        "entry_points",
        lambda group: [FakeEP()] if group == "finetune_kit.rules" else [],
    )
    report = Validator().validate([good_example(i) for i in range(10)])
    assert {f.code for f in report.warnings} == {"plugin_rule"}
    monkeypatch.setattr(validation_module, "_PLUGINS", None)


def test_bad_rule_code_is_refused() -> None:
    with pytest.raises(finetune_kit.ConfigError):
        Validator().add_rule(lambda ex, ctx: [], code="has space", hint="h")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "role",
                    "content",
                    "weight",
                    "tool_calls",
                    "input",
                    "preferred_output",
                    "non_preferred_output",
                    "type",
                    "text",
                    "image_url",
                    "id",
                    "function",
                    "name",
                    "arguments",
                    "tool_call_id",
                    "tools",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.binary(max_size=60) | JSON_VALUES.map(json.dumps), max_size=12))
def test_no_input_line_crashes_the_validator(lines: list[bytes | str]) -> None:
    raw = [ln if isinstance(ln, bytes) else ln.encode() for ln in lines]
    path = Path(f"/tmp/ftk-fuzz-{id(raw)}.jsonl")
    try:
        path.write_bytes(b"\n".join(r.replace(b"\n", b" ") for r in raw))
        report = validate(path)
    finally:
        path.unlink(missing_ok=True)
    for f in report.findings:
        assert f.code and f.message and f.hint


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda t: t.strip() == t != "")  # blank content is an error of its own
_CONTENT = st.one_of(
    _TEXT,
    st.lists(
        st.fixed_dictionaries({"type": st.just("text"), "text": _TEXT}), min_size=1, max_size=2
    ),
)
_MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": _CONTENT},
    optional={"name": st.from_regex(r"[A-Za-z_]{1,8}", fullmatch=True)},
)
_ANSWER = st.fixed_dictionaries(
    {"role": st.just("assistant"), "content": _CONTENT},
    optional={"weight": st.sampled_from([0, 1])},
)
CLEAN_CHAT = st.builds(
    lambda head, answer: {"messages": [*head, answer]},
    st.lists(_MESSAGE, min_size=1, max_size=4).filter(lambda ms: ms[0]["role"] != "assistant"),
    _ANSWER,
)
"""Chat examples that no raw rule objects to: roles, text parts, names and weights mixed."""


def _probing_validator() -> tuple[Validator, list[Any]]:
    seen: list[Any] = []
    validator = Validator(min_examples=0)
    validator.add_rule(
        lambda example, ctx: seen.append(example) or [], code="typed_probe", hint="h"
    )
    return validator, seen


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=CLEAN_CHAT | JSON_VALUES)
def test_structurally_clean_objects_always_build_typed_models(value: Any) -> None:
    """If no raw rule reports an error, the typed model accepts the example (no schema_error)."""
    validator, seen = _probing_validator()
    report = validator.validate([value])
    assert "schema_error" not in {f.code for f in report.findings}
    if report.ok:  # clean: a typed rule ran on the typed example
        assert len(seen) == 1
        assert [m.role for m in seen[0].messages] == [m["role"] for m in value["messages"]]
    else:
        assert seen == []


@settings(max_examples=50, deadline=None)
@given(value=CLEAN_CHAT)
def test_generated_clean_examples_are_clean(value: dict[str, Any]) -> None:
    """The clean case above does occur: every generated clean example reaches typed rules."""
    validator, seen = _probing_validator()
    report = validator.validate([value])
    assert report.findings == [] or all(f.severity == "warning" for f in report.findings)
    assert len(seen) == 1


# -- the plain fast path -----------------------------------------------------------------------

PLAIN_TEXT = st.sampled_from(
    ["", " ", "\u3000\n", "Hi", "same text", "<|endoftext|>", "café 模型", "a\ud800b"]
) | st.text(max_size=30)
MESSAGE_VALUES = st.one_of(
    st.builds(  # a plain message
        lambda role, content: {"role": role, "content": content},
        st.sampled_from(["system", "developer", "user", "assistant"]),
        PLAIN_TEXT,
    ),
    st.builds(  # anything a little more than plain
        lambda role, content, key, value: {"role": role, "content": content, key: value},
        st.sampled_from(["system", "user", "assistant", "tool", "bot"]),
        PLAIN_TEXT | st.none() | st.integers(),
        st.sampled_from(["weight", "name", "tool_call_id", "tool_calls", "contents"]),
        st.sampled_from([0, 1, 0.5, "x", None, [], [{"id": "c", "type": "function"}]]),
    ),
    st.sampled_from([{"content": "no role"}, {"role": "user"}, "not a message", {"role": 3}]),
)
EXAMPLES = st.one_of(
    st.builds(lambda msgs: {"messages": msgs}, st.lists(MESSAGE_VALUES, max_size=4)),
    st.builds(
        lambda msgs, key: {key: True, "messages": msgs},
        st.lists(MESSAGE_VALUES, min_size=1, max_size=3),
        st.sampled_from(["parallel_tool_calls", "extra"]),
    ),
    JSON_VALUES,
)


def _reordered(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(examples=st.lists(EXAMPLES, max_size=10), repeat=st.lists(st.integers(0, 9), max_size=6))
def test_plain_fast_path_gives_the_findings_of_running_every_rule(
    examples: list[Any], repeat: list[int]
) -> None:
    """Skipping rules and the canonical text on plain examples changes no finding."""
    from unittest import mock

    if examples:  # duplicates, some with their keys in another order
        examples += [_reordered(examples[i % len(examples)]) for i in repeat]
    validator = Validator(pii="off", min_examples=0)
    fast = validator.validate(examples, model="gpt-4o-mini")
    with mock.patch.object(validation_module, "_plain_messages", lambda _obj: None):
        every_rule = validator.validate(examples, model="gpt-4o-mini")
    assert fast.findings == every_rule.findings
    assert fast.stats == every_rule.stats


@settings(max_examples=400, deadline=None)
@given(a=EXAMPLES, b=EXAMPLES, flip=st.booleans())
def test_duplicate_digests_are_equal_exactly_when_canonical_texts_are(
    a: Any, b: Any, flip: bool
) -> None:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return
    if flip:
        b = _reordered(a)
    same_text = validation_module._canonical_text(a) == validation_module._canonical_text(b)
    same_digest = validation_module._example_digest(a) == validation_module._example_digest(b)
    assert same_digest == same_text


def test_plain_examples_are_recognised_by_their_json_value_only() -> None:
    plain = {"messages": [{"content": "Hi", "role": "user"}, {"role": "assistant", "content": ""}]}
    assert validation_module._plain_messages(plain) is not None
    for not_plain in (
        {"messages": []},
        {"messages": [{"role": "tool", "content": "x"}]},
        {"messages": [{"role": "user", "content": "x", "weight": 1}]},
        {"messages": [{"role": "user", "content": None}]},
        {"messages": [{"role": ["user"], "content": "x"}]},
        {"messages": [{"role": "user", "content": "x"}], "tools": []},
    ):
        assert validation_module._plain_messages(not_plain) is None


def test_custom_rules_still_get_the_canonical_text_on_plain_examples() -> None:
    texts: list[str | None] = []
    validator = Validator(min_examples=0)

    @validator.rule(code="sees_text", hint="h", typed=False)
    def sees_text(example: Any, ctx: RuleContext) -> list[str]:
        texts.append(ctx.json_text)
        return []

    validator.validate([good_example(1)])
    assert texts == [validation_module._canonical_text(good_example(1))]
