"""A submission's aggregate as the paper reports it: the shot-completion penalty in every clip's overall,
breakdowns by genre, shot-count bucket (1-4, 5-10, 11-15), realism bucket (subject x scene), style and
language, each group the mean of its prompts (a failed generation counting 0); and a scored submission
asks the human ranking to recompute."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import pytest

from annotation.ranking.models import RecomputeState
from leaderboard import services
from leaderboard.models import Clip, Submission
from scoring import services as scoring_services
from scoring.models import ClipScore
from tests.factories import demo_archive, import_demo_suite, model_entry, rezip, user_with_role

pytestmark = pytest.mark.django_db

SHOT_BUCKETS = {"1-4", "5-10", "11-15"}
REALISM_BUCKETS = {"real/real", "real/non-real", "non-real/real", "non-real/non-real"}


@pytest.fixture(autouse=True)
def fast_engine(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_ENGINE_EXPERT_MODELS = False


def test_breakdowns_are_per_group_means_with_the_penalty_and_failed_generations(
    demo_dir: Path, media_root: Path, django_capture_on_commit_callbacks  # type: ignore[no-untyped-def]
) -> None:
    suite = import_demo_suite(demo_dir)
    prompts = list(suite.prompts.order_by("position"))
    dropped = prompts[-1].prompt_id
    owner = user_with_role("breakdowns")
    archive = rezip(demo_archive(demo_dir, "aurora-av"), drop={f"{dropped}.mp4"})
    submission = services.submission_create(
        owner=owner, model=model_entry("Breakdowns", owner=owner), suite=suite, archive=io.BytesIO(archive),
        archive_name="a.zip", is_public=True, enforce_quota=False,
    )
    for clip_id in services.submission_validate(submission_id=submission.pk):
        scoring_services.clip_score(clip_id=clip_id)
    with django_capture_on_commit_callbacks(execute=True):
        aggregate = scoring_services.submission_finish_if_complete(submission_id=submission.pk)
    assert aggregate is not None

    # The shot-completion penalty is part of each clip's overall score, hence of every mean below.
    clip_overall: dict[str, float] = {}
    for score in ClipScore.objects.filter(clip__submission=submission).select_related("clip__prompt"):
        evidence = score.evidence["aggregate"]
        weighted = sum(evidence["weights_used"][d] * evidence["paper_dimensions"][d] for d in evidence["weights_used"])
        assert score.overall == pytest.approx(min(1.0, max(0.0, weighted * evidence["penalty"])), abs=1e-6)
        clip_overall[score.clip.prompt.prompt_id] = score.overall
    assert dropped not in clip_overall and aggregate.failed_prompts == [dropped]
    per_prompt = {prompt.prompt_id: clip_overall.get(prompt.prompt_id, 0.0) for prompt in prompts}  # failed: 0

    expected: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for prompt in prompts:
        value = per_prompt[prompt.prompt_id]
        expected["genre"][prompt.category].append(value)
        expected["shot_bucket"][prompt.shot_count_bucket].append(value)
        expected["realism"][f"{prompt.subject_realism}/{prompt.scene_realism}"].append(value)
        expected["style"][prompt.style].append(value)
        for language in prompt.languages or ["none"]:
            expected["language"][language].append(value)

    assert set(aggregate.breakdowns) == {"genre", "shot_bucket", "realism", "style", "language"}
    assert set(aggregate.breakdowns["shot_bucket"]) <= SHOT_BUCKETS
    assert set(aggregate.breakdowns["realism"]) <= REALISM_BUCKETS
    for axis, groups in expected.items():
        assert set(aggregate.breakdowns[axis]) == set(groups), axis
        for value, scores in groups.items():
            group = aggregate.breakdowns[axis][value]
            assert group["prompts"] == len(scores), (axis, value)
            assert group["overall"] == pytest.approx(sum(scores) / len(scores), abs=1e-5), (axis, value)
    assert aggregate.overall == pytest.approx(sum(per_prompt.values()) / len(prompts), abs=1e-5)

    # The scored submission asked the human ranking of its suite to recompute (debounced).
    submission.refresh_from_db()
    assert submission.state == Submission.State.SCORED
    assert Clip.objects.filter(submission=submission, status=Clip.Status.MISSING).count() == 1
    state = RecomputeState.objects.get(suite=suite)
    assert state.last_reason == "submission scored" and state.dirty_since is not None
