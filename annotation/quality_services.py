"""Quality-control writes and reads: gold/attention pairs made by the platform, the anomaly test, agreement."""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotation import selectors, services
from annotation.models import Campaign, CampaignMember, Judgment, Pair, QcAnswer, Task
from annotation.qc_media import DegradeKind, degrade_clip
from annotation.stats import bradley_terry as bt
from annotation.stats import quality
from annotation.stats.battles import OUTCOME_TO_WINNER
from leaderboard.models import Clip

GOLD_PAIRS_TARGET = 12
ATTENTION_PAIRS_TARGET = 4


def qc_pairs_generate(
    *, campaign: Campaign, gold: int = GOLD_PAIRS_TARGET, attention: int = ATTENTION_PAIRS_TARGET, seed: int | None = None
) -> dict[str, int]:
    """Top the campaign up to `gold` gold and `attention` attention pairs, each a real clip beside a
    degraded copy made here; returns how many of each were created (idempotent per clip and kind)."""
    rng = random.Random(seed)
    clips = [clip for by_prompt in services.campaign_clips(campaign=campaign).values() for clip in by_prompt.values()]
    rng.shuffle(clips)
    created = {"gold": 0, "attention": 0}
    for kind, target in ((Pair.Kind.GOLD, gold), (Pair.Kind.ATTENTION, attention)):
        have = Pair.objects.filter(campaign=campaign, kind=kind).exclude(degraded_file="")
        used = set(have.values_list("clip_x_id", flat=True))
        missing = target - len(used)
        for clip in clips:
            if missing <= 0:
                break
            if clip.pk in used:
                continue
            if _qc_pair_create(campaign=campaign, clip=clip, kind=kind, seed=rng.randrange(2**31)):
                created[str(kind)] += 1
                missing -= 1
    return created


def _qc_pair_create(*, campaign: Campaign, clip: Clip, kind: DegradeKind, seed: int) -> bool:
    relative = Path("annotation") / "qc" / f"{secrets.token_hex(12)}.mp4"
    target = Path(settings.MEDIA_ROOT) / relative
    try:
        result = degrade_clip(Path(clip.file.path), target, kind=kind, seed=seed)
    except (OSError, ValueError, IndexError) as error:  # PyAV errors derive from OSError/ValueError
        services.logger.warning("qc pair for clip %s not made: %s", clip.pk, error)
        target.unlink(missing_ok=True)
        return False
    try:
        with transaction.atomic():
            Pair.objects.create(
                campaign=campaign,
                prompt_id=clip.prompt_id,
                kind=kind,
                clip_x=clip,
                degraded_file=str(relative),
                expected=result.expected,
            )
    except IntegrityError:  # a concurrent run made this clip's pair first
        target.unlink(missing_ok=True)
        return False
    return True


# --- Anomaly test --------------------------------------------------------------------------------


def member_anomaly_check(*, member: CampaignMember, alpha: float = 0.01) -> quality.AnomalyResult:
    """LMArena's test on one annotator: each vote's p-value under the current ranking of the campaign
    (fitted on everyone else's votes), combined by Fisher's method at the member's random checkpoints."""
    campaign = member.campaign
    dimension = campaign.dimension_names()[0]
    rows = list(
        selectors.judgments_counted()
        .filter(campaign=campaign, dimension=dimension)
        .order_by("created_at", "pk")
        .values_list("annotator_id", "clip_a__submission__model__slug", "clip_b__submission__model__slug", "outcome")
    )
    others = [(a, b, OUTCOME_TO_WINNER[o]) for user, a, b, o in rows if user != member.user_id and a != b]
    own = [(a, b, o) for user, a, b, o in rows if user == member.user_id and a != b]
    if not others or not own:
        return quality.AnomalyResult(flagged=False, p_value=None, checkpoint=None, threshold=alpha)
    counts = bt.aggregate_arrays([r[0] for r in others], [r[1] for r in others], [r[2] for r in others])
    fit = bt.fit_bradley_terry(counts)
    rating = dict(zip(fit.models, fit.ratings.tolist()))
    tie_rate = sum(1 for r in others if r[2] in ("tie", "both_bad")) / len(others)
    p_values = []
    for model_a, model_b, outcome in own:
        if model_a not in rating or model_b not in rating:
            continue
        p_a = float(bt.win_probability(rating[model_a], rating[model_b]))
        observed = {"a": "a", "b": "b"}.get(outcome, "tie")
        p_values.append(quality.vote_p_value(p_a_wins=p_a, tie_rate=tie_rate, observed=observed))  # type: ignore[arg-type]
    result = quality.anomaly_test(p_values, member.anomaly_checkpoints or [len(p_values)], alpha=alpha)
    member.anomaly_p_value = result.p_value
    if result.flagged and member.anomaly_flagged_at is None:
        member.anomaly_flagged_at = timezone.now()
    member.save(update_fields=["anomaly_p_value", "anomaly_flagged_at"])
    return result


