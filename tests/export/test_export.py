"""Exports to other providers' formats: conversions, fidelity reports and round trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import WriteLines, good_example
from finetune_kit import DataError, Example, PreferenceExample
from finetune_kit.errors import ConfigError
from finetune_kit.export.convert import (
    FIDELITY_KINDS,
    FORMATS,
    ExportFormat,
    FidelityReport,
    check_records,
    export_file,
    from_format,
    get_format,
    register_format,
    to_format,
)

CHAT_FORMATS = [name for name, f in FORMATS.items() if f.input_kind == "chat"]
GEMINI, BEDROCK, HF, MISTRAL = "vertex-gemini", "bedrock-conversation", "hf-messages", "mistral"

SYSTEM = {"role": "system", "content": "Answer as Shakespeare would."}
USER = {"role": "user", "content": "What is overfitting?"}
ANSWER = {"role": "assistant", "content": "A model that learns its lessons too well, sirrah."}
CLEAN: dict[str, Any] = {
    "messages": [
        SYSTEM,
        USER,
        ANSWER,
        {"role": "user", "content": "And underfitting?"},
        {"role": "assistant", "content": "A scholar who never opened the book."},
    ]
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a word up.",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        },
    }
]


def tool_example(call_id: str = "call_abc", arguments: str = '{"q": "tensor"}') -> dict[str, Any]:
    return {
        "messages": [
            USER,
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "lookup", "arguments": arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "a matrix"},
            ANSWER,
        ],
        "tools": TOOLS,
    }


def roundtrip(
    example: dict[str, Any], fmt: str
) -> tuple[dict[str, Any], FidelityReport, FidelityReport]:
    typed = Example.model_validate(example) if fmt != "hf-preference" else None
    source = typed if typed is not None else PreferenceExample.model_validate(example)
    records, out = to_format([source], fmt)
    records = json.loads(json.dumps(records))  # as if written to and read from a file
    back, into = from_format(records, fmt)
    return back[0].to_dict(), out, into


def with_messages(example: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {**copy.deepcopy(example), "messages": messages}


# -- lossless cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", CHAT_FORMATS)
def test_plain_text_conversation_round_trips_losslessly(fmt: str) -> None:
    back, out, into = roundtrip(CLEAN, fmt)
    assert back == CLEAN
    assert out.lossless and out.items == [] and out.findings == []
    assert into.items == []


def test_preference_example_round_trips_through_hf_preference() -> None:
    pref = {
        "input": {"messages": [SYSTEM, USER], "tools": TOOLS},
        "preferred_output": [ANSWER],
        "non_preferred_output": [{"role": "assistant", "content": "It is when a model is bad."}],
    }
    records, report = to_format([PreferenceExample.model_validate(pref)], "hf-preference")
    assert records == [
        {
            "prompt": [SYSTEM, USER],
            "chosen": [ANSWER],
            "rejected": [{"role": "assistant", "content": "It is when a model is bad."}],
            "tools": TOOLS,
        }
    ]
    assert report.lossless and not report.findings
    back, out, _ = roundtrip(pref, "hf-preference")
    assert back == pref and out.items == []


@pytest.mark.parametrize("fmt", [HF, BEDROCK])
def test_tool_calls_round_trip_with_their_ids(fmt: str) -> None:
    back, out, into = roundtrip(tool_example(), fmt)
    assert back == tool_example()
    assert out.lossless and into.items == []


def test_hf_messages_writes_trl_tool_calling_shape() -> None:
    records, _ = to_format([Example.model_validate(tool_example())], HF)
    call, result = records[0]["messages"][1:3]
    assert call["tool_calls"][0]["function"]["arguments"] == {"q": "tensor"}
    assert result == {
        "role": "tool",
        "content": "a matrix",
        "tool_call_id": "call_abc",
        "name": "lookup",
    }
    assert records[0]["tools"] == TOOLS


def test_gemini_writes_function_call_and_response_turns() -> None:
    records, report = to_format([Example.model_validate(tool_example())], GEMINI)
    assert records[0]["contents"] == [
        {"role": "user", "parts": [{"text": "What is overfitting?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "tensor"}}}]},
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "lookup", "response": {"content": "a matrix"}}}
            ],
        },
        {"role": "model", "parts": [{"text": ANSWER["content"]}]},
    ]
    assert records[0]["tools"] == [{"functionDeclarations": [TOOLS[0]["function"]]}]
    assert report.kinds == {"tool_call_id_dropped": 1}
    assert report.findings == []


def test_gemini_round_trip_regenerates_tool_call_ids_and_says_so() -> None:
    back, out, into = roundtrip(tool_example("call_abc"), GEMINI)
    assert back == tool_example("call_1")
    assert out.kinds == {"tool_call_id_dropped": 1}
    assert into.kinds == {"tool_call_id_generated": 1}


def test_mistral_rewrites_tool_call_ids_to_nine_characters_consistently() -> None:
    records, report = to_format([Example.model_validate(tool_example("call_abc"))], MISTRAL)
    msgs = records[0]["messages"]
    new_id = msgs[1]["tool_calls"][0]["id"]
    assert len(new_id) == 9 and new_id.isalnum()
    assert msgs[2]["tool_call_id"] == new_id
    assert report.kinds == {"tool_call_id_rewritten": 1}
    assert report.findings == []
    back, _, _ = roundtrip(tool_example("call_abc"), MISTRAL)
    assert back == tool_example(new_id)


def test_mistral_keeps_ids_that_already_fit() -> None:
    back, out, _ = roundtrip(tool_example("TX92Jm8Zi"), MISTRAL)
    assert back == tool_example("TX92Jm8Zi") and out.items == []


def test_tool_results_followed_by_a_user_message_share_one_user_turn() -> None:
    ex = tool_example()
    ex["messages"].insert(3, {"role": "user", "content": "Use it."})
    records, report = to_format([Example.model_validate(ex)], BEDROCK)
    turn = records[0]["messages"][2]
    assert turn["role"] == "user"
    assert [next(iter(block)) for block in turn["content"]] == ["toolResult", "text"]
    assert report.ok and [f.code for f in report.findings] == ["bedrock_tool_use"]
    for fmt in (BEDROCK, GEMINI):
        back, _, _ = roundtrip(ex, fmt)
        expected = (
            ex if fmt == BEDROCK else json.loads(json.dumps(ex).replace("call_abc", "call_1"))
        )
        assert back == expected


# -- what each target cannot carry: the report lists exactly it --------------------------------


def weight(value: int) -> dict[str, Any]:
    return with_messages(CLEAN, [SYSTEM, USER, {**ANSWER, "weight": value}, *CLEAN["messages"][3:]])


LOSSY: list[tuple[str, dict[str, Any], dict[str, dict[str, int]], dict[str, Any] | None]] = [
    # (case, example, {format: expected kinds (others: lossless)}, expected round trip)
    (
        "weight 0",
        weight(0),
        {
            HF: {"weight_zero_trained": 1},
            GEMINI: {"weight_zero_trained": 1},
            BEDROCK: {"weight_zero_trained": 1},
        },
        CLEAN,
    ),
    (
        "weight 1",
        weight(1),
        {HF: {"weight_dropped": 1}, GEMINI: {"weight_dropped": 1}, BEDROCK: {"weight_dropped": 1}},
        CLEAN,
    ),
    (
        "name",
        with_messages(CLEAN, [SYSTEM, {**USER, "name": "Horatio"}, *CLEAN["messages"][2:]]),
        {f: {"name_dropped": 1} for f in CHAT_FORMATS},
        CLEAN,
    ),
    (
        "developer role",
        with_messages(CLEAN, [{**SYSTEM, "role": "developer"}, *CLEAN["messages"][1:]]),
        {f: {"developer_to_system": 1} for f in CHAT_FORMATS},
        CLEAN,
    ),
    (
        "parallel_tool_calls",
        {**CLEAN, "parallel_tool_calls": False},
        {f: {"parallel_tool_calls_dropped": 1} for f in CHAT_FORMATS},
        CLEAN,
    ),
    (
        "one text part in a list",
        with_messages(
            CLEAN,
            [
                SYSTEM,
                {**USER, "content": [{"type": "text", "text": USER["content"]}]},
                *CLEAN["messages"][2:],
            ],
        ),
        {GEMINI: {"text_parts_as_string": 1}, BEDROCK: {"text_parts_as_string": 1}},
        CLEAN,
    ),
    (
        "system message in two parts",
        with_messages(
            CLEAN,
            [
                {
                    "role": "system",
                    "content": [
                        {"type": "text", "text": "Be brief."},
                        {"type": "text", "text": "Be kind."},
                    ],
                },
                *CLEAN["messages"][1:],
            ],
        ),
        {GEMINI: {"text_parts_joined": 1}, BEDROCK: {"text_parts_joined": 1}},
        with_messages(
            CLEAN, [{"role": "system", "content": "Be brief.\nBe kind."}, *CLEAN["messages"][1:]]
        ),
    ),
    (
        "system message in the middle",
        with_messages(CLEAN, [USER, ANSWER, SYSTEM, *CLEAN["messages"][3:]]),
        {GEMINI: {"system_moved_to_start": 1}, BEDROCK: {"system_moved_to_start": 1}},
        CLEAN,
    ),
]


@pytest.mark.parametrize("fmt", CHAT_FORMATS)
@pytest.mark.parametrize(("case", "example", "kinds", "expected"), LOSSY, ids=[c[0] for c in LOSSY])
def test_round_trip_loses_exactly_what_the_report_lists(
    fmt: str,
    case: str,
    example: dict[str, Any],
    kinds: dict[str, dict[str, int]],
    expected: dict[str, Any] | None,
) -> None:
    back, out, into = roundtrip(example, fmt)
    assert out.kinds == kinds.get(fmt, {}), case
    assert into.items == []
    if fmt in kinds:
        assert back == expected
        assert all(item.lines == (1,) and item.n_examples == 1 for item in out.items)
    else:
        assert back == example and out.lossless


def test_non_canonical_tool_arguments_come_back_reformatted() -> None:
    compact = tool_example(arguments='{"q":"tensor"}')
    for fmt in (HF, GEMINI, BEDROCK):
        back, out, _ = roundtrip(compact, fmt)
        assert "tool_arguments_reformatted" in out.kinds
        assert json.loads(back["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {
            "q": "tensor"
        }
        if fmt != GEMINI:  # Gemini also drops the ids
            assert out.lossless  # same value, only written differently
    back, out, _ = roundtrip(compact, MISTRAL)
    assert "tool_arguments_reformatted" not in out.kinds


def test_strict_flag_is_dropped_by_gemini_and_bedrock_only() -> None:
    ex = tool_example()
    ex["tools"] = [{**TOOLS[0], "function": {**TOOLS[0]["function"], "strict": True}}]
    for fmt in (GEMINI, BEDROCK):
        _, out, _ = roundtrip(ex, fmt)
        assert out.kinds.get("tool_strict_dropped") == 1
    for fmt in (HF, MISTRAL):
        back, out, _ = roundtrip(ex, fmt)
        assert "tool_strict_dropped" not in out.kinds
        assert back["tools"] == ex["tools"]


def test_legacy_function_calling_becomes_tools() -> None:
    legacy = {
        "messages": [
            USER,
            {
                "role": "assistant",
                "function_call": {"name": "lookup", "arguments": '{"q": "tensor"}'},
            },
            {"role": "function", "name": "lookup", "content": "a matrix"},
            ANSWER,
        ],
        "functions": [TOOLS[0]["function"]],
    }
    back, out, _ = roundtrip(legacy, HF)
    assert out.kinds == {"legacy_functions_to_tools": 3}
    assert back == tool_example("call_legacy_1")


IMAGE_URL = "https://example.com/cat.png"


def image_example(url: str, detail: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url}
    if detail:
        image["detail"] = detail
    return {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": image},
                ],
            },
            {"role": "assistant", "content": "A cat, my liege."},
        ]
    }


def test_hf_messages_puts_images_in_an_images_column() -> None:
    records, report = to_format([Example.model_validate(image_example(IMAGE_URL, "low"))], HF)
    assert records[0]["messages"][0]["content"][1] == {"type": "image"}
    assert records[0]["images"] == [IMAGE_URL]
    assert report.kinds == {"image_detail_dropped": 1}
    back, _, _ = roundtrip(image_example(IMAGE_URL, "low"), HF)
    assert back == image_example(IMAGE_URL)


def test_gemini_images_become_file_or_inline_data() -> None:
    records, report = to_format([Example.model_validate(image_example(IMAGE_URL))], GEMINI)
    assert records[0]["contents"][0]["parts"][1] == {
        "fileData": {"mimeType": "image/png", "fileUri": IMAGE_URL}
    }
    assert [f.code for f in report.findings] == ["gemini_file_uri_not_gcs"]
    assert report.ok  # a warning only
    data = "data:image/webp;base64,UklGRg=="
    records, report = to_format([Example.model_validate(image_example(data))], GEMINI)
    assert records[0]["contents"][0]["parts"][1] == {
        "inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}
    }
    for url in ("gs://bucket/cat.png", data):
        back, out, _ = roundtrip(image_example(url), GEMINI)
        assert back == image_example(url) and out.items == []


def test_gemini_assumes_jpeg_when_the_url_does_not_tell() -> None:
    back, out, _ = roundtrip(image_example("gs://bucket/photo"), GEMINI)
    assert out.kinds == {"image_mime_type_assumed": 1}
    assert back == image_example("gs://bucket/photo")


def test_bedrock_keeps_s3_images_and_drops_the_others() -> None:
    back, out, _ = roundtrip(image_example("s3://bucket/cat.png"), BEDROCK)
    assert back == image_example("s3://bucket/cat.png") and out.items == []
    back, out, _ = roundtrip(image_example(IMAGE_URL, "high"), BEDROCK)
    assert out.kinds == {"image_dropped": 1, "text_parts_as_string": 1}
    assert back["messages"][0] == {"role": "user", "content": "What is this?"}


def test_mistral_keeps_images_as_they_are() -> None:
    back, out, _ = roundtrip(image_example(IMAGE_URL, "low"), MISTRAL)
    assert back == image_example(IMAGE_URL, "low") and out.items == []


# -- reports -------------------------------------------------------------------------------------


def test_report_counts_kinds_and_keeps_line_numbers() -> None:
    examples = [
        Example.model_validate(weight(0) if i in (2, 5) else good_example(i)) for i in range(7)
    ]
    _, report = to_format(examples, GEMINI)
    (item,) = report.items
    assert (item.kind, item.action, item.count, item.n_examples, item.lines) == (
        "weight_zero_trained",
        "changed",
        2,
        2,
        (3, 6),
    )
    data = report.to_dict()
    assert data["lossless"] is False
    assert data["fidelity"][0]["lines"] == [3, 6]
    assert set(data) == {
        "format",
        "direction",
        "n_examples",
        "lossless",
        "fidelity",
        "errors",
        "warnings",
    }
    assert "weight_zero_trained" in report._repr_html_()
    assert repr(report).startswith("<FidelityReport vertex-gemini (export): 7 examples")


def test_report_renders_with_rich() -> None:
    from rich.console import Console

    _, report = to_format([Example.model_validate(weight(0))], BEDROCK)
    console = Console(width=200, record=True)
    console.print(report)
    text = console.export_text()
    assert "weight_zero_trained" in text and "changed" in text


def test_every_fidelity_kind_has_an_action_and_a_description() -> None:
    for code, kind in FIDELITY_KINDS.items():
        assert kind.code == code and kind.action in ("dropped", "changed", "reformatted")
        assert kind.description.endswith(".")


def test_wrong_kind_of_example_is_a_data_error_with_its_row() -> None:
    pref = PreferenceExample.model_validate(
        {
            "input": {"messages": [USER]},
            "preferred_output": [ANSWER],
            "non_preferred_output": [ANSWER],
        }
    )
    with pytest.raises(DataError) as info:
        to_format([Example.model_validate(CLEAN), pref], GEMINI)
    assert info.value.line == 2 and "hf-preference" in str(info.value)


def test_dict_examples_are_validated() -> None:
    records, _ = to_format([CLEAN], HF)
    assert records[0]["messages"] == CLEAN["messages"]
    with pytest.raises(DataError) as info:
        to_format([CLEAN, {"messages": [USER]}], HF)
    assert info.value.line == 2


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        get_format("axolotl")
    for name in FORMATS:
        assert name in str(info.value)


def test_from_format_reports_a_bad_record_with_its_row() -> None:
    with pytest.raises(DataError) as info:
        from_format(
            [
                {
                    "contents": [
                        {"role": "user", "parts": [{"text": "Hi"}]},
                        {"role": "model", "parts": [{"text": "Hail"}]},
                    ]
                },
                {"nothing": 1},
            ],
            GEMINI,
        )
    assert info.value.line == 2
    with pytest.raises(DataError, match="valid OpenAI example"):
        from_format([{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}], GEMINI)


def test_from_format_drops_what_openai_cannot_hold_and_says_so() -> None:
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {
                "role": "user",
                "content": [{"text": "Hi"}, {"video": {"format": "mp4", "source": {}}}],
            },
            {"role": "assistant", "content": [{"reasoningContent": {}}, {"text": "Hail"}]},
        ],
    }
    (example,), report = from_format([record], BEDROCK)
    assert report.kinds == {"unsupported_part_dropped": 2}
    assert example.to_dict() == {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hail"}]
    }


def test_from_format_reads_trl_tool_calls_without_ids() -> None:
    record = {
        "messages": [
            USER,
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "type": "function",
                        "function": {"name": "lookup", "arguments": {"q": "tensor"}},
                    }
                ],
            },
            {"role": "tool", "name": "lookup", "content": "a matrix"},
            ANSWER,
        ],
        "tools": TOOLS,
    }
    (example,), report = from_format([record], HF)
    assert example.to_dict() == tool_example("call_1")
    assert report.kinds == {"tool_call_id_generated": 1}


def test_check_records_runs_the_target_rules() -> None:
    findings = check_records([{"contents": []}, FORMATS[GEMINI].rules[0].good], GEMINI)
    assert [(f.line, f.code) for f in findings] == [(1, "gemini_missing_contents")]


def test_register_format_adds_a_target_and_refuses_duplicates() -> None:
    def write(example: dict[str, Any], _notes: Any) -> dict[str, Any]:
        return {"turns": [m["content"] for m in example["messages"]]}

    fmt = ExportFormat(
        "plain-turns", "Plain turns", "chat", "test", (("x", "https://x"),), write, None, ()
    )
    try:
        register_format(fmt)
        records, _ = to_format([CLEAN], "plain-turns")
        assert records[0]["turns"][0] == SYSTEM["content"]
        with pytest.raises(ConfigError):
            register_format(fmt)
        with pytest.raises(ConfigError, match="no way back"):
            from_format(records, "plain-turns")
    finally:
        FORMATS.pop("plain-turns", None)


# -- files ---------------------------------------------------------------------------------------


def test_export_file_streams_and_reports_skipped_lines(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    path = write_lines(
        [good_example(0), "oops", {"messages": [USER]}, "", weight(0), good_example(1)]
    )
    out = tmp_path / "gemini.jsonl"
    report = export_file(path, GEMINI, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == report.n_written == 3 and report.n_lines == 6
    assert [(f.line, f.code) for f in report.skipped] == [
        (2, "invalid_json"),
        (3, "missing_assistant_message"),
        (4, "blank_line"),
    ]
    assert report.skipped_lines == [2, 3, 4]
    assert report.fidelity.items[0].lines == (5,)  # the input file's line numbers
    assert not report.ok
    data = report.to_dict()
    assert data["n_written"] == 3 and data["skipped"][0]["line"] == 2
    assert "invalid_json" in report._repr_html_()


def test_export_file_reports_target_findings_with_input_line_numbers(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    bad = with_messages(CLEAN, [USER, {"role": "user", "content": "again"}, ANSWER])
    path = write_lines([good_example(0), bad])
    report = export_file(path, BEDROCK, tmp_path / "out.jsonl")
    assert [(f.line, f.code) for f in report.fidelity.errors] == [
        (2, "bedrock_roles_not_alternating")
    ]
    assert not report.ok and report.skipped == []


def test_export_file_skips_examples_of_the_other_kind(
    write_lines: WriteLines, tmp_path: Path
) -> None:
    pref = {
        "input": {"messages": [USER]},
        "preferred_output": [ANSWER],
        "non_preferred_output": [ANSWER],
    }
    path = write_lines([good_example(0), pref])
    report = export_file(path, MISTRAL, tmp_path / "out.jsonl")
    assert [(f.line, f.code) for f in report.skipped] == [(2, "wrong_format_for_method")]
    report = export_file(path, "hf-preference", tmp_path / "pref.jsonl")
    assert [(f.line, f.code) for f in report.skipped] == [(1, "wrong_format_for_method")]
    assert report.n_written == 1


def test_export_file_refuses_to_overwrite_its_input(write_lines: WriteLines) -> None:
    path = write_lines([good_example(0)])
    before = path.read_bytes()
    with pytest.raises(DataError, match="overwrite the input"):
        export_file(path, HF, path)
    assert path.read_bytes() == before


def test_export_file_is_atomic(
    write_lines: WriteLines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines([good_example(0), good_example(1)])
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    calls = []

    def failing(example: dict[str, Any], notes: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return FORMATS[HF].write(example, notes)

    broken = ExportFormat("broken", "b", "chat", "b", (("x", "https://x"),), failing, None, ())
    with pytest.raises(RuntimeError):
        export_file(path, broken, out)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_export_file_missing_input_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        export_file(tmp_path / "none.jsonl", HF, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
