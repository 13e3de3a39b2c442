"""Template filters of the annotation app: which annotation pages a user may open."""

from __future__ import annotations

from typing import Any

from django import template

from leaderboard.roles import Role, user_has_role

register = template.Library()


@register.filter
def is_annotator(user: Any) -> bool:
    return user_has_role(user, Role.ANNOTATOR)


@register.filter
def is_curator(user: Any) -> bool:
    return user_has_role(user, Role.CURATOR)
