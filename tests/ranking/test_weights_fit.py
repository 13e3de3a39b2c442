"""Metric weights fitted to human judgments (Bradley-Terry over metric differences), cross-validated by prompt."""

from __future__ import annotations

import numpy as np
import pytest

from annotation.stats import weights_fit
from annotation.stats.battles import BattleRow


def test_people_who_follow_one_metric_get_it_weighted_and_cross_validation_shows_the_gain() -> None:
    rng = np.random.default_rng(0)
    models = [f"m{k}" for k in range(6)]
    prompts = [f"p{k}" for k in range(10)]
    # Metric "lip" decides what people prefer; "noise" is unrelated; the engine weighs them equally.
    clip_metrics = {(m, p): {"lip": float(rng.uniform()), "noise": float(rng.uniform())} for m in models for p in prompts}
    default_scores = {key: 0.5 * v["lip"] + 0.5 * v["noise"] for key, v in clip_metrics.items()}
    battles = []
    for _ in range(3000):
        a, b = rng.choice(models, 2, replace=False)
        p = prompts[int(rng.integers(len(prompts)))]
        diff = 6.0 * (clip_metrics[(a, p)]["lip"] - clip_metrics[(b, p)]["lip"])
        winner = "model_a" if rng.random() < 1 / (1 + np.exp(-diff)) else "model_b"
        battles.append(BattleRow(a, b, winner, "sync", "x", p))  # type: ignore[arg-type]
    # human ratings follow the models' mean "lip"
    human = {m: float(np.mean([clip_metrics[(m, p)]["lip"] for p in prompts])) * 1000 for m in models}
    report = weights_fit.fit_report(
        battles=battles, clip_metrics=clip_metrics, metric_weights={"lip": 1.0, "noise": 1.0},
        default_clip_scores=default_scores, human_ratings=human, rng=np.random.default_rng(1),
    )
    assert report is not None
    assert report["fitted_weights"]["lip"] > 0.9 and report["default_weights"] == {"lip": 0.5, "noise": 0.5}
    assert report["folds"] == 5 and report["clip_pairs"] == 15 * 10  # every model pair on every prompt
    assert report["fitted_cross_validated"]["pairwise_agreement"] > report["default"]["pairwise_agreement"] + 0.05
    assert report["fitted_cross_validated"]["spearman"] >= report["default"]["spearman"]


def test_nothing_to_fit_returns_none() -> None:
    one_prompt = [BattleRow("a", "b", "model_a", "overall", "x", "p1")]  # type: ignore[arg-type]
    metrics = {("a", "p1"): {"m": 0.9}, ("b", "p1"): {"m": 0.1}}
    assert weights_fit.fit_report(
        battles=one_prompt, clip_metrics=metrics, metric_weights={"m": 1.0}, default_clip_scores={},
        human_ratings={}, rng=np.random.default_rng(0),
    ) is None


def test_weights_are_non_negative_and_ties_count_half() -> None:
    diff = np.array([[1.0], [1.0], [-1.0]])
    # x wins, a tie, and x (the lower metric) wins: the metric predicts nothing better than chance-ish
    beta = weights_fit.fit_metric_weights(diff, np.array([1.0, 0.5, 1.0]), np.ones(3))
    assert beta[0] >= 0
    inverse = weights_fit.fit_metric_weights(diff, np.array([0.0, 0.0, 1.0]), np.ones(3))
    assert inverse[0] == pytest.approx(0.0)  # a metric people contradict gets weight 0, never negative
