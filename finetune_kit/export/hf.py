"""Hugging Face TRL formats: conversational (``hf-messages``) and preference (``hf-preference``).

TRL's conversational format is OpenAI's chat format minus the OpenAI-only fields: messages are
``{"role", "content"}``, tool calls carry their ``arguments`` as a JSON *object*, tool messages
carry the function's ``name``, tools go in a ``tools`` column, and images are ``{"type":
"image"}`` placeholders whose data sits, in order, in an ``images`` column.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit.export._common import (
    CallIds,
    ExportFormat,
    arguments_object,
    arguments_string,
    drop_name_and_weight,
    tool_call,
)
from finetune_kit.export.fidelity import Notes
from finetune_kit.export.hf_rules import HF_MESSAGES_RULES, HF_PREFERENCE_RULES

TRL_FORMATS = "https://huggingface.co/docs/trl/dataset_formats"
TRL_TOOLS = "https://huggingface.co/docs/trl/dataset_formats#tool-calling"
TRL_VISION = "https://huggingface.co/docs/trl/dataset_formats#vision-datasets"
TRL_SFT = "https://huggingface.co/docs/trl/sft_trainer"


class _Writer:
    """Converts the messages of one example, collecting its images in order."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self.images: list[str] = []
        self.call_names: dict[str, str] = {}

    def message(self, msg: Mapping[str, Any]) -> dict[str, Any]:
        role = msg["role"]
        out: dict[str, Any] = {"role": role}
        drop_name_and_weight(msg, self.notes)
        content = msg.get("content")
        if isinstance(content, list):
            parts: list[dict[str, Any]] = []
            for part in content:
                if part.get("type") == "image_url":
                    image = part["image_url"]
                    self.images.append(image["url"])
                    if image.get("detail") is not None:
                        self.notes.add("image_detail_dropped")
                    parts.append({"type": "image"})
                else:
                    parts.append({"type": "text", "text": part["text"]})
            out["content"] = parts
        elif content is not None:
            out["content"] = content
        calls = msg.get("tool_calls")
        if calls:
            out["tool_calls"] = []
            for call in calls:
                fn = call["function"]
                self.call_names[call["id"]] = fn["name"]
                args = arguments_object(fn["arguments"], self.notes)
                out["tool_calls"].append(tool_call(call["id"], fn["name"], args))
        if role == "tool":
            call_id = msg.get("tool_call_id")
            if call_id:
                out["tool_call_id"] = call_id
                if call_id in self.call_names:
                    out["name"] = self.call_names[call_id]
        return out

    def columns(self, out: dict[str, Any], tools: Any) -> dict[str, Any]:
        if tools:
            out["tools"] = tools
        if self.images:
            out["images"] = self.images
        return out


