"""Rich and HTML renderings of export reports (``__rich__``, ``_repr_html_`` and the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from finetune_kit._html import table as html_table

if TYPE_CHECKING:
    from finetune_kit.export.convert import ExportReport, FidelityReport
    from finetune_kit.validation.engine import Finding

_SHOWN = 8
_COLOURS = {"dropped": "red", "changed": "yellow", "reformatted": "dim"}


def _lines(lines: list[int] | tuple[int, ...], total: int | None = None) -> str:
    if not lines:
        return "—"
    shown = ", ".join(str(n) for n in lines[:_SHOWN])
    more = (total if total is not None else len(lines)) - min(len(lines), _SHOWN)
    return shown + (f", … (+{more})" if more > 0 else "")


def _groups(findings: list[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.code, []).append(f)
    return dict(sorted(groups.items(), key=lambda kv: (kv[1][0].severity.value != "error", kv[0])))


def findings_table(findings: list[Finding], title: str) -> Table:
    """Findings grouped by code: severity, count, lines, first problem and hint."""
    table = Table(title=title, title_justify="left", expand=False)
    widest = max((len(f.code) for f in findings), default=4)
    table.add_column("code", style="bold", no_wrap=True, min_width=widest)
    table.add_column("severity")
    table.add_column("count", justify="right")
    table.add_column("lines")
    table.add_column("first problem / how to fix", overflow="fold")
    for code, group in _groups(findings).items():
        first = group[0]
        colour = "red" if first.severity.value == "error" else "yellow"
        detail = Text(f"{first.field}: " if first.field else "")
        detail.append(f"{first.message}\n")
        detail.append(first.hint, style="dim")
        lines = [f.line for f in group if f.line is not None]
        table.add_row(
            code,
            Text(first.severity.value, style=colour),
            str(len(group)),
            _lines(lines),
            detail,
        )
    return table


def fidelity_renderable(report: FidelityReport) -> RenderableType:
    """The fidelity table, the target's findings and a one-line verdict."""
    parts: list[RenderableType] = []
    if report.items:
        table = Table(
            title=f"not carried over as it was ({report.direction} {report.format})",
            title_justify="left",
        )
        widest = max(len(item.kind) for item in report.items)
        table.add_column("kind", style="bold", no_wrap=True, min_width=widest)
        table.add_column("action")
        table.add_column("count", justify="right")
        table.add_column("examples", justify="right")
        table.add_column("lines")
        table.add_column("what happened", overflow="fold")
        for item in report.items:
            table.add_row(
                item.kind,
                Text(item.action, style=_COLOURS[item.action]),
                str(item.count),
                str(item.n_examples),
                _lines(item.lines, item.n_examples),
                item.description,
            )
        parts.append(table)
    if report.findings:
        parts.append(findings_table(report.findings, f"{report.format} rules"))
    style = "bold green" if report.ok and report.lossless else "bold yellow"
    parts.append(Text(report.summary(), style="bold red" if not report.ok else style))
    return Group(*parts)


def export_renderable(report: ExportReport) -> RenderableType:
    """Skipped input lines, then the fidelity report, then what was written."""
    parts: list[RenderableType] = []
    if report.skipped:
        parts.append(findings_table(report.skipped, "input lines not exported"))
    parts.append(fidelity_renderable(report.fidelity))
    parts.append(
        Text(
            f"wrote {report.n_written} of {report.n_lines} line(s) to {report.output}",
            style="bold",
        )
    )
    return Group(*parts)


def fidelity_html(report: FidelityReport) -> str:
    """HTML tables for notebooks: fidelity items, then findings."""
    rows = [
        [item.kind, item.action, item.count, item.n_examples, _lines(item.lines), item.description]
        for item in report.items
    ]
    out = html_table(
        ["kind", "action", "count", "examples", "lines", "what happened"],
        rows,
        caption=report.summary(),
    )
    if report.findings:
        found = [
            [
                f.line if f.line is not None else "—",
                f.severity.value,
                f.code,
                f.field or "",
                f.message,
            ]
            for f in report.findings[:50]
        ]
        out += html_table(
            ["line", "severity", "code", "field", "message"],
            found,
            caption=f"{report.format} rules (first 50 of {len(report.findings)})",
        )
    return out


def export_html(report: ExportReport) -> str:
    """HTML for notebooks: skipped lines, then the fidelity report."""
    out = ""
    if report.skipped:
        rows = [[f.line, f.code, f.message] for f in report.skipped[:50]]
        out += html_table(["line", "code", "why"], rows, caption="input lines not exported")
    return out + fidelity_html(report.fidelity)
