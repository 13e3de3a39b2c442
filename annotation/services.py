"""Writes of the annotation app: campaigns and their pairs, assignment of tasks, judgments, skips, quality control.

Assignment is enforced by the database, not by Python checks: a regular pair has exactly `overlap`
PairSlot rows; `task_next` takes one with SELECT ... FOR UPDATE SKIP LOCKED (concurrent requests
skip each other's rows instead of waiting), and the Task constraints forbid a second live task on a
slot, a second task of the same pair for one annotator, and two active tasks for one annotator. On
SQLite (the embedded default) FOR UPDATE is a no-op, but transactions are IMMEDIATE (one writer at
a time), so the same constraints hold.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from annotation import queries, selectors
from annotation.models import (
    DEFAULT_GUIDELINES,
    JUDGED_DIMENSIONS,
    Campaign,
    CampaignMember,
    Judgment,
    Pair,
    PairSlot,
    QcAnswer,
    Task,
)
from annotation.stats import quality, sampling
from config.exceptions import ApplicationError
from leaderboard.models import Clip, ModelEntry, Submission, Suite
from leaderboard.roles import Role, user_has_role
from leaderboard.selectors import submissions_public

logger = logging.getLogger(__name__)

OUTCOMES = tuple(choice for choice, _ in Judgment.Outcome.choices)
MAX_COMMENT_CHARS = 2000
# The page re-syncs a campaign's pairs (new public submissions) at most this often.
PAIRS_RESYNC_AFTER_S = 60
PAIRS_RESYNC_EMPTY_AFTER_S = 5
# Model-pair sampling weights are recomputed (a Bradley-Terry fit) at most this often per campaign.
SAMPLING_WEIGHTS_TTL_S = 15
# ... and held in each web process this long (no cache round trip per request).
SAMPLING_WEIGHTS_LOCAL_S = 3
_SAMPLING_LOCAL: dict[int, tuple[float, dict[tuple[int, int], float]]] = {}
# Campaigns known (in this process) to have pairs: once true, true for good.
_CAMPAIGNS_WITH_PAIRS: set[int] = set()
# How many of the sampled model pairs the assignment query orders explicitly; the rest share one rank.
SAMPLING_RANKED_PAIRS = 6

MSG_NOT_ANNOTATOR = "only annotators can take tasks: ask a curator for the annotator role"
MSG_NOT_MEMBER = "you are not a member of campaign {name!r}: it is by invitation; ask its curator"
MSG_SUSPENDED = "you are suspended from campaign {name!r}: {reason}"
MSG_DAILY_LIMIT = "daily limit reached: {limit} tasks per day in campaign {name!r}; more after 00:00 UTC"
MSG_NO_TASK = "no task is left for you in campaign {name!r}: every pair has all its judgments ({overlap} each), is held by someone, or was seen by you"


@dataclass(frozen=True)
class NextTask:
    task: Task | None
    resumed: bool = False
    reason: str = ""
    # The annotator's progress when the service counted it anyway (spares the API a second count).
    progress: dict[str, int] | None = None


@dataclass(frozen=True)
class SubmitResult:
    task: Task
    stored: bool  # False when this was a replay of a submission already stored
    progress: dict[str, int] | None = None


def _enqueue(task: Any, *args: Any) -> None:
    """Queue a background task; a broker outage must not fail the annotator's request (the work is redone
    by the next sync, the dashboard's buttons or the next checkpoint)."""
    try:
        task.delay(*args)
    except Exception:
        logger.exception("could not queue %s%s", task.name, args)


# --- Campaigns ---------------------------------------------------------------------------------


def _dimensions_clean(dimensions: list[dict[str, str]] | dict[str, str]) -> list[dict[str, str]]:
    """[{"dimension", "guideline"}] in asking order; a blank guideline takes the default one-liner."""
    if isinstance(dimensions, dict):
        items = [{"dimension": name, "guideline": guideline} for name, guideline in dimensions.items()]
    else:
        items = list(dimensions)
    if not items:
        raise ApplicationError("dimensions: ask at least one of " + ", ".join(JUDGED_DIMENSIONS))
    cleaned, seen = [], set()
    for position, item in enumerate(items):
        name = str(item.get("dimension", "")).strip()
        if name not in JUDGED_DIMENSIONS:
            raise ApplicationError(
                f"dimensions[{position}]: unknown dimension {name!r}; choose from {', '.join(JUDGED_DIMENSIONS)}"
            )
        if name in seen:
            raise ApplicationError(f"dimensions[{position}]: {name!r} is asked twice")
        seen.add(name)
        guideline = " ".join(str(item.get("guideline") or "").split()) or DEFAULT_GUIDELINES[name]
        if len(guideline) > 300:
            raise ApplicationError(f"dimensions[{position}] ({name}): the guideline is one line, at most 300 characters")
        cleaned.append({"dimension": name, "guideline": guideline})
    return cleaned


