"""Template helpers for the public pages: score formatting and sortable column headers."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def score(value: float | None) -> str:
    """A score in [0, 1] as three decimals, or an em dash when it was not measured."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.3f}"


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.simple_tag
def sort_header(column: str, label: str, current: str, descending: bool) -> str:
    """A column header that links to the table sorted by it (a permalink; works without JavaScript)."""
    active = column == current
    reverse = active and not descending
    href = f"?sort={column}" + ("&dir=reverse" if reverse else "")
    aria = ("descending" if descending else "ascending") if active else "none"
    arrow = (" ▴" if descending else " ▾") if active else ""  # ▾: the column's natural order, ▴: reversed
    return format_html('<th scope="col" aria-sort="{}"><a href="{}">{}{}</a></th>', aria, href, label, arrow)
