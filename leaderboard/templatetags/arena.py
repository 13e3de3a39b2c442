"""Template helpers for the public pages: score formatting, permalinks that keep the query, sortable headers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.html import format_html

register = template.Library()

# Columns whose natural order is ascending values (ranks, text); scores sort best (highest) first.
ASCENDING_COLUMNS = frozenset({"rank", "human_rank", "model", "organisation", "paradigm", "task", "engine"})


@register.filter
def score(value: float | None) -> str:
    """A score in [0, 1] as three decimals, or an em dash when it was not measured."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.3f}"


@register.filter
def rating(value: float | None) -> str:
    """A human rating on the Elo-like scale, to the point."""
    if value is None or value == "":
        return "—"
    return f"{float(value):.0f}"


@register.filter
def json_pretty(value: Any) -> str:
    """Evidence as indented JSON (escaped by the template like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def json_compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))


@register.filter
def iso_minute(value: Any) -> str:
    """An ISO timestamp (as the JSON carries it) as 'YYYY-MM-DD HH:MM UTC'."""
    text = str(value or "")
    if len(text) < 16:
        return text or "—"
    return f"{text[:10]} {text[11:16]} UTC"


@register.filter
def get_index(sequence: list[Any] | None, index: int) -> Any:
    try:
        return (sequence or [])[int(index)]
    except (IndexError, ValueError, TypeError):
        return None


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def urlencode_params(params: dict[str, Any]) -> str:
    """A dict of URL parameters as a query string (without the `?`)."""
    return urlencode(params)


@register.simple_tag
def query_url(query: Any, **overrides: Any) -> str:
    """`?...` for the leaderboard query with some parameters changed (a permalink); "" when it has none."""
    params = query.to_params(**overrides)
    return "?" + urlencode(params) if params else "?"


@register.simple_tag
def sort_header(column: str, label: str, query: Any, title: str = "") -> str:
    """A column header that links to the table sorted by it (a permalink keeping the filters; works without JavaScript).

    The first click sorts in the column's natural order (best first for scores, A-Z for text), a
    second click on the same column reverses it.
    """
    current = query.sort
    if current == "rank" and query.tab == "human":
        current = "human_rank"
    active = column == current or (column == "rank" and current == "rank")
    reverse = active and not query.descending
    href = query_url(query, sort=column, descending=reverse)
    if active:
        natural_ascending = column in ASCENDING_COLUMNS
        aria = "ascending" if natural_ascending != bool(query.descending) else "descending"
        arrow = " ▴" if query.descending else " ▾"  # ▾: the column's natural order, ▴: reversed
    else:
        aria, arrow = "none", ""
    return format_html(
        '<th scope="col" aria-sort="{}" data-column="{}"{}><a href="{}">{}{}</a></th>',
        aria,
        column,
        format_html(' title="{}"', title) if title else "",
        href,
        label,
        arrow,
    )
