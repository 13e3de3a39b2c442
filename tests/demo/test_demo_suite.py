"""The authored msav-demo suite: coverage of the paper's breakdowns, format rules and reproducible files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from leaderboard.demo.generator import write_suite
from leaderboard.demo.photos import subject_crop
from leaderboard.demo.suite import demo_prompts, demo_suite, prompt_ids
from scoring.engine.script import (
    AUDIO_CLASSES,
    CATEGORIES,
    GRADUAL_TRANSITIONS,
    MAX_SHOTS,
    PROMPT_ID_PATTERN,
    REALISM_VALUES,
    SHOT_COUNT_BUCKETS,
    prompt_from_dict,
)


def test_suite_covers_every_genre_bucket_and_realism_combination() -> None:
    suite = demo_suite()
    prompts = suite.prompts
    assert suite.name == "msav-demo" and suite.version == "1.0"
    assert len(prompts) >= 12
    assert {p.category for p in prompts} == set(CATEGORIES)
    assert {p.shot_count_bucket for p in prompts} == {label for label, _, _ in SHOT_COUNT_BUCKETS}
    assert any(p.shot_count == MAX_SHOTS for p in prompts)
    assert all(2 <= p.shot_count <= MAX_SHOTS for p in prompts)
    combos = {(p.subject_realism, p.scene_realism) for p in prompts}
    assert combos == {(a, b) for a in REALISM_VALUES for b in REALISM_VALUES}
    assert len({p.style for p in prompts}) >= 4
    assert len({lang for p in prompts for lang in p.languages}) >= 4
    assert {"speech", "music", "singing", "sfx", "ambience"} <= {c for p in prompts for c in p.audio_classes}
    assert all(c in AUDIO_CLASSES for p in prompts for c in p.audio_classes)
    transitions = {s.transition_in for p in prompts for s in p.shots}
    assert "hard-cut" in transitions and transitions & set(GRADUAL_TRANSITIONS)
    assert all(6 <= p.duration_s <= 15 for p in prompts)


def test_references_text_and_rubrics_appear_where_the_brief_asks() -> None:
    prompts = demo_suite().prompts
    with_subject = [p for p in prompts if any(r.kind == "subject" for r in p.references)]
    with_voice = [p for p in prompts if any(r.kind == "voice" for r in p.references)]
    assert len(with_subject) >= 3 and len(with_voice) >= 2
    texts = [s.on_screen_text for p in prompts for s in p.shots if s.on_screen_text]
    assert 1 <= len(texts) <= 2
    assert sum(1 for p in prompts if p.rubric) >= 4
    for prompt in prompts:
        for question in prompt.rubric:
            assert 0 <= question.answer < len(question.choices)
            assert all(1 <= shot <= prompt.shot_count for shot in question.shots)
        for reference in prompt.references:
            assert all(1 <= shot <= prompt.shot_count for shot in reference.shots)


def test_every_prompt_has_increasing_shots_inside_its_duration_and_a_paper_style_script() -> None:
    for prompt in demo_suite().prompts:
        assert re.fullmatch(PROMPT_ID_PATTERN, prompt.id)
        assert prompt.script.startswith(f"This video contains {prompt.shot_count} shots; ")
        previous_end = 0.0
        for shot in prompt.shots:
            assert 0 <= shot.start_s < shot.end_s <= prompt.duration_s, (prompt.id, shot.index)
            assert shot.start_s >= previous_end, (prompt.id, shot.index)
            assert len(shot.caption.split()) >= 4, (prompt.id, shot.index)
            previous_end = shot.end_s
        assert prompt.shots[0].transition_in == "none"
        assert all(s.transition_in != "none" for s in prompt.shots[1:])
        spoken = [s for s in prompt.shots if s.audio and s.audio.dialogue]
        if "speech" in prompt.audio_classes or "singing" in prompt.audio_classes:
            assert spoken, prompt.id
            assert {s.audio.language for s in spoken} <= set(prompt.languages)


def test_suite_dicts_round_trip_through_the_engine_types() -> None:
    for prompt in demo_suite().prompts:
        assert prompt_from_dict(prompt.to_dict()) == prompt
    assert len(set(prompt_ids())) == len(prompt_ids()) == len(demo_prompts())


def test_suite_files_are_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    first = write_suite(tmp_path / "a", list(prompt_ids()), seed=7)
    second = write_suite(tmp_path / "b", list(prompt_ids()), seed=7)
    assert first.read_bytes() == second.read_bytes()
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_reference_files_are_the_photo_crop_and_the_synthetic_voice(tmp_path: Path) -> None:
    write_suite(tmp_path, ["dialogue-001", "dialogue-002"], seed=7)
    png = np.asarray(Image.open(tmp_path / "references" / "dialogue-001-astronaut.png"))
    assert np.array_equal(png, subject_crop("astronaut"))
    rate, pcm = wavfile.read(io.BytesIO((tmp_path / "references" / "dialogue-002-cat.wav").read_bytes()))
    assert rate == 48_000 and pcm.ndim == 1 and pcm.dtype == np.int16
    assert abs(len(pcm) / rate - 4.0) < 1e-6
    assert np.abs(pcm).max() > 1000  # not silent


def test_suite_passes_the_platform_importer(tmp_path: Path) -> None:
    suite_format = pytest.importorskip("leaderboard.suite_format")
    write_suite(tmp_path / "suite", list(prompt_ids()), seed=7)
    loaded = suite_format.load_suite(tmp_path / "suite", tmp_path / "work")
    assert loaded.spec.prompts == demo_suite().prompts
    assert len(loaded.reference_files) == sum(len(p.references) for p in demo_suite().prompts)
