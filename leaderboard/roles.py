"""Who may do what: the platform's roles, held as Django groups (curators are staff)."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group


class Role(StrEnum):
    RESEARCHER = "researcher"
    ANNOTATOR = "annotator"
    CURATOR = "curator"


def user_has_role(user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    """Anonymous users are the public and have no role; staff are curators whatever their groups."""
    if not user.is_authenticated:
        return False
    if role == Role.CURATOR and (user.is_staff or user.is_superuser):  # type: ignore[union-attr]
        return True
    return user.groups.filter(name=role.value).exists()  # type: ignore[union-attr]


def user_grant_role(user: AbstractBaseUser, role: Role) -> None:
    group, _ = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)  # type: ignore[attr-defined]


# The roles a person picks when signing up; curators are made by staff (the admin), never self-chosen.
SIGNUP_ROLES = (Role.RESEARCHER, Role.ANNOTATOR)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[Role]:
    return [role for role in Role if user_has_role(user, role)]


def user_can_submit(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Researchers register models and submit; curators (staff) may too."""
    return user_has_role(user, Role.RESEARCHER) or user_has_role(user, Role.CURATOR)
