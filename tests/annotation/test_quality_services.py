"""Gold and attention pairs made by the platform (PyAV), the anomaly test on stored votes, the demo campaign."""

from __future__ import annotations

import random
from pathlib import Path

import av
import numpy as np
import pytest
from django.test import Client

from annotation import quality_services, services
from annotation.demo import demo_campaign_ensure
from annotation.models import Campaign, CampaignMember, Pair, QcAnswer
from annotation.qc_media import degrade_clip
from tests.annotation.world import annotator, build_world, make_campaign

pytestmark = pytest.mark.django_db


def _sharpness(path: Path) -> float:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="gray").astype(float)
    return float(np.abs(np.diff(frame, axis=1)).mean())


def _audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].codec_context.sample_rate
        samples = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    return samples, rate  # type: ignore[return-value]


def test_gold_copy_is_blurred_noisy_and_late(demo_dir: Path, tmp_path: Path) -> None:
    source = next((demo_dir / "clips").iterdir()) / "advert-002.mp4"
    result = degrade_clip(source, tmp_path / "gold.mp4", kind="gold", seed=1)
    assert result.expected == {"overall": "x", "video": "x", "audio": "x", "sync": "x"}
    assert _sharpness(tmp_path / "gold.mp4") != _sharpness(source)
    original, rate = _audio(source)
    late, _ = _audio(tmp_path / "gold.mp4")
    n = min(len(original), len(late), rate * 4)
    lags = np.arange(0, int(0.8 * rate), 48)
    best = max(lags, key=lambda lag: float(np.dot(original[: n - lag], late[lag:n])))
    assert abs(best / rate - 0.4) < 0.03  # the sound comes 400 ms late
    blank = degrade_clip(source, tmp_path / "attention.mp4", kind="attention")
    assert blank.frames == result.frames and "sync" not in blank.expected
    silent, _ = _audio(tmp_path / "attention.mp4")
    assert float(np.abs(silent).max()) < 1e-3


def test_campaign_gets_gold_and_attention_pairs_served_like_any_other(demo_dir: Path, media_root: Path) -> None:
    world = build_world(demo_dir, n_models=2, prompts=["advert-002"])
    campaign = make_campaign(world, gold_rate=0.5, attention_rate=0.5)
    made = quality_services.qc_pairs_generate(campaign=campaign, gold=1, attention=1, seed=3)
    assert made == {"gold": 1, "attention": 1}
    assert quality_services.qc_pairs_generate(campaign=campaign, gold=1, attention=1) == {"gold": 0, "attention": 0}
    gold = campaign.pairs.get(kind=Pair.Kind.GOLD)
    assert Path(gold.degraded_file.path).is_file() and gold.expected["overall"] == "x"
    client = Client()
    client.force_login(annotator("ada"))
    kinds = set()
    for _ in range(4):
        body = client.post("/api/annotation/next/", {"campaign": campaign.pk}, content_type="application/json").json()
        assert "task" in body, body
        task = body["task"]
        if task is None:
            break
        for side in ("a", "b"):
            response = client.get(task["clips"][side])
            assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
        stored = campaign.tasks.get(public_id=task["id"])
        original = "a" if stored.x_is_a else "b"  # the test peeks; the browser cannot tell gold from regular
        votes = {d["dimension"]: {"outcome": original} for d in task["dimensions"]}
        assert client.post("/api/annotation/judgments/", {"task": task["id"], "votes": votes}, content_type="application/json").status_code == 201
        kinds.add(stored.kind)
    assert kinds <= {"gold", "attention", "regular"} and len(kinds) >= 2
    graded = QcAnswer.objects.filter(task__campaign=campaign)
    assert graded.exists() and all(answer.correct for answer in graded)


def test_anomaly_check_flags_an_annotator_who_votes_against_everyone(demo_dir: Path, media_root: Path) -> None:
    world = build_world(demo_dir, n_models=4, with_files=False)
    campaign = make_campaign(world, overlap=6, dimensions={"overall": ""})
    strength = {entry.pk: k for k, entry in enumerate(world.models)}  # later models are much better
    honest = [annotator(f"h{k}") for k in range(4)]
    contrarian = annotator("contra")

    def vote(user, against: bool) -> None:  # type: ignore[no-untyped-def]
        while (task := services.task_next(campaign=campaign, user=user, rng=random.Random(user.pk)).task) is not None:
            pair = task.pair
            x_better = strength[pair.model_x_id] > strength[pair.model_y_id]
            a_better = x_better == task.x_is_a
            choice = "a" if a_better != against else "b"
            services.task_submit(public_id=task.public_id, user=user, votes={"overall": choice})

    for user in honest:
        vote(user, against=False)
    vote(contrarian, against=True)
    member = CampaignMember.objects.get(campaign=campaign, user=contrarian)
    member.anomaly_checkpoints = [8, 12]
    result = quality_services.member_anomaly_check(member=member)
    assert result.flagged and member.anomaly_flagged_at is not None
    fair = CampaignMember.objects.get(campaign=campaign, user=honest[0])
    fair.anomaly_checkpoints = [8, 12]
    assert not quality_services.member_anomaly_check(member=fair).flagged


def test_demo_campaign_invites_the_demo_annotator(demo_dir: Path, media_root: Path) -> None:
    world = build_world(demo_dir, n_models=2, with_files=False)
    user = annotator("annotator")
    campaign = demo_campaign_ensure(suite=world.suite)
    assert campaign is not None and campaign.pairs.exists()
    assert demo_campaign_ensure(suite=world.suite).pk == campaign.pk  # idempotent
    assert Campaign.objects.count() == 1 and campaign.members.get().user == user
