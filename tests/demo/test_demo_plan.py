"""Clip plans (the ground truth before rendering): each demo model's defects show up as parametrised."""

from __future__ import annotations

import pytest

from leaderboard.demo.plan import EVENT_SPACING_S, plan_clip, prompt_events
from leaderboard.demo.roster import DEMO_MODELS, PARADIGMS, TASKS, get_model
from leaderboard.demo.suite import demo_prompts, get_prompt

FPS, W, H = 24, 320, 180


def _plan(slug: str, prompt_id: str, seed: int = 7):  # type: ignore[no-untyped-def]
    prompt, direction = get_prompt(prompt_id)
    return plan_clip(prompt, direction, get_model(slug), seed=seed, fps=FPS, width=W, height=H)


def test_roster_has_seven_models_with_a_strict_intended_order() -> None:
    assert len(DEMO_MODELS) >= 6
    assert [m.intended_rank for m in DEMO_MODELS] == list(range(1, len(DEMO_MODELS) + 1))
    assert all(m.paradigm in PARADIGMS and m.task in TASKS for m in DEMO_MODELS)
    assert all(m.description.startswith("Synthetic demo model") for m in DEMO_MODELS)
    assert any(m.defects.missing for m in DEMO_MODELS)


def test_events_are_shared_by_all_models_spaced_and_clear_of_boundaries() -> None:
    for prompt, direction in demo_prompts():
        events = prompt_events(prompt, direction, seed=7, fps=FPS)
        assert events, prompt.id
        times = [e.time_s for e in events]
        assert all(b - a >= EVENT_SPACING_S - 1e-9 for a, b in zip(times, times[1:]))
        for event in events:
            shot = prompt.shots[event.shot - 1]
            assert shot.start_s + 0.3 <= event.time_s <= shot.end_s - 0.3
        plans = [_plan(m.slug, prompt.id) for m in DEMO_MODELS[:3]]
        assert all([(e.frame, e.kind) for e in p.events] == [(e.frame, e.kind) for e in events] for p in plans)


def test_reference_model_follows_the_script_exactly() -> None:
    for prompt, _ in demo_prompts():
        plan = _plan("aurora-av", prompt.id)
        assert len(plan.segments) == prompt.shot_count
        assert [b.frame for b in plan.boundaries] == [round(t * FPS) for t in prompt.planned_boundaries_s]
        assert [b.transition for b in plan.boundaries] == [s.transition_in for s in prompt.shots[1:]]
        assert plan.audio_offset_ms == 0 and not plan.silence_spans and plan.clip_gain == 1.0
        assert all(r["appears"] and r["present_shots"] for r in plan.subject_truth)


def test_shot_count_defects() -> None:
    capped = _plan("quickcut", "narrative-001")
    assert len(capped.segments) <= 6 and len(capped.boundaries) == len(capped.segments) - 1
    assert sorted(s for seg in capped.segments for s in seg.scripted) == list(range(1, 16))
    extra = [_plan("stubgen", p.id) for p, _ in demo_prompts() if p.id not in get_model("stubgen").defects.missing]
    for plan in extra:
        spurious = [b for b in plan.boundaries if b.scripted_shot is None]
        assert len(spurious) == 2
        for boundary in spurious:
            assert all(abs(boundary.frame - e.frame) >= 0.4 * FPS for e in plan.events)


def test_transition_override_turns_hard_cuts_into_dissolves() -> None:
    plan = _plan("lumen-shot", "dialogue-001")
    assert {b.transition for b in plan.boundaries} == {"dissolve"}
    assert all(b.frames == 12 and b.end_frame - b.start_frame == 12 for b in plan.boundaries)


@pytest.mark.parametrize("slug", ["quickcut", "blurwave", "stubgen"])
def test_models_ignoring_references_lose_the_subject_and_the_voice(slug: str) -> None:
    plan = _plan(slug, "dialogue-001")
    assert all(not r["appears"] and r["present_shots"] == [] for r in plan.subject_truth)
    assert all(s.photo != "astronaut" for s in plan.segments)
    assert set(plan.voice_swaps) == {"astronaut", "photographer"}


def test_plans_are_deterministic_and_depend_on_the_seed() -> None:
    first, second = _plan("stubgen", "science-002"), _plan("stubgen", "science-002")
    assert first == second
    other = _plan("stubgen", "science-002", seed=8)
    assert [b.frame for b in other.boundaries] != [b.frame for b in first.boundaries] or other.events != first.events