@transaction.atomic
def campaign_create(
    *,
    name: str,
    suite: Suite,
    entries: list[ModelEntry],
    dimensions: list[dict[str, str]] | dict[str, str],
    created_by: Any = None,
    overlap: int = 3,
    gold_rate: float = 0.1,
    attention_rate: float = 0.05,
    daily_limit: int = 200,
    enrollment: str = Campaign.Enrollment.INVITE,
    lock_ttl_s: int = 900,
    min_watch_ratio: float = 1.0,
) -> Campaign:
    """Create a campaign and its pairs (for the clips already there; more appear as submissions are scored)."""
    name = " ".join(name.split())
    if not name:
        raise ApplicationError("name: a campaign needs a name")
    if Campaign.objects.filter(name=name).exists():
        raise ApplicationError(f"name: a campaign called {name!r} exists already")
    if len({entry.pk for entry in entries}) < 2:
        raise ApplicationError("models: a campaign compares at least two models")
    if not 1 <= overlap <= 50:
        raise ApplicationError(f"overlap: annotators per pair must be 1..50, got {overlap}")
    for field, rate in (("gold_rate", gold_rate), ("attention_rate", attention_rate)):
        if not 0 <= rate <= 0.5:
            raise ApplicationError(f"{field}: must be between 0 and 0.5 (a share of tasks), got {rate}")
    if daily_limit < 1:
        raise ApplicationError(f"daily_limit: must be at least 1, got {daily_limit}")
    if lock_ttl_s < 30:
        raise ApplicationError(f"lock_ttl_s: a task must stay reserved at least 30 s, got {lock_ttl_s}")
    if not 0 <= min_watch_ratio <= 1:
        raise ApplicationError(f"min_watch_ratio: must be between 0 and 1, got {min_watch_ratio}")
    if enrollment not in Campaign.Enrollment.values:
        raise ApplicationError(f"enrollment: choose {' or '.join(Campaign.Enrollment.values)}, got {enrollment!r}")
    campaign = Campaign.objects.create(
        name=name,
        suite=suite,
        dimensions=_dimensions_clean(dimensions),
        overlap=overlap,
        gold_rate=gold_rate,
        attention_rate=attention_rate,
        daily_limit=daily_limit,
        enrollment=enrollment,
        lock_ttl_s=lock_ttl_s,
        min_watch_ratio=min_watch_ratio,
        created_by=created_by,
    )
    campaign.entries.set(entries)
    campaign_pairs_sync(campaign=campaign)
    return campaign


def campaign_clips(*, campaign: Campaign) -> dict[int, dict[int, Clip]]:
    """model id -> prompt id -> clip, from each campaign model's latest public scored submission."""
    latest: dict[int, int] = {}
    for submission_id, model_id in (
        submissions_public()
        .filter(suite_id=campaign.suite_id, state=Submission.State.SCORED, model__in=campaign.entries.all())
        .order_by("model_id", "-scored_at", "-pk")
        .values_list("pk", "model_id")
    ):
        latest.setdefault(model_id, submission_id)
    clips: dict[int, dict[int, Clip]] = {}
    for clip in Clip.objects.filter(submission_id__in=latest.values()).exclude(file="").exclude(
        status__in=[Clip.Status.FAILED, Clip.Status.MISSING]
    ).select_related("submission"):
        clips.setdefault(clip.submission.model_id, {})[clip.prompt_id] = clip
    return clips


