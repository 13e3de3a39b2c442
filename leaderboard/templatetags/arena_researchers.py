"""Template helpers for researchers' pages: which actions a user may take on a submission."""

from __future__ import annotations

from typing import Any

from django import template

from leaderboard.models import Submission
from leaderboard.roles import Role, user_can_submit, user_has_role

register = template.Library()


def submission_actions_for(submission: Submission, user: Any) -> list[tuple[str, str]]:
    """(action, button label) pairs, in the order shown; the services check the same rules again."""
    if not user.is_authenticated:
        return []
    is_owner = submission.owner_id == user.pk
    is_curator = user_has_role(user, Role.CURATOR)
    withdrawn = submission.withdrawn_at is not None
    actions: list[tuple[str, str]] = []
    if is_owner and not withdrawn:
        actions.append(("unpublish", "Make private") if submission.is_public else ("publish", "Publish"))
    if (is_owner or is_curator) and not withdrawn and submission.state == Submission.State.FAILED:
        actions.append(("rerun", "Rerun"))
    if is_owner and not withdrawn:
        actions.append(("withdraw", "Withdraw"))
    if is_curator:
        actions.append(("unhide", "Unhide") if submission.hidden_at else ("hide", "Hide"))
    return actions


@register.simple_tag(takes_context=True)
def submission_actions(context: template.Context, submission: Submission) -> list[tuple[str, str]]:
    return submission_actions_for(submission, context["request"].user)


@register.filter(name="can_submit")
def can_submit(user: Any) -> bool:
    return user_can_submit(user)
