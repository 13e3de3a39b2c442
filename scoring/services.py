"""Writes of the scoring app: run the engine on a clip, store its result once, aggregate a submission.

The pipeline's state lives in the database, never only in broker messages: a clip is queued,
scoring, or settled (scored / failed / missing); every try is logged as a ClipAttempt; a submission
is settled by whichever clip task (or reaper round) finds its last clip settled, under a row lock.
A lost message, a killed worker or a restarted broker therefore loses nothing: the reaper finds
what is stuck and queues it again.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leaderboard.models import Clip, Submission
from leaderboard.services import submission_transition, suite_media_dir
from scoring import engine, limits
from scoring.engine.catalog import DIMENSIONS
from scoring.engine.config import AsrConfig, EngineConfig, JudgeConfig
from scoring.models import ClipAttempt, ClipScore, MetricScore, Rescore, SubmissionScore

logger = logging.getLogger(__name__)

# The breakdown axes of a submission's aggregate: axis name -> the prompt's value(s) on it.
BREAKDOWN_AXES = {
    "genre": lambda prompt: [prompt.category],
    "shot_bucket": lambda prompt: [prompt.shot_count_bucket],
    "realism": lambda prompt: [prompt.realism_bucket],
    "style": lambda prompt: [prompt.style],
    "language": lambda prompt: list(prompt.languages) or ["none"],
}
# Engine metrics that failed because a limit interrupted them inside the engine's own error guard.
_LIMIT_MARKERS = {
    "MemoryError": ClipAttempt.Outcome.MEMORY_LIMIT,
    "TimeLimitExceeded": ClipAttempt.Outcome.TIME_LIMIT,
}


class ClipFileUnavailable(OSError):
    """The clip's file is not readable on this worker (shared media not mounted, storage blinked):
    an infrastructure problem, retried, never a failed generation."""


# --- Engine configuration ---------------------------------------------------------------------


ENGINE_SETTINGS = (
    "MSAV_ENGINE_EXPERT_MODELS",
    "MSAV_JUDGE_URL",
    "MSAV_JUDGE_MODEL",
    "MSAV_JUDGE_KEY",
    "MSAV_ASR_URL",
    "MSAV_ASR_MODEL",
    "MSAV_ASR_KEY",
    "MSAV_ASR_MODEL_PATH",
)


def engine_config() -> EngineConfig:
    """The engine's configuration from settings (MSAV_ENGINE_EXPERT_MODELS, MSAV_JUDGE_*, MSAV_ASR_*).

    Raises ImproperlyConfigured naming the settings when a value is invalid (also reported by
    `manage.py check`, see scoring.apps).
    """
    return _engine_config(*(getattr(settings, name) for name in ENGINE_SETTINGS))


@functools.lru_cache(maxsize=4)
def _engine_config(
    expert: bool, judge_url: str, judge_model: str, judge_key: str, asr_url: str, asr_model: str, asr_key: str, asr_path: str
) -> EngineConfig:
    judge = asr = None
    try:
        if judge_url:
            judge = JudgeConfig(url=judge_url, model=judge_model, api_key=judge_key)
    except ValueError as error:
        raise ImproperlyConfigured(f"MSAV_JUDGE_URL / MSAV_JUDGE_MODEL / MSAV_JUDGE_KEY: {error}") from None
    try:
        if asr_url or asr_path:
            asr = AsrConfig(url=asr_url, model=asr_model, api_key=asr_key, model_path=asr_path)
    except ValueError as error:
        raise ImproperlyConfigured(f"MSAV_ASR_URL / MSAV_ASR_MODEL / MSAV_ASR_MODEL_PATH: {error}") from None
    return EngineConfig(use_expert_models=bool(expert), judge=judge, asr=asr)


# --- One clip ---------------------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def clip_claim(*, clip_id: int) -> int | None:
    """Mark a clip as being scored (again, if a worker died holding it) and return its attempt number;
    None if it needs no scoring (already settled)."""
    with transaction.atomic():
        claimed = Clip.objects.filter(pk=clip_id, status__in=(Clip.Status.QUEUED, Clip.Status.SCORING)).update(
            status=Clip.Status.SCORING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
        if not claimed:
            return None
        return Clip.objects.values_list("attempts", flat=True).get(pk=clip_id)


@dataclass(frozen=True)
class ClipOutcome:
    outcome: str  # a ClipAttempt.Outcome, or "settled" when there was nothing to do
    reason: str = ""


def clip_score(*, clip_id: int, task_id: str = "") -> ClipOutcome:
    """Score one clip with the current engine and store the result exactly once.

    Idempotent: a clip already scored by this engine version keeps its one result, also when two
    workers race for it (the unique constraint decides). A clip that does not decode, or goes over
    its time or memory limit, is a failed generation with the reason. Transient errors (database,
    file system) propagate for the task to retry; `ClipFileUnavailable` says the media is not there.
    """
    version = engine.ENGINE_VERSION
    if ClipScore.objects.filter(clip_id=clip_id, engine_version=version).exists():
        clip_mark_scored(clip_id=clip_id)
        _attempts_mark_lost(clip_id=clip_id)  # e.g. killed between storing the result and logging it
        return ClipOutcome("settled", "already scored by this engine version")
    attempt_number = clip_claim(clip_id=clip_id)
    if attempt_number is None:
        return ClipOutcome("settled", "not queued")
    _attempts_mark_lost(clip_id=clip_id)
    if attempt_number > settings.MSAV_CLIP_MAX_ATTEMPTS:
        reason = (
            f"gave up after {attempt_number - 1} attempts that did not finish (each time the worker scoring it "
            "was lost: killed by the system, for example out of memory, or crashed)"
        )
        clip_fail(clip_id=clip_id, reason=reason)
        return ClipOutcome(ClipAttempt.Outcome.FAILED, reason)
    clip = Clip.objects.select_related("prompt__suite").get(pk=clip_id)
    attempt = ClipAttempt.objects.create(clip=clip, engine_version=version, task_id=task_id, worker=worker_name())
    submission_transition(submission_id=clip.submission_id, to=Submission.State.SCORING)
    path = Path(clip.file.path) if clip.file else None
    if path is None or not path.is_file():
        raise ClipFileUnavailable(f'the clip file of "{clip.member_name}" is not readable at {path} on {worker_name()}')
    suite = clip.prompt.suite
    watch = None
    try:
        with limits.clip_limits(
            time_limit_s=settings.MSAV_CLIP_SOFT_TIME_LIMIT_S,
            memory_limit_mb=settings.MSAV_CLIP_MEMORY_LIMIT_MB,
            address_space_mb=settings.MSAV_CLIP_ADDRESS_SPACE_LIMIT_MB,
        ) as watch:
            result = engine.score_clip(
                path,
                clip.prompt.to_script(),
                reference_root=suite_media_dir(suite.name, suite.version),
                # The engine's own decode deadline: the soft limit, or the hard one when the soft is off.
                timeout_s=float(settings.MSAV_CLIP_SOFT_TIME_LIMIT_S or settings.MSAV_CLIP_HARD_TIME_LIMIT_S),
                config=engine_config(),
            )
    except limits.ClipTimeLimitExceeded as error:
        return _clip_settle_failed(attempt, ClipAttempt.Outcome.TIME_LIMIT, error.reason, watch)
    except engine.ClipTimeoutError as error:
        return _clip_settle_failed(attempt, ClipAttempt.Outcome.TIME_LIMIT, f"over the time limit: {error.reason}", watch)
    except limits.ClipMemoryLimitExceeded as error:
        return _clip_settle_failed(attempt, ClipAttempt.Outcome.MEMORY_LIMIT, error.reason, watch)
    except MemoryError:
        reason = (
            "over the memory limit: an allocation was refused (the scoring process may add at most "
            f"{settings.MSAV_CLIP_ADDRESS_SPACE_LIMIT_MB} MiB of address space per clip)"
        )
        return _clip_settle_failed(attempt, ClipAttempt.Outcome.MEMORY_LIMIT, reason, watch)
    except engine.ClipDecodeError as error:
        reason = f'"{clip.member_name}" does not decode: {error.reason}; counted as a failed generation'
        return _clip_settle_failed(attempt, ClipAttempt.Outcome.FAILED, reason, watch)
    # A limit that struck inside one of the engine's per-metric guards leaves a metric "failed" with
    # the exception's name: the result is then incomplete, so the clip fails with that reason.
    for name, metric in result.metrics.items():
        for marker, outcome in _LIMIT_MARKERS.items():
            if metric.status == "failed" and marker in (metric.reason or ""):
                return _clip_settle_failed(attempt, outcome, f"{name}: {metric.reason}", watch)
    _score, created = clip_score_store_once(clip_id=clip_id, result=result)
    outcome = ClipAttempt.Outcome.SCORED if created else ClipAttempt.Outcome.DUPLICATE
    reason = "" if created else "another attempt stored this clip's result first; kept that one"
    clip_attempt_end(attempt_id=attempt.pk, outcome=outcome, reason=reason, peak_rss_mb=watch.peak_rss_mb if watch else None)
    return ClipOutcome(outcome, reason)


def _attempts_mark_lost(*, clip_id: int) -> None:
    """A new try of a clip finds earlier tries still marked running: their worker was lost.

    (A racing duplicate that is in fact still running overwrites this when it ends.)"""
    ClipAttempt.objects.filter(clip_id=clip_id, outcome=ClipAttempt.Outcome.RUNNING).update(
        outcome=ClipAttempt.Outcome.LOST,
        finished_at=timezone.now(),
        reason="did not finish: the worker running it was lost (killed, restarted or cut off) and the clip was queued again",
    )


def _clip_settle_failed(attempt: ClipAttempt, outcome: str, reason: str, watch: limits.LimitWatch | None) -> ClipOutcome:
    clip_attempt_end(attempt_id=attempt.pk, outcome=outcome, reason=reason, peak_rss_mb=watch.peak_rss_mb if watch else None)
    clip_fail(clip_id=attempt.clip_id, reason=reason)
    return ClipOutcome(outcome, reason)


def clip_attempt_end(*, attempt_id: int, outcome: str, reason: str = "", peak_rss_mb: float | None = None) -> None:
    ClipAttempt.objects.filter(pk=attempt_id).update(
        outcome=outcome, reason=reason, finished_at=timezone.now(), peak_rss_mb=peak_rss_mb
    )


def clip_attempt_end_for_task(*, clip_id: int, task_id: str, outcome: str, reason: str) -> None:
    """End the running attempt a task left behind (the task knows its id, not the attempt's)."""
    ClipAttempt.objects.filter(clip_id=clip_id, task_id=task_id, outcome=ClipAttempt.Outcome.RUNNING).update(
        outcome=outcome, reason=reason, finished_at=timezone.now()
    )


def clip_release_for_retry(*, clip_id: int, task_id: str, reason: str) -> None:
    """A transient error: log it and put the clip back in the queue; the retry is not a lost attempt."""
    clip_attempt_end_for_task(clip_id=clip_id, task_id=task_id, outcome=ClipAttempt.Outcome.RETRY, reason=reason)
    Clip.objects.filter(pk=clip_id, status=Clip.Status.SCORING, attempts__gt=0).update(
        status=Clip.Status.QUEUED, attempts=F("attempts") - 1, updated_at=timezone.now()
    )


def clip_mark_scored(*, clip_id: int) -> None:
    Clip.objects.filter(pk=clip_id).exclude(status=Clip.Status.SCORED).update(
        status=Clip.Status.SCORED, status_reason="", updated_at=timezone.now()
    )


def clip_score_store(*, clip_id: int, result: engine.ClipResult) -> ClipScore:
    """Store a clip's result and mark it scored; the one stored result (another worker's, if it was first)."""
    return clip_score_store_once(clip_id=clip_id, result=result)[0]


def clip_score_store_once(*, clip_id: int, result: engine.ClipResult) -> tuple[ClipScore, bool]:
    """Store a clip's result and mark it scored; (the stored score, False) when another worker stored it first."""
    data = result.to_dict()
    try:
        with transaction.atomic():
            score = ClipScore.objects.create(
                clip_id=clip_id,
                engine_version=data["engine_version"],
                overall=data["overall"],
                dimensions=data["dimensions"],
                evidence=data["evidence"],
                missing=data["missing"],
                flags=data["flags"],
                timings=data.get("timings", {}),
            )
            MetricScore.objects.bulk_create(
                MetricScore(
                    clip_score=score,
                    name=name,
                    dimension=metric["dimension"],
                    value=metric["value"],
                    status=metric["status"],
                    tool=metric["tool"],
                    version=metric["version"],
                    raw=metric.get("raw"),
                    reason=metric.get("reason") or "",
                )
                for name, metric in data["metrics"].items()
            )
            clip_mark_scored(clip_id=clip_id)
    except IntegrityError:
        # Another worker stored this clip's result for this engine version first: keep theirs.
        clip_mark_scored(clip_id=clip_id)
        return ClipScore.objects.get(clip_id=clip_id, engine_version=data["engine_version"]), False
    return score, True


def clip_fail(*, clip_id: int, reason: str) -> None:
    Clip.objects.filter(pk=clip_id).exclude(status=Clip.Status.SCORED).update(
        status=Clip.Status.FAILED, status_reason=reason, updated_at=timezone.now()
    )


# --- A submission -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FinishResult:
    aggregate: SubmissionScore | None = None
    # Clips marked scored by an older engine version (a worker upgraded mid-submission): to queue again.
    requeue: list[int] = field(default_factory=list)


def submission_finish_if_complete(*, submission_id: int) -> SubmissionScore | None:
    """Aggregate the submission once every clip is settled; safe to call any number of times, from any process.

    A submission being scored becomes `scored`; a scored submission being re-scored with a newer
    engine gets its new aggregate (its older one stays until then). The caches and the ranking are
    told after the commit.
    """
    result = submission_finish(submission_id=submission_id)
    if result.requeue:
        from scoring.tasks import score_clip  # the task module imports this one

        for clip_id in result.requeue:
            score_clip.delay(clip_id, submission_id)
    return result.aggregate


def submission_finish(*, submission_id: int) -> FinishResult:
    version = engine.ENGINE_VERSION
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None:
            return FinishResult()
        rescore = None
        if submission.state == Submission.State.SCORED:
            rescore = Rescore.objects.filter(submission=submission, engine_version=version, finished_at=None).first()
            if rescore is None:
                return FinishResult()
        elif submission.state not in (Submission.State.QUEUED, Submission.State.SCORING):
            return FinishResult()
        if submission.clips.exclude(status__in=Clip.TERMINAL).exists():
            return FinishResult()
        stale = list(
            submission.clips.filter(status=Clip.Status.SCORED)
            .exclude(scores__engine_version=version)
            .values_list("pk", flat=True)
        )
        if stale:
            Clip.objects.filter(pk__in=stale).update(status=Clip.Status.QUEUED, attempts=0, updated_at=timezone.now())
            return FinishResult(requeue=stale)
        aggregate = submission_aggregate(submission=submission)
        if rescore is not None:
            rescore.finished_at = timezone.now()
            rescore.save(update_fields=["finished_at"])
        else:
            submission_transition(submission_id=submission_id, to=Submission.State.SCORED)
        suite_id = submission.suite_id
        transaction.on_commit(lambda: submission_scored_announce(suite_id=suite_id))
    return FinishResult(aggregate=aggregate)


def submission_scored_announce(*, suite_id: int) -> None:
    """A submission of the suite was (re)scored: public pages and the ranking must follow.

    Called after the commit; a failure here is logged and never undoes the stored scores (the
    cache expires and the ranking recomputes on its own schedule)."""

    def invalidate_cache() -> None:
        from leaderboard.cache import leaderboard_cache_invalidate

        leaderboard_cache_invalidate(suite_id=suite_id)

    def request_ranking() -> None:
        from annotation.ranking.services import ranking_recompute_request

        ranking_recompute_request(suite_id=suite_id, reason="submission scored")

    for announce in (invalidate_cache, request_ranking):
        try:
            announce()
        except Exception:
            logger.exception("suite %s: %s failed after a submission was scored", suite_id, announce.__name__)


def submission_aggregate(*, submission: Submission) -> SubmissionScore:
    """Mean over the suite's prompts; a missing or failed clip is a failed generation that scores 0."""
    clips = list(submission.clips.select_related("prompt"))
    scores = {
        score.clip_id: score
        for score in ClipScore.objects.filter(clip__submission=submission, engine_version=engine.ENGINE_VERSION)
    }
    per_prompt = []
    for clip in clips:
        score = scores.get(clip.pk)
        if score is None:
            per_prompt.append((clip.prompt, 0.0, None))  # a failed generation
        else:
            per_prompt.append((clip.prompt, score.overall, score.dimensions))
    measured_dimensions = {
        dimension for _, _, dims in per_prompt if dims is not None for dimension, value in dims.items() if value is not None
    }
    summary = _summarise(per_prompt, measured_dimensions)
    breakdowns: dict[str, dict[str, dict]] = {}
    for axis, values_of in BREAKDOWN_AXES.items():
        groups: dict[str, list] = defaultdict(list)
        for entry in per_prompt:
            for value in values_of(entry[0]):
                groups[value].append(entry)
        breakdowns[axis] = {
            value: _summarise(entries, measured_dimensions) for value, entries in sorted(groups.items())
        }
    aggregate, _ = SubmissionScore.objects.update_or_create(
        submission=submission,
        engine_version=engine.ENGINE_VERSION,
        defaults={
            "overall": summary["overall"],
            "dimensions": summary["dimensions"],
            "breakdowns": breakdowns,
            "prompts_total": len(clips),
            "prompts_scored": len(scores),
            "failed_prompts": sorted(clip.prompt.prompt_id for clip in clips if clip.pk not in scores),
        },
    )
    return aggregate


def _summarise(entries: list, measured_dimensions: set[str]) -> dict:
    """Overall and per-dimension means of (prompt, overall, dimensions or None for a failed generation).

    A failed generation counts 0 in the overall and in every dimension the engine measured on this
    submission; a dimension measured on none of its clips stays unmeasured (None), never 0.
    """
    dimensions: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        values = [
            0.0 if dims is None else dims[dimension]
            for _, _, dims in entries
            if dimension in measured_dimensions and (dims is None or dims.get(dimension) is not None)
        ]
        dimensions[dimension] = round(sum(values) / len(values), 6) if values else None
    overall = sum(value for _, value, _ in entries) / len(entries) if entries else 0.0
    return {"overall": round(overall, 6), "dimensions": dimensions, "prompts": len(entries)}


@dataclass(frozen=True)
class ReapResult:
    clips_to_score: list[int]
    submissions_to_validate: list[int]
    clips_failed: list[int] = field(default_factory=list)
    submissions_settled: list[int] = field(default_factory=list)


def pipeline_reap_stalled(*, now: datetime, scoring_backlog: int | None = None) -> ReapResult:
    """Find work that stalled and say what to enqueue again, so nothing stays in flight forever.

    Uploads whose validation was never queued (broker down) or whose validating worker died; clips
    stuck queued or scoring past the deadline (re-queued, or failed with the reason after the last
    attempt); and submissions (being scored or re-scored) whose every clip is settled but whose last
    join was lost. A submission whose aggregation itself fails is failed with the reason.

    `scoring_backlog` is how many messages the broker's scoring queue holds (None: unknown). While it
    holds any, a clip still `queued` past the deadline is most likely waiting its turn behind a long
    backlog, not lost: it is left alone rather than queued once more every round (a lost message, as
    after a broker restart, leaves the queue empty, and the clip is re-queued then).
    """
    deadline = now - timedelta(seconds=settings.MSAV_CLIP_STALL_AFTER_S)
    upload_deadline = now - timedelta(seconds=settings.MSAV_UPLOAD_STALL_AFTER_S)
    to_validate = [
        submission_id
        for submission_id in Submission.objects.filter(
            state=Submission.State.VALIDATING, updated_at__lt=deadline
        ).values_list("pk", flat=True)
        if submission_transition(submission_id=submission_id, to=Submission.State.UPLOADED)
    ]
    waiting = Submission.objects.filter(state=Submission.State.UPLOADED, updated_at__lt=upload_deadline)
    to_validate += list(waiting.exclude(pk__in=to_validate).values_list("pk", flat=True))
    # Touched so that the next round waits a full period before queueing them again.
    Submission.objects.filter(pk__in=to_validate).update(updated_at=now)
    stalled_statuses = (Clip.Status.SCORING,) if scoring_backlog else (Clip.Status.QUEUED, Clip.Status.SCORING)
    stalled = Clip.objects.filter(status__in=stalled_statuses, updated_at__lt=deadline)
    requeue, failed = [], []
    for clip in stalled:
        ClipAttempt.objects.filter(clip=clip, outcome=ClipAttempt.Outcome.RUNNING).update(
            outcome=ClipAttempt.Outcome.LOST,
            finished_at=now,
            reason=f"no result {settings.MSAV_CLIP_STALL_AFTER_S} s after it started: the reaper queued the clip again",
        )
        if clip.attempts >= settings.MSAV_CLIP_MAX_ATTEMPTS:
            clip_fail(
                clip_id=clip.pk,
                reason=f"gave up after {clip.attempts} attempts that did not finish within "
                f"{settings.MSAV_CLIP_STALL_AFTER_S} s each",
            )
            failed.append(clip.pk)
        elif Clip.objects.filter(pk=clip.pk, status=clip.status, updated_at=clip.updated_at).update(
            status=Clip.Status.QUEUED, updated_at=now
        ):
            requeue.append(clip.pk)
    # Tries still marked running on clips that were settled meanwhile (their worker died after the fact).
    ClipAttempt.objects.filter(outcome=ClipAttempt.Outcome.RUNNING, started_at__lt=deadline).exclude(
        clip__status__in=(Clip.Status.QUEUED, Clip.Status.SCORING)
    ).update(outcome=ClipAttempt.Outcome.LOST, finished_at=now, reason="its worker was lost after the clip was settled")
    settled = []
    open_rescores = Rescore.objects.filter(finished_at=None, engine_version=engine.ENGINE_VERSION).values("submission_id")
    in_flight = Submission.objects.filter(state__in=(Submission.State.QUEUED, Submission.State.SCORING)) | Submission.objects.filter(
        state=Submission.State.SCORED, pk__in=open_rescores
    )
    for submission_id in in_flight.values_list("pk", flat=True):
        try:
            finished = submission_finish(submission_id=submission_id)
        except Exception as error:
            logger.exception("submission %s: aggregation failed", submission_id)
            submission_transition(
                submission_id=submission_id,
                to=Submission.State.FAILED,
                reason=f"its clips were scored but the aggregation failed: {type(error).__name__}: {error}",
            )
            continue
        requeue += finished.requeue
        if finished.aggregate is not None:
            settled.append(submission_id)
    return ReapResult(
        clips_to_score=requeue, submissions_to_validate=to_validate, clips_failed=failed, submissions_settled=settled
    )


# --- Engine upgrades --------------------------------------------------------------------------


def submissions_scored_by_older_engine(*, suite_id: int | None = None) -> list[int]:
    """Scored submissions that have no aggregate by the current engine version (oldest first)."""
    version = engine.ENGINE_VERSION
    submissions = Submission.objects.filter(state=Submission.State.SCORED).exclude(scores__engine_version=version)
    if suite_id is not None:
        submissions = submissions.filter(suite_id=suite_id)
    return list(submissions.order_by("scored_at", "pk").values_list("pk", flat=True))


@dataclass(frozen=True)
class RescoreRequest:
    submission_id: int
    from_engine_version: str
    clips_to_score: list[int]


def submission_rescore_request(*, submission_id: int) -> RescoreRequest | None:
    """Start re-scoring a scored submission with the current engine; None if it needs none.

    The clips go back in the queue, but the submission stays `scored` with its older aggregate (the
    leaderboard keeps showing that, labelled with its engine version) until every clip is settled
    under the new version: then `submission_finish` writes the new aggregate in one transaction.
    Old results are kept. Asking again while a re-scoring runs queues its unsettled clips again.
    """
    version = engine.ENGINE_VERSION
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.state != Submission.State.SCORED:
            return None
        if SubmissionScore.objects.filter(submission=submission, engine_version=version).exists():
            return None
        previous = submission.scores.order_by("-created_at").first()
        rescore, _ = Rescore.objects.get_or_create(
            submission=submission,
            engine_version=version,
            defaults={"from_engine_version": previous.engine_version if previous else ""},
        )
        clips = (
            submission.clips.exclude(status=Clip.Status.MISSING)
            .exclude(file="")
            .exclude(scores__engine_version=version)
        )
        clip_ids = list(clips.values_list("pk", flat=True))
        Clip.objects.filter(pk__in=clip_ids).update(
            status=Clip.Status.QUEUED, status_reason="", attempts=0, updated_at=timezone.now()
        )
        rescore.clips_total = submission.clips.exclude(status=Clip.Status.MISSING).exclude(file="").count()
        rescore.save(update_fields=["clips_total"])
    return RescoreRequest(
        submission_id=submission_id, from_engine_version=rescore.from_engine_version, clips_to_score=clip_ids
    )
