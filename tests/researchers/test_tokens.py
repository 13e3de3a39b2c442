"""API tokens: created and named on the account page, shown once, stored as a hash, revoked for good."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from leaderboard.models import ApiToken
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def create_token(client: Client, name: str) -> tuple[str, str]:
    response = client.post("/account/tokens/", {"name": name})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    key = re.search(r'id="new-token-key"[^>]*>(msav_[A-Za-z0-9_-]+)<', html).group(1)
    return key, html


def test_a_token_is_shown_once_and_only_its_hash_is_kept() -> None:
    user = user_with_role("rita")
    client = Client()
    client.force_login(user)

    key, html = create_token(client, "lab workstation")

    token = ApiToken.objects.get(user=user)
    assert token.name == "lab workstation" and token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(list(ApiToken.objects.values())) and token.prefix == key[:12]
    assert "it will not be shown again" in html
    page = client.get("/account/").content.decode()
    assert key not in page  # never again
    assert token.prefix in page and "lab workstation" in page and "never" in page  # not used yet


def test_the_key_authenticates_the_api_and_records_its_use() -> None:
    user = user_with_role("rita")
    client = Client()
    client.force_login(user)
    key, _ = create_token(client, "ci")

    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/")

    assert response.status_code == 200 and response.json()["username"] == "rita"
    assert response.json()["roles"] == ["researcher"]
    assert ApiToken.objects.get().last_used_at is not None


def test_a_revoked_token_stops_working_at_once() -> None:
    user = user_with_role("rita")
    client = Client()
    client.force_login(user)
    key, _ = create_token(client, "old laptop")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/me/").status_code == 200

    token = ApiToken.objects.get()
    response = client.post(f"/account/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    refused = api.get("/api/me/")
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    assert refused["WWW-Authenticate"] == "Token"
    page = client.get("/account/").content.decode()
    assert "revoked" in page and f"/account/tokens/{token.pk}/revoke/" not in page


def test_nobody_else_can_revoke_your_token() -> None:
    owner, other = user_with_role("rita"), user_with_role("otto")
    client = Client()
    client.force_login(owner)
    key, _ = create_token(client, "mine")
    token = ApiToken.objects.get()
    intruder = Client()
    intruder.force_login(other)

    assert intruder.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert Client().post(f"/account/tokens/{token.pk}/revoke/").status_code == 302  # to the login page
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/").status_code == 200  # still works


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("Token", 'expected "Token <key>"'),
        ("Token a b", 'expected "Token <key>"'),
        ("Token msav_not-a-real-key", "invalid or revoked"),
        ("Token 12345", "invalid or revoked"),
    ],
)
def test_bad_authorization_headers_are_401_with_the_reason(header: str, fragment: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header).get("/api/me/")
    assert response.status_code == 401 and fragment in response.json()["message"]


def test_a_token_needs_a_name_and_an_inactive_user_cannot_use_one() -> None:
    user = user_with_role("rita")
    client = Client()
    client.force_login(user)
    response = client.post("/account/tokens/", {"name": "   "})
    assert response.status_code == 400 and ApiToken.objects.count() == 0
    key, _ = create_token(client, "x")
    user.is_active = False
    user.save()
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/").status_code == 401
