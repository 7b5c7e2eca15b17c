"""Typed Pydantic models of OpenAI's fine-tuning data formats.

[`Example`][finetune_kit.Example] is one line of supervised chat data (with tools, tool calls and
per-message ``weight``); [`PreferenceExample`][finetune_kit.PreferenceExample] is one line of
preference (DPO) data. Unknown keys are rejected where the API rejects them, and the rules that
concern a single example (an assistant message to learn from, tool results that answer a known
call) run as model validators, sharing their code with the validation engine.

Examples:
    >>> from finetune_kit import Example, Message
    >>> ex = Example(messages=[Message(role="user", content="Hi"),
    ...                        Message(role="assistant", content="Good morrow!")])
    >>> ex.to_dict()["messages"][1]
    {'role': 'assistant', 'content': 'Good morrow!'}
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from finetune_kit._checks import single_example_errors

__all__ = [
    "ContentPart",
    "Example",
    "FunctionCall",
    "FunctionDefinition",
    "ImagePart",
    "ImageURL",
    "Message",
    "PreferenceExample",
    "PreferenceInput",
    "Role",
    "TextPart",
    "Tool",
    "ToolCall",
]

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
"""The roles a chat message can have (``function`` is the legacy form of ``tool``)."""


class _Wire(BaseModel):
    """Base of every wire model: unknown keys are errors, as the API treats them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict exactly as it goes into the JSONL file."""
        return self.model_dump(mode="json", exclude_none=True)


class TextPart(_Wire):
    """A text content part: ``{"type": "text", "text": ...}``."""

    type: Literal["text"] = "text"
    text: str


class ImageURL(_Wire):
    """The ``image_url`` object of an image content part.

    Attributes:
        url: An ``http(s)`` URL or a ``data:image/...;base64,...`` URL.
        detail: ``auto``, ``low`` or ``high``.
    """

    url: Annotated[str, Field(min_length=1)]
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(_Wire):
    """An image content part (vision fine-tuning): ``{"type": "image_url", ...}``."""

    type: Literal["image_url"] = "image_url"
    image_url: ImageURL


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]
"""A typed content part: text or image, told apart by ``type``."""


class FunctionCall(_Wire):
    """The function a tool call invokes.

    Attributes:
        name: The function's name.
        arguments: The arguments as a JSON *string* that decodes to an object.
    """

    name: Annotated[str, Field(min_length=1)]
    arguments: str

    @field_validator("arguments")
    @classmethod
    def _arguments_are_a_json_object(cls, value: str) -> str:
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PydanticCustomError(
                "invalid_tool_arguments",
                "arguments are not valid JSON: {error}",
                {"error": exc.msg},
            ) from exc
        if not isinstance(decoded, dict):
            raise PydanticCustomError(
                "invalid_tool_arguments", "arguments must encode a JSON object", {}
            )
        return value


class ToolCall(_Wire):
    """One tool call made by an assistant message."""

    id: Annotated[str, Field(min_length=1)]
    type: Literal["function"] = "function"
    function: FunctionCall


class FunctionDefinition(_Wire):
    """A function the model may call: name, description and JSON-Schema parameters."""

    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Wire):
    """A tool offered to the model (``{"type": "function", "function": {...}}``)."""

    type: Literal["function"] = "function"
    function: FunctionDefinition


class Message(_Wire):
    """One chat message.

    Attributes:
        role: Who speaks.
        content: A string, a list of content parts, or ``None`` (assistant messages that only
            call tools).
        name: Optional speaker name.
        tool_calls: Assistant only: the tools it calls.
        tool_call_id: Tool only: the call this message answers.
        function_call: Legacy assistant function call.
        weight: Assistant only: 1 to train on this message, 0 to skip it.
    """

    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCall | None = None
    weight: Literal[0, 1] | None = None

    @property
    def text(self) -> str:
        """The message's text (text parts joined with newlines; empty when there is none)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))

    @model_validator(mode="after")
    def _one_message_rules(self) -> Message:
        _raise_first("message", self.to_dict())
        return self


class _Conversation(_Wire):
    """Fields shared by chat examples and preference inputs."""

    messages: Annotated[list[Message], Field(min_length=1)]
    tools: list[Tool] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionDefinition] | None = None


class Example(_Conversation):
    """One supervised chat example (one line of a chat fine-tuning file).

    Attributes:
        messages: The conversation; at least one assistant message is learned from.
        tools: Tools offered to the model.
        parallel_tool_calls: Whether the model may call several tools at once.
        functions: Legacy function definitions.
    """

    @model_validator(mode="after")
    def _one_example_rules(self) -> Example:
        _raise_first("chat", self.to_dict())
        return self


class PreferenceInput(_Conversation):
    """The prompt side of a preference example: the conversation before the compared answers."""


class PreferenceExample(_Wire):
    """One preference (DPO) example.

    Attributes:
        input: The conversation up to the answer.
        preferred_output: A list with the one assistant message to prefer.
        non_preferred_output: A list with the one assistant message to avoid.
    """

    input: PreferenceInput
    preferred_output: Annotated[list[Message], Field(min_length=1, max_length=1)]
    non_preferred_output: Annotated[list[Message], Field(min_length=1, max_length=1)]

    @model_validator(mode="after")
    def _one_example_rules(self) -> PreferenceExample:
        _raise_first("preference", self.to_dict())
        return self


def _raise_first(scope: str, data: dict[str, Any]) -> None:
    """Run the single-example checks on ``data`` and raise the first error found.

    The checks live in [`finetune_kit._checks`][] so that the schema and the validation rules
    share one implementation.
    """
    for code, field, message in single_example_errors(scope, data):
        raise PydanticCustomError(code, "{field}: {message}", {"field": field, "message": message})
