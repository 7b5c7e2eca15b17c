"""Fidelity: what a conversion could not carry over, per kind, with counts and line numbers.

Converters record each loss or change in a ``Notes`` collector; a
[`FidelityReport`][finetune_kit.export.convert.FidelityReport] sums them up (and carries the target
format's findings) for people, notebooks and scripts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from finetune_kit.validation.engine import Finding, _FindingsView

if TYPE_CHECKING:
    from rich.console import RenderableType

Action = Literal["dropped", "changed", "reformatted"]
"""What happened to something the target cannot hold as it is."""

MAX_LINES_KEPT = 20
"""How many example line numbers a fidelity item keeps per kind."""


@dataclass(frozen=True)
class FidelityKind:
    """One kind of information a conversion may not carry over.

    Attributes:
        code: Stable identifier, e.g. ``weight_zero_trained``.
        action: ``dropped`` (gone), ``changed`` (kept, but meaning or identity changed) or
            ``reformatted`` (same value, written differently).
        description: What happens, in one sentence.
    """

    code: str
    action: Action
    description: str


FIDELITY_KINDS: dict[str, FidelityKind] = {
    k.code: k
    for k in (
        FidelityKind(
            "developer_to_system",
            "changed",
            "`developer` messages became `system` messages (the target has no developer role).",
        ),
        FidelityKind(
            "legacy_functions_to_tools",
            "changed",
            "legacy `functions` / `function_call` / `function` messages became `tools`, tool "
            "calls (ids `call_legacy_N`) and tool messages.",
        ),
        FidelityKind(
            "parallel_tool_calls_dropped",
            "dropped",
            "`parallel_tool_calls` was dropped: the target has no such setting.",
        ),
        FidelityKind(
            "name_dropped",
            "dropped",
            "a message's `name` was dropped: the target has no speaker names.",
        ),
        FidelityKind(
            "weight_dropped",
            "dropped",
            "`weight: 1` was dropped; nothing changes, the target trains on every assistant "
            "message.",
        ),
        FidelityKind(
            "weight_zero_trained",
            "changed",
            "`weight: 0` was dropped: the message stays as context, but the target will train "
            "on it.",
        ),
        FidelityKind(
            "system_moved_to_start",
            "changed",
            "a system message that came after the conversation started went to the target's "
            "single system field, before the first turn.",
        ),
        FidelityKind(
            "text_parts_joined",
            "changed",
            "several text parts were joined into one text, separated by newlines.",
        ),
        FidelityKind(
            "text_parts_as_string",
            "reformatted",
            "a content list holding at most one text part comes back as a plain string.",
        ),
        FidelityKind(
            "tool_arguments_reformatted",
            "reformatted",
            "tool-call arguments became a JSON object; the same value comes back as a JSON "
            "string written with standard spacing.",
        ),
        FidelityKind(
            "tool_call_id_dropped",
            "changed",
            "tool-call ids were dropped (the target matches calls by name and order); reading "
            "the file back generates new ids.",
        ),
        FidelityKind(
            "tool_call_id_rewritten",
            "changed",
            "a tool-call id was rewritten to the form the target requires (the tool message "
            "that answers it follows).",
        ),
        FidelityKind(
            "tool_call_id_generated",
            "changed",
            "a tool call without an id got a generated one (`call_N`).",
        ),
        FidelityKind(
            "tool_strict_dropped",
            "dropped",
            "a function definition's `strict` flag was dropped: the target has no such flag.",
        ),
        FidelityKind(
            "image_detail_dropped",
            "dropped",
            "an image's `detail` (low/high/auto) was dropped: the target has no such setting.",
        ),
        FidelityKind(
            "image_dropped",
            "dropped",
            "an image was dropped: the target cannot reference it (see the format's notes).",
        ),
        FidelityKind(
            "image_mime_type_assumed",
            "changed",
            "the image's type could not be told from its URL; `image/jpeg` was assumed.",
        ),
        FidelityKind(
            "data_url_reformatted",
            "reformatted",
            "a data URL's header was rewritten as `data:<type>;base64,` (same image).",
        ),
        FidelityKind(
            "unsupported_part_dropped",
            "dropped",
            "a part, block or key that OpenAI chat data cannot hold was dropped on import.",
        ),
    )
}
"""Every fidelity kind an export or import can report, by code."""


class Notes:
    """Collects what conversions could not carry over: count, examples and lines per kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: Counter[str] = Counter()
        self.lines: dict[str, list[int]] = {}
        self.line: int | None = None
        self._this_line: set[str] = set()

    def start(self, line: int) -> None:
        """Begin a new example (its line or row number, 1-based)."""
        self.line = line
        self._this_line = set()

    def add(self, kind: str, n: int = 1) -> None:
        """Record ``n`` occurrences of ``kind`` in the current example."""
        if kind not in FIDELITY_KINDS:  # pragma: no cover - a programming error
            raise KeyError(f"unknown fidelity kind {kind!r}")
        self.counts[kind] += n
        if kind not in self._this_line:
            self._this_line.add(kind)
            self.examples[kind] += 1
            kept = self.lines.setdefault(kind, [])
            if self.line is not None and len(kept) < MAX_LINES_KEPT:
                kept.append(self.line)