@transaction.atomic
def campaign_pairs_sync(*, campaign: Campaign) -> int:
    """Create the regular pairs (and their `overlap` slots) that the campaign's clips allow; returns how many.

    Idempotent: existing pairs are left alone (the unique constraint drops re-inserts)."""
    clips = campaign_clips(campaign=campaign)
    model_ids = sorted(clips)
    wanted = []
    for i, low in enumerate(model_ids):
        for high in model_ids[i + 1:]:
            for prompt_id in clips[low].keys() & clips[high].keys():
                wanted.append(
                    Pair(
                        campaign=campaign,
                        prompt_id=prompt_id,
                        kind=Pair.Kind.REGULAR,
                        clip_x=clips[low][prompt_id],
                        clip_y=clips[high][prompt_id],
                        model_x_id=low,
                        model_y_id=high,
                    )
                )
    existing = set(
        Pair.objects.filter(campaign=campaign, kind=Pair.Kind.REGULAR).values_list("clip_x_id", "clip_y_id")
    )
    new_pairs = [pair for pair in wanted if (pair.clip_x_id, pair.clip_y_id) not in existing]
    Pair.objects.bulk_create(new_pairs, ignore_conflicts=True, batch_size=500)
    without_slots = Pair.objects.filter(campaign=campaign, kind=Pair.Kind.REGULAR).exclude(
        Exists(PairSlot.objects.filter(pair_id=OuterRef("pk")))
    )
    slots = [
        PairSlot(pair_id=pair_id, campaign=campaign, index=index, model_x_id=model_x, model_y_id=model_y)
        for pair_id, model_x, model_y in without_slots.values_list("pk", "model_x_id", "model_y_id")
        for index in range(campaign.overlap)
    ]
    PairSlot.objects.bulk_create(slots, ignore_conflicts=True, batch_size=1000)
    Campaign.objects.filter(pk=campaign.pk).update(pairs_synced_at=timezone.now())
    if new_pairs and (campaign.gold_rate > 0 or campaign.attention_rate > 0):
        from annotation import tasks as annotation_tasks

        transaction.on_commit(lambda: _enqueue(annotation_tasks.qc_pairs_generate, campaign.pk))
    return len(new_pairs)


def campaign_pairs_resync_if_stale(*, campaign: Campaign, now: datetime) -> None:
    """Pick up newly scored submissions now and then. A campaign without pairs syncs here and now (cheap: there
    is nothing to pair yet); otherwise the one request that wins the conditional update queues the sync on a
    worker, so no annotator waits for it."""
    if campaign.pairs_synced_at is not None and (now - campaign.pairs_synced_at).total_seconds() <= PAIRS_RESYNC_EMPTY_AFTER_S:
        return
    has_pairs_key = f"annotation:has-pairs:{campaign.pk}"  # once true, true for good: spare the query
    if campaign.pk not in _CAMPAIGNS_WITH_PAIRS:  # ... and, once seen in this process, the cache round trip
        if not cache.get(has_pairs_key):
            if not Pair.objects.filter(campaign=campaign, kind=Pair.Kind.REGULAR).exists():
                campaign_pairs_sync(campaign=campaign)
                return
            cache.set(has_pairs_key, True, None)
        _CAMPAIGNS_WITH_PAIRS.add(campaign.pk)
    if campaign.pairs_synced_at is not None and (now - campaign.pairs_synced_at).total_seconds() <= PAIRS_RESYNC_AFTER_S:
        return
    won = Campaign.objects.filter(pk=campaign.pk, pairs_synced_at=campaign.pairs_synced_at).update(pairs_synced_at=now)
    if won:
        from annotation import tasks as annotation_tasks

        campaign_id = campaign.pk
        transaction.on_commit(lambda: _enqueue(annotation_tasks.campaign_pairs_sync, campaign_id))


def campaign_invite(*, campaign: Campaign, users: list[Any]) -> int:
    """Invite annotators (they become members, active at their first task); returns how many were new."""
    created = 0
    for user in users:
        if not user_has_role(user, Role.ANNOTATOR):
            raise ApplicationError(f"invite: {user.username!r} does not have the annotator role")
        _, was_created = CampaignMember.objects.get_or_create(
            campaign=campaign, user=user, defaults={"status": CampaignMember.Status.INVITED}
        )
        created += int(was_created)
    return created


def campaign_join(*, campaign: Campaign, user: Any) -> CampaignMember:
    """Join an open campaign, or accept an invitation; a suspended member stays suspended."""
    if not user_has_role(user, Role.ANNOTATOR):
        raise ApplicationError(MSG_NOT_ANNOTATOR, status_code=403)
    return _campaign_join_annotator(campaign=campaign, user=user)


def _campaign_join_annotator(*, campaign: Campaign, user: Any) -> CampaignMember:
    """campaign_join for a user already known to have the annotator role."""
    member = CampaignMember.objects.filter(campaign=campaign, user=user).first()
    if member is None:
        if campaign.enrollment != Campaign.Enrollment.OPEN:
            raise ApplicationError(MSG_NOT_MEMBER.format(name=campaign.name), status_code=403)
        member, _ = CampaignMember.objects.get_or_create(campaign=campaign, user=user)
    if member.status == CampaignMember.Status.INVITED:
        member.status = CampaignMember.Status.ACTIVE
        member.status_changed_at = timezone.now()
        member.save(update_fields=["status", "status_changed_at"])
    return member


