"""Hostile archives, uploaded through the API and validated like any submission, in zip and in tar.gz.

Each case: the refused member is named with the reason in the submission's report (or the archive is
refused whole with the reason), nothing of it reaches the disk, and the honest clip beside it still counts.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leaderboard import services
from leaderboard.models import Clip, Submission
from tests.formats.builders import Entry, file, make_archive, make_zip_with_shared_entry, zeros
from tests.researchers.conftest import Actor

pytestmark = pytest.mark.django_db

FORMATS = ["zip", "tgz"]
GOOD = "action-001"  # the honest clip every hostile archive also carries
CLIP_LIMIT = 400_000  # per-clip limit for these tests; the demo clips are about 250 KB


@pytest.fixture(autouse=True)
def small_limits(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_CLIP_MAX_BYTES = CLIP_LIMIT


def upload_and_validate(actor: Actor, model, suite, archive: Path) -> Submission:  # type: ignore[no-untyped-def]
    response = actor.api().post(
        "/api/submissions/",
        {"archive": SimpleUploadedFile(archive.name, archive.read_bytes()), "model": model.slug, "suite": suite.name},
    )
    assert response.status_code == 201, response.content
    submission_id = response.json()["id"]
    services.submission_validate(submission_id=submission_id)
    return Submission.objects.get(pk=submission_id)


def report_of(actor: Actor, submission: Submission) -> dict:
    detail = actor.api().get(f"/api/submissions/{submission.pk}/").json()
    return detail


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def assert_only_the_good_clip_was_written(media_root: Path, submission: Submission) -> None:
    clips = media_root / "clips" / str(submission.pk)
    assert files_under(clips) == {f"{GOOD}.mp4"}
    # Nothing escaped anywhere else under MEDIA_ROOT either: only the stored archive and the suite.
    others = {name for name in files_under(media_root) if not name.startswith(("clips/", "suites/", "submissions/"))}
    assert others == set()


MEMBER_CASES = [
    # (id, entries after the good clip, the refused member's name, fragment of the reason)
    ("dotdot", [file("../advert-002.mp4", b"x" * 100)], "../advert-002.mp4", 'contains ".."'),
    ("absolute", [file("/tmp/advert-002.mp4", b"x" * 100)], "/tmp/advert-002.mp4", "absolute path"),
    ("drive-letter", [file("C:/advert-002.mp4", b"x" * 100)], "C:/advert-002.mp4", 'drive letter "C:"'),
    ("symlink", [Entry("advert-002.mp4", kind="symlink", target="/etc/passwd")], "advert-002.mp4", "symbolic link"),
    ("device", [Entry("advert-002.mp4", kind="chardev")], "advert-002.mp4", "device file"),
    ("fifo", [Entry("advert-002.mp4", kind="fifo")], "advert-002.mp4", "FIFO"),
    ("not-a-prompt-id", [file("notes.html", b"<script>alert(1)</script>")], "notes.html", "is not a clip of the suite"),
    ("unknown-prompt", [file("nobody-999.mp4", b"x" * 100)], "nobody-999.mp4", 'no prompt "nobody-999"'),
    ("over-clip-size", [file("advert-002.mp4", os.urandom(CLIP_LIMIT + 1))], "advert-002.mp4", "per-file limit"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("entries", "member", "fragment"), [case[1:] for case in MEMBER_CASES], ids=[case[0] for case in MEMBER_CASES]
)
def test_hostile_member_is_refused_by_name_and_the_rest_counts(
    actors, owner_model, suite, demo_clip, media_root: Path, tmp_path: Path, fmt: str,  # type: ignore[no-untyped-def]
    entries: list[Entry], member: str, fragment: str,
) -> None:
    archive = make_archive(tmp_path / "hostile", fmt, [file(f"{GOOD}.mp4", demo_clip(GOOD)), *entries])

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    detail = report_of(actors["owner"], submission)
    assert detail["state"] == "queued"
    [refused] = detail["progress"]["refused"]
    assert refused["member_name"] == member and fragment in refused["reason"]
    assert refused["reason"].startswith(f'"{member}": ')  # the report names the member, then says why
    statuses = {clip["prompt"]: clip["status"] for clip in detail["progress"]["clips"]}
    assert statuses[GOOD] == "queued"  # probed with PyAV and queued for scoring
    assert statuses["advert-002"] == "missing"
    assert_only_the_good_clip_was_written(media_root, submission)
    assert not Path("/tmp/advert-002.mp4").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_hard_link_is_refused(actors, owner_model, suite, demo_clip, media_root: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "zip":  # a zip spells a hard link as two directory entries sharing one local header
        archive = make_zip_with_shared_entry(tmp_path / "hostile.zip", f"{GOOD}.mp4", demo_clip(GOOD), "advert-002.mp4")
        fragment = "shares its data with"
    else:
        archive = make_archive(
            tmp_path / "hostile", fmt,
            [file(f"{GOOD}.mp4", demo_clip(GOOD)), Entry("advert-002.mp4", kind="hardlink", target=f"{GOOD}.mp4")],
        )
        fragment = "hard link"

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    [refused] = report_of(actors["owner"], submission)["progress"]["refused"]
    assert refused["member_name"] == "advert-002.mp4" and fragment in refused["reason"]
    assert_only_the_good_clip_was_written(media_root, submission)


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_names_refuse_both_copies(actors, owner_model, suite, demo_clip, media_root: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    # Python's zipfile warns about the second member of the same name: writing it is the point here.
    with pytest.warns(UserWarning, match="Duplicate name") if fmt == "zip" else contextlib.nullcontext():
        archive = make_archive(
            tmp_path / "hostile", fmt,
            [file(f"{GOOD}.mp4", demo_clip(GOOD)), file("advert-002.mp4", demo_clip("advert-002")),
             file("advert-002.mp4", demo_clip("dialogue-002"))],
        )

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    refused = report_of(actors["owner"], submission)["progress"]["refused"]
    assert [r["member_name"] for r in refused] == ["advert-002.mp4", "advert-002.mp4"]
    assert "appears twice" in refused[0]["reason"]
    assert_only_the_good_clip_was_written(media_root, submission)


@pytest.mark.parametrize("fmt", FORMATS)
def test_compression_bomb_member_is_refused(actors, owner_model, suite, demo_clip, media_root: Path, tmp_path: Path, settings, fmt: str) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_CLIP_MAX_BYTES = 64 * 2**20  # the size cap alone would not stop it: the ratio does
    archive = make_archive(
        tmp_path / "hostile", fmt, [file(f"{GOOD}.mp4", demo_clip(GOOD)), file("advert-002.mp4", zeros(16 * 2**20))]
    )
    assert archive.stat().st_size < 200_000 + len(demo_clip(GOOD))

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    [refused] = report_of(actors["owner"], submission)["progress"]["refused"]
    assert refused["member_name"] == "advert-002.mp4" and "compression ratio is over 200:1" in refused["reason"]
    assert_only_the_good_clip_was_written(media_root, submission)


@pytest.mark.parametrize("fmt", FORMATS)
def test_archive_over_the_total_unpacked_size_fails_whole(actors, owner_model, suite, media_root: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    # The total limit is the per-clip limit times the prompts plus 1 MiB (submission_validate): members
    # each under the per-clip limit go past it, random so that no ratio check fires first.
    total_limit = CLIP_LIMIT * suite.prompts.count() + 2**20
    count = total_limit // (CLIP_LIMIT - 10) + 1
    assert count < 20  # under the member limit, so the total is what refuses it
    entries = [file(f"extra-{i:03d}.bin", os.urandom(CLIP_LIMIT - 10)) for i in range(count)]
    archive = make_archive(tmp_path / "hostile", fmt, entries)

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    assert submission.state == Submission.State.FAILED
    assert "unpacks to more than" in submission.state_reason and submission.archive_name in submission.state_reason
    assert not (media_root / "clips" / str(submission.pk)).exists()
    assert Clip.objects.filter(submission=submission).count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_archive_over_the_member_count_fails_whole(actors, owner_model, suite, media_root: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    limit = max(2 * suite.prompts.count() + 10, 20)  # as leaderboard.services.submission_validate sets it
    entries = [file(f"extra-{i:03d}.txt", b"x") for i in range(limit + 1)]
    archive = make_archive(tmp_path / "hostile", fmt, entries)

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    assert submission.state == Submission.State.FAILED
    assert (
        f"more members than the limit of {limit}" in submission.state_reason
        or f"declares {limit + 1} members, more than the limit of {limit}" in submission.state_reason
    )
    assert not (media_root / "clips" / str(submission.pk)).exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clip_that_does_not_decode_is_probed_and_fails_alone(actors, owner_model, suite, demo_clip, media_root: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    archive = make_archive(
        tmp_path / "hostile", fmt,
        [file(f"{GOOD}.mp4", demo_clip(GOOD)), file("advert-002.mp4", b"\x00\x00\x00\x18ftypmp42" + os.urandom(5000))],
    )

    submission = upload_and_validate(actors["owner"], owner_model, suite, archive)

    clips = {clip["prompt"]: clip for clip in report_of(actors["owner"], submission)["progress"]["clips"]}
    assert clips[GOOD]["status"] == "queued"
    assert clips["advert-002"]["status"] == "failed" and "does not decode" in clips["advert-002"]["reason"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_format_comes_from_the_bytes_not_the_name(actors, owner_model, suite, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    disguised = tmp_path / ("clips.tar.gz" if fmt == "zip" else "clips.zip")
    disguised.write_bytes(b"<html><script>alert(1)</script></html>")

    submission = upload_and_validate(actors["owner"], owner_model, suite, disguised)

    assert submission.state == Submission.State.FAILED and "not a .zip or .tar.gz archive" in submission.state_reason


def test_archive_names_the_user_gives_never_choose_the_path(actors, owner_model, suite, media_root: Path, demo_dir: Path) -> None:  # type: ignore[no-untyped-def]
    payload = next((demo_dir / "submissions").glob("*.zip")).read_bytes()
    response = actors["owner"].api().post(
        "/api/submissions/",
        {"archive": SimpleUploadedFile("../../../../etc/cron.d/evil.zip", payload), "model": owner_model.slug, "suite": suite.name},
    )
    assert response.status_code == 201
    stored = Path(Submission.objects.get(pk=response.json()["id"]).archive.path)
    assert stored.is_relative_to(media_root / "submissions") and stored.name == "archive.zip"
    assert "evil" not in str(stored) and "cron" not in str(stored)
