"""Campaigns, assignment, judgments, skips and quality control through the services (PostgreSQL)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from annotation import selectors, services
from annotation.models import CampaignMember, Judgment, Pair, PairSlot, QcAnswer, Task
from config.exceptions import ApplicationError
from tests.annotation.world import annotator, build_world, make_campaign

pytestmark = pytest.mark.django_db

VOTES = {"overall": {"outcome": "a"}, "video": {"outcome": "both_good"}, "audio": {"outcome": "b", "comment": "hiss"}}


@pytest.fixture
def world(demo_dir: Path, media_root: Path):  # type: ignore[no-untyped-def]
    return build_world(demo_dir, n_models=3, with_files=False)


def test_campaign_makes_every_model_pair_per_prompt_with_overlap_slots(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, overlap=3)
    prompts = world.suite.prompts.filter(clips__submission=world.submissions[0]).count()
    assert campaign.pairs.filter(kind=Pair.Kind.REGULAR).count() == prompts * 3  # 3 model pairs
    assert PairSlot.objects.filter(campaign=campaign).count() == prompts * 3 * 3
    assert services.campaign_pairs_sync(campaign=campaign) == 0  # idempotent
    assert [d["dimension"] for d in campaign.dimensions] == ["overall", "video", "audio"]
    assert all(d["guideline"] for d in campaign.dimensions)  # blank -> the default one-liner


def test_campaign_refuses_bad_settings_with_the_field_named(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApplicationError, match=r"dimensions\[0\]: unknown dimension 'colour'"):
        make_campaign(world, dimensions=[{"dimension": "colour"}])
    with pytest.raises(ApplicationError, match="overlap"):
        make_campaign(world, name="B", overlap=0)
    with pytest.raises(ApplicationError, match="at least two models"):
        make_campaign(world, name="C", entries=world.models[:1])


def test_private_submissions_are_not_compared(world) -> None:  # type: ignore[no-untyped-def]
    world.submissions[2].is_public = False
    world.submissions[2].save()
    campaign = make_campaign(world)
    models = set(campaign.pairs.values_list("model_x_id", "model_y_id"))
    assert models == {(world.models[0].pk, world.models[1].pk)}


def test_next_resumes_then_submit_stores_each_dimension_once(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    ann = annotator("ada")
    first = services.task_next(campaign=campaign, user=ann)
    assert first.task is not None and not first.resumed
    again = services.task_next(campaign=campaign, user=ann)
    assert again.resumed and again.task.pk == first.task.pk
    result = services.task_submit(public_id=first.task.public_id, user=ann, votes=VOTES, client_elapsed_ms=4200)
    assert result.stored
    stored = Judgment.objects.filter(task=first.task)
    assert stored.count() == 3
    pair = first.task.pair
    shown_a = pair.clip_x_id if first.task.x_is_a else pair.clip_y_id
    assert set(stored.values_list("clip_a_id", flat=True)) == {shown_a}
    assert stored.get(dimension="audio").comment == "hiss"
    replay = services.task_submit(public_id=first.task.public_id, user=ann, votes=VOTES)
    assert not replay.stored and Judgment.objects.count() == 3
    task = Task.objects.get(pk=first.task.pk)
    assert task.state == Task.State.SUBMITTED and task.client_elapsed_ms == 4200 and task.server_elapsed_ms >= 0
    assert PairSlot.objects.get(pk=task.slot_id).state == PairSlot.State.DONE


def test_battle_rows_name_models_through_the_shown_order(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    ann = annotator("ada")
    task = services.task_next(campaign=campaign, user=ann, rng=random.Random(3)).task
    services.task_submit(public_id=task.public_id, user=ann, votes=VOTES)
    pair = task.pair
    model_a = (pair.model_x if task.x_is_a else pair.model_y).slug
    model_b = (pair.model_y if task.x_is_a else pair.model_x).slug
    rows = {row.dimension: row for row in selectors.judgments_for_ranking(suite_id=world.suite.pk)}
    assert (rows["overall"].model_a, rows["overall"].model_b, rows["overall"].winner) == (model_a, model_b, "model_a")
    assert rows["audio"].winner == "model_b" and rows["video"].winner == "tie"
    assert rows["overall"].prompt == pair.prompt.prompt_id and rows["overall"].annotator.startswith("ann-")
    assert "ada" not in rows["overall"].annotator
    only_video = selectors.judgments_for_ranking(suite_id=world.suite.pk, dimension="video")
    assert [row.dimension for row in only_video] == ["video"]


def test_votes_are_validated_with_clear_messages(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    ann = annotator("ada")
    task = services.task_next(campaign=campaign, user=ann).task
    with pytest.raises(ApplicationError, match="missing audio"):
        services.task_submit(public_id=task.public_id, user=ann, votes={"overall": "a", "video": "b"})
    with pytest.raises(ApplicationError, match=r"votes.video: outcome: choose"):
        services.task_submit(public_id=task.public_id, user=ann, votes={**VOTES, "video": {"outcome": "maybe"}})
    with pytest.raises(ApplicationError, match="no such task of yours"):
        services.task_submit(public_id=task.public_id, user=annotator("eve"), votes=VOTES)
    assert Judgment.objects.count() == 0


def test_voting_before_the_clips_could_be_watched_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, min_watch_ratio=1.0)
    ann = annotator("ada")
    now = timezone.now()
    task = services.task_next(campaign=campaign, user=ann, now=now).task
    with pytest.raises(ApplicationError, match="too early: the clips last"):
        services.task_submit(public_id=task.public_id, user=ann, votes=VOTES, now=now + timedelta(seconds=1))
    duration = services.required_watch_s(task=task)
    assert services.task_submit(public_id=task.public_id, user=ann, votes=VOTES, now=now + timedelta(seconds=duration)).stored


def test_an_annotator_never_sees_a_pair_twice_and_overlap_is_never_exceeded(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, overlap=2)
    regular = campaign.pairs.filter(kind=Pair.Kind.REGULAR).count()
    people = [annotator(f"a{i}") for i in range(3)]
    served = 0
    for ann in people:
        seen = set()
        while (task := services.task_next(campaign=campaign, user=ann).task) is not None:
            assert task.pair_id not in seen
            seen.add(task.pair_id)
            services.task_submit(public_id=task.public_id, user=ann, votes=VOTES)
            served += 1
    assert served == regular * 2  # three annotators, overlap two: the third gets what is left
    assert Judgment.objects.values("task__pair").distinct().count() == regular
    per_pair = [Task.objects.filter(pair_id=pk, state="submitted").count() for pk in campaign.pairs.values_list("pk", flat=True)]
    assert set(per_pair) == {2}


def test_an_expired_lock_returns_the_task_to_the_pool(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, overlap=1, lock_ttl_s=60)
    slow, quick = annotator("slow"), annotator("quick")
    now = timezone.now()
    held = services.task_next(campaign=campaign, user=slow, now=now).task
    # Take every other pair, so that only the held one is left.
    taken = {held.pair_id}
    while (task := services.task_next(campaign=campaign, user=quick, now=now).task) is not None:
        taken.add(task.pair_id)
        services.task_submit(public_id=task.public_id, user=quick, votes=VOTES, now=now)
    assert held.pair_id not in Task.objects.filter(annotator=quick).values_list("pair_id", flat=True)
    later = now + timedelta(seconds=61)
    reclaimed = services.task_next(campaign=campaign, user=quick, now=later).task
    assert reclaimed is not None and reclaimed.pair_id == held.pair_id
    assert Task.objects.get(pk=held.pk).state == Task.State.EXPIRED
    with pytest.raises(ApplicationError, match="expired") as refused:
        services.task_submit(public_id=held.public_id, user=slow, votes=VOTES, now=later)
    assert refused.value.status_code == 409


def test_skip_gives_the_slot_back_but_not_to_the_same_annotator(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, overlap=1)
    ann, other = annotator("ada"), annotator("bob")
    task = services.task_next(campaign=campaign, user=ann).task
    with pytest.raises(ApplicationError, match="reason: choose"):
        services.task_skip(public_id=task.public_id, user=ann, reason="bored")
    services.task_skip(public_id=task.public_id, user=ann, reason="broken_clip", comment="no sound")
    assert Task.objects.get(pk=task.pk).skip_reason == "broken_clip"
    assert PairSlot.objects.get(pk=task.slot_id).state == PairSlot.State.OPEN
    mine = set()
    while (next_task := services.task_next(campaign=campaign, user=ann).task) is not None:
        mine.add(next_task.pair_id)
        services.task_submit(public_id=next_task.public_id, user=ann, votes=VOTES)
    assert task.pair_id not in mine
    theirs = services.task_next(campaign=campaign, user=other).task
    assert theirs is not None and theirs.pair_id == task.pair_id


def test_daily_limit_and_invitation_only(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, daily_limit=1, enrollment="invite")
    ann = annotator("ada")
    with pytest.raises(ApplicationError, match="by invitation") as refused:
        services.task_next(campaign=campaign, user=ann)
    assert refused.value.status_code == 403
    services.campaign_invite(campaign=campaign, users=[ann])
    task = services.task_next(campaign=campaign, user=ann).task
    services.task_submit(public_id=task.public_id, user=ann, votes=VOTES)
    with pytest.raises(ApplicationError, match="daily limit reached: 1 tasks") as limited:
        services.task_next(campaign=campaign, user=ann)
    assert limited.value.status_code == 429
    with pytest.raises(ApplicationError, match="annotator role"):
        services.task_next(campaign=campaign, user=world.curator)


def _gold_pair(campaign, clip) -> Pair:  # type: ignore[no-untyped-def]
    return Pair.objects.create(
        campaign=campaign, prompt_id=clip.prompt_id, kind=Pair.Kind.GOLD, clip_x=clip,
        degraded_file="annotation/qc/x.mp4", expected={"overall": "x", "video": "x"},
    )


def test_gold_answers_are_graded_then_warn_then_suspend_and_judgments_drop_out(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, gold_rate=0.5)
    campaign.gold_min_answers, campaign.gold_warn_below, campaign.gold_suspend_below = 4, 0.8, 0.55
    campaign.save()
    clips = list(world.submissions[0].clips.all()[:4])
    for clip in clips:
        _gold_pair(campaign, clip)
    ann = annotator("ada")
    # One regular judgment first, counted while the annotator is in good standing.
    rng = random.Random(0)
    rng.random = lambda: 0.99  # type: ignore[method-assign]  # no QC draw: a regular task
    task = services.task_next(campaign=campaign, user=ann, rng=rng).task
    assert task.kind == "regular"
    services.task_submit(public_id=task.public_id, user=ann, votes=VOTES)
    assert len(selectors.judgments_for_ranking(suite_id=world.suite.pk)) == 3
    statuses = []
    for answer_right in (True, True, False, False):
        gold_rng = random.Random(1)
        gold_rng.random = lambda: 0.01  # type: ignore[method-assign]
        gold = services.task_next(campaign=campaign, user=ann, rng=gold_rng).task
        assert gold.kind == "gold"
        right = "a" if gold.x_is_a else "b"
        wrong = "b" if gold.x_is_a else "a"
        choice = right if answer_right else wrong
        services.task_submit(
            public_id=gold.public_id, user=ann,
            votes={"overall": choice, "video": choice, "audio": "both_good"},
        )
        statuses.append(CampaignMember.objects.get(campaign=campaign, user=ann).status)
    # Graded on the dimensions the damage touches (overall, video): 2/2, 4/4, 4/6 = 67% < 80%, 4/8 = 50% < 55%.
    assert QcAnswer.objects.filter(annotator=ann).count() == 8
    assert statuses == ["active", "active", "warned", "suspended"]
    assert Judgment.objects.filter(annotator=ann).count() == 3  # kept ...
    assert selectors.judgments_for_ranking(suite_id=world.suite.pk) == []  # ... but not counted
    with pytest.raises(ApplicationError, match="suspended"):
        services.task_next(campaign=campaign, user=ann)


def test_reliability_weights_follow_gold_accuracy(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    ann = annotator("ada")
    task = services.task_next(campaign=campaign, user=ann).task
    services.task_submit(public_id=task.public_id, user=ann, votes=VOTES)
    assert {row.weight for row in selectors.judgments_for_ranking(suite_id=world.suite.pk, weight_by_reliability=True)} == {1.0}
    gold = _gold_pair(campaign, world.submissions[0].clips.first())
    gold_task = Task.objects.create(campaign=campaign, pair=gold, annotator=ann, kind="gold", x_is_a=True,
                                    served_at=timezone.now(), expires_at=timezone.now() + timedelta(minutes=5))
    services.task_submit(public_id=gold_task.public_id, user=ann, votes={"overall": "a", "video": "a", "audio": "a"})
    weights = {row.weight for row in selectors.judgments_for_ranking(suite_id=world.suite.pk, weight_by_reliability=True)}
    assert weights == {(2 + 1) / (2 + 2)}  # two right gold answers, smoothed
