"""Malformed requests to the researchers' API get a 4xx whose message says what, where and why, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.researchers.conftest import Actor

pytestmark = pytest.mark.django_db


def test_a_validation_error_message_names_each_field_and_why(actors: dict[str, Actor], suite) -> None:  # type: ignore[no-untyped-def]
    response = actors["owner"].api().post("/api/submissions/", {"suite": suite.name})

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Validation error: archive: No file was submitted.; model: This field is required."
    assert body["extra"]["fields"] == {"archive": ["No file was submitted."], "model": ["This field is required."]}


def test_nested_field_errors_are_dotted(actors: dict[str, Actor]) -> None:
    response = actors["owner"].api().post(
        "/api/uploads/", {"filename": "a.zip", "total_size": -1, "sha256": "00", "model": "m", "suite": "s"},
        content_type="application/json",
    )

    assert response.status_code == 400
    message = response.json()["message"]
    assert "total_size: Ensure this value is greater than or equal to 1." in message
    assert "sha256: Ensure this field has at least 64 characters." in message


def test_an_unknown_format_names_the_formats_the_endpoint_has(actors: dict[str, Actor]) -> None:
    response = actors["owner"].api().get("/api/me/", {"format": "xml"})

    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("format: unknown value 'xml'; expected one of: json")
    assert body["extra"]["param"] == "format"


@pytest.mark.parametrize("path", ["/api/submissions/abc/", "/api/uploads/not-a-uuid/", "/api/nothing-here/"])
def test_a_path_no_endpoint_answers_is_a_json_404(actors: dict[str, Actor], path: str) -> None:
    response = actors["owner"].api().patch(path, b"abc", content_type="application/offset+octet-stream")

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["message"] == f"PATCH {path}: no such API endpoint; the endpoints are listed at /api/docs/"


def test_a_page_no_view_answers_stays_an_html_404(actors: dict[str, Actor]) -> None:
    response = actors["public"].browser().get("/no-such-page/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_json_body_where_an_archive_is_expected_is_a_415(actors: dict[str, Actor], suite) -> None:  # type: ignore[no-untyped-def]
    response = actors["owner"].api().post(
        "/api/submissions/", {"archive": "x", "model": "m", "suite": suite.name}, content_type="application/json"
    )

    assert response.status_code == 415 and 'Unsupported media type "application/json"' in response.json()["message"]


def test_an_archive_that_is_not_an_archive_is_a_400_naming_it(actors: dict[str, Actor], owner_model, suite) -> None:  # type: ignore[no-untyped-def]
    response = actors["owner"].api().post(
        "/api/submissions/",
        {"archive": SimpleUploadedFile("notes.txt", b"hello"), "model": owner_model.slug, "suite": suite.name},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith('archive "notes.txt": not a .zip or .tar.gz file')