# --- Agreement and the dashboard ------------------------------------------------------------------


def _pair_side_value(outcome: str, x_is_a: bool) -> str:
    if outcome in ("both_good", "both_bad"):
        return outcome
    return "x" if (outcome == "a") == x_is_a else "y"


def campaign_ratings(*, campaign: Campaign) -> dict[str, list[quality.Rating]]:
    """dimension -> ratings (item = pair, value against the pair's fixed sides) of the counted judgments."""
    rows = (
        selectors.judgments_counted()
        .filter(campaign=campaign, task__isnull=False)
        .values_list("dimension", "task__pair_id", "annotator_id", "outcome", "task__x_is_a")
    )
    by_dimension: dict[str, list[quality.Rating]] = defaultdict(list)
    for dimension, pair_id, annotator_id, outcome, x_is_a in rows:
        by_dimension[dimension].append(
            quality.Rating(item=str(pair_id), rater=str(annotator_id), value=_pair_side_value(outcome, x_is_a))
        )
    return by_dimension


@dataclass
class AnnotatorRow:
    member: CampaignMember
    votes: int = 0
    skips: int = 0
    mean_seconds: float | None = None
    gold_correct: int = 0
    gold_total: int = 0
    majority_agreed: int = 0
    majority_compared: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_total if self.gold_total else None

    @property
    def agreement(self) -> float | None:
        return self.majority_agreed / self.majority_compared if self.majority_compared else None


@dataclass
class CampaignDashboard:
    campaign: Campaign
    pairs: int
    slots_total: int
    slots_done: int
    slots_locked: int
    judgments: int
    coverage: dict[int, int]  # judgments per pair -> number of pairs
    agreement: list[dict[str, object]]
    annotators: list[AnnotatorRow]
    qc_pairs: dict[str, int]

    @property
    def progress(self) -> float:
        return self.slots_done / self.slots_total if self.slots_total else 0.0


