"""Every finding code has a failing and a passing line (taken from the catalog the docs show)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import WriteLines, good_example
from finetune_kit import RuleContext, Severity, Validator, validate
from finetune_kit._checks import forget_messages
from finetune_kit.validation.rules import BUILTIN_RULES, CATALOG, PLAIN_SILENT
from validation_corpus import LINE_CODES, padding


@pytest.mark.parametrize("code", LINE_CODES)
def test_bad_line_yields_its_code_at_its_line(code: str, write_lines: WriteLines) -> None:
    info = CATALOG[code]
    assert info.bad is not None
    path = write_lines([*padding(code), info.bad])
    model = "gpt-3.5-turbo-0125" if code == "model_lacks_vision" else None  # needs a model
    report = validate(path, model=model)
    at_line = {f.code for f in report.findings if f.line == 10}
    assert code in at_line, report.findings
    for f in report.findings:
        if f.code == code:
            assert f.severity is info.severity
            assert f.hint and f.message


@pytest.mark.parametrize("code", sorted(c for c, i in CATALOG.items() if i.good is not None))
def test_fixed_line_yields_nothing(code: str, write_lines: WriteLines) -> None:
    info = CATALOG[code]
    assert info.good is not None
    path = write_lines([*padding(code), info.good])
    report = validate(path)
    assert report.findings == [], report.findings


def test_every_catalog_code_is_documented_with_severity_and_hint() -> None:
    for code, info in CATALOG.items():
        assert code.replace("_", "").isalnum()
        assert info.description.endswith("."), code
        assert info.hint, code
        assert isinstance(info.severity, Severity)


def test_mixed_formats_flags_the_lines_in_the_minority_format(write_lines: WriteLines) -> None:
    pref = json.loads(CATALOG["missing_input_messages"].good or "{}")
    path = write_lines([*[good_example(i) for i in range(10)], pref])
    report = validate(path)
    assert [(f.line, f.code) for f in report.errors] == [(11, "mixed_formats")]


def test_wrong_format_for_method_says_which_method_expects_what(write_lines: WriteLines) -> None:
    path = write_lines([good_example(i) for i in range(10)])
    report = validate(path, method="dpo")
    assert {f.code for f in report.errors} == {"wrong_format_for_method"}
    assert len(report.errors) == 10
    assert "dpo" in report.errors[0].message


def test_too_few_examples_is_a_file_level_error(write_lines: WriteLines) -> None:
    report = validate(write_lines([good_example(i) for i in range(9)]))
    assert [(f.line, f.code) for f in report.errors] == [(None, "too_few_examples")]
    assert validate(write_lines([good_example(i) for i in range(10)])).ok


def test_duplicate_example_is_a_warning_naming_the_first_copy(write_lines: WriteLines) -> None:
    lines = [good_example(i) for i in range(10)] + [good_example(3)]
    report = validate(write_lines(lines))
    assert report.ok
    assert [(f.line, f.code) for f in report.warnings] == [(11, "duplicate_example")]
    assert "line 4" in report.warnings[0].message


def test_missing_preferred_output_mentions_the_old_name(write_lines: WriteLines) -> None:
    old = {
        "input": {"messages": [{"role": "user", "content": "Hi"}]},
        "preferred_completion": [{"role": "assistant", "content": "Hail"}],
        "non_preferred_output": [{"role": "assistant", "content": "Yo"}],
    }
    report = validate([old])
    msgs = [f.message for f in report.errors if f.code == "missing_preferred_output"]
    assert msgs and "preferred_completion" in msgs[0]


def test_special_tokens_are_found_in_any_string_field() -> None:
    ex = good_example()
    ex["messages"][0]["content"] = "sys <|im_start|>"
    report = validate([ex])
    found = [f for f in report.errors if f.code == "special_token"]
    assert [f.field for f in found] == ["messages[0].content"]


@pytest.mark.parametrize("with_text", [True, False])
def test_special_tokens_are_found_with_and_without_the_engines_json_text(with_text: bool) -> None:
    from finetune_kit.validation.engine import RuleContext, _canonical_text
    from finetune_kit.validation.rules.text import _special_token

    ex = good_example()
    ex["tools"] = [{"type": "function", "function": {"name": "f", "description": "<|endoftext|>"}}]
    ex["note<|x"] = "a key is not text"
    ctx = RuleContext(None, None, None, "chat", None, _canonical_text(ex) if with_text else None)
    fields = [p.field for p in _special_token(ex, ctx)]
    assert fields == ["tools[0].function.description"]
    del ex["tools"]
    ctx = RuleContext(None, None, None, "chat", None, _canonical_text(ex) if with_text else None)
    assert list(_special_token(ex, ctx)) == []


def test_duplicates_of_text_with_lone_surrogates_are_found() -> None:
    ex = good_example()
    ex["messages"][0]["content"] = "broken \ud800 text"
    report = validate([ex, json.loads(json.dumps(ex))])
    assert [f.code for f in report.findings if f.line == 2] == ["duplicate_example"]


def test_vision_models_accept_images(write_lines: WriteLines) -> None:
    bad = CATALOG["model_lacks_vision"].bad
    assert bad is not None
    path = write_lines([*padding("model_lacks_vision"), bad])
    assert "model_lacks_vision" not in {
        f.code for f in validate(path, model="gpt-4o-2024-08-06").findings
    }


PLAIN_MESSAGE = st.builds(
    lambda role, content: {"role": role, "content": content},
    st.sampled_from(["system", "developer", "user", "assistant"]),
    st.sampled_from(["", " \n", "<|endoftext|>", "Hi", "a\ud800b", "data:image/gif;base64,x"])
    | st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(
    messages=st.lists(PLAIN_MESSAGE, min_size=1, max_size=5),
    model=st.sampled_from([None, "gpt-3.5-turbo", "gpt-4o-2024-08-06"]),
)
def test_rules_the_engine_skips_on_plain_examples_find_nothing_there(
    messages: list[dict[str, Any]], model: str | None
) -> None:
    example = {"messages": messages}
    ctx = RuleContext(line=1, model=model, method="supervised", format="chat")
    skipped = [r for r in BUILTIN_RULES if r.code in PLAIN_SILENT]
    assert len(skipped) == len(PLAIN_SILENT)  # every name in the set is a built-in rule
    for rule in skipped:
        assert list(rule.run(example, ctx)) == [], rule.code
    forget_messages()


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u3000", "\x1c", " a ", "\u200b"])
def test_blank_content_means_what_strip_means(text: str) -> None:
    example = {
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": text}]
    }
    codes = {f.code for f in Validator(min_examples=0).validate([example]).findings}
    blank = not text.strip()
    assert ("empty_content" in codes) == blank
    assert ("empty_assistant_message" in codes) == blank
