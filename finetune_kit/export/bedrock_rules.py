"""Amazon Bedrock's documented rules for conversational fine-tuning data."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit.export._common import TargetRule, alternation_problems, dicts
from finetune_kit.validation.engine import Problem, Severity

SCHEMA_VERSION = "bedrock-conversation-2024"
"""The schema version Bedrock's conversational format names."""


_BLOCK_KEYS = ("text", "image", "video", "document", "toolUse", "toolResult", "reasoningContent")


def _turns(record: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return dicts(record.get("messages"))


def _schema_version(record: Mapping[str, Any]) -> Iterator[Problem]:
    version = record.get("schemaVersion")
    if version != SCHEMA_VERSION:
        yield Problem(f"schemaVersion is {version!r}, not {SCHEMA_VERSION!r}", "schemaVersion")


def _missing_messages(record: Mapping[str, Any]) -> Iterator[Problem]:
    value = record.get("messages")
    if not isinstance(value, list) or not value:
        yield Problem("`messages` is missing, empty or not a list", "messages")


def _invalid_role(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, turn in _turns(record):
        if turn.get("role") not in ("user", "assistant"):
            yield Problem(
                f"role is {turn.get('role')!r}; use user or assistant", f"messages[{i}].role"
            )


def _first_user(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from alternation_problems(_turns(record), "messages", "user", "assistant")[0]


def _last_assistant(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from alternation_problems(_turns(record), "messages", "user", "assistant")[1]


def _alternating(record: Mapping[str, Any]) -> Iterator[Problem]:
    yield from alternation_problems(_turns(record), "messages", "user", "assistant")[2]


def _invalid_content(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, turn in _turns(record):
        blocks = turn.get("content")
        if not isinstance(blocks, list) or not blocks:
            yield Problem("`content` must be a non-empty list of blocks", f"messages[{i}].content")
            continue
        for j, block in enumerate(blocks):
            keys = [k for k in _BLOCK_KEYS if isinstance(block, dict) and k in block]
            if len(keys) != 1:
                yield Problem(
                    "a block must hold exactly one of " + ", ".join(_BLOCK_KEYS),
                    f"messages[{i}].content[{j}]",
                )


def _image_s3(record: Mapping[str, Any]) -> Iterator[Problem]:
    for i, turn in _turns(record):
        for j, block in dicts(turn.get("content")):
            for key in ("image", "video"):
                media = block.get(key)
                if not isinstance(media, dict):
                    continue
                location = (media.get("source") or {}).get("s3Location") or {}
                if not str(location.get("uri", "")).startswith("s3://"):
                    yield Problem(
                        f"the {key} is not referenced by an S3 URI",
                        f"messages[{i}].content[{j}].{key}.source",
                    )


def _system(record: Mapping[str, Any]) -> Iterator[Problem]:
    if "system" not in record:
        return
    system = record["system"]
    if not isinstance(system, list):
        yield Problem('`system` must be a list of {"text": ...} blocks', "system")
        return
    for j, block in enumerate(system):
        if not isinstance(block, dict) or not isinstance(block.get("text"), str):
            yield Problem('system blocks are {"text": ...}', f"system[{j}]")


def _tool_use(record: Mapping[str, Any]) -> Iterator[Problem]:
    if record.get("toolConfig"):
        yield Problem("the record has a toolConfig", "toolConfig")
        return
    for i, turn in _turns(record):
        for j, block in dicts(turn.get("content")):
            if "toolUse" in block or "toolResult" in block:
                yield Problem("the record uses tools", f"messages[{i}].content[{j}]")
                return


_U = {"role": "user", "content": [{"text": "What is a tensor?"}]}
_A = {"role": "assistant", "content": [{"text": "A matrix grown ambitious, good sir."}]}
_GOOD: dict[str, Any] = {
    "schemaVersion": SCHEMA_VERSION,
    "system": [{"text": "Answer as Shakespeare would."}],
    "messages": [_U, _A],
}

E, W = Severity.ERROR, Severity.WARNING

RULES: tuple[TargetRule, ...] = (
    TargetRule(
        "bedrock_schema_version",
        W,
        f'Records carry "schemaVersion": "{SCHEMA_VERSION}" (Amazon Nova accepts any string).',
        f'add "schemaVersion": "{SCHEMA_VERSION}"',
        _schema_version,
        bad={"messages": [_U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_missing_messages",
        E,
        "A record has a non-empty `messages` list.",
        'put the conversation in "messages": [{"role": "user", "content": [{"text": ...}]}, ...]',
        _missing_messages,
        bad={"schemaVersion": SCHEMA_VERSION, "system": [{"text": "Be brief."}]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_invalid_role",
        E,
        "Roles are `user` and `assistant` (system text goes in `system`).",
        "use role user or assistant; move system text to the top-level system list",
        _invalid_role,
        bad={**_GOOD, "messages": [{"role": "system", "content": [{"text": "Be brief."}]}, _U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_first_turn_not_user",
        E,
        "The first turn in `messages` is the user's.",
        "start the conversation with the user's turn",
        _first_user,
        bad={**_GOOD, "messages": [_A, _U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_last_turn_not_assistant",
        E,
        "The last turn is the assistant's response.",
        "end the example with the assistant's answer",
        _last_assistant,
        bad={**_GOOD, "messages": [_U, _A, _U]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_roles_not_alternating",
        E,
        "User and assistant turns alternate.",
        "merge consecutive turns of the same role into one turn with several blocks",
        _alternating,
        bad={**_GOOD, "messages": [_U, _U, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_invalid_content",
        E,
        "Every turn's `content` is a non-empty list of blocks, each holding exactly one of "
        "text, image, video, document, toolUse, toolResult or reasoningContent.",
        'write content as [{"text": "..."}]',
        _invalid_content,
        bad={**_GOOD, "messages": [{"role": "user", "content": "What is a tensor?"}, _A]},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_image_not_s3",
        E,
        "Images and videos are referenced by `source.s3Location.uri` (in the dataset's bucket).",
        "upload the image to the dataset's S3 bucket and reference its s3:// URI",
        _image_s3,
        bad={
            **_GOOD,
            "messages": [
                {
                    "role": "user",
                    "content": [{"image": {"format": "png", "source": {"bytes": "iVBO"}}}],
                },
                _A,
            ],
        },
        good={
            **_GOOD,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "image": {
                                "format": "png",
                                "source": {"s3Location": {"uri": "s3://bucket/a.png"}},
                            }
                        }
                    ],
                },
                _A,
            ],
        },
    ),
    TargetRule(
        "bedrock_invalid_system",
        E,
        '`system` is a list of {"text": ...} blocks.',
        'write the system prompt as "system": [{"text": "..."}]',
        _system,
        bad={**_GOOD, "system": "Answer as Shakespeare would."},
        good=_GOOD,
    ),
    TargetRule(
        "bedrock_tool_use",
        W,
        "Bedrock's Amazon Nova 2 SFT page says tool sections are not yet supported there and "
        "may make the job fail (the Nova user guide documents tool-calling SFT).",
        "check that your model and training path accept tool use, or drop the tool turns",
        _tool_use,
        bad={
            **_GOOD,
            "messages": [
                _U,
                {
                    "role": "assistant",
                    "content": [{"toolUse": {"toolUseId": "c1", "name": "lookup", "input": {}}}],
                },
                {
                    "role": "user",
                    "content": [
                        {"toolResult": {"toolUseId": "c1", "content": [{"text": "found"}]}}
                    ],
                },
                _A,
            ],
        },
        good=_GOOD,
    ),
)
