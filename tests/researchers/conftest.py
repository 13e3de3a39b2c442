"""Fixtures for the researchers' area: people in every role, a demo suite, token-authenticated API calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from leaderboard import services
from leaderboard.models import ModelEntry, Suite
from tests.factories import import_demo_suite, user_with_role


@dataclass
class Actor:
    """One person (or the public) as the tests drive them: a session client and, if any, an API token."""

    name: str
    user: Any | None
    token: str | None

    def api(self) -> Client:
        """A client sending `Authorization: Token <key>` (the public: no credentials)."""
        if self.token is None:
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Token {self.token}")

    def browser(self) -> Client:
        client = Client()
        if self.user is not None:
            client.force_login(self.user)
        return client


def make_actor(name: str, role: str | None, *, staff: bool = False) -> Actor:
    if role is None:
        return Actor(name, None, None)
    user = user_with_role(name, role=None if role == "curator" else role, is_staff=staff)
    _token, key = services.api_token_create(user=user, name=f"{name}'s laptop")
    return Actor(name, user, key)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """PBKDF2's deliberate slowness is not under test here and costs ~0.3 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def suite(demo_dir: Path, media_root: Path) -> Suite:
    return import_demo_suite(demo_dir)


@pytest.fixture
def actors(db: None) -> dict[str, Actor]:
    """The five sides of the role matrix: the public, the owner, another researcher, an annotator, a curator."""
    return {
        "public": make_actor("public", None),
        "owner": make_actor("olivia", "researcher"),
        "other": make_actor("oscar", "researcher"),
        "annotator": make_actor("anna", "annotator"),
        "curator": make_actor("cora", "curator", staff=True),
    }


@pytest.fixture
def owner_model(actors: dict[str, Actor]) -> ModelEntry:
    return services.model_entry_create(name="Owner Model", owner=actors["owner"].user, organisation="Olivia Lab")


@pytest.fixture
def demo_clip(demo_dir: Path) -> Callable[[str], bytes]:
    """The bytes of a real demo clip (H.264 + AAC) of the first demo model, by prompt id."""

    def read(prompt_id: str) -> bytes:
        return next((demo_dir / "clips").glob(f"*/{prompt_id}.mp4")).read_bytes()

    return read
