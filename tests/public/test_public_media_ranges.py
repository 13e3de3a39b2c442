"""The clip media answers byte ranges, so the clip page's player can seek; visibility checks still apply."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard.media_ranges import parse_range
from leaderboard.models import Clip
from tests.public.factories import model, scored_submission

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=100-", False),
        ("bytes=5-2", False),
        ("bytes=-0", False),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_parse_range(header: str, expected) -> None:  # type: ignore[no-untyped-def]
    assert parse_range(header, 100) == expected


@pytest.fixture
def clip_with_file(suite, demo_dir, media_root):  # type: ignore[no-untyped-def]
    submission = scored_submission(suite, model("ranged"), {"advert-002": 0.9})
    clip = Clip.objects.get(submission=submission, prompt__prompt_id="advert-002")
    data = (demo_dir / "clips" / "aurora-av" / "advert-002.mp4").read_bytes()
    (media_root / "clips").mkdir()
    (media_root / "clips" / "c.mp4").write_bytes(data)
    clip.file.name = "clips/c.mp4"
    clip.save(update_fields=["file"])
    return clip, data


def test_a_range_request_gets_206_with_exactly_those_bytes(client, clip_with_file) -> None:  # type: ignore[no-untyped-def]
    clip, data = clip_with_file
    url = reverse("leaderboard:clip_media", args=[clip.pk])

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == data

    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}" and part["Content-Length"] == "100"
    assert b"".join(part.streaming_content) == data[100:200]
    assert part["Content-Type"] == "video/mp4" and part["Content-Security-Policy"] == "default-src 'none'; sandbox"

    tail = client.get(url, HTTP_RANGE="bytes=-16")
    assert b"".join(tail.streaming_content) == data[-16:]
    refused = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert refused.status_code == 416 and refused["Content-Range"] == f"bytes */{len(data)}"


def test_ranges_do_not_bypass_visibility(client, clip_with_file) -> None:  # type: ignore[no-untyped-def]
    clip, _ = clip_with_file
    clip.submission.is_public = False
    clip.submission.save()
    assert client.get(reverse("leaderboard:clip_media", args=[clip.pk]), HTTP_RANGE="bytes=0-10").status_code == 404