def campaign_dashboard(*, campaign: Campaign) -> CampaignDashboard:
    from annotation.models import PairSlot

    slot_states = dict(
        PairSlot.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    per_pair = (
        PairSlot.objects.filter(campaign=campaign)
        .values("pair_id")
        .annotate(done=Count("id", filter=Q(state=PairSlot.State.DONE)))
        .values_list("done", flat=True)
    )
    coverage: dict[int, int] = defaultdict(int)
    for done in per_pair:
        coverage[done] += 1
    ratings = campaign_ratings(campaign=campaign)
    agreement_rows = []
    majority_total: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for dimension in campaign.dimension_names():
        dimension_ratings = ratings.get(dimension, [])
        agreement_rows.append(
            {
                "dimension": dimension,
                "judgments": len(dimension_ratings),
                "krippendorff_alpha": quality.krippendorff_alpha(dimension_ratings),
                "fleiss_kappa": quality.fleiss_kappa(dimension_ratings),
                "cohen_kappa_mean": quality.cohen_kappa_mean(dimension_ratings),
            }
        )
        for rater, (agreed, compared) in quality.majority_agreement(dimension_ratings).items():
            majority_total[rater][0] += agreed
            majority_total[rater][1] += compared
    members = list(CampaignMember.objects.filter(campaign=campaign).select_related("user").order_by("user__username"))
    tasks = (
        Task.objects.filter(campaign=campaign)
        .values("annotator_id")
        .annotate(
            votes=Count("id", filter=Q(state=Task.State.SUBMITTED)),
            skips=Count("id", filter=Q(state=Task.State.SKIPPED)),
        )
    )
    task_counts = {row["annotator_id"]: row for row in tasks}
    durations: dict[int, list[int]] = defaultdict(list)
    for annotator_id, elapsed in Task.objects.filter(
        campaign=campaign, state=Task.State.SUBMITTED, server_elapsed_ms__isnull=False
    ).values_list("annotator_id", "server_elapsed_ms"):
        durations[annotator_id].append(elapsed)
    gold = {
        row["annotator_id"]: row
        for row in QcAnswer.objects.filter(task__campaign=campaign)
        .values("annotator_id")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(correct=True)))
    }
    annotators = []
    for member in members:
        row = AnnotatorRow(member=member)
        counts = task_counts.get(member.user_id, {})
        row.votes, row.skips = counts.get("votes", 0), counts.get("skips", 0)
        if durations.get(member.user_id):
            row.mean_seconds = sum(durations[member.user_id]) / len(durations[member.user_id]) / 1000
        row.gold_total = gold.get(member.user_id, {}).get("total", 0)
        row.gold_correct = gold.get(member.user_id, {}).get("correct", 0)
        row.majority_agreed, row.majority_compared = majority_total.get(str(member.user_id), [0, 0])
        if member.status in (CampaignMember.Status.WARNED, CampaignMember.Status.SUSPENDED):
            row.flags.append(f"{member.status}: {member.status_reason}")
        if member.anomaly_flagged_at is not None:
            row.flags.append(f"anomalous votes (p = {member.anomaly_p_value:.2g})")
        annotators.append(row)
    qc_pairs = dict(
        Pair.objects.filter(campaign=campaign).exclude(kind=Pair.Kind.REGULAR)
        .values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return CampaignDashboard(
        campaign=campaign,
        pairs=Pair.objects.filter(campaign=campaign, kind=Pair.Kind.REGULAR).count(),
        slots_total=sum(slot_states.values()),
        slots_done=slot_states.get(PairSlot.State.DONE, 0),
        slots_locked=slot_states.get(PairSlot.State.LOCKED, 0),
        judgments=Judgment.objects.filter(campaign=campaign).count(),
        coverage=dict(sorted(coverage.items())),
        agreement=agreement_rows,
        annotators=annotators,
        qc_pairs=qc_pairs,
    )


EXPORT_COLUMNS = (
    "model_a", "model_b", "winner", "dimension", "annotator", "annotator_status", "prompt", "campaign", "comment",
    "is_simulated", "counted", "served_at", "submitted_at", "client_elapsed_ms", "server_elapsed_ms", "created_at",
)


def campaign_judgments_export(*, campaign: Campaign) -> list[dict[str, object]]:
    """Every judgment of the campaign (suspended annotators' too, marked counted=false) in LMArena's battle
    columns plus dimension, annotator and timings."""
    statuses = dict(CampaignMember.objects.filter(campaign=campaign).values_list("user_id", "status"))
    rows = (
        Judgment.objects.filter(campaign=campaign)
        .order_by("pk")
        .values_list(
            "clip_a__submission__model__slug", "clip_b__submission__model__slug", "outcome", "dimension",
            "annotator__username", "annotator_id", "clip_a__prompt__prompt_id", "comment", "is_simulated",
            "task__served_at", "task__finished_at", "task__client_elapsed_ms", "task__server_elapsed_ms", "created_at",
        )
    )
    out = []
    for (model_a, model_b, outcome, dimension, username, user_id, prompt, comment, simulated, served, finished,
         client_ms, server_ms, created) in rows:
        status = statuses.get(user_id, "")
        out.append(
            {
                "model_a": model_a, "model_b": model_b, "winner": OUTCOME_TO_WINNER[outcome], "dimension": dimension,
                "annotator": username, "annotator_status": status, "prompt": prompt, "campaign": campaign.name,
                "comment": comment, "is_simulated": simulated, "counted": status != CampaignMember.Status.SUSPENDED,
                "served_at": served.isoformat() if served else None,
                "submitted_at": finished.isoformat() if finished else None,
                "client_elapsed_ms": client_ms, "server_elapsed_ms": server_ms, "created_at": created.isoformat(),
            }
        )
    return out