def member_set_status(*, member: CampaignMember, status: str, reason: str) -> CampaignMember:
    """A curator suspends or reinstates an annotator (their judgments stay stored either way)."""
    if status not in (CampaignMember.Status.ACTIVE, CampaignMember.Status.SUSPENDED, CampaignMember.Status.WARNED):
        raise ApplicationError(f"status: choose active, warned or suspended, got {status!r}")
    member.status, member.status_reason, member.status_changed_at = status, reason.strip(), timezone.now()
    member.save(update_fields=["status", "status_reason", "status_changed_at"])
    _rankings_changed(suite_id=member.campaign.suite_id, reason="annotator status")
    return member


# --- Assignment --------------------------------------------------------------------------------


def _member_check_for_tasks(*, campaign: Campaign, user: Any) -> None:
    """Refuse a user who may not take tasks in the campaign; join an open campaign (or accept an invitation) on the
    first ask. One query for the membership and the annotator role together (the common case: a member asking)."""
    status, reason, has_role = queries.member_status(campaign_id=campaign.pk, user_id=user.pk, role=Role.ANNOTATOR.value)
    if not has_role:
        raise ApplicationError(MSG_NOT_ANNOTATOR, status_code=403)
    if not campaign.is_active:
        raise ApplicationError(f"campaign {campaign.name!r} is closed", status_code=409)
    if status is None or status == CampaignMember.Status.INVITED:
        status = _campaign_join_annotator(campaign=campaign, user=user).status  # the role was checked just above
    if status == CampaignMember.Status.SUSPENDED:
        raise ApplicationError(
            MSG_SUSPENDED.format(name=campaign.name, reason=reason or "gold accuracy too low"), status_code=403
        )