def write_messages(example: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """OpenAI chat example -> TRL conversational record."""
    w = _Writer(notes)
    return w.columns(
        {"messages": [w.message(m) for m in example["messages"]]}, example.get("tools")
    )


def write_preference(example: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """OpenAI preference example -> TRL conversational preference record (explicit prompt)."""
    w = _Writer(notes)
    out = {
        "prompt": [w.message(m) for m in example["input"]["messages"]],
        "chosen": [w.message(m) for m in example["preferred_output"]],
        "rejected": [w.message(m) for m in example["non_preferred_output"]],
    }
    return w.columns(out, example["input"].get("tools"))


_KNOWN_MESSAGE_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id", "weight"}


class _Reader:
    """Reads the messages of one TRL record back into OpenAI messages."""

    def __init__(self, record: Mapping[str, Any], notes: Notes) -> None:
        self.notes = notes
        images = record.get("images")
        if images is None and record.get("image") is not None:
            images = [record["image"]]
        self.images: Iterator[Any] = iter(images or [])
        self.ids = CallIds(notes)

    def _image(self, part: Mapping[str, Any]) -> str | None:
        source = next((part[k] for k in ("url", "image", "path") if part.get(k)), None)
        if source is None:
            source = next(self.images, None)
        if isinstance(source, dict):
            source = source.get("path") or source.get("url")
        return source if isinstance(source, str) else None

    def message(self, msg: Mapping[str, Any]) -> dict[str, Any]:
        role = msg.get("role")
        out: dict[str, Any] = {"role": role}
        content = msg.get("content")
        if isinstance(content, list):
            parts: list[dict[str, Any]] = []
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                url = self._image(part) if kind == "image" and isinstance(part, dict) else None
                if kind == "text" and isinstance(part, dict):
                    parts.append({"type": "text", "text": part.get("text", "")})
                elif url is not None:
                    parts.append({"type": "image_url", "image_url": {"url": url}})
                else:
                    self.notes.add("unsupported_part_dropped")
            out["content"] = parts
        elif content is not None:
            out["content"] = content
        if msg.get("tool_calls"):
            out["tool_calls"] = []
            for call in msg["tool_calls"]:
                fn = call["function"]
                args = fn.get("arguments")
                call_id = self.ids.call(fn["name"], call.get("id"))
                text = args if isinstance(args, str) else arguments_string(args)
                out["tool_calls"].append(tool_call(call_id, fn["name"], text))
        name = msg.get("name")
        if role == "tool":
            call_id = self.ids.answer(msg.get("tool_call_id"), name)
            out["tool_call_id"] = call_id
            if name is not None and name == self.ids.names.get(call_id):
                name = None
        if name is not None:
            out["name"] = name
        if msg.get("weight") is not None:
            out["weight"] = msg["weight"]
        if any(k not in _KNOWN_MESSAGE_KEYS for k in msg):
            self.notes.add("unsupported_part_dropped")
        return out


def _column(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if not isinstance(value, list):
        raise ValueError(f"`{key}` must be a list of messages (the conversational form)")
    return value


def read_messages(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """TRL conversational record -> OpenAI chat example."""
    r = _Reader(record, notes)
    out: dict[str, Any] = {"messages": [r.message(m) for m in _column(record, "messages")]}
    if record.get("tools"):
        out["tools"] = record["tools"]
    return out


def read_preference(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """TRL conversational preference record -> OpenAI preference example."""
    r = _Reader(record, notes)
    conversation: dict[str, Any] = {"messages": [r.message(m) for m in _column(record, "prompt")]}
    if record.get("tools"):
        conversation["tools"] = record["tools"]
    return {
        "input": conversation,
        "preferred_output": [r.message(m) for m in _column(record, "chosen")],
        "non_preferred_output": [r.message(m) for m in _column(record, "rejected")],
    }


_NOTES = (
    (
        "role/content messages, system messages in place, tools and tool calls (arguments as "
        "objects, ids kept), images as placeholders plus an `images` column of URLs"
    ),
)

HF_MESSAGES = ExportFormat(
    name="hf-messages",
    title="Hugging Face datasets / TRL (conversational)",
    input_kind="chat",
    summary="TRL SFTTrainer conversational data: `messages` (+ `tools`, `images`).",
    sources=(
        ("TRL: Dataset formats and types", TRL_FORMATS),
        ("TRL: Tool calling datasets", TRL_TOOLS),
        ("TRL: Vision datasets", TRL_VISION),
        ("TRL: SFT Trainer", TRL_SFT),
    ),
    write=write_messages,
    read=read_messages,
    rules=HF_MESSAGES_RULES,
    keeps=_NOTES,
)

HF_PREFERENCE = ExportFormat(
    name="hf-preference",
    title="Hugging Face datasets / TRL (preference, explicit prompt)",
    input_kind="preference",
    summary="TRL DPOTrainer conversational preference data: `prompt`, `chosen`, `rejected`.",
    sources=(
        ("TRL: Dataset formats and types (preference)", TRL_FORMATS + "#preference"),
        ("TRL: Tool calling datasets", TRL_TOOLS),
    ),
    write=write_preference,
    read=read_preference,
    rules=HF_PREFERENCE_RULES,
    keeps=_NOTES,
)
