"""Submission archives: hostile members are refused (in zip and tar.gz), and dest holds exactly the accepted clips."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from leaderboard.archives import (
    FILE,
    ArchiveError,
    ArchiveLimits,
    ArchiveMember,
    ArchiveReport,
    MemberRefused,
    copy_member_to,
    extract_submission,
)

from .builders import (
    Entry,
    file,
    make_archive,
    make_tgz,
    make_zip,
    make_zip_with_overlap,
    make_zip_with_shared_entry,
    zeros,
)

FORMATS = ["zip", "tgz"]
PROMPTS = {"p1", "p2", "p3"}
CLIP = b"\x00\x00\x00\x18ftypmp42 fake clip bytes"


def run(
    tmp_path: Path, fmt: str, entries: list[Entry], limits: ArchiveLimits = ArchiveLimits()
) -> tuple[ArchiveReport, Path]:
    archive = make_archive(tmp_path / "submission", fmt, entries)
    dest = tmp_path / "dest"
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=dest, limits=limits)
    assert_dest_holds_exactly_the_accepted_clips(report, dest)
    return report, dest


def assert_dest_holds_exactly_the_accepted_clips(report: ArchiveReport, dest: Path) -> None:
    on_disk = sorted(path.name for path in dest.iterdir())
    assert on_disk == sorted(clip.path.name for clip in report.accepted.values())
    for prompt_id, clip in report.accepted.items():
        assert clip.path.parent == dest.absolute() and clip.path.stem == prompt_id
        data = clip.path.read_bytes()
        assert len(data) == clip.size_bytes and hashlib.sha256(data).hexdigest() == clip.sha256
    assert report.missing_prompt_ids == sorted(PROMPTS - set(report.accepted))
    json.dumps(report.to_dict())  # JSON-ready


def refused_reasons(report: ArchiveReport) -> dict[str, str]:
    return {member.member_name: member.reason for member in report.refused}


def assert_archive_error(tmp_path: Path, archive: Path, fragment: str, limits: ArchiveLimits = ArchiveLimits()) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(ArchiveError) as caught:
        extract_submission(archive, prompt_ids=PROMPTS, dest=dest, limits=limits)
    assert fragment in str(caught.value)
    assert not dest.exists()  # created by the call, so removed again with everything in it
    # A dest that existed before is left empty.
    dest.mkdir()
    with pytest.raises(ArchiveError):
        extract_submission(archive, prompt_ids=PROMPTS, dest=dest, limits=limits)
    assert list(dest.iterdir()) == []


# --- the good cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_good_archive_with_a_top_level_folder(tmp_path: Path, fmt: str) -> None:
    manifest = {"model": "aurora-av", "notes": "seeds fixed", "clips": {"p1": {"seed": 7}}}
    entries = [
        Entry("my-model/", kind="dir"),
        file("my-model/p1.mp4", CLIP),
        file("my-model/p2.WEBM", CLIP + b"2"),
        file("my-model/manifest.json", json.dumps(manifest)),
        file("my-model/.DS_Store", b"junk"),
        file("__MACOSX/my-model/._p1.mp4", b"resource fork"),
    ]

    report, dest = run(tmp_path, fmt, entries)

    assert set(report.accepted) == {"p1", "p2"}
    assert report.accepted["p1"].member_name == "my-model/p1.mp4"
    assert report.accepted["p1"].path.read_bytes() == CLIP
    assert report.accepted["p2"].path.name == "p2.webm"
    assert report.refused == []
    assert set(report.ignored) >= {"my-model/.DS_Store", "__MACOSX/my-model/._p1.mp4"}
    assert report.missing_prompt_ids == ["p3"]
    assert report.manifest == manifest
    assert report.format == ("zip" if fmt == "zip" else "tar.gz")
    as_dict = report.to_dict()
    assert as_dict["accepted"]["p1"]["size_bytes"] == len(CLIP) and as_dict["missing_prompt_ids"] == ["p3"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_clips_at_the_root_and_missing_prompts_reported(tmp_path: Path, fmt: str) -> None:
    report, _dest = run(tmp_path, fmt, [file("./p3.mkv", CLIP)])
    assert set(report.accepted) == {"p3"} and report.accepted["p3"].path.name == "p3.mkv"
    assert report.missing_prompt_ids == ["p1", "p2"]
    assert report.manifest is None


def test_format_is_detected_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "clips.zip", [file("p1.mov", CLIP)])
    disguised = archive.rename(tmp_path / "clips.tar.gz")
    report = extract_submission(disguised, prompt_ids=PROMPTS, dest=tmp_path / "dest")
    assert report.format == "zip" and set(report.accepted) == {"p1"}


def test_dest_must_be_empty(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "clips.zip", [file("p1.mp4", CLIP)])
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "p1.mp4").write_bytes(b"keep me")
    with pytest.raises(ValueError, match="not empty"):
        extract_submission(archive, prompt_ids=PROMPTS, dest=tmp_path / "dest")
    assert (tmp_path / "dest" / "p1.mp4").read_bytes() == b"keep me"


# --- hostile members: refused, reported by name, nothing written --------------------------------

HOSTILE_PATHS = [
    ("dotdot", "../p2.mp4", 'path leaves the archive (contains "..")'),
    ("nested-dotdot", "clips/../../p2.mp4", 'contains ".."'),
    ("absolute", "/p2.mp4", "path leaves the archive (absolute path)"),
    ("absolute-deep", "/tmp/p2.mp4", "absolute path"),
    ("drive-letter", "C:/p2.mp4", 'drive letter "C:"'),
    ("drive-relative", "C:p2.mp4", 'drive letter "C:"'),
    ("backslash", "..\\p2.mp4", "backslash"),
    ("backslash-folder", "clips\\p2.mp4", "backslash"),
    ("control-character", "p2\n.mp4", "control characters"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "fragment"), [c[1:] for c in HOSTILE_PATHS], ids=[c[0] for c in HOSTILE_PATHS])
def test_paths_leaving_the_archive_are_refused(tmp_path: Path, fmt: str, name: str, fragment: str) -> None:
    report, _dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), file(name, CLIP)])

    assert set(report.accepted) == {"p1"}
    [refusal] = report.refused
    assert refusal.member_name == name
    assert refusal.reason == f"{json.dumps(name)}: {refusal.reason.split(': ', 1)[1]}"
    assert fragment in refusal.reason
    assert not (tmp_path / "p2.mp4").exists() and not Path("/p2.mp4").exists()


def test_refusal_reason_reads_like_the_spec(tmp_path: Path) -> None:
    report, _dest = run(tmp_path, "zip", [file("../evil.mp4", CLIP)])
    assert report.refused[0].reason == '"../evil.mp4": path leaves the archive (contains "..")'


LINKS_AND_SPECIAL_FILES = [
    ("symlink", Entry("p2.mp4", kind="symlink", target="/etc/passwd"), "symbolic link"),
    ("symlink-relative", Entry("p2.mp4", kind="symlink", target="p1.mp4"), "symbolic link"),
    ("fifo", Entry("p2.mp4", kind="fifo"), "FIFO"),
    ("device", Entry("p2.mp4", kind="chardev"), "device file"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("entry", "fragment"), [c[1:] for c in LINKS_AND_SPECIAL_FILES], ids=[c[0] for c in LINKS_AND_SPECIAL_FILES]
)
def test_links_and_special_files_are_refused(tmp_path: Path, fmt: str, entry: Entry, fragment: str) -> None:
    report, _dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), entry])
    assert set(report.accepted) == {"p1"}
    assert fragment in refused_reasons(report)["p2.mp4"]
    assert report.missing_prompt_ids == ["p2", "p3"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_hard_links_are_refused(tmp_path: Path, fmt: str) -> None:
    if fmt == "zip":
        # Zip spells a hard link as two directory entries sharing one local header.
        archive = make_zip_with_shared_entry(tmp_path / "submission.zip", "p1.mp4", CLIP, alias="p2.mp4")
    else:
        archive = make_tgz(
            tmp_path / "submission.tar.gz",
            [file("p1.mp4", CLIP), Entry("p2.mp4", kind="hardlink", target="p1.mp4")],
        )
    dest = tmp_path / "dest"
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=dest)
    assert_dest_holds_exactly_the_accepted_clips(report, dest)
    assert set(report.accepted) == {"p1"}
    assert "hard link" in refused_reasons(report)["p2.mp4"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_prompt_twice_refuses_both(tmp_path: Path, fmt: str) -> None:
    report, _dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), file("p2.mp4", CLIP), file("p2.mkv", CLIP)])
    assert set(report.accepted) == {"p1"}
    reasons = refused_reasons(report)
    assert set(reasons) == {"p2.mp4", "p2.mkv"}
    assert 'second clip for prompt "p2"' in reasons["p2.mkv"] and "both are refused" in reasons["p2.mp4"]
    assert report.missing_prompt_ids == ["p2", "p3"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_member_twice_refuses_both(tmp_path: Path, fmt: str) -> None:
    entries = [file("p1.mp4", CLIP), file("p2.mp4", b"first"), file("p2.mp4", b"second")]
    with pytest.warns(UserWarning, match="Duplicate name") if fmt == "zip" else _NoWarning():
        archive = make_archive(tmp_path / "submission", fmt, entries)
    dest = tmp_path / "dest"
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=dest)
    assert_dest_holds_exactly_the_accepted_clips(report, dest)
    assert set(report.accepted) == {"p1"}
    reasons = [member.reason for member in report.refused]
    assert len(reasons) == 2 and any("appears twice" in reason for reason in reasons)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_manifest_twice_refuses_both(tmp_path: Path, fmt: str) -> None:
    manifest = json.dumps({"model": "m"})
    entries = [file("manifest.json", manifest), file("p1.mp4", CLIP), file("./manifest.json", manifest)]
    report, _dest = run(tmp_path, fmt, entries)
    assert report.manifest is None and set(report.accepted) == {"p1"}
    assert {member.member_name for member in report.refused} == {"manifest.json", "./manifest.json"}


NAMING_CASES = [
    ("unknown-prompt", "p9.mp4", 'names no prompt of the suite (no prompt "p9")'),
    ("wrong-extension", "p2.avi", 'has the extension ".avi"'),
    ("text-file", "p2.txt", 'has the extension ".txt"'),
    ("no-extension", "p2", "is not a clip of the suite"),
    ("readme", "README.md", "is not a clip of the suite"),
    ("double-extension", "p2.mp4.exe", "is not a clip of the suite"),
    ("nested-too-deep", "a/b/p2.mp4", "nested too deep"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "fragment"), [c[1:] for c in NAMING_CASES], ids=[c[0] for c in NAMING_CASES])
def test_members_that_are_not_clips_of_the_suite_are_refused(
    tmp_path: Path, fmt: str, name: str, fragment: str
) -> None:
    report, _dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), file(name, CLIP)])
    assert set(report.accepted) == {"p1"}
    assert fragment in refused_reasons(report)[name]


@pytest.mark.parametrize("fmt", FORMATS)
def test_clips_in_two_places_are_refused(tmp_path: Path, fmt: str) -> None:
    report, _dest = run(tmp_path, fmt, [file("run1/p1.mp4", CLIP), file("p2.mp4", CLIP), file("run2/p3.mp4", CLIP)])
    assert set(report.accepted) == {"p1"}
    reasons = refused_reasons(report)
    assert 'not in the clip folder "run1/"' in reasons["p2.mp4"]
    assert 'not in the clip folder "run1/"' in reasons["run2/p3.mp4"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_member_over_the_clip_size_is_refused_without_a_trace(tmp_path: Path, fmt: str) -> None:
    limits = ArchiveLimits(max_clip_bytes=1000)
    report, dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), file("p2.mp4", b"v" * 5000)], limits)
    assert set(report.accepted) == {"p1"}
    assert "over the 1000 bytes per-file limit" in refused_reasons(report)["p2.mp4"]
    assert sorted(path.name for path in dest.iterdir()) == ["p1.mp4"]  # no partial file


def test_size_is_counted_while_streaming_whatever_the_archive_declares(tmp_path: Path) -> None:
    """Declared sizes only allow an early refusal; the byte count while writing is what enforces the cap."""
    lying = ArchiveMember(
        name="p1.mp4",
        kind=FILE,
        declared_size=10,
        problem=None,
        _opener=lambda: io.BytesIO(b"v" * 5000),
        _compressed_counter=lambda: 5000,
    )
    with pytest.raises(MemberRefused, match="larger than the 1000 bytes"):
        copy_member_to(lying, tmp_path, max_bytes=1000, max_ratio=200, ratio_floor=2**20)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_compression_bomb_is_refused_and_the_rest_still_read(tmp_path: Path, fmt: str) -> None:
    entries = [file("p1.mp4", CLIP), file("p2.mp4", zeros(8 * 2**20)), file("p3.mp4", CLIP)]
    archive = make_archive(tmp_path / "submission", fmt, entries)
    assert archive.stat().st_size < 100_000  # highly compressible: ~1000:1

    dest = tmp_path / "dest"
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=dest)

    assert_dest_holds_exactly_the_accepted_clips(report, dest)
    assert set(report.accepted) == {"p1", "p3"}
    assert "compression ratio is over 200:1" in refused_reasons(report)["p2.mp4"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_total_unpacked_size_over_the_limit_refuses_the_archive(tmp_path: Path, fmt: str) -> None:
    archive = make_archive(tmp_path / "submission", fmt, [file("p1.mp4", b"a" * 4000), file("p2.mp4", b"b" * 4000)])
    assert_archive_error(tmp_path, archive, "unpacks to more than", ArchiveLimits(max_total_bytes=6000))


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_members_refuses_the_archive(tmp_path: Path, fmt: str) -> None:
    archive = make_archive(tmp_path / "submission", fmt, [file(f"p{i}.mp4", CLIP) for i in (1, 2, 3)])
    assert_archive_error(tmp_path, archive, "the limit of 2 members", ArchiveLimits(max_members=2))


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"just some text", "not a .zip or .tar.gz"),
        (b"", "empty"),
        (b"Rar!\x1a\x07\x00rest", "RAR archive is not accepted"),
        (b"BZh91AY&SY", "bzip2 file is not accepted"),
    ],
    ids=["text", "empty", "rar", "bzip2"],
)
def test_not_an_archive(tmp_path: Path, payload: bytes, fragment: str) -> None:
    archive = tmp_path / "submission.zip"
    archive.write_bytes(payload)
    assert_archive_error(tmp_path, archive, fragment)


def test_plain_tar_is_not_accepted(tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "submission.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("p1.mp4")
        info.size = len(CLIP)
        tar.addfile(info, io.BytesIO(CLIP))
    assert_archive_error(tmp_path, archive, "uncompressed .tar")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_archive_is_refused_and_leaves_nothing(tmp_path: Path, fmt: str) -> None:
    entries = [file("p1.mp4", CLIP), file("p2.mp4", bytes(range(256)) * 400), file("p3.mp4", CLIP)]
    good = make_archive(tmp_path / "good", fmt, entries)
    truncated = tmp_path / ("truncated.zip" if fmt == "zip" else "truncated.tar.gz")
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    assert_archive_error(tmp_path, truncated, "corrupt")


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_data_after_good_members_is_refused_and_leaves_nothing(tmp_path: Path, fmt: str) -> None:
    """p1 is written before the damage is found; the ArchiveError removes it again."""
    body = bytes(range(256)) * 400
    entries = [Entry("p1.mp4", CLIP, stored=True), Entry("p2.mp4", body, stored=True)]
    good = make_archive(tmp_path / "good", fmt, entries)
    blob = bytearray(good.read_bytes())
    if fmt == "zip":
        where = bytes(blob).index(body[:256]) + 5000  # inside p2's stored data: its CRC will not match
    else:
        where = len(blob) // 2  # inside the deflate stream
    blob[where] ^= 0xFF
    damaged = tmp_path / ("damaged.zip" if fmt == "zip" else "damaged.tar.gz")
    damaged.write_bytes(bytes(blob))
    assert_archive_error(tmp_path, damaged, "corrupt")


def test_gzip_of_something_else_is_refused(tmp_path: Path) -> None:
    import gzip

    archive = tmp_path / "submission.tar.gz"
    archive.write_bytes(gzip.compress(b"this is not a tar stream" * 40))
    assert_archive_error(tmp_path, archive, "corrupt")


def test_oversized_tar_extended_header_is_refused(tmp_path: Path) -> None:
    archive = make_tgz(tmp_path / "submission.tar.gz", [file("p1.mp4", CLIP)], pax_headers={"comment": "x" * 100_000})
    assert_archive_error(tmp_path, archive, "extended header")


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        (b"{not json", "invalid JSON at line 1, column 2"),
        (b"[1, 2]", "must be a JSON object, got array"),
        (b'{"notes": "x"}', '"model" is missing'),
        (b'{"model": "m", "version": 2}', 'unknown key "version"'),
        (b'{"model": "m", "clips": {"p9": {}}}', '"clips"."p9": no such prompt in the suite'),
        (b'{"model": "m", "clips": {"p1": {"seed": "7"}}}', '"seed" must be an integer, got string'),
        (b'{"model": "m", "clips": []}', '"clips" must be an object, got array'),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
    ids=["syntax", "array", "no-model", "unknown-key", "unknown-prompt", "seed-type", "clips-type", "not-utf8"],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_manifest_is_refused_but_the_clips_count(tmp_path: Path, fmt: str, manifest: bytes, fragment: str) -> None:
    report, _dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), file("manifest.json", manifest)])
    assert set(report.accepted) == {"p1"}
    assert report.manifest is None
    reason = refused_reasons(report)["manifest.json"]
    assert reason.startswith('"manifest.json": bad manifest: ') and fragment in reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_manifest_over_its_size_limit_is_refused(tmp_path: Path, fmt: str) -> None:
    manifest = json.dumps({"model": "m", "notes": "n" * 5000}).encode()
    limits = ArchiveLimits(max_manifest_bytes=1000)
    report, _dest = run(tmp_path, fmt, [file("p1.mp4", CLIP), file("manifest.json", manifest)], limits)
    assert report.manifest is None and "per-file limit" in refused_reasons(report)["manifest.json"]


# --- zip-only hostile constructions ----------------------------------------------------------------


def test_zip_encrypted_member_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "submission.zip", [file("p1.mp4", CLIP), file("p2.mp4", CLIP)])
    # zipfile cannot write encrypted members, so set the "encrypted" bit in p2's headers by hand.
    blob = bytearray(archive.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        header = bytes(blob).index(signature, bytes(blob).index(signature) + 1)  # the second: p2's
        blob[header + flag_offset] |= 0x1
    archive.write_bytes(bytes(blob))
    with zipfile.ZipFile(archive) as check:
        assert check.getinfo("p2.mp4").flag_bits & 0x1
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=tmp_path / "dest")
    assert_dest_holds_exactly_the_accepted_clips(report, tmp_path / "dest")
    assert set(report.accepted) == {"p1"} and "encrypted" in refused_reasons(report)["p2.mp4"]


def test_zip_methods_without_bounded_decompression_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("p1.mp4", CLIP, compress_type=zipfile.ZIP_DEFLATED)
        out.writestr("p2.mp4", CLIP, compress_type=zipfile.ZIP_BZIP2)
        out.writestr("p3.mp4", CLIP, compress_type=zipfile.ZIP_LZMA)
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=tmp_path / "dest")
    assert_dest_holds_exactly_the_accepted_clips(report, tmp_path / "dest")
    reasons = refused_reasons(report)
    assert set(report.accepted) == {"p1"}
    assert "method 12" in reasons["p2.mp4"] and "method 14" in reasons["p3.mp4"]


class _NoWarning:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


def test_zip_entries_overlapping_another_entry_are_refused(tmp_path: Path) -> None:
    archive = make_zip_with_overlap(tmp_path / "submission.zip", "p1.mp4", "p2.mp4", CLIP)
    with zipfile.ZipFile(archive) as check:  # the stdlib of Python 3.11 reads both without complaint
        assert check.read("p2.mp4") == CLIP
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=tmp_path / "dest")
    assert_dest_holds_exactly_the_accepted_clips(report, tmp_path / "dest")
    assert set(report.accepted) == {"p1"}
    assert 'overlaps the data of "p1.mp4"' in refused_reasons(report)["p2.mp4"]


def test_undecodable_tar_names_are_reported_readably(tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "submission.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        info = tarfile.TarInfo("p\xff.mp4")  # written as the single byte 0xff, not valid UTF-8
        info.size = len(CLIP)
        tar.addfile(info, io.BytesIO(CLIP))
    report = extract_submission(archive, prompt_ids=PROMPTS, dest=tmp_path / "dest")
    [refusal] = report.refused
    assert refusal.member_name == "p\ufffd.mp4" and "is not a clip of the suite" in refusal.reason
    json.dumps(report.to_dict()).encode("utf-8")  # no lone surrogates reach the JSON report
