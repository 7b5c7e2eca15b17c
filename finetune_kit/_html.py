"""Tiny HTML table renderer for notebook ``_repr_html_`` methods (escapes every cell)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str = "") -> str:
    """Render a compact HTML table.

    Args:
        headers: Column titles.
        rows: Cell values (converted with ``str`` and escaped).
        caption: Optional caption above the table.

    Returns:
        HTML text.
    """
    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{escape(str(c))}</td>" for c in r) + "</tr>"
        for r in rows
    )
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def key_values(pairs: Sequence[tuple[str, object]], *, caption: str = "") -> str:
    """Render a two-column key/value table."""
    return table(["", ""], [(k, v) for k, v in pairs], caption=caption)
