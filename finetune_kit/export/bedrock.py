"""Amazon Bedrock conversational fine-tuning data (``bedrock-conversation``).

A record is ``{"schemaVersion": "bedrock-conversation-2024", "system": [{"text"}], "messages":
[{"role": "user" | "assistant", "content": [blocks]}]}`` in the shape of the Converse API.
Images must be in Amazon S3 (``image.source.s3Location.uri``); tool calls become ``toolUse``
blocks, tool results ``toolResult`` blocks in the next user turn, tools a ``toolConfig``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from finetune_kit.export._common import (
    CallIds,
    ExportFormat,
    arguments_object,
    arguments_string,
    assistant_message,
    back_to_content,
    data_url,
    drop_name_and_weight,
    image_mime_type,
    joined_text,
    note_list_shape,
    text_parts,
    tool_call,
)
from finetune_kit.export.bedrock_rules import RULES, SCHEMA_VERSION
from finetune_kit.export.fidelity import Notes

BEDROCK_TEXT = "https://docs.aws.amazon.com/bedrock/latest/userguide/preparing-text-data.html"
NOVA_PREPARE = (
    "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html"
)
NOVA2_SFT = "https://docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html"
CONVERSE = "https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html"


def _image(image: Mapping[str, Any], notes: Notes) -> dict[str, Any] | None:
    url: str = image["url"]
    if not url.startswith("s3://"):
        notes.add("image_dropped")
        return None
    if image.get("detail") is not None:
        notes.add("image_detail_dropped")
    mime = image_mime_type(url)
    if mime not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        notes.add("image_mime_type_assumed")
        mime = "image/jpeg"
    return {"image": {"format": mime.split("/")[1], "source": {"s3Location": {"uri": url}}}}


def _user_blocks(content: Any, notes: Notes) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    carried: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = (
        [{"type": "text", "text": content}] if isinstance(content, str) else content
    )
    for part in items:
        if part["type"] == "text":
            blocks.append({"text": part["text"]})
            carried.append(part)
        else:
            block = _image(part["image_url"], notes)
            if block is not None:
                blocks.append(block)
                carried.append(part)
    note_list_shape(content, carried, notes)
    return blocks or [{"text": ""}]


def _text_blocks(content: Any, notes: Notes) -> list[dict[str, Any]]:
    texts = text_parts(content)
    note_list_shape(content, [{"type": "text", "text": t} for t in texts], notes)
    return [{"text": t} for t in texts]


def _tool_spec(tool: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    fn = tool["function"]
    if fn.get("strict") is not None:
        notes.add("tool_strict_dropped")
    spec: dict[str, Any] = {"name": fn["name"]}
    if fn.get("description") is not None:
        spec["description"] = fn["description"]
    if fn.get("parameters") is not None:
        spec["inputSchema"] = {"json": fn["parameters"]}
    return {"toolSpec": spec}


def write(example: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """OpenAI chat example -> Bedrock conversation record."""
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    started = False
    results_open = False  # the last user turn holds tool results; one user message may join it
    for msg in example["messages"]:
        role, content = msg["role"], msg.get("content")
        drop_name_and_weight(msg, notes)
        if role == "system":
            if started:
                notes.add("system_moved_to_start")
            system.append({"text": joined_text(content, notes)})
            continue
        started = True
        if role in ("tool", "user"):
            if role == "tool":
                result = {"toolUseId": msg["tool_call_id"], "content": _text_blocks(content, notes)}
                blocks = [{"toolResult": result}]
            else:
                blocks = _user_blocks(content, notes)
            if results_open:
                messages[-1]["content"].extend(blocks)
            else:
                messages.append({"role": "user", "content": blocks})
            results_open = role == "tool"
            continue
        blocks = _text_blocks(content, notes)
        for call in msg.get("tool_calls") or []:
            fn = call["function"]
            args = arguments_object(fn["arguments"], notes)
            blocks.append({"toolUse": {"toolUseId": call["id"], "name": fn["name"], "input": args}})
        messages.append({"role": "assistant", "content": blocks})
        results_open = False
    out: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION}
    if system:
        out["system"] = system
    out["messages"] = messages
    if example.get("tools"):
        out["toolConfig"] = {"tools": [_tool_spec(t, notes) for t in example["tools"]]}
    return out


def _read_image(image: Mapping[str, Any], notes: Notes) -> dict[str, Any] | None:
    source = image.get("source") or {}
    if isinstance(source.get("s3Location"), dict):
        url = source["s3Location"]["uri"]
    elif isinstance(source.get("bytes"), str):
        url = data_url(f"image/{image.get('format', 'jpeg')}", source["bytes"])
    else:
        notes.add("unsupported_part_dropped")
        return None
    return {"type": "image_url", "image_url": {"url": url}}


def _result_content(blocks: Any, notes: Notes) -> str | list[Any] | None:
    parts: list[dict[str, Any]] = []
    for block in blocks or []:
        if "text" in block:
            parts.append({"type": "text", "text": block["text"]})
        elif "json" in block:
            parts.append({"type": "text", "text": json.dumps(block["json"], ensure_ascii=False)})
        else:
            notes.add("unsupported_part_dropped")
    return back_to_content(parts, empty="")


def read(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Bedrock conversation record -> OpenAI chat example."""
    messages: list[dict[str, Any]] = []
    for block in record.get("system") or []:
        if "text" in block:
            messages.append({"role": "system", "content": block["text"]})
        else:
            notes.add("unsupported_part_dropped")
    ids = CallIds(notes)
    for turn in record["messages"]:
        blocks = turn["content"]
        if turn.get("role") == "assistant":
            texts: list[dict[str, Any]] = []
            calls: list[dict[str, Any]] = []
            for block in blocks:
                if "text" in block:
                    texts.append({"type": "text", "text": block["text"]})
                elif "toolUse" in block:
                    use = block["toolUse"]
                    call_id = ids.call(use["name"], use.get("toolUseId"))
                    args = arguments_string(use.get("input"))
                    calls.append(tool_call(call_id, use["name"], args))
                else:
                    notes.add("unsupported_part_dropped")
            messages.append(assistant_message(texts, calls))
            continue
        rest: list[dict[str, Any]] = []
        answered = False
        for block in blocks:
            if "toolResult" in block:
                result = block["toolResult"]
                call_id = ids.answer(result.get("toolUseId"), None)
                content = _result_content(result.get("content"), notes)
                messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
                answered = True
            elif "text" in block:
                rest.append({"type": "text", "text": block["text"]})
            elif "image" in block:
                image = _read_image(block["image"], notes)
                if image is not None:
                    rest.append(image)
            else:
                notes.add("unsupported_part_dropped")
        if rest or not answered:
            messages.append({"role": "user", "content": back_to_content(rest, empty="")})
    out: dict[str, Any] = {"messages": messages}
    specs = [t["toolSpec"] for t in (record.get("toolConfig") or {}).get("tools") or []]
    if specs:
        out["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": s["name"],
                    **({"description": s["description"]} if "description" in s else {}),
                    **({"parameters": s["inputSchema"]["json"]} if "inputSchema" in s else {}),
                },
            }
            for s in specs
        ]
    return out


FORMAT = ExportFormat(
    name="bedrock-conversation",
    title="Amazon Bedrock conversational fine-tuning (Converse format)",
    input_kind="chat",
    summary="Bedrock fine-tuning JSONL in the Converse shape: `schemaVersion`, `system`, "
    "`messages`.",
    sources=(
        ("Amazon Bedrock: Prepare data for fine-tuning text-to-text models", BEDROCK_TEXT),
        ("Amazon Nova: Preparing data for fine-tuning Understanding models", NOVA_PREPARE),
        ("Amazon Bedrock: Supervised fine-tuning on Amazon Nova 2.0", NOVA2_SFT),
        ("Amazon Bedrock: Using the Converse API (content blocks)", CONVERSE),
    ),
    write=write,
    read=read,
    rules=RULES,
    keeps=(
        (
            "system messages as `system` blocks, user/assistant turns of text blocks, tool calls "
            "as toolUse/toolResult (ids kept), tools as toolConfig, images only from s3:// URIs"
        ),
    ),
)
