"""Suites as .zip and .tar.gz: they load exactly like the folder, and hostile archives are refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.suite_format import FormatProblem, SuiteFormatError, SuiteLimits, load_suite

from .builders import Entry, edit_suite_json, file, make_archive, make_zip, write_example_suite

FORMATS = ["zip", "tgz"]


def folder_entries(folder: Path, prefix: str = "") -> list[Entry]:
    entries = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir():
            entries.append(Entry(f"{prefix}{relative}/", kind="dir"))
        else:
            entries.append(file(f"{prefix}{relative}", path.read_bytes()))
    return entries


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    return write_example_suite(tmp_path / "suite")


def refused(archive: Path, workdir: Path, limits: SuiteLimits = SuiteLimits()) -> list[FormatProblem]:
    with pytest.raises(SuiteFormatError) as caught:
        load_suite(archive, workdir, limits=limits)
    # Nothing is left behind: the extraction folder is removed on failure.
    assert not workdir.exists() or not any(workdir.iterdir())
    return caught.value.problems


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("prefix", ["", "example-suite/", "./"])
def test_archives_load_like_the_folder_with_the_same_hash(
    suite_dir: Path, tmp_path: Path, fmt: str, prefix: str
) -> None:
    from_folder = load_suite(suite_dir, tmp_path / "work-folder")
    archive = make_archive(tmp_path / "suite", fmt, folder_entries(suite_dir, prefix))

    from_archive = load_suite(archive, tmp_path / "work")

    assert from_archive.spec == from_folder.spec
    assert from_archive.raw == from_folder.raw
    assert from_archive.content_hash == from_folder.content_hash
    assert from_archive.root.is_relative_to((tmp_path / "work").absolute())
    assert (from_archive.root / "suite.json").is_file()
    assert set(from_archive.reference_files) == set(from_folder.reference_files)
    for name, path in from_archive.reference_files.items():
        assert path.is_relative_to(from_archive.root.resolve())
        assert path.read_bytes() == from_folder.reference_files[name].read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_archive_junk_is_skipped(suite_dir: Path, tmp_path: Path, fmt: str) -> None:
    entries = folder_entries(suite_dir, "s/") + [
        file("__MACOSX/s/._suite.json", b"\x00\x05\x16\x07"),
        file("s/.DS_Store", b"junk"),
    ]
    loaded = load_suite(make_archive(tmp_path / "suite", fmt, entries), tmp_path / "work")
    assert loaded.spec.name == "example"


@pytest.mark.parametrize("fmt", FORMATS)
def test_problems_inside_an_archived_suite_name_suite_json(suite_dir: Path, tmp_path: Path, fmt: str) -> None:
    edit_suite_json(suite_dir, lambda d: d["prompts"][1].update(category="cooking"))
    problems = refused(make_archive(tmp_path / "suite", fmt, folder_entries(suite_dir)), tmp_path / "work")
    assert [(p.file, p.prompt_id, p.field) for p in problems] == [("suite.json", "advert-007", "category")]


HOSTILE = [
    ("dotdot", Entry("../evil.txt", b"x"), 'contains ".."'),
    ("nested-dotdot", Entry("references/../../evil.txt", b"x"), 'contains ".."'),
    ("absolute", Entry("/tmp/evil.txt", b"x"), "absolute"),
    ("drive-letter", Entry("C:/evil.txt", b"x"), "drive letter"),
    ("backslash", Entry("..\\evil.txt", b"x"), "backslash"),
    ("symlink", Entry("references/link.png", kind="symlink", target="/etc/passwd"), "symbolic link"),
    ("fifo", Entry("references/pipe", kind="fifo"), "FIFO"),
    ("device", Entry("references/tty", kind="chardev"), "device"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("entry", "fragment"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_suite_archives_are_refused(
    suite_dir: Path, tmp_path: Path, fmt: str, entry: Entry, fragment: str
) -> None:
    archive = make_archive(tmp_path / "suite", fmt, folder_entries(suite_dir) + [entry])

    problems = refused(archive, tmp_path / "work")

    assert [(p.file, p.prompt_id, p.field) for p in problems] == [(archive.name, None, entry.name)]
    assert fragment in problems[0].message
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_hard_link_in_a_suite_tar_is_refused(suite_dir: Path, tmp_path: Path) -> None:
    entry = Entry("references/copy.png", kind="hardlink", target="references/woman.png")
    archive = make_archive(tmp_path / "suite", "tgz", folder_entries(suite_dir) + [entry])
    [problem] = refused(archive, tmp_path / "work")
    assert problem.field == "references/copy.png" and "hard link" in problem.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_hostile_member_is_reported(suite_dir: Path, tmp_path: Path, fmt: str) -> None:
    bad = [Entry("../a.txt", b"x"), Entry("/b.txt", b"x"), Entry("link", kind="symlink", target="/")]
    problems = refused(make_archive(tmp_path / "suite", fmt, bad + folder_entries(suite_dir)), tmp_path / "work")
    assert [p.field for p in problems] == ["../a.txt", "/b.txt", "link"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_suite_archive_limits(suite_dir: Path, tmp_path: Path, fmt: str) -> None:
    archive = make_archive(tmp_path / "suite", fmt, folder_entries(suite_dir))
    [too_many] = refused(archive, tmp_path / "w1", SuiteLimits(max_members=2))
    assert "the limit of 2 members" in too_many.message and too_many.file == archive.name
    [too_big] = refused(archive, tmp_path / "w2", SuiteLimits(max_total_bytes=100))
    assert "unpacks to more than 100 bytes" in too_big.message
    files_too_big = refused(archive, tmp_path / "w3", SuiteLimits(max_file_bytes=100))
    assert {p.field for p in files_too_big} == {"suite.json", "references/woman.wav"}  # the PNG is 67 bytes
    assert all("over the 100 bytes per-file limit" in p.message for p in files_too_big)


@pytest.mark.parametrize("fmt", FORMATS)
def test_suite_archive_compression_bomb(suite_dir: Path, tmp_path: Path, fmt: str) -> None:
    entries = folder_entries(suite_dir) + [file("references/zeros.wav", bytes(4 * 2**20))]
    [problem] = refused(make_archive(tmp_path / "suite", fmt, entries), tmp_path / "work")
    assert problem.field == "references/zeros.wav" and "compression ratio" in problem.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_suite_json_must_be_at_the_root_or_in_one_top_level_folder(
    suite_dir: Path, tmp_path: Path, fmt: str
) -> None:
    nested = make_archive(tmp_path / "nested", fmt, folder_entries(suite_dir, "a/b/"))
    [problem] = refused(nested, tmp_path / "w1")
    assert problem.file == nested.name and "suite.json not found" in problem.message
    two_folders = make_archive(
        tmp_path / "two", fmt, folder_entries(suite_dir, "one/") + folder_entries(suite_dir, "two/")
    )
    [problem] = refused(two_folders, tmp_path / "w2")
    assert "single top-level folder" in problem.message


def test_not_an_archive_and_corrupt_archives(suite_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "suite.tar.gz"
    text.write_text("suite.json")
    [problem] = refused(text, tmp_path / "w1")
    assert (problem.file, problem.field) == ("suite.tar.gz", "") and "not a .zip or .tar.gz" in problem.message

    good = make_zip(tmp_path / "good.zip", folder_entries(suite_dir))
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    [problem] = refused(truncated, tmp_path / "w2")
    assert "corrupt" in problem.message

    good_tgz = make_archive(tmp_path / "good", "tgz", folder_entries(suite_dir))
    truncated_tgz = tmp_path / "truncated.tgz"
    truncated_tgz.write_bytes(good_tgz.read_bytes()[:-20])
    [problem] = refused(truncated_tgz, tmp_path / "w3")
    assert "truncated" in problem.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_member_in_a_suite_archive(suite_dir: Path, tmp_path: Path, fmt: str) -> None:
    entries = folder_entries(suite_dir) + [file("references/woman.png", b"other bytes")]
    with pytest.warns(UserWarning) if fmt == "zip" else _no_warning():
        archive = make_archive(tmp_path / "suite", fmt, entries)
    [problem] = refused(archive, tmp_path / "work")
    assert problem.field == "references/woman.png" and "twice" in problem.message


class _no_warning:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None
