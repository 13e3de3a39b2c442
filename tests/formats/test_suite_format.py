"""Suite validation: the example suite loads, and every malformed input is named by file, prompt and field."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leaderboard.suite_format import FormatProblem, SuiteFormatError, load_suite
from scoring.engine.script import MAX_SHOTS, PromptScript

from .builders import edit_suite_json, png_bytes, write_example_suite

P0 = "dialogue-001"  # the example's first prompt: 3 shots, 12 s, two references, two questions
P1 = "advert-007"  # the second: 2 shots, 6 s, no references, no rubric


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    return write_example_suite(tmp_path / "suite")


def problems_of(folder: Path, workdir: Path) -> list[FormatProblem]:
    with pytest.raises(SuiteFormatError) as caught:
        load_suite(folder, workdir)
    return caught.value.problems


# --- the valid example -------------------------------------------------------------------------


def test_example_suite_validates(suite_dir: Path, tmp_path: Path) -> None:
    loaded = load_suite(suite_dir, tmp_path / "work")

    spec = loaded.spec
    assert (spec.name, spec.version) == ("example", "1.0")
    assert [prompt.id for prompt in spec.prompts] == [P0, P1]
    dialogue = spec.prompts[0]
    assert isinstance(dialogue, PromptScript)
    assert dialogue.shot_count == 3 and dialogue.duration_s == 12.0
    assert dialogue.planned_boundaries_s == (4.0, 8.0)
    assert [r.file for r in dialogue.references] == ["references/woman.png", "references/woman.wav"]
    assert dialogue.rubric[1].answer == 2 and dialogue.rubric[0].shots == (2, 3)
    assert spec.prompts[1].shots[1].on_screen_text == "VOLT - charge your night"
    assert loaded.root == suite_dir.absolute()
    assert loaded.reference_files == {
        "references/woman.png": (suite_dir / "references" / "woman.png").resolve(),
        "references/woman.wav": (suite_dir / "references" / "woman.wav").resolve(),
    }
    assert loaded.raw == json.loads((suite_dir / "suite.json").read_text())
    assert len(loaded.content_hash) == 64
    # The prompt round-trips through the engine's dataclasses.
    assert dialogue.to_dict()["shots"][1]["audio"]["dialogue"] == "I think we should take the early train."
    # A folder is read in place: nothing is written to the workdir.
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_optional_prompt_keys_take_their_defaults(suite_dir: Path, tmp_path: Path) -> None:
    def drop_optionals(data: dict[str, Any]) -> None:
        for key in ("languages", "audio_classes", "duration_s", "references", "rubric"):
            del data["prompts"][1][key]
        data["prompts"][1]["shots"][1]["end_s"] = 15
        del data["description"]

    edit_suite_json(suite_dir, drop_optionals)
    loaded = load_suite(suite_dir, tmp_path / "work")
    advert = loaded.spec.prompts[1]
    assert advert.duration_s == 15.0 and advert.languages == () and advert.references == ()
    assert loaded.spec.description == ""


def test_content_hash_ignores_json_layout_but_not_content(suite_dir: Path, tmp_path: Path) -> None:
    first = load_suite(suite_dir, tmp_path / "w").content_hash
    data = json.loads((suite_dir / "suite.json").read_text())
    (suite_dir / "suite.json").write_text(json.dumps(data, indent=7, sort_keys=True))
    assert load_suite(suite_dir, tmp_path / "w").content_hash == first

    (suite_dir / "references" / "woman.png").write_bytes(png_bytes() + b"\x00")
    changed_reference = load_suite(suite_dir, tmp_path / "w").content_hash
    assert changed_reference != first

    edit_suite_json(suite_dir, lambda d: d.update(description="changed"))
    assert load_suite(suite_dir, tmp_path / "w").content_hash not in (first, changed_reference)


def test_problem_reads_file_prompt_field_message(suite_dir: Path, tmp_path: Path) -> None:
    edit_suite_json(suite_dir, lambda d: d["prompts"][0]["shots"][1].update(start_s=3.5))
    [problem] = problems_of(suite_dir, tmp_path)
    assert str(problem) == (
        "suite.json: prompt \"dialogue-001\": shots[2].start_s: must be >= the previous shot's end_s (4.0), got 3.5"
    )


# --- one case per malformed input --------------------------------------------------------------


def _sixteen_shots(data: dict[str, Any]) -> None:
    data["prompts"][0]["shots"] = [
        {
            "start_s": i * 0.5,
            "end_s": (i + 1) * 0.5,
            "caption": f"shot {i + 1}",
            "shot_scale": "medium",
            "camera_angle": "eye-level",
            "camera_motion": "static",
            "transition_in": "none" if i == 0 else "hard-cut",
        }
        for i in range(MAX_SHOTS + 1)
    ]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set data[a][b]... (path like 'prompts.0.shots.1.start_s'; ints index lists)."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        del target[last]

    return change


# (case id, change, prompt_id, field, a fragment of the message)
MALFORMED = [
    # suite level
    ("name-missing", _delete("name"), None, "name", "missing"),
    ("name-empty", _set("name", ""), None, "name", "non-empty"),
    ("name-not-a-slug", _set("name", "My suite!"), None, "name", "slug"),
    ("name-not-a-string", _set("name", 3), None, "name", "must be a string, got number"),
    ("version-missing", _delete("version"), None, "version", "missing"),
    ("version-a-number", _set("version", 1.0), None, "version", "must be a string, got number"),
    ("description-not-a-string", _set("description", ["x"]), None, "description", "got array"),
    ("suite-unknown-key", _set("author", "me"), None, "author", "unknown key"),
    ("prompts-missing", _delete("prompts"), None, "prompts", "missing"),
    ("prompts-empty", _set("prompts", []), None, "prompts", "at least one prompt"),
    ("prompts-not-a-list", _set("prompts", {}), None, "prompts", "must be an array, got object"),
    ("prompt-not-an-object", lambda d: d["prompts"].append("x"), None, "prompts[3]", "must be an object"),
    # prompt keys and types
    ("prompt-unknown-key", _set("prompts.0.catgory", "dialogue"), P0, "catgory", 'did you mean "category"'),
    ("prompt-missing-key", _delete("prompts.0.script"), P0, "script", "missing"),
    ("id-bad-pattern", _set("prompts.0.id", "bad id!"), None, "prompts[1].id", "must match"),
    ("id-too-long", _set("prompts.0.id", "x" * 65), None, "prompts[1].id", "must match"),
    ("id-missing", _delete("prompts.0.id"), None, "prompts[1].id", "missing"),
    ("id-not-a-string", _set("prompts.1.id", 7), None, "prompts[2].id", "must be a string, got number"),
    ("id-duplicate", _set("prompts.1.id", P0), P0, "id", "duplicate prompt id (also prompts[1])"),
    ("category-unknown", _set("prompts.0.category", "dialog"), P0, "category", 'did you mean "dialogue"'),
    ("style-empty", _set("prompts.0.style", " "), P0, "style", "non-empty"),
    ("subject-realism-unknown", _set("prompts.0.subject_realism", "fictional"), P0, "subject_realism", "real, non-real"),
    ("scene-realism-bool", _set("prompts.0.scene_realism", True), P0, "scene_realism", "got boolean"),
    ("languages-not-a-list", _set("prompts.0.languages", "en"), P0, "languages", "must be an array"),
    ("languages-not-bcp47", _set("prompts.0.languages", ["english"]), P0, "languages[1]", "BCP-47"),
    ("languages-not-strings", _set("prompts.0.languages", [1]), P0, "languages[1]", "must be a string"),
    ("audio-class-unknown", _set("prompts.0.audio_classes", ["speach"]), P0, "audio_classes[1]", 'did you mean "speech"'),
    ("duration-a-string", _set("prompts.0.duration_s", "12"), P0, "duration_s", "must be a number, got string"),
    ("duration-a-bool", _set("prompts.1.duration_s", True), P1, "duration_s", "must be a number, got boolean"),
    ("duration-zero", _set("prompts.1.duration_s", 0), P1, "duration_s", "must be > 0"),
    ("duration-nan", _set("prompts.1.duration_s", float("nan")), P1, "duration_s", "finite"),
    ("script-empty", _set("prompts.0.script", ""), P0, "script", "non-empty"),
    # shots
    ("shots-missing", _delete("prompts.1.shots"), P1, "shots", "missing"),
    ("shots-empty", _set("prompts.1.shots", []), P1, "shots", "at least one shot"),
    ("shots-too-many", _sixteen_shots, P0, "shots", f"at most {MAX_SHOTS} shots, got {MAX_SHOTS + 1}"),
    ("shot-not-an-object", _set("prompts.1.shots.1", "cut"), P1, "shots[2]", "must be an object"),
    ("shot-unknown-key", _set("prompts.0.shots.1.start", 4), P0, "shots[2].start", 'did you mean "start_s"'),
    ("shot-missing-key", _delete("prompts.0.shots.0.caption"), P0, "shots[1].caption", "missing"),
    ("shot-start-a-string", _set("prompts.0.shots.0.start_s", "0"), P0, "shots[1].start_s", "got string"),
    ("shot-end-a-bool", _set("prompts.1.shots.1.end_s", True), P1, "shots[2].end_s", "got boolean"),
    ("shot-end-before-start", _set("prompts.0.shots.1.end_s", 4), P0, "shots[2].end_s", "must be > start_s (4.0), got 4.0"),
    ("shot-overlaps-previous", _set("prompts.0.shots.1.start_s", 3.5), P0, "shots[2].start_s", "previous shot's end_s"),
    ("shot-after-duration", _set("prompts.0.shots.2.end_s", 13), P0, "shots[3].end_s", "<= duration_s (12.0), got 13.0"),
    ("shot-negative-start", _set("prompts.0.shots.0.start_s", -1), P0, "shots[1].start_s", "must be >= 0"),
    ("shot-scale-unknown", _set("prompts.0.shots.0.shot_scale", "wide"), P0, "shots[1].shot_scale", "extreme-long"),
    ("camera-angle-unknown", _set("prompts.0.shots.0.camera_angle", "birdseye"), P0, "shots[1].camera_angle", "overhead"),
    ("camera-motion-unknown", _set("prompts.1.shots.0.camera_motion", "crane"), P1, "shots[1].camera_motion", "tracking"),
    ("transition-unknown", _set("prompts.0.shots.1.transition_in", "cut"), P0, "shots[2].transition_in", "hard-cut"),
    ("transition-none-later", _set("prompts.1.shots.1.transition_in", "none"), P1, "shots[2].transition_in", "only allowed on the first shot"),
    ("lighting-not-a-string", _set("prompts.0.shots.0.lighting", 5), P0, "shots[1].lighting", "must be a string"),
    ("on-screen-text-not-a-string", _set("prompts.1.shots.1.on_screen_text", None), P1, "shots[2].on_screen_text", "got null"),
    ("audio-not-an-object", _set("prompts.0.shots.0.audio", "calm"), P0, "shots[1].audio", "must be an object"),
    ("audio-unknown-key", _set("prompts.0.shots.0.audio.mood", "calm"), P0, "shots[1].audio.mood", "unknown key"),
    ("audio-value-not-a-string", _set("prompts.0.shots.1.audio.dialogue", 5), P0, "shots[2].audio.dialogue", "must be a string"),
    ("audio-language-not-bcp47", _set("prompts.0.shots.1.audio.language", "English"), P0, "shots[2].audio.language", "BCP-47"),
    # references
    ("references-not-a-list", _set("prompts.1.references", {}), P1, "references", "must be an array"),
    ("reference-not-an-object", _set("prompts.0.references.0", "woman.png"), P0, "references[1]", "must be an object"),
    ("reference-unknown-key", _set("prompts.0.references.0.path", "x"), P0, "references[1].path", "unknown key"),
    ("reference-missing-name", _delete("prompts.0.references.0.name"), P0, "references[1].name", "missing"),
    ("reference-kind-unknown", _set("prompts.0.references.0.kind", "person"), P0, "references[1].kind", "subject, scene, voice"),
    ("reference-absolute", _set("prompts.0.references.0.file", "/etc/passwd"), P0, "references[1].file", "absolute"),
    ("reference-dotdot", _set("prompts.0.references.0.file", "../outside.png"), P0, "references[1].file", 'contains ".."'),
    ("reference-backslash", _set("prompts.0.references.0.file", "references\\woman.png"), P0, "references[1].file", "backslash"),
    ("reference-drive", _set("prompts.0.references.0.file", "C:/woman.png"), P0, "references[1].file", 'drive letter "C:"'),
    ("reference-not-found", _set("prompts.0.references.0.file", "references/man.png"), P0, "references[1].file", "file not found"),
    ("reference-voice-as-png", _set("prompts.0.references.1.file", "references/woman.png"), P0, "references[2].file", "voice recording"),
    ("reference-subject-as-wav", _set("prompts.0.references.0.file", "references/woman.wav"), P0, "references[1].file", "must be an image"),
    ("reference-name-empty", _set("prompts.0.references.0.name", ""), P0, "references[1].name", "non-empty"),
    ("reference-shot-out-of-range", _set("prompts.0.references.0.shots", [1, 4]), P0, "references[1].shots[2]", "between 1 and 3, got 4"),
    ("reference-shot-zero", _set("prompts.0.references.1.shots", [0]), P0, "references[2].shots[1]", "between 1 and 3, got 0"),
    ("reference-shot-a-bool", _set("prompts.0.references.0.shots", [True]), P0, "references[1].shots[1]", "got boolean"),
    ("reference-shots-not-a-list", _set("prompts.0.references.0.shots", 1), P0, "references[1].shots", "must be an array"),
    # rubric
    ("rubric-not-a-list", _set("prompts.0.rubric", "q1"), P0, "rubric", "must be an array"),
    ("question-not-an-object", _set("prompts.0.rubric.1", 3), P0, "rubric[2]", "must be an object"),
    ("question-unknown-key", _set("prompts.0.rubric.0.explanation", "x"), P0, "rubric[1].explanation", "unknown key"),
    ("question-missing-answer", _delete("prompts.0.rubric.0.answer"), P0, "rubric[1].answer", "missing"),
    ("question-duplicate-id", _set("prompts.0.rubric.1.id", "q1"), P0, "rubric[2].id", "duplicate question id"),
    ("question-metric-unknown", _set("prompts.0.rubric.0.metric", "story"), P0, "rubric[1].metric", "narrative, camera"),
    ("question-empty", _set("prompts.0.rubric.0.question", ""), P0, "rubric[1].question", "non-empty"),
    ("question-one-choice", _set("prompts.0.rubric.1.choices", ["wide"]), P0, "rubric[2].choices", "at least 2 choices, got 1"),
    ("question-choice-not-a-string", _set("prompts.0.rubric.0.choices.2", 3), P0, "rubric[1].choices[3]", "must be a string"),
    ("question-answer-out-of-range", _set("prompts.0.rubric.0.answer", 3), P0, "rubric[1].answer", "(0..2), got 3"),
    ("question-answer-negative", _set("prompts.0.rubric.0.answer", -1), P0, "rubric[1].answer", "(0..2), got -1"),
    ("question-answer-a-bool", _set("prompts.0.rubric.0.answer", False), P0, "rubric[1].answer", "got boolean"),
    ("question-answer-a-string", _set("prompts.0.rubric.0.answer", "0"), P0, "rubric[1].answer", "got string"),
    ("question-shot-out-of-range", _set("prompts.0.rubric.1.shots", [5]), P0, "rubric[2].shots[1]", "between 1 and 3, got 5"),
]


@pytest.mark.parametrize(
    ("change", "prompt_id", "field", "fragment"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_suite_is_refused_naming_file_prompt_and_field(
    suite_dir: Path,
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    prompt_id: str | None,
    field: str,
    fragment: str,
) -> None:
    edit_suite_json(suite_dir, change)

    problems = problems_of(suite_dir, tmp_path / "work")

    matching = [p for p in problems if (p.file, p.prompt_id, p.field) == ("suite.json", prompt_id, field)]
    assert matching, f"no problem at {prompt_id}/{field}; got: {[str(p) for p in problems]}"
    assert fragment in matching[0].message, str(matching[0])
    assert len(problems) == 1, [str(p) for p in problems]  # one mistake, one problem
    text = str(matching[0])
    assert text.startswith("suite.json: ") and field in text
    if prompt_id is not None:
        assert f'prompt "{prompt_id}"' in text


def test_missing_required_keys_and_typos_together(suite_dir: Path, tmp_path: Path) -> None:
    """A typo like `start` for `start_s` is reported as unknown, with the missing key beside it."""

    def rename(data: dict[str, Any]) -> None:
        shot = data["prompts"][0]["shots"][0]
        shot["start"] = shot.pop("start_s")

    edit_suite_json(suite_dir, rename)
    problems = {(p.prompt_id, p.field): p.message for p in problems_of(suite_dir, tmp_path)}
    assert set(problems) == {(P0, "shots[1].start"), (P0, "shots[1].start_s")}
    assert 'did you mean "start_s"' in problems[(P0, "shots[1].start")]
    assert "missing" in problems[(P0, "shots[1].start_s")]


def test_all_problems_are_collected_at_once(suite_dir: Path, tmp_path: Path) -> None:
    def break_many(data: dict[str, Any]) -> None:
        data["version"] = ""
        dialogue, advert = data["prompts"]
        dialogue["category"] = "cooking"
        dialogue["shots"][1]["start_s"] = 3.5
        dialogue["references"][1]["file"] = "../voice.wav"
        dialogue["rubric"][0]["answer"] = 9
        advert["shots"][1]["transition_in"] = "none"
        advert["languages"] = ["en", "??"]
        data["prompts"].append({"id": "x y"})

    edit_suite_json(suite_dir, break_many)
    problems = problems_of(suite_dir, tmp_path)
    located = {(p.file, p.prompt_id, p.field) for p in problems}
    expected = {
        ("suite.json", None, "version"),
        ("suite.json", P0, "category"),
        ("suite.json", P0, "shots[2].start_s"),
        ("suite.json", P0, "references[2].file"),
        ("suite.json", P0, "rubric[1].answer"),
        ("suite.json", P1, "shots[2].transition_in"),
        ("suite.json", P1, "languages[2]"),
        ("suite.json", None, "prompts[3].id"),
    }
    assert expected <= located
    # The third prompt also lacks every other required key; each is named.
    assert ("suite.json", None, "prompts[3].shots") in located
    error_text = str(SuiteFormatError(problems))
    assert error_text.startswith(f"{len(problems)} problems in the suite")


# --- problems with the file itself --------------------------------------------------------------


def test_missing_suite_json(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    [problem] = problems_of(tmp_path / "empty", tmp_path / "work")
    assert (problem.file, problem.prompt_id, problem.field) == ("suite.json", None, "")
    assert "not found" in problem.message


def test_json_syntax_error_reports_line_and_column(suite_dir: Path, tmp_path: Path) -> None:
    (suite_dir / "suite.json").write_text('{\n  "name": "x",\n  "version": "1"\n  "prompts": []\n}\n')
    [problem] = problems_of(suite_dir, tmp_path)
    assert (problem.file, problem.prompt_id, problem.field) == ("suite.json", None, "")
    assert "line 4, column 3" in problem.message and "delimiter" in problem.message


def test_suite_json_must_be_an_object(suite_dir: Path, tmp_path: Path) -> None:
    (suite_dir / "suite.json").write_text("[]")
    [problem] = problems_of(suite_dir, tmp_path)
    assert (problem.file, problem.prompt_id, problem.field) == ("suite.json", None, "")
    assert "must be a JSON object, got array" in problem.message


def test_suite_json_must_be_utf8(suite_dir: Path, tmp_path: Path) -> None:
    (suite_dir / "suite.json").write_bytes(b'{"name": "caf\xe9"}')
    [problem] = problems_of(suite_dir, tmp_path)
    assert "not UTF-8" in problem.message


def test_duplicate_json_keys_are_refused(suite_dir: Path, tmp_path: Path) -> None:
    text = (suite_dir / "suite.json").read_text()
    # json.loads would silently keep the second value; the importer names the repeated key.
    text = text.replace('"start_s": 4, "end_s": 8,', '"start_s": 4, "start_s": 5, "end_s": 8,', 1)
    (suite_dir / "suite.json").write_text(text)
    [problem] = problems_of(suite_dir, tmp_path)
    assert (problem.prompt_id, problem.field) == (P0, "shots[2].start_s")
    assert "appears twice" in problem.message


def test_reference_content_must_match_its_extension(suite_dir: Path, tmp_path: Path) -> None:
    (suite_dir / "references" / "woman.png").write_text("not really a picture")
    (suite_dir / "references" / "woman.wav").write_bytes(png_bytes())
    problems = {(p.prompt_id, p.field): p.message for p in problems_of(suite_dir, tmp_path)}
    assert "is not a PNG image" in problems[(P0, "references[1].file")]
    assert "is not a WAV file" in problems[(P0, "references[2].file")]


def test_reference_symlink_leaving_the_suite_is_refused(suite_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(png_bytes())
    (suite_dir / "references" / "woman.png").unlink()
    os.symlink(outside, suite_dir / "references" / "woman.png")
    [problem] = problems_of(suite_dir, tmp_path / "work")
    assert (problem.prompt_id, problem.field) == (P0, "references[1].file")
    assert "leaves the suite folder" in problem.message


def test_reference_folder_instead_of_file(suite_dir: Path, tmp_path: Path) -> None:
    edit_suite_json(suite_dir, _set("prompts.0.references.0.file", "references/"))
    [problem] = problems_of(suite_dir, tmp_path)
    assert (problem.prompt_id, problem.field) == (P0, "references[1].file")


def test_path_that_is_neither_folder_nor_archive(tmp_path: Path) -> None:
    junk = tmp_path / "suite.zip"
    junk.write_text("hello")
    [problem] = problems_of(junk, tmp_path / "work")
    assert (problem.file, problem.prompt_id, problem.field) == ("suite.zip", None, "")
    assert "not a .zip or .tar.gz" in problem.message
    [missing] = problems_of(tmp_path / "nope", tmp_path / "work")
    assert missing.message == "does not exist"
