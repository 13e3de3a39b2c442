"""Suite import on PostgreSQL: idempotent, versioned, all-or-nothing, with problems named precisely."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from config.exceptions import ApplicationError
from leaderboard.models import Prompt, ReferenceAsset, RubricQuestion, Shot, Suite
from leaderboard.services import suite_import, suite_media_dir
from leaderboard.suite_format import SuiteFormatError

pytestmark = pytest.mark.django_db


def copy_suite(demo_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "suite"
    shutil.copytree(demo_dir / "suite", target)
    return target


def edit_suite(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((folder / "suite.json").read_text())
    change(data)
    (folder / "suite.json").write_text(json.dumps(data, indent=2))


def test_import_creates_every_row_and_copies_references(demo_dir: Path, media_root: Path) -> None:
    raw = json.loads((demo_dir / "suite" / "suite.json").read_text())
    result = suite_import(path=demo_dir / "suite")

    assert result.created
    suite = result.suite
    assert (suite.name, suite.version) == (raw["name"], raw["version"])
    assert Prompt.objects.filter(suite=suite).count() == len(raw["prompts"])
    assert Shot.objects.filter(prompt__suite=suite).count() == sum(len(p["shots"]) for p in raw["prompts"])
    assert RubricQuestion.objects.filter(prompt__suite=suite).count() == sum(len(p["rubric"]) for p in raw["prompts"])
    references = ReferenceAsset.objects.filter(prompt__suite=suite)
    assert references.count() == sum(len(p["references"]) for p in raw["prompts"])
    for reference in references:
        stored = Path(reference.file.path)
        assert stored.is_file() and stored.is_relative_to(media_root)
        assert stored.read_bytes() == (demo_dir / "suite" / reference.path).read_bytes()
    first = Prompt.objects.get(suite=suite, prompt_id=raw["prompts"][0]["id"])
    assert first.to_script().shot_count == len(raw["prompts"][0]["shots"])


def test_reimport_of_same_name_version_and_content_changes_nothing(demo_dir: Path, media_root: Path) -> None:
    first = suite_import(path=demo_dir / "suite")
    counts = (Suite.objects.count(), Prompt.objects.count(), Shot.objects.count())

    second = suite_import(path=demo_dir / "suite")

    assert not second.created and second.suite.pk == first.suite.pk
    assert (Suite.objects.count(), Prompt.objects.count(), Shot.objects.count()) == counts


def test_new_version_is_a_new_suite(demo_dir: Path, media_root: Path, tmp_path: Path) -> None:
    suite_import(path=demo_dir / "suite")
    folder = copy_suite(demo_dir, tmp_path)
    edit_suite(folder, lambda data: data.update(version="2.0"))

    result = suite_import(path=folder)

    assert result.created and result.suite.version == "2.0"
    assert Suite.objects.count() == 2


def test_same_version_with_other_content_is_refused(demo_dir: Path, media_root: Path, tmp_path: Path) -> None:
    suite_import(path=demo_dir / "suite")
    folder = copy_suite(demo_dir, tmp_path)
    edit_suite(folder, lambda data: data.update(description="changed"))

    with pytest.raises(ApplicationError, match="already imported with different content"):
        suite_import(path=folder)
    assert Suite.objects.count() == 1


def test_malformed_suite_imports_nothing_and_names_file_prompt_field(
    demo_dir: Path, media_root: Path, tmp_path: Path
) -> None:
    folder = copy_suite(demo_dir, tmp_path)
    raw = json.loads((folder / "suite.json").read_text())
    broken_id = raw["prompts"][1]["id"]

    def break_it(data: dict) -> None:
        data["prompts"][1]["shots"][0]["shot_scale"] = "huge"
        data["prompts"][1]["category"] = "cooking"

    edit_suite(folder, break_it)

    with pytest.raises(SuiteFormatError) as caught:
        suite_import(path=folder)

    problems = {(p.file, p.prompt_id, p.field) for p in caught.value.problems}
    assert ("suite.json", broken_id, "shots[1].shot_scale") in problems or (
        "suite.json", broken_id, "shots[0].shot_scale") in problems
    assert ("suite.json", broken_id, "category") in problems
    assert Suite.objects.count() == 0 and Prompt.objects.count() == 0
    assert not suite_media_dir(raw["name"], raw["version"]).exists()


def _archive(folder: Path, kind: str, tmp_path: Path) -> Path:
    if kind == "zip":
        path = tmp_path / "suite.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    zf.write(file, Path("suite") / file.relative_to(folder))
        return path
    path = tmp_path / "suite.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname="suite")
    return path


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_import_suite_command_reads_archives_idempotently(
    kind: str, demo_dir: Path, media_root: Path, tmp_path: Path
) -> None:
    archive = _archive(demo_dir / "suite", kind, tmp_path)
    out = io.StringIO()

    call_command("import_suite", str(archive), stdout=out)
    call_command("import_suite", str(archive), stdout=out)

    assert "imported suite" in out.getvalue() and "unchanged" in out.getvalue()
    assert Suite.objects.count() == 1


def test_import_suite_command_prints_each_problem(demo_dir: Path, media_root: Path, tmp_path: Path) -> None:
    folder = copy_suite(demo_dir, tmp_path)
    raw = json.loads((folder / "suite.json").read_text())
    edit_suite(folder, lambda data: data["prompts"][0]["shots"][0].update(start_s="soon"))
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_suite", str(folder), stderr=err)

    assert raw["prompts"][0]["id"] in err.getvalue() and "start_s" in err.getvalue()
    assert Suite.objects.count() == 0


def test_import_suite_command_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_suite", str(tmp_path / "nope"))
