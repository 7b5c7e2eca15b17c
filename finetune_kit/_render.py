"""Rich renderables for reports (used by ``__rich__`` methods and the CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from finetune_kit.validation.engine import Finding, ValidationReport

_MAX_LINES_SHOWN = 8


def _lines(findings: list[Finding]) -> str:
    lines = [str(f.line) for f in findings if f.line is not None]
    if not lines:
        return "file"
    shown = ", ".join(lines[:_MAX_LINES_SHOWN])
    if len(lines) > _MAX_LINES_SHOWN:
        shown += f", … (+{len(lines) - _MAX_LINES_SHOWN})"
    return shown


def validation_report(report: ValidationReport) -> RenderableType:
    """A table of findings grouped by code, then a one-line verdict and key statistics."""
    parts: list[RenderableType] = []
    if report.findings:
        table = Table(title=None, show_lines=False, expand=False)
        groups = report.by_code()
        # Codes are what users search for: never cut one (the text column folds instead).
        table.add_column("code", style="bold", min_width=max(map(len, groups)), no_wrap=True)
        table.add_column("severity")
        table.add_column("count", justify="right")
        table.add_column("lines")
        table.add_column("first problem / how to fix", overflow="fold")
        for code, group in groups.items():
            first = group[0]
            colour = "red" if first.severity.value == "error" else "yellow"
            where = f"{first.field}: " if first.field else ""
            detail = Text(f"{where}{first.message}\n")
            detail.append(first.hint, style="dim")
            table.add_row(
                code,
                Text(first.severity.value, style=colour),
                str(len(group)),
                _lines(group),
                detail,
            )
        parts.append(table)
    stats = report.stats
    verdict = Text(report.summary(), style="bold green" if report.ok else "bold red")
    parts.append(verdict)
    if stats:
        mpe = stats.get("messages_per_example", {})
        well_formed = sum(mpe.get("distribution", {}).values())
        shape = (
            f"of the {well_formed:,} well-formed examples: messages per example min "
            f"{mpe.get('min')}, mean {mpe.get('mean')}, max {mpe.get('max')}; without a system "
            f"message {stats.get('examples_without_system_message', 0)}; without a user message "
            f"{stats.get('examples_without_user_message', 0)}"
            if well_formed
            else "no well-formed example"
        )
        parts.append(
            Text(
                f"{stats.get('n_lines', 0):,} lines · formats: {stats.get('formats', {})} · "
                f"duplicates: {stats.get('n_duplicates', 0)} · {shape}",
                style="dim",
            )
        )
    return Group(*parts)


def key_value_table(
    pairs: Sequence[tuple[str, object]], *, title: str | None = None
) -> RenderableType:
    """A two-column table of labels and values (values are shown as text, never as markup)."""
    frame: dict[str, Any] = {} if title else {"box": None}  # untitled tables stay borderless
    table = Table(title=title, show_header=False, title_justify="left", **frame)
    table.add_column(style="bold")
    table.add_column()
    for key, value in pairs:
        table.add_row(key, Text(str(value)))
    return table
