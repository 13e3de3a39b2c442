"""Test data for the ranking tests: a scored suite built directly in the database (no engine run),
simulated judgments with known true strengths, and battle tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from annotation.models import Judgment
from leaderboard.models import Clip, ModelEntry, Prompt, Submission, Suite
from scoring import engine
from scoring.engine import script as fmt
from scoring.models import ClipScore, MetricScore, SubmissionScore

# Metrics the built clips carry: two follow the model's quality, one is noise.
INFORMATIVE_METRICS = ("video_sharpness", "shot_count_match")
NOISE_METRICS = ("audio_loudness",)


@dataclass
class ScoredSuite:
    suite: Suite
    prompts: list[Prompt]
    submissions: dict[str, Submission]  # slug -> submission
    clips: dict[tuple[str, str], Clip]  # (slug, prompt id) -> clip
    truth: dict[str, float]  # slug -> true quality (higher is better)


def scored_suite(
    *, truth: dict[str, float], prompts: int = 6, seed: int = 0, name: str = "ranking-suite", public: bool = True,
    clip_noise: float = 0.03,
) -> ScoredSuite:
    """A suite whose public submissions are scored: each clip's automatic score is the model's true quality
    plus noise, so the automatic model order equals `truth` (with clip_noise small)."""
    rng = np.random.default_rng(seed)
    suite = Suite.objects.create(name=name, version="1", content_hash="0" * 64)
    prompt_rows = [
        Prompt.objects.create(
            suite=suite, prompt_id=f"p-{k:03d}", position=k, category=fmt.CATEGORIES[0], style="live action",
            subject_realism="real", scene_realism="real", languages=["en"], audio_classes=[], duration_s=4.0,
            script=f"prompt {k}", shot_count=2, spec={},
        )
        for k in range(prompts)
    ]
    now = timezone.now()
    submissions: dict[str, Submission] = {}
    clips: dict[tuple[str, str], Clip] = {}
    for slug, quality in truth.items():
        model = ModelEntry.objects.create(name=slug.title(), slug=slug)
        submission = Submission.objects.create(
            model=model, suite=suite, state=Submission.State.SCORED, archive=f"submissions/{slug}.zip",
            archive_name=f"{slug}.zip", is_public=public, published_at=now if public else None, scored_at=now,
        )
        submissions[slug] = submission
        overall_values = []
        for prompt in prompt_rows:
            clip = Clip.objects.create(
                submission=submission, prompt=prompt, status=Clip.Status.SCORED, file=f"clips/{slug}-{prompt.prompt_id}.mp4"
            )  # the path is never read: no engine runs on these clips
            clips[(slug, prompt.prompt_id)] = clip
            overall = float(np.clip(quality + rng.normal(0, clip_noise), 0, 1))
            overall_values.append(overall)
            score = ClipScore.objects.create(
                clip=clip, engine_version=engine.ENGINE_VERSION, overall=overall,
                dimensions={"video": overall, "audio": overall, "shot": overall, "reference": None, "sync": overall},
                evidence={"sync": {"offset_ms": 0}},
            )
            for metric in INFORMATIVE_METRICS:
                value = float(np.clip(quality + rng.normal(0, 2 * clip_noise), 0, 1))
                MetricScore.objects.create(
                    clip_score=score, name=metric, dimension="video" if metric.startswith("video") else "shot",
                    value=value, status="measured", tool="test", version="1",
                )
            for metric in NOISE_METRICS:
                MetricScore.objects.create(
                    clip_score=score, name=metric, dimension="audio", value=float(rng.uniform(0, 1)),
                    status="measured", tool="test", version="1",
                )
        mean = float(np.mean(overall_values))
        SubmissionScore.objects.create(
            submission=submission, engine_version=engine.ENGINE_VERSION, overall=mean,
            dimensions={"video": mean, "audio": mean, "shot": mean, "reference": None, "sync": mean},
            breakdowns={}, prompts_total=prompts, prompts_scored=prompts,
        )
    return ScoredSuite(suite=suite, prompts=prompt_rows, submissions=submissions, clips=clips, truth=truth)


def annotators(count: int, prefix: str = "sim") -> list:  # type: ignore[type-arg]
    user_model = get_user_model()
    return [user_model.objects.create_user(f"{prefix}-{k:02d}", password=None) for k in range(count)]


def simulated_votes(
    scored: ScoredSuite, *, votes: int, rng: np.random.Generator, strength_per_quality: float = 8.0,
    tie_rate: float = 0.15,
) -> list[tuple[Clip, Clip, str]]:
    """(clip_a, clip_b, outcome) drawn from Bradley-Terry with strengths strength_per_quality * truth, plus ties."""
    slugs = sorted(scored.truth)
    out = []
    for _ in range(votes):
        a, b = rng.choice(len(slugs), size=2, replace=False)
        prompt = scored.prompts[int(rng.integers(len(scored.prompts)))].prompt_id
        diff = strength_per_quality * (scored.truth[slugs[a]] - scored.truth[slugs[b]])
        u = rng.random()
        if u < tie_rate:
            outcome = "both_good" if rng.random() < 0.5 else "both_bad"
        else:
            outcome = "a" if rng.random() < 1 / (1 + np.exp(-diff)) else "b"
        out.append((scored.clips[(slugs[a], prompt)], scored.clips[(slugs[b], prompt)], outcome))
    return out


def judgments_create(votes: list[tuple[Clip, Clip, str]], users: list, *, dimension: str = "overall",  # type: ignore[type-arg]
                     simulated: bool = True) -> int:
    """Store votes as Judgments, round-robin over users, skipping repeats of (annotator, pair, dimension)."""
    seen: set[tuple[int, int, int]] = set()
    rows = []
    for k, (clip_a, clip_b, outcome) in enumerate(votes):
        user = users[k % len(users)]
        key = (user.pk, clip_a.pk, clip_b.pk)
        if key in seen:
            continue
        seen.add(key)
        rows.append(Judgment(annotator=user, clip_a=clip_a, clip_b=clip_b, dimension=dimension, outcome=outcome,
                             is_simulated=simulated))
    Judgment.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
