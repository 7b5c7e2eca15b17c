"""Shared pieces of the exporters: target rules, the format record, conversion helpers.

Every converter works on JSON-ready dicts (OpenAI's wire form, as ``Example.to_dict()`` gives
it) and records what it cannot carry over in a ``Notes`` collector, one *kind* at a time, so
that nothing is lost silently. Target formats' documented rules are
``TargetRule``s that yield [`Problem`][finetune_kit.Problem]s, turned into
[`Finding`][finetune_kit.Finding]s with the rule's stable code.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from finetune_kit.export.fidelity import Notes
from finetune_kit.validation.engine import Finding, Problem, Severity

InputKind = Literal["chat", "preference"]
"""The kind of OpenAI examples a format is made from."""

# -- target rules ---------------------------------------------------------------------------------

CheckFunc = Callable[[Mapping[str, Any]], Iterable[Problem]]
"""A target rule's check: ``record -> problems``."""


@dataclass(frozen=True)
class TargetRule:
    """One documented rule of a target format, with a stable code.

    Attributes:
        code: Stable snake_case code, prefixed with the target (``gemini_...``).
        severity: ``error`` when the target rejects the record, ``warning`` when it deserves a
            look.
        description: What the rule checks.
        hint: How to fix what it finds.
        check: The check itself.
        bad: A record that triggers the rule (checked by the tests, shown in the docs).
        good: The same record fixed: no finding at all.
    """

    code: str
    severity: Severity
    description: str
    hint: str
    check: CheckFunc
    bad: dict[str, Any]
    good: dict[str, Any]

    def run(self, record: Mapping[str, Any], line: int | None) -> Iterator[Finding]:
        """Run the check and turn its problems into findings on ``line``."""
        try:
            problems = list(self.check(record))
        except Exception as exc:  # a malformed record must not crash the export
            problems = [Problem(f"could not check the record ({type(exc).__name__}: {exc})")]
        for p in problems:
            yield Finding(self.code, self.severity, p.message, p.hint or self.hint, line, p.field)


Reader = Callable[[Mapping[str, Any], Notes], dict[str, Any]]
"""Turns one target record into an OpenAI-shaped dict, noting what it cannot carry."""

Writer = Callable[[dict[str, Any], Notes], dict[str, Any]]
"""Turns one OpenAI-shaped dict (already normalized) into a target record."""


@dataclass(frozen=True)
class ExportFormat:
    """A target format: converters, the target's documented rules, and where they come from.

    Attributes:
        name: The name used in code and on the command line (``vertex-gemini``).
        title: Human name.
        input_kind: ``chat`` (supervised examples) or ``preference`` (DPO examples).
        summary: One line saying what the format is for.
        sources: ``(title, url)`` of the documents the converter and rules follow.
        write: OpenAI dict -> target record.
        read: Target record -> OpenAI dict, or ``None`` when there is no way back.
        rules: The target's documented rules.
        keeps: Short notes on what the target keeps, for docs and ``describe()``.
    """

    name: str
    title: str
    input_kind: InputKind
    summary: str
    sources: tuple[tuple[str, str], ...]
    write: Writer
    read: Reader | None
    rules: tuple[TargetRule, ...]
    keeps: tuple[str, ...] = field(default=())

    @property
    def docs_url(self) -> str:
        """The main document the format follows."""
        return self.sources[0][1]

    def check(self, record: Mapping[str, Any], line: int | None = None) -> list[Finding]:
        """Run every rule of the target on one record.

        Args:
            record: One target-format record.
            line: The line (or row) number to put on the findings.

        Returns:
            The findings, in rule order.
        """
        return [f for r in self.rules for f in r.run(record, line)]


# -- helpers used by several converters -----------------------------------------------------------


def dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """``(index, item)`` for the dict items of ``value`` when it is a list (else nothing)."""
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


def text_parts(content: Any) -> list[str]:
    """The texts of a message's content: one for a string, one per text part for a list."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return []


def joined_text(content: Any, notes: Notes) -> str:
    """All text of ``content`` as one string, noting how a list was flattened."""
    texts = text_parts(content)
    if isinstance(content, list):
        notes.add("text_parts_joined" if len(texts) > 1 else "text_parts_as_string")
    return "\n".join(texts)


def note_list_shape(content: Any, carried: list[dict[str, Any]], notes: Notes) -> None:
    """Note a content list whose carried parts (at most one text part) come back as a string."""
    if isinstance(content, list) and isinstance(back_to_content(carried, empty=""), str):
        notes.add("text_parts_as_string")


def back_to_content(parts: list[dict[str, Any]], *, empty: str | None) -> str | list[Any] | None:
    """OpenAI content from parts read back: one text part is a string; none is ``empty``."""
    if not parts:
        return empty
    if len(parts) == 1 and parts[0].get("type") == "text":
        text: str = parts[0]["text"]
        return text
    return parts


def tool_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """An OpenAI tool call (``arguments`` as the target format wants it)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def assistant_message(texts: list[dict[str, Any]], calls: list[dict[str, Any]]) -> dict[str, Any]:
    """An OpenAI assistant message from the text parts and tool calls read back."""
    msg: dict[str, Any] = {"role": "assistant"}
    content = back_to_content(texts, empty=None if calls else "")
    if content is not None:
        msg["content"] = content
    if calls:
        msg["tool_calls"] = calls
    return msg


def drop_name_and_weight(msg: Mapping[str, Any], notes: Notes) -> None:
    """Note the ``name`` and ``weight`` of a message for a target that has neither."""
    if msg.get("name") is not None:
        notes.add("name_dropped")
    weight = msg.get("weight")
    if weight == 0:
        notes.add("weight_zero_trained")
    elif weight == 1:
        notes.add("weight_dropped")


