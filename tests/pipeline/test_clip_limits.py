"""One pathological clip cannot hold a worker; transient errors are retried a bounded number of times.

Real worker processes: a clip over its memory or time limit fails with the reason and the same
worker goes on to score the next clips; a clip whose file is unreadable is retried with backoff and
then failed with the reason, and one whose file comes back in time is scored.
"""

from __future__ import annotations

import math
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from leaderboard import services
from leaderboard.models import Clip, Submission, Suite
from scoring.models import ClipAttempt, ClipScore
from scoring.tasks import score_clip
from tests.conftest import wait_for
from tests.factories import rezip
from tests.pipeline.conftest import wait_ready
from tests.pipeline.helpers import attempts_report, import_synthetic_suite, is_scored, submit_archive

pytestmark = [pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]


def _submission_with_heavy_first_clip(folder: Path, heavy_clip: Path, suite: Suite | None = None) -> tuple[Submission, str]:
    suite = suite or import_synthetic_suite(folder)
    first_prompt = suite.prompts.order_by("position").first().prompt_id
    archive = rezip(folder / "aurora-av.zip", replace={f"{first_prompt}.mp4": heavy_clip.read_bytes()})
    return submit_archive(suite, archive), first_prompt


def _scoring_seconds(folder: Path, suite: Suite, tmp_path: Path, heavy_clip: Path) -> tuple[float, float]:
    """(seconds the slowest of the synthetic submission's demo clips takes to score in this process, seconds
    the heavy clip takes), on the workers' engine path, after one warm-up run."""
    from leaderboard.services import suite_media_dir
    from scoring import engine
    from scoring.engine.config import EngineConfig

    prompts = {prompt.prompt_id: prompt for prompt in suite.prompts.select_related("suite")}
    config = EngineConfig(use_expert_models=False)
    replaced = suite.prompts.order_by("position").first().prompt_id  # its clip becomes the heavy one

    def seconds(path: Path, prompt_id: str) -> float:
        prompt = prompts[prompt_id]
        started = time.perf_counter()
        engine.score_clip(path, prompt.to_script(), reference_root=suite_media_dir(prompt.suite.name, prompt.suite.version), config=config)
        return time.perf_counter() - started

    timings = []
    with zipfile.ZipFile(folder / "aurora-av.zip") as archive:
        members = [name for name in sorted(archive.namelist()) if Path(name).stem != replaced]
        for index, member in enumerate([members[0], *members]):
            path = tmp_path / member
            path.write_bytes(archive.read(member))
            spent = seconds(path, Path(member).stem)
            if index:
                timings.append(spent)
    return max(timings), seconds(heavy_clip, replaced)


def _time_limit_between(fast_s: float, slow_s: float) -> int:
    """The whole number of seconds (the setting's unit) farthest, as a ratio, from both times."""
    candidates = range(1, max(2, math.ceil(slow_s)) + 1)
    return max(candidates, key=lambda limit: min(limit / fast_s, slow_s / limit))


def _assert_limit_failed_and_worker_went_on(submission: Submission, heavy_prompt: str, outcome: str, words: str) -> None:
    heavy = Clip.objects.get(submission=submission, prompt__prompt_id=heavy_prompt)
    assert heavy.status == Clip.Status.FAILED and words in heavy.status_reason, attempts_report(submission)
    attempt = ClipAttempt.objects.get(clip=heavy)
    assert attempt.outcome == outcome and attempt.finished_at is not None
    others = Clip.objects.filter(submission=submission).exclude(pk=heavy.pk)
    assert set(others.values_list("status", flat=True)) == {Clip.Status.SCORED}, attempts_report(submission)
    # One worker process with one pool child: it scored the next clips after the heavy one failed.
    later = ClipAttempt.objects.filter(clip__in=others, started_at__gte=attempt.finished_at)
    assert later.count() == others.count()
    assert not ClipScore.objects.filter(clip=heavy).exists()
    aggregate = submission.scores.get()
    assert aggregate.failed_prompts == [heavy_prompt] and aggregate.prompts_scored == others.count()


