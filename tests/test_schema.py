from __future__ import annotations

import pytest
from pydantic import ValidationError

from finetune_kit import (
    Example,
    ImagePart,
    Message,
    PreferenceExample,
    TextPart,
    ToolCall,
)


def _chat(*messages: dict[str, object]) -> dict[str, object]:
    return {"messages": list(messages)}


USER = {"role": "user", "content": "Hi"}
ASSISTANT = {"role": "assistant", "content": "Hail!"}


def test_example_round_trips_to_the_wire_format() -> None:
    data = _chat(
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/a.png", "detail": "low"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "look", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
        {"role": "assistant", "content": "A cat.", "weight": 1},
    )
    ex = Example.model_validate(data)
    assert isinstance(ex.messages[1].content, list)
    assert isinstance(ex.messages[1].content[1], ImagePart)
    assert isinstance(ex.messages[2].tool_calls[0], ToolCall)  # type: ignore[index]
    out = ex.to_dict()
    del data["messages"][2]["content"]  # type: ignore[index]
    assert out == data


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Message.model_validate({"role": "user", "content": "x", "contents": "y"})
    with pytest.raises(ValidationError):
        Example.model_validate({"messages": [USER, ASSISTANT], "meta": 1})


def test_tool_call_arguments_must_be_a_json_object_string() -> None:
    with pytest.raises(ValidationError, match="invalid_tool_arguments"):
        ToolCall.model_validate({"id": "c", "function": {"name": "f", "arguments": "[1]"}})
    with pytest.raises(ValidationError, match="not valid JSON"):
        ToolCall.model_validate({"id": "c", "function": {"name": "f", "arguments": "{"}})


def test_weight_is_zero_or_one_and_only_on_assistant_messages() -> None:
    with pytest.raises(ValidationError):
        Message(role="assistant", content="x", weight=2)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="weight_on_non_assistant"):
        Message(role="user", content="x", weight=1)
    assert Message(role="assistant", content="x", weight=0).weight == 0


def test_example_needs_an_assistant_message() -> None:
    with pytest.raises(ValidationError, match="missing_assistant_message"):
        Example.model_validate(_chat(USER))


def test_tool_results_must_answer_a_known_call() -> None:
    data = _chat(
        USER,
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c9", "content": "r"},
        ASSISTANT,
    )
    with pytest.raises(ValidationError, match="unknown_tool_call_id"):
        Example.model_validate(data)


def test_images_are_not_allowed_in_assistant_messages() -> None:
    with pytest.raises(ValidationError, match="image_in_assistant_message"):
        Message(role="assistant", content=[ImagePart(image_url={"url": "https://x/a.png"})])  # type: ignore[arg-type]


def test_preference_example_has_one_assistant_output_each() -> None:
    ok = PreferenceExample.model_validate(
        {
            "input": {"messages": [USER]},
            "preferred_output": [ASSISTANT],
            "non_preferred_output": [{"role": "assistant", "content": "Meh."}],
        }
    )
    assert ok.preferred_output[0].text == "Hail!"
    with pytest.raises(ValidationError):
        PreferenceExample.model_validate(
            {
                "input": {"messages": [USER]},
                "preferred_output": [ASSISTANT, ASSISTANT],
                "non_preferred_output": [ASSISTANT],
            }
        )
    with pytest.raises(ValidationError, match="invalid_preference_output"):
        PreferenceExample.model_validate(
            {
                "input": {"messages": [USER]},
                "preferred_output": [USER],
                "non_preferred_output": [ASSISTANT],
            }
        )


def test_message_text_joins_text_parts() -> None:
    m = Message(role="user", content=[TextPart(text="a"), TextPart(text="b")])
    assert m.text == "a\nb"
    assert (
        Message(
            role="assistant",
            content=None,
            tool_calls=[ToolCall(id="c", function={"name": "f", "arguments": "{}"})],
        ).text
        == ""
    )  # type: ignore[arg-type]
