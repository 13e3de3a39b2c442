"""Data and checks for `manage.py bench_annotation_load` (run inside the bench's own throw-away database)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from annotation import services
from annotation.models import Campaign, Judgment, Task
from leaderboard import services as leaderboard_services
from leaderboard.models import Clip, ModelEntry, Prompt, Submission, Suite


@transaction.atomic
def seed(*, models: int, prompts: int, annotators: int, overlap: int) -> dict[str, Any]:
    """A synthetic suite (prompts without media: the load bench never fetches clips), `models` models with a
    public scored submission each, a campaign over them and `annotators` annotators with API tokens."""
    suite = Suite.objects.create(name="loadbench", version="1", content_hash="0" * 64)
    prompt_rows = [
        Prompt(
            suite=suite, prompt_id=f"p-{k:04d}", position=k, category="narrative", style="live action",
            subject_realism="real", scene_realism="real", languages=["en"], audio_classes=["speech"], duration_s=8.0,
            script=f"Prompt {k}: a two-shot scene.", shot_count=2, spec={"id": f"p-{k:04d}"},
        )
        for k in range(prompts)
    ]
    Prompt.objects.bulk_create(prompt_rows)
    prompt_rows = list(suite.prompts.all())
    owner = get_user_model().objects.create_user("loadbench-owner")
    entries = []
    for m in range(models):
        entry = ModelEntry.objects.create(name=f"Loadbench Model {m}", slug=f"loadbench-model-{m}", owner=owner)
        submission = Submission.objects.create(
            model=entry, suite=suite, owner=owner, state=Submission.State.SCORED, archive="x.zip", archive_name="x.zip",
            is_public=True, scored_at=timezone.now(),
        )
        Clip.objects.bulk_create(
            [Clip(submission=submission, prompt=p, file=f"clips/{submission.pk}/{p.prompt_id}.mp4", status=Clip.Status.SCORED,
                  probe={"duration_s": 8.0}) for p in prompt_rows]
        )
        entries.append(entry)
    campaign = services.campaign_create(
        name="loadbench", suite=suite, entries=entries, dimensions={"overall": "", "video": "", "audio": ""},
        overlap=overlap, gold_rate=0.0, attention_rate=0.0, daily_limit=100000, enrollment=Campaign.Enrollment.OPEN,
        min_watch_ratio=0.0,
    )
    group, _ = Group.objects.get_or_create(name="annotator")
    user_model = get_user_model()
    users = [user_model(username=f"loadbench-{k}") for k in range(annotators)]
    for user in users:
        user.set_unusable_password()
    user_model.objects.bulk_create(users)
    users = list(user_model.objects.filter(username__startswith="loadbench-").exclude(pk=owner.pk))
    group.user_set.add(*users)
    tokens = [leaderboard_services.api_token_create(user=user, name="loadbench")[1] for user in users]
    return {
        "campaign": campaign.pk,
        "pairs": campaign.pairs.count(),
        "dimensions": campaign.dimension_names(),
        "tokens": tokens,
    }


def count_check(*, campaign_id: int) -> dict[str, int]:
    rows = Judgment.objects.filter(campaign_id=campaign_id)
    per_task_dimension = Counter(rows.values_list("task_id", "dimension"))
    per_pair = Task.objects.filter(campaign_id=campaign_id, state=Task.State.SUBMITTED).values("pair_id").annotate(n=Count("id"))
    return {
        "submitted_tasks": Task.objects.filter(campaign_id=campaign_id, state=Task.State.SUBMITTED).count(),
        "judgment_rows": rows.count(),
        "duplicate_rows": sum(n - 1 for n in per_task_dimension.values() if n > 1),
        "max_per_pair": max((row["n"] for row in per_pair), default=0),
    }
