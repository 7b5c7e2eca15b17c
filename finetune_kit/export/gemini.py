"""Google Vertex AI Gemini supervised tuning data (``vertex-gemini``).

A record is ``{"systemInstruction": {"role", "parts": [{"text"}]}, "contents": [{"role":
"user" | "model", "parts": [...]}], "tools": [{"functionDeclarations": [...]}]}``. Assistant
turns are ``model`` turns; tool calls are ``functionCall`` parts (no ids); tool results are
``functionResponse`` parts in the next ``user`` turn; images are ``fileData`` (by URI) or
``inlineData`` (base64) parts.
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
    split_data_url,
    text_parts,
    tool_call,
)
from finetune_kit.export.fidelity import Notes
from finetune_kit.export.gemini_rules import RULES

VERTEX_PREPARE = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare"
)
VERTEX_ABOUT = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning"
)
VERTEX_FUNCTIONS = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/function-calling"
)


def _image(image: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    if image.get("detail") is not None:
        notes.add("image_detail_dropped")
    url: str = image["url"]
    inline = split_data_url(url)
    if inline is not None:
        mime, data = inline
        if data_url(mime, data) != url:
            notes.add("data_url_reformatted")
        return {"inlineData": {"mimeType": mime, "data": data}}
    mime_type = image_mime_type(url)
    if mime_type is None:
        notes.add("image_mime_type_assumed")
        mime_type = "image/jpeg"
    return {"fileData": {"mimeType": mime_type, "fileUri": url}}


def _user_parts(content: Any, notes: Notes) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    carried: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = (
        [{"type": "text", "text": content}] if isinstance(content, str) else content
    )
    for part in items:
        if part["type"] == "text":
            parts.append({"text": part["text"]})
        else:
            parts.append(_image(part["image_url"], notes))
        carried.append(part)
    note_list_shape(content, carried, notes)
    return parts or [{"text": ""}]


def _declaration(tool: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    fn = tool["function"]
    if fn.get("strict") is not None:
        notes.add("tool_strict_dropped")
    return {k: fn[k] for k in ("name", "description", "parameters") if fn.get(k) is not None}


def write(example: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """OpenAI chat example -> Gemini tuning record."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
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
        if role == "tool":
            name = call_names.get(msg.get("tool_call_id") or "", "")
            part = {
                "functionResponse": {
                    "name": name,
                    "response": {"content": joined_text(content, notes)},
                }
            }
            if results_open:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
                results_open = True
        elif role == "user":
            parts = _user_parts(content, notes)
            if results_open:
                contents[-1]["parts"].extend(parts)
            else:
                contents.append({"role": "user", "parts": parts})
            results_open = False
        else:
            texts = text_parts(content)
            note_list_shape(content, [{"type": "text", "text": t} for t in texts], notes)
            parts = [{"text": t} for t in texts]
            for call in msg.get("tool_calls") or []:
                fn = call["function"]
                call_names[call["id"]] = fn["name"]
                notes.add("tool_call_id_dropped")
                args = arguments_object(fn["arguments"], notes)
                parts.append({"functionCall": {"name": fn["name"], "args": args}})
            contents.append({"role": "model", "parts": parts})
            results_open = False
    out: dict[str, Any] = {}
    if system:
        out["systemInstruction"] = {"role": "system", "parts": system}
    out["contents"] = contents
    if example.get("tools"):
        decls = [_declaration(t, notes) for t in example["tools"]]
        out["tools"] = [{"functionDeclarations": decls}]
    return out


def _response_text(response: Any) -> str:
    if isinstance(response, dict) and set(response) == {"content"}:
        inner = response["content"]
        if isinstance(inner, str):
            return inner
    return json.dumps(response, ensure_ascii=False)


def _file(part: Mapping[str, Any], notes: Notes) -> dict[str, Any] | None:
    if "fileData" in part:
        fd = part["fileData"]
        if str(fd.get("mimeType", "image/")).startswith("image/"):
            return {"type": "image_url", "image_url": {"url": fd["fileUri"]}}
    elif "inlineData" in part:
        inline = part["inlineData"]
        if str(inline.get("mimeType", "")).startswith("image/"):
            url = data_url(inline["mimeType"], inline["data"])
            return {"type": "image_url", "image_url": {"url": url}}
    notes.add("unsupported_part_dropped")
    return None


def read(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Gemini tuning record -> OpenAI chat example."""
    messages: list[dict[str, Any]] = []
    system = record.get("systemInstruction")
    if isinstance(system, dict):
        for part in system.get("parts") or []:
            if "text" in part:
                messages.append({"role": "system", "content": part["text"]})
            else:
                notes.add("unsupported_part_dropped")
    ids = CallIds(notes)
    for turn in record["contents"]:
        parts = turn["parts"]
        if turn.get("role") == "model":
            texts: list[dict[str, Any]] = []
            calls: list[dict[str, Any]] = []
            for part in parts:
                if "text" in part:
                    texts.append({"type": "text", "text": part["text"]})
                elif "functionCall" in part:
                    fc = part["functionCall"]
                    call_id = ids.call(fc["name"], fc.get("id"))
                    calls.append(tool_call(call_id, fc["name"], arguments_string(fc.get("args"))))
                else:
                    notes.add("unsupported_part_dropped")
            messages.append(assistant_message(texts, calls))
            continue
        rest: list[dict[str, Any]] = []
        answered = False
        for part in parts:
            if "functionResponse" in part:
                fr = part["functionResponse"]
                call_id = ids.answer(fr.get("id"), fr.get("name"))
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call_id,
                        "content": _response_text(fr.get("response")),
                    }
                )
                answered = True
            elif "text" in part:
                rest.append({"type": "text", "text": part["text"]})
            else:
                image = _file(part, notes)
                if image is not None:
                    rest.append(image)
        if rest or not answered:
            messages.append({"role": "user", "content": back_to_content(rest, empty="")})
    out: dict[str, Any] = {"messages": messages}
    tools = [
        {"type": "function", "function": decl}
        for group in record.get("tools") or []
        for decl in group.get("functionDeclarations") or []
    ]
    if tools:
        out["tools"] = tools
    return out


FORMAT = ExportFormat(
    name="vertex-gemini",
    title="Google Vertex AI Gemini supervised tuning",
    input_kind="chat",
    summary="Vertex AI supervised fine-tuning for Gemini: `systemInstruction` + `contents`.",
    sources=(
        ("Vertex AI: Prepare supervised fine-tuning data for Gemini models", VERTEX_PREPARE),
        ("Vertex AI: About supervised fine-tuning for Gemini models", VERTEX_ABOUT),
        ("Vertex AI: Function calling (functionCall / functionResponse parts)", VERTEX_FUNCTIONS),
    ),
    write=write,
    read=read,
    rules=RULES,
    keeps=(
        (
            "system messages as systemInstruction, user/model turns, tool calls as "
            "functionCall/functionResponse (no ids), images as fileData/inlineData, tools as "
            "functionDeclarations"
        ),
    ),
)