def arguments_object(arguments: str, notes: Notes) -> dict[str, Any]:
    """Decode a tool call's JSON-string arguments, noting when the text will not come back."""
    value: dict[str, Any] = json.loads(arguments)
    if arguments_string(value) != arguments:
        notes.add("tool_arguments_reformatted")
    return value


def arguments_string(value: Any) -> str:
    """Encode tool-call arguments read back from a target (standard spacing, UTF-8 kept)."""
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


_IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
}


def image_mime_type(url: str) -> str | None:
    """The image type told by a URL's extension (``None`` when it does not tell)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _IMAGE_TYPES.get(ext)


def split_data_url(url: str) -> tuple[str, str] | None:
    """``(mime_type, base64_data)`` of a base64 data URL, or ``None`` for anything else."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url.partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    mime = header[5:].split(";", 1)[0] or "image/jpeg"
    return mime, data


def data_url(mime: str, data: str) -> str:
    """A base64 data URL."""
    return f"data:{mime};base64,{data}"


class CallIds:
    """Assigns ids to tool calls read back from a target and matches tool results to them.

    Calls keep their id when the target has one; otherwise they get ``call_1``, ``call_2``...
    (noted as ``tool_call_id_generated``). Results are matched by id, then by function name,
    then to the oldest unanswered call.
    """

    def __init__(self, notes: Notes) -> None:
        self._notes = notes
        self._n = 0
        self._pending: list[tuple[str, str]] = []  # (id, name)
        self.names: dict[str, str] = {}

    def call(self, name: str, call_id: str | None) -> str:
        """Register a call and return its id."""
        self._n += 1
        if not call_id:
            call_id = f"call_{self._n}"
            self._notes.add("tool_call_id_generated")
        self._pending.append((call_id, name))
        self.names[call_id] = name
        return call_id

    def answer(self, call_id: str | None, name: str | None) -> str:
        """The id of the call a tool result answers (the call is then no longer pending)."""
        for i, (cid, cname) in enumerate(self._pending):
            if (call_id and cid == call_id) or (not call_id and name and cname == name):
                del self._pending[i]
                return cid
        if call_id:
            return call_id
        if self._pending:
            return self._pending.pop(0)[0]
        return "call_unmatched"


def alternation_problems(
    turns: list[tuple[int, dict[str, Any]]], key: str, first: str, last: str
) -> tuple[list[Problem], list[Problem], list[Problem]]:
    """Problems with who speaks first, last, and turn alternation.

    Args:
        turns: ``(index, turn)`` pairs.
        key: The list's key in the record (``contents``, ``messages``), for field paths.
        first: The role the first turn must have.
        last: The role the last turn must have.

    Returns:
        ``(first-turn problems, last-turn problems, alternation problems)``.
    """
    roles = [(i, t.get("role")) for i, t in turns]
    firsts: list[Problem] = []
    lasts: list[Problem] = []
    alternation: list[Problem] = []
    if roles and roles[0][1] != first:
        firsts.append(
            Problem(f"the first turn is {roles[0][1]!r}, not {first!r}", f"{key}[{roles[0][0]}]")
        )
    if roles and roles[-1][1] != last:
        lasts.append(
            Problem(f"the last turn is {roles[-1][1]!r}, not {last!r}", f"{key}[{roles[-1][0]}]")
        )
    for (_, prev), (i, role) in itertools.pairwise(roles):
        if role == prev:
            alternation.append(Problem(f"two {role!r} turns in a row", f"{key}[{i}].role"))
    return firsts, lasts, alternation


def normalize(example: Mapping[str, Any], kind: InputKind, notes: Notes) -> dict[str, Any]:
    """Apply what every target needs, noting each change.

    ``developer`` messages become ``system`` messages, legacy function calling becomes tools,
    and ``parallel_tool_calls`` is dropped.

    Args:
        example: An OpenAI example as a JSON-ready dict (not modified).
        kind: ``chat`` or ``preference``.
        notes: Where the changes are recorded.

    Returns:
        A normalized deep copy.
    """
    ex: dict[str, Any] = json.loads(json.dumps(example))
    conv: dict[str, Any] = ex if kind == "chat" else ex["input"]
    if conv.pop("parallel_tool_calls", None) is not None:
        notes.add("parallel_tool_calls_dropped")
    functions = conv.pop("functions", None)
    if functions:
        conv["tools"] = [
            *(conv.get("tools") or []),
            *({"type": "function", "function": f} for f in functions),
        ]
        notes.add("legacy_functions_to_tools")
    pending: list[tuple[str, str]] = []
    n = 0
    for msg in conv["messages"]:
        if msg.get("role") == "developer":
            msg["role"] = "system"
            notes.add("developer_to_system")
        call = msg.pop("function_call", None)
        if call is not None:
            n += 1
            call_id = f"call_legacy_{n}"
            msg.setdefault("tool_calls", []).append(
                {"id": call_id, "type": "function", "function": call}
            )
            pending.append((call_id, call["name"]))
            notes.add("legacy_functions_to_tools")
        if msg.get("role") == "function":
            name = msg.pop("name", None)
            match = next((p for p in pending if p[1] == name), pending[0] if pending else None)
            if match is not None:
                pending.remove(match)
            msg["role"] = "tool"
            msg["tool_call_id"] = match[0] if match else "call_legacy_unmatched"
            notes.add("legacy_functions_to_tools")
    return ex
