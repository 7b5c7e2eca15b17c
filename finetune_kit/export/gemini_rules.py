"""Vertex AI's documented rules for Gemini supervised tuning data (``vertex-gemini``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit.export._common import TargetRule, alternation_problems, dicts
from finetune_kit.validation.engine import Problem, Severity

_PART_KEYS = ("text", "fileData", "inlineData", "functionCall", "functionResponse")


def _turns(record: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return dicts(record.get("contents"))


def _missing_contents(record: Mapping[str, Any]) -> Iterator[Problem]:
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        yield Problem("`contents` is missing, empty or not a list", "contents")
    else:
        for i, turn in enumerate(contents):
            if not isinstance(turn, dict):
                yield Problem("a turn is not an object", f"contents[{i}]")


def _invalid_role(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, turn in _turns(record):
        if turn.get("role") not in ("user", "model"):
            yield Problem(f"role is {turn.get('role')!r}; use user or model", f"contents[{i}].role")


def _first_user(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from alternation_problems(_turns(record), "contents", "user", "model")[0]


def _last_model(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from alternation_problems(_turns(record), "contents", "user", "model")[1]


def _alternating(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from alternation_problems(_turns(record), "contents", "user", "model")[2]


def _invalid_part(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, turn in _turns(record):
        parts = turn.get("parts")
        if not isinstance(parts, list) or not parts:
            yield Problem("`parts` is missing, empty or not a list", f"contents[{i}].parts")
            continue
        for j, part in enumerate(parts):
            keys = [k for k in _PART_KEYS if isinstance(part, dict) and k in part]
            if len(keys) != 1:
                yield Problem(
                    "a part must hold exactly one of " + ", ".join(_PART_KEYS),
                    f"contents[{i}].parts[{j}]",
                )


def _function_turns(record: Mapping[str, Any]) -> Iterator[Problem]:
    turns = _turns(record)
    for n, (i, turn) in enumerate(turns):
        parts = dicts(turn.get("parts"))
        calls = [
            p["functionCall"].get("name")
            for _, p in parts
            if isinstance(p.get("functionCall"), dict)
        ]
        answers = [
            p["functionResponse"].get("name")
            for _, p in parts
            if isinstance(p.get("functionResponse"), dict)
        ]
        role = turn.get("role")
        if calls and role != "model":
            yield Problem("functionCall parts belong in model turns", f"contents[{i}]")
        if answers and role != "user":
            yield Problem("functionResponse parts belong in user turns", f"contents[{i}]")
        if role == "model" and calls:
            nxt = turns[n + 1][1] if n + 1 < len(turns) else None
            got = [
                p["functionResponse"].get("name")
                for _, p in dicts(nxt.get("parts") if nxt else None)
                if isinstance(p.get("functionResponse"), dict)
            ]
            if nxt is not None and sorted(got) != sorted(calls):
                yield Problem(
                    f"the model calls {calls} but the next turn answers {got}",
                    f"contents[{turns[n + 1][0]}]",
                )


def _file_uri(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, turn in _turns(record):
        for j, part in dicts(turn.get("parts")):
            fd = part.get("fileData")
            if isinstance(fd, dict) and not str(fd.get("fileUri", "")).startswith("gs://"):
                yield Problem(
                    f"fileUri {str(fd.get('fileUri'))[:60]!r} is not a Cloud Storage URI",
                    f"contents[{i}].parts[{j}].fileData.fileUri",
                )


def _system_instruction(record: Mapping[str, Any]) -> Iterator[Problem]:
    if "systemInstruction" not in record:
        return
    system = record["systemInstruction"]
    parts = system.get("parts") if isinstance(system, dict) else None
    if not isinstance(parts, list) or not parts:
        yield Problem("systemInstruction needs a non-empty `parts` list", "systemInstruction")
        return
    for j, part in enumerate(parts):
        if not isinstance(part, dict) or set(part) != {"text"} or not isinstance(part["text"], str):
            yield Problem("systemInstruction parts are text only", f"systemInstruction.parts[{j}]")


_U = {"role": "user", "parts": [{"text": "What is a tensor?"}]}
_M = {"role": "model", "parts": [{"text": "A matrix grown ambitious, good sir."}]}
_GOOD: dict[str, Any] = {
    "systemInstruction": {"role": "system", "parts": [{"text": "Answer as Shakespeare would."}]},
    "contents": [_U, _M],
}
_CALL = {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "x"}}}]}
_ANSWER = {
    "role": "user",
    "parts": [{"functionResponse": {"name": "lookup", "response": {"content": "found"}}}],
}

E, W = Severity.ERROR, Severity.WARNING

RULES: tuple[TargetRule, ...] = (
    TargetRule(
        "gemini_missing_contents",
        E,
        "A tuning example has a non-empty `contents` list of turns.",
        'put the conversation in "contents": [{"role": "user", "parts": [...]}, ...]',
        _missing_contents,
        bad={"messages": [{"role": "user", "content": "Hi"}]},
        good=_GOOD,
    ),
    TargetRule(
        "gemini_invalid_role",
        E,
        "A turn's role is `user` or `model` (Gemini calls the assistant `model`).",
        "use role user for the person and model for the answers",
        _invalid_role,
        bad={"contents": [_U, {**_M, "role": "assistant"}]},
        good=_GOOD,
    ),
    TargetRule(
        "gemini_first_turn_not_user",
        E,
        "The conversation starts with a user turn.",
        "start with the user's turn (system text goes in systemInstruction)",
        _first_user,
        bad={"contents": [_M, _U, _M]},
        good=_GOOD,
    ),
    TargetRule(
        "gemini_last_turn_not_model",
        E,
        "The conversation ends with the model's turn, the answer to learn.",
        "end the example with the model's answer",
        _last_model,
        bad={"contents": [_U, _M, _U]},
        good=_GOOD,
    ),
    TargetRule(
        "gemini_roles_not_alternating",
        E,
        "User and model turns alternate (tool results go in the user turn after the call).",
        "merge consecutive turns of the same role into one turn with several parts",
        _alternating,
        bad={"contents": [_U, _U, _M]},
        good=_GOOD,
    ),
    TargetRule(
        "gemini_invalid_part",
        E,
        "Every turn has a non-empty `parts` list; each part holds exactly one of text, "
        "fileData, inlineData, functionCall or functionResponse.",
        'write parts like {"text": "..."} or {"fileData": {"mimeType": ..., "fileUri": ...}}',
        _invalid_part,
        bad={"contents": [{"role": "user", "parts": []}, _M]},
        good=_GOOD,
    ),
    TargetRule(
        "gemini_function_response_mismatch",
        E,
        "A model turn's functionCall parts are answered by functionResponse parts (same "
        "names) in the next user turn.",
        "answer every call in the user turn that follows it",
        _function_turns,
        bad={"contents": [_U, _CALL, _U, _M]},
        good={"contents": [_U, _CALL, _ANSWER, _M]},
    ),
    TargetRule(
        "gemini_file_uri_not_gcs",
        W,
        "Tuning data reads files from Cloud Storage: fileData.fileUri should be a gs:// URI.",
        "copy the file to a Cloud Storage bucket and use its gs:// URI",
        _file_uri,
        bad={
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {
                            "fileData": {
                                "mimeType": "image/png",
                                "fileUri": "https://example.com/a.png",
                            }
                        }
                    ],
                },
                _M,
            ]
        },
        good={
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/a.png"}}
                    ],
                },
                _M,
            ]
        },
    ),
    TargetRule(
        "gemini_invalid_system_instruction",
        E,
        "`systemInstruction` is a Content whose parts are text only.",
        'write it as {"role": "system", "parts": [{"text": "..."}]}',
        _system_instruction,
        bad={"systemInstruction": "Answer as Shakespeare would.", "contents": [_U, _M]},
        good=_GOOD,
    ),
)