@dataclass(frozen=True)
class FidelityItem:
    """One kind of information a conversion could not carry over as it was.

    Attributes:
        kind: Stable code, e.g. ``weight_zero_trained`` (see ``FIDELITY_KINDS``).
        action: ``dropped``, ``changed`` or ``reformatted`` (same value, written differently).
        count: How many times it happened (messages, parts, calls...).
        n_examples: In how many examples.
        lines: The first line (or row) numbers where it happened (up to 20).
        description: What happened, in one sentence.
    """

    kind: str
    action: Action
    count: int
    n_examples: int
    lines: tuple[int, ...]
    description: str

    def to_dict(self) -> dict[str, Any]:
        """The item as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "action": self.action,
            "count": self.count,
            "n_examples": self.n_examples,
            "lines": list(self.lines),
            "description": self.description,
        }


@dataclass
class FidelityReport(_FindingsView):
    """What a conversion could not carry over, and what the target's rules found.

    Attributes:
        format: The target format's name.
        direction: ``export`` (OpenAI -> target) or ``import`` (target -> OpenAI).
        n_examples: How many examples were converted.
        items: One item per kind of loss or change, in the order of ``FIDELITY_KINDS``.
        findings: The target-format validators' findings (export only), in line order.
    """

    format: str
    direction: str
    n_examples: int
    items: list[FidelityItem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @classmethod
    def from_notes(
        cls,
        fmt: str,
        direction: str,
        n_examples: int,
        notes: Notes,
        findings: list[Finding] | None = None,
    ) -> FidelityReport:
        """Build the report from what a conversion noted."""
        items = [
            FidelityItem(
                kind,
                info.action,
                notes.counts[kind],
                notes.examples[kind],
                tuple(notes.lines.get(kind, ())),
                info.description,
            )
            for kind, info in FIDELITY_KINDS.items()
            if notes.counts[kind]
        ]
        return cls(fmt, direction, n_examples, items, list(findings or []))

    @property
    def lossless(self) -> bool:
        """True when nothing was dropped or changed (values written differently are allowed)."""
        return all(item.action == "reformatted" for item in self.items)

    @property
    def kinds(self) -> dict[str, int]:
        """``{kind: count}`` for every reported kind."""
        return {item.kind: item.count for item in self.items}

    def summary(self) -> str:
        """One line: examples, lossless or not, errors and warnings."""
        what = "lossless" if self.lossless else f"{len(self.items)} kind(s) of loss or change"
        return (
            f"{self.format} ({self.direction}): {self.n_examples} examples, {what}, "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "format": self.format,
            "direction": self.direction,
            "n_examples": self.n_examples,
            "lossless": self.lossless,
            "fidelity": [item.to_dict() for item in self.items],
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }

    def __repr__(self) -> str:
        return f"<FidelityReport {self.summary()}>"

    def __rich__(self) -> RenderableType:
        from finetune_kit.export._render import fidelity_renderable

        return fidelity_renderable(self)

    def _repr_html_(self) -> str:
        from finetune_kit.export._render import fidelity_html

        return fidelity_html(self)