def test_a_clip_over_the_memory_limit_fails_with_the_reason_and_the_worker_scores_the_next(
    pipeline_workers: Callable, synthetic_dir: Callable[[int], Path], heavy_clip: Path
) -> None:
    submission, heavy_prompt = _submission_with_heavy_first_clip(synthetic_dir(4), heavy_clip)
    # A demo clip adds well under 150 MiB to the process; decoding the 8K clip adds over 1 GiB.
    worker = pipeline_workers(concurrency=1, MSAV_CLIP_MEMORY_LIMIT_MB="500")

    wait_for(lambda: is_scored(submission), 180, "the submission to be scored", [worker])

    _assert_limit_failed_and_worker_went_on(submission, heavy_prompt, ClipAttempt.Outcome.MEMORY_LIMIT, "over the memory limit")
    attempt = ClipAttempt.objects.get(clip__submission=submission, outcome=ClipAttempt.Outcome.MEMORY_LIMIT)
    assert attempt.peak_rss_mb is not None and attempt.peak_rss_mb > 500
    assert "limit 500 MiB per clip" in attempt.reason


def test_a_clip_over_the_time_limit_fails_with_the_reason_and_the_worker_scores_the_next(
    pipeline_workers: Callable, synthetic_dir: Callable[[int], Path], long_clip: Path, tmp_path: Path
) -> None:
    folder = synthetic_dir(4)
    suite = import_synthetic_suite(folder)
    # Scoring time grows with the clip's frames: the ten-minute clip takes over ten times as long as a demo
    # clip of 6-9 s. Fixed limits failed here: 1 s failed demo clips on a busy machine (load 15 on 2 cores),
    # and four times the slowest demo clip, rounded up to whole seconds, once let the ten-minute clip
    # (then at 24 frames/s) finish in time as the engine grew faster. So both are timed here, now, and the
    # limit lies as far from each as whole seconds allow.
    slowest, heavy_s = _scoring_seconds(folder, suite, tmp_path, long_clip)
    limit_s = _time_limit_between(slowest, heavy_s)
    print(f"in this process: slowest demo clip {slowest:.2f} s, the ten-minute clip {heavy_s:.2f} s: soft time limit {limit_s} s")
    assert min(limit_s / slowest, heavy_s / limit_s) >= 1.8, (
        f"no whole-second limit lies well between a demo clip ({slowest:.2f} s) and the ten-minute clip ({heavy_s:.2f} s)"
    )
    submission, heavy_prompt = _submission_with_heavy_first_clip(folder, long_clip, suite)
    worker = pipeline_workers(concurrency=1, MSAV_CLIP_SOFT_TIME_LIMIT_S=str(limit_s), MSAV_CLIP_HARD_TIME_LIMIT_S=str(limit_s + 60))

    wait_for(lambda: is_scored(submission), 180, "the submission to be scored", [worker])

    _assert_limit_failed_and_worker_went_on(submission, heavy_prompt, ClipAttempt.Outcome.TIME_LIMIT, "over the time limit")


def test_transient_errors_are_retried_with_backoff_then_fail_with_the_reason(
    pipeline_workers: Callable, synthetic_dir: Callable[[int], Path]
) -> None:
    folder = synthetic_dir(2)
    submission = submit_archive(import_synthetic_suite(folder), folder / "aurora-av.zip")
    gone_id, back_id = services.submission_validate(submission_id=submission.pk)
    gone, back = Clip.objects.get(pk=gone_id), Clip.objects.get(pk=back_id)
    # The shared media "blinks": one file is gone for good, the other comes back after a retry.
    Path(gone.file.path).unlink()
    hidden = Path(back.file.path).rename(Path(back.file.path).with_suffix(".away"))
    worker = pipeline_workers(
        queues="scoring", concurrency=1,
        MSAV_CLIP_MAX_RETRIES="3", MSAV_CLIP_RETRY_BACKOFF_S="0.5", MSAV_CLIP_RETRY_BACKOFF_MAX_S="2",
    )
    wait_ready(worker)
    score_clip.delay(gone_id, submission.pk)
    score_clip.delay(back_id, submission.pk)
    wait_for(
        lambda: ClipAttempt.objects.filter(clip=back, outcome=ClipAttempt.Outcome.RETRY).exists(),
        60, "a retry of the clip whose file is away", [worker],
    )
    hidden.rename(back.file.path)

    wait_for(lambda: is_scored(submission), 120, "both clips settled", [worker])

    gone.refresh_from_db()
    assert gone.status == Clip.Status.FAILED
    assert "gave up after 4 tries that hit transient errors" in gone.status_reason and "not readable" in gone.status_reason
    outcomes = list(ClipAttempt.objects.filter(clip=gone).order_by("started_at").values_list("outcome", flat=True))
    assert outcomes == [ClipAttempt.Outcome.RETRY] * 3 + [ClipAttempt.Outcome.FAILED]
    back.refresh_from_db()
    assert back.status == Clip.Status.SCORED and ClipScore.objects.filter(clip=back).count() == 1
    assert back.attempts == 1  # transient retries are not counted as lost attempts
    assert "retry" in worker.output().lower()