def day_start_utc(now: datetime) -> datetime:
    """00:00 UTC of `now`'s day: daily limits reset at midnight UTC."""
    return now.astimezone(dt_timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _expire_own_task(*, task: Task, now: datetime) -> None:
    """The annotator's own lapsed task: mark it expired and give its slot back if nobody took it."""
    Task.objects.filter(pk=task.pk, state=Task.State.ACTIVE).update(state=Task.State.EXPIRED, finished_at=now)
    if task.slot_id is not None:
        PairSlot.objects.filter(pk=task.slot_id, state=PairSlot.State.LOCKED, annotator_id=task.annotator_id).update(
            state=PairSlot.State.OPEN, annotator=None, locked_until=None
        )


def model_pair_order(*, campaign: Campaign, rng: random.Random) -> list[tuple[int, int]]:
    """The campaign's model pairs in the order this request should try them: a weighted random order
    (Efraimidis-Spirakis keys) from the active sampler's probabilities, so that simultaneous
    annotators spread over the pairs the sampler wants rather than all queueing for the top one."""
    probabilities = _sampling_probabilities(campaign=campaign)
    if not probabilities:
        return []
    keyed = sorted(
        probabilities.items(), key=lambda item: -math.log(rng.random() or 1e-12) / max(item[1], 1e-12)
    )
    return [pair for pair, _ in keyed]


def _sampling_probabilities(*, campaign: Campaign) -> dict[tuple[int, int], float]:
    """The active sampler's model-pair probabilities: fitted at most once per SAMPLING_WEIGHTS_TTL_S for all web
    processes (the shared cache), and held in this process for SAMPLING_WEIGHTS_LOCAL_S (spares a cache round
    trip per request; the weights are a few seconds old either way)."""
    monotonic = time.monotonic()
    local = _SAMPLING_LOCAL.get(campaign.pk)
    if local is not None and local[0] > monotonic:
        return local[1]
    key = f"annotation:sampling:{campaign.pk}"
    cached = cache.get(key)
    if cached is not None:
        _SAMPLING_LOCAL[campaign.pk] = (monotonic + SAMPLING_WEIGHTS_LOCAL_S, cached)
        return cached
    model_ids = sorted(set(campaign.entries.values_list("pk", flat=True)))
    counts = selectors.campaign_model_pair_outcomes(campaign=campaign, model_ids=model_ids)
    weights = sampling.pair_probabilities(counts, floor=sampling.DEFAULT_FLOOR)
    probabilities = {(model_ids[i], model_ids[j]): p for (i, j), p in weights.items()}
    cache.set(key, probabilities, SAMPLING_WEIGHTS_TTL_S)
    _SAMPLING_LOCAL[campaign.pk] = (monotonic + SAMPLING_WEIGHTS_LOCAL_S, probabilities)
    return probabilities


def _qc_kind_draw(*, campaign: Campaign, rng: random.Random) -> str | None:
    draw = rng.random()
    if draw < campaign.gold_rate:
        return Pair.Kind.GOLD
    if draw < campaign.gold_rate + campaign.attention_rate:
        return Pair.Kind.ATTENTION
    return None


def _task_create(
    *, campaign: Campaign, pair_id: int, slot_id: int | None, user: Any, kind: str, now: datetime, rng: random.Random
) -> Task:
    task = queries.task_insert(
        campaign_id=campaign.pk, pair_id=pair_id, slot_id=slot_id, user_id=user.pk, kind=kind,
        x_is_a=rng.random() < 0.5, now=now, expires_at=now + timedelta(seconds=campaign.lock_ttl_s),
    )
    task.campaign = campaign
    return task


def _regular_task_take(*, campaign: Campaign, user: Any, now: datetime, rng: random.Random) -> Task | None:
    """Lock a free slot of the first sampled model pair that has one (an index scan each), else of any pair.

    Within a model pair, slots go breadth first (every pair's first slot before any second one)."""
    locked_until = now + timedelta(seconds=campaign.lock_ttl_s)
    taken = None
    for model_pair in model_pair_order(campaign=campaign, rng=rng)[:SAMPLING_RANKED_PAIRS]:
        taken = _slot_take(campaign=campaign, user=user, now=now, locked_until=locked_until, model_pair=model_pair)
        if taken is not None:
            break
    if taken is None:
        taken = _slot_take(campaign=campaign, user=user, now=now, locked_until=locked_until, model_pair=None)
    if taken is None:
        return None
    slot_id, pair_id, prior_state = taken
    if prior_state == PairSlot.State.LOCKED:  # a lapsed lock: its task returns to the pool
        Task.objects.filter(slot_id=slot_id, state=Task.State.ACTIVE).update(state=Task.State.EXPIRED, finished_at=now)
    return _task_create(
        campaign=campaign, pair_id=pair_id, slot_id=slot_id, user=user, kind=Pair.Kind.REGULAR, now=now, rng=rng
    )


def _slot_take(
    *, campaign: Campaign, user: Any, now: datetime, locked_until: datetime, model_pair: tuple[int, int] | None
) -> tuple[int, int, str] | None:
    """(slot id, pair id, the slot's state before) of a slot now locked to `user`, or None when none is free."""
    if connection.vendor == "postgresql":
        return queries.slot_take_postgresql(
            campaign_id=campaign.pk, user_id=user.pk, now=now, locked_until=locked_until, model_pair=model_pair
        )
    # Elsewhere (SQLite, the embedded default: one writer at a time) the same in three ORM steps.
    seen = Task.objects.filter(pair_id=OuterRef("pair_id"), annotator=user)
    free = (
        PairSlot.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(campaign=campaign)
        .filter(Q(state=PairSlot.State.OPEN) | Q(state=PairSlot.State.LOCKED, locked_until__lt=now))
        .exclude(Exists(seen))
        .order_by("index", "order_key")
    )
    if model_pair is not None:
        free = free.filter(model_x_id=model_pair[0], model_y_id=model_pair[1])
    slot = free.only("id", "pair_id", "state").first()
    if slot is None:
        return None
    PairSlot.objects.filter(pk=slot.pk).update(state=PairSlot.State.LOCKED, annotator=user, locked_until=locked_until)
    return slot.pk, slot.pair_id, slot.state


def _qc_task_take(*, campaign: Campaign, user: Any, kind: str, now: datetime, rng: random.Random) -> Task | None:
    seen = Task.objects.filter(pair_id=OuterRef("pk"), annotator=user)
    pair_ids = list(
        Pair.objects.filter(campaign=campaign, kind=kind).exclude(degraded_file="").exclude(Exists(seen))
        .values_list("pk", flat=True)[:200]
    )
    if not pair_ids:
        return None
    return _task_create(campaign=campaign, pair_id=rng.choice(pair_ids), slot_id=None, user=user, kind=kind, now=now, rng=rng)


def task_next(*, campaign: Campaign, user: Any, now: datetime | None = None, rng: random.Random | None = None) -> NextTask:
    """The annotator's active task in the campaign (resumed), else a new one; `task` is None when none is left."""
    now = now or timezone.now()
    rng = rng or random.Random()
    _member_check_for_tasks(campaign=campaign, user=user)
    # One query finds the annotator's active task (if any) and counts their submitted ones: the count serves both
    # the daily limit and the progress the API answers with (a new or resumed task changes neither).
    counts = queries.annotator_counts(campaign_id=campaign.pk, user_id=user.pk, day_start=day_start_utc(now))
    progress = selectors.progress_payload(counts=counts, campaign=campaign)
    if counts.active_task_id is not None:
        active = Task.objects.filter(pk=counts.active_task_id, state=Task.State.ACTIVE).first()
        if active is not None:
            if active.expires_at > now:
                return NextTask(task=active, resumed=True, progress=progress)
            _expire_own_task(task=active, now=now)
    if progress["done_today"] >= campaign.daily_limit:
        raise ApplicationError(MSG_DAILY_LIMIT.format(limit=campaign.daily_limit, name=campaign.name), status_code=429)
    campaign_pairs_resync_if_stale(campaign=campaign, now=now)
    qc_kind = _qc_kind_draw(campaign=campaign, rng=rng)
    try:
        with transaction.atomic():
            task = None
            if qc_kind is not None:
                task = _qc_task_take(campaign=campaign, user=user, kind=qc_kind, now=now, rng=rng)
            if task is None:
                task = _regular_task_take(campaign=campaign, user=user, now=now, rng=rng)
    except IntegrityError:
        # The same annotator asked twice at once: the other request's task is theirs to resume.
        active = Task.objects.filter(campaign=campaign, annotator=user, state=Task.State.ACTIVE).first()
        if active is None:
            raise
        return NextTask(task=active, resumed=True)
    if task is None:
        return NextTask(
            task=None, reason=MSG_NO_TASK.format(name=campaign.name, overlap=campaign.overlap), progress=progress
        )
    return NextTask(task=task, progress=progress)


def task_for_annotator(*, public_id: UUID | str, user: Any, lock: bool = False) -> Task:
    queryset = Task.objects.select_related("campaign", "pair")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    try:
        task = queryset.get(public_id=public_id, annotator=user)
    except (Task.DoesNotExist, ValueError):
        raise ApplicationError(f"task {public_id}: no such task of yours", status_code=404) from None
    return task


def required_watch_s(*, task: Task, prompt: queries.PairPrompt | None = None) -> float:
    """Seconds that must pass between serving and voting: the pair's playing time (both clips play in sync, so
    the longer one) times the campaign's ratio. `prompt`: the pair's PairPrompt when the caller has it."""
    return task.campaign.min_watch_ratio * (prompt or queries.pair_prompt(pair_id=task.pair_id)).watch_s


def _votes_clean(*, campaign: Campaign, votes: dict[str, Any]) -> dict[str, tuple[str, str]]:
    if not isinstance(votes, dict):
        raise ApplicationError("votes: an object {dimension: {outcome, comment}}")
    asked = campaign.dimension_names()
    missing = [name for name in asked if name not in votes]
    extra = [name for name in votes if name not in asked]
    if missing or extra:
        raise ApplicationError(
            "votes: answer exactly the campaign's dimensions"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; not asked {', '.join(map(str, extra))}" if extra else ""),
            extra={"asked": asked},
        )
    cleaned = {}
    for name in asked:
        vote = votes[name]
        outcome = vote.get("outcome") if isinstance(vote, dict) else vote
        comment = (vote.get("comment") or "") if isinstance(vote, dict) else ""
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            raise ApplicationError(f"votes.{name}: outcome: choose {', '.join(OUTCOMES)}, got {outcome!r}")
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
            raise ApplicationError(f"votes.{name}: comment: text of at most {MAX_COMMENT_CHARS} characters")
        cleaned[name] = (outcome, comment.strip())
    return cleaned


def _task_finish_slot(*, task: Task, user: Any) -> None:
    """Close the task's slot as done, only while it is still locked to this annotator. Otherwise the lock lapsed and
    the slot went to someone else, and the caller's transaction rolls back."""
    if task.state != Task.State.ACTIVE:
        raise ApplicationError(f"task {task.public_id} is {task.state}: it can no longer be answered", status_code=409)
    if task.slot_id is not None and not queries.slot_finish(slot_id=task.slot_id, user_id=user.pk):
        raise ApplicationError(
            f"task {task.public_id} expired and went to another annotator; ask for the next task", status_code=409
        )


def task_submit(
    *,
    public_id: UUID | str,
    user: Any,
    votes: dict[str, Any],
    client_elapsed_ms: int | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store the answers to every dimension of a task, once: a replay of a stored submission stores nothing."""
    try:
        public_uuid = public_id if isinstance(public_id, UUID) else UUID(str(public_id))
    except ValueError:
        raise ApplicationError(f"task {public_id}: no such task of yours", status_code=404) from None
    with transaction.atomic():
        found = queries.task_for_submission(public_id=public_uuid, user_id=user.pk)
        if found is None:
            raise ApplicationError(f"task {public_id}: no such task of yours", status_code=404)
        task, member = found
        if task.state == Task.State.SUBMITTED:
            return SubmitResult(task=task, stored=False)
        now = now or timezone.now()
        campaign = task.campaign
        cleaned = _votes_clean(campaign=campaign, votes=votes)
        if member.status == CampaignMember.Status.SUSPENDED:
            raise ApplicationError(
                MSG_SUSPENDED.format(name=campaign.name, reason=member.status_reason or "gold accuracy too low"),
                status_code=403,
            )
        if client_elapsed_ms is not None and not 0 <= client_elapsed_ms <= 86_400_000:
            raise ApplicationError(f"client_elapsed_ms: milliseconds between 0 and 86400000, got {client_elapsed_ms}")
        elapsed_s = (now - task.served_at).total_seconds()
        required = required_watch_s(task=task)
        if elapsed_s + 0.5 < required:
            raise ApplicationError(
                f"too early: the clips last {required:.1f} s and must be watched through before voting "
                f"({elapsed_s:.1f} s since the task was served)",
                extra={"required_s": round(required, 2), "elapsed_s": round(elapsed_s, 2)},
            )
        _task_finish_slot(task=task, user=user)
        pair = task.pair
        if task.kind == Pair.Kind.REGULAR:
            clip_a, clip_b = (pair.clip_x_id, pair.clip_y_id) if task.x_is_a else (pair.clip_y_id, pair.clip_x_id)
            # No savepoint around the insert: a conflict raises out of the whole transaction, which rolls back.
            try:
                queries.judgments_insert(
                    task_id=task.pk, campaign_id=campaign.pk, user_id=user.pk, clip_a_id=clip_a, clip_b_id=clip_b,
                    votes=cleaned, now=now,
                )
            except IntegrityError:
                raise ApplicationError(
                    "you have already judged these two clips (in another campaign): skip this task", status_code=409
                ) from None
        else:
            _qc_answers_store(task=task, member=member, cleaned=cleaned, now=now)
        task.state, task.finished_at = Task.State.SUBMITTED, now
        task.server_elapsed_ms = int(elapsed_s * 1000)
        task.client_elapsed_ms = client_elapsed_ms
        queries.task_mark_submitted(
            task_id=task.pk, now=now, server_elapsed_ms=task.server_elapsed_ms, client_elapsed_ms=client_elapsed_ms
        )
        # The task was marked submitted just before, in this transaction: the counts include it.
        counts = queries.annotator_counts(campaign_id=campaign.pk, user_id=user.pk, day_start=day_start_utc(now))
        if task.kind == Pair.Kind.REGULAR:
            _after_regular_judgment(task=task, member=member, regular_votes=counts.submitted_regular)
    progress = selectors.progress_payload(counts=counts, campaign=campaign)
    return SubmitResult(task=task, stored=True, progress=progress)


def _qc_answers_store(*, task: Task, member: CampaignMember, cleaned: dict[str, tuple[str, str]], now: datetime) -> None:
    """Grade a gold/attention answer against the pair's expected side, then warn or suspend under the threshold."""
    expected_by_side = task.pair.expected  # {"overall": "x", ...}: side x is the undamaged clip
    answers = []
    for name, (outcome, _comment) in cleaned.items():
        side = expected_by_side.get(name)
        if side is None:
            continue  # the degradation says nothing about this dimension (e.g. shot structure)
        expected = "a" if (side == "x") == task.x_is_a else "b"
        answers.append(
            QcAnswer(task=task, annotator_id=member.user_id, dimension=name, outcome=outcome, expected=expected,
                     correct=outcome == expected)
        )
    QcAnswer.objects.bulk_create(answers)
    member_quality_update(member=member, now=now)


def member_quality_update(*, member: CampaignMember, now: datetime) -> CampaignMember:
    """Re-grade a member's gold accuracy in the campaign and warn/suspend them below the campaign's thresholds."""
    campaign = member.campaign
    graded = QcAnswer.objects.filter(task__campaign=campaign, annotator_id=member.user_id)
    total = graded.count()
    correct = graded.filter(correct=True).count()
    verdict = quality.gold_verdict(
        correct=correct,
        total=total,
        min_answers=campaign.gold_min_answers,
        warn_below=campaign.gold_warn_below,
        suspend_below=campaign.gold_suspend_below,
    )
    status = {
        "ok": None, "warn": CampaignMember.Status.WARNED, "suspend": CampaignMember.Status.SUSPENDED
    }[verdict.action]
    # A curator's reinstatement is not undone by the automatic check unless accuracy falls further.
    if status is not None and status != member.status and member.status != CampaignMember.Status.SUSPENDED:
        member.status = status
        member.status_reason = verdict.reason
        member.status_changed_at = now
        member.save(update_fields=["status", "status_reason", "status_changed_at"])
        if status == CampaignMember.Status.SUSPENDED:
            _rankings_changed(suite_id=campaign.suite_id, reason="annotator suspended")
    return member


def _after_regular_judgment(*, task: Task, member: CampaignMember, regular_votes: int) -> None:
    suite_id = task.campaign.suite_id
    _rankings_changed(suite_id=suite_id, reason="judgment")
    if not member.anomaly_checkpoints:
        member.anomaly_checkpoints = quality.anomaly_checkpoints(random.Random(), max_votes=2000)
        member.save(update_fields=["anomaly_checkpoints"])
    if regular_votes in member.anomaly_checkpoints:
        from annotation import tasks as annotation_tasks

        member_id = member.pk
        transaction.on_commit(lambda: _enqueue(annotation_tasks.anomaly_check, member_id))


def _rankings_changed(*, suite_id: int, reason: str) -> None:
    """Ask the ranking app for a (debounced) recomputation once this transaction commits."""
    from annotation.ranking.services import ranking_recompute_request  # here: the ranking app imports our selectors

    def request() -> None:
        if not _ranking_request_count_if_queued(suite_id=suite_id, reason=reason):
            ranking_recompute_request(suite_id=suite_id, reason=reason)

    transaction.on_commit(request)


def _ranking_request_count_if_queued(*, suite_id: int, reason: str) -> bool:
    """The common case of ranking_recompute_request during a burst of judgments, as one UPDATE statement: a
    recomputation is already queued (and not stale), so the request only counts itself and marks the suite
    dirty. Every judgment of a busy campaign takes this path instead of BEGIN / SELECT ... FOR UPDATE / UPDATE /
    COMMIT on the suite's single state row. False when nothing is queued: then the full request must run."""
    from annotation.ranking.services import STALE_SCHEDULE_S

    now = timezone.now()
    return queries.ranking_request_count_if_queued(
        suite_id=suite_id, reason=reason[:200], now=now, scheduled_after=now - timedelta(seconds=STALE_SCHEDULE_S)
    )


def task_skip(*, public_id: UUID | str, user: Any, reason: str, comment: str = "", now: datetime | None = None) -> Task:
    """Give a task back with a reason; its slot returns to the pool (the annotator will not see it again)."""
    if reason not in Task.SkipReason.values:
        raise ApplicationError(f"reason: choose {', '.join(Task.SkipReason.values)}, got {reason!r}")
    if len(comment) > MAX_COMMENT_CHARS:
        raise ApplicationError(f"comment: at most {MAX_COMMENT_CHARS} characters")
    now = now or timezone.now()
    with transaction.atomic():
        task = task_for_annotator(public_id=public_id, user=user, lock=True)
        if task.state == Task.State.SKIPPED:
            return task
        if task.state != Task.State.ACTIVE:
            raise ApplicationError(f"task {task.public_id} is {task.state}: it cannot be skipped", status_code=409)
        task.state, task.skip_reason, task.skip_comment, task.finished_at = Task.State.SKIPPED, reason, comment.strip(), now
        task.server_elapsed_ms = int((now - task.served_at).total_seconds() * 1000)
        task.save(update_fields=["state", "skip_reason", "skip_comment", "finished_at", "server_elapsed_ms"])
        if task.slot_id is not None:
            PairSlot.objects.filter(pk=task.slot_id, annotator=user, state=PairSlot.State.LOCKED).update(
                state=PairSlot.State.OPEN, annotator=None, locked_until=None
            )
    return task

