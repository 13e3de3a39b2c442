"""Correlation between the automatic and the human ranking: hand-checkable cases and scipy agreement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from annotation.stats import correlation
from annotation.stats.battles import BattleRow


def row(a: str, b: str, winner: str, prompt: str = "p1", weight: float = 1.0) -> BattleRow:
    return BattleRow(model_a=a, model_b=b, winner=winner, dimension="overall", annotator="x", prompt=prompt, weight=weight)  # type: ignore[arg-type]


def test_rank_correlation_by_hand() -> None:
    automatic = {"A": 0.9, "B": 0.8, "C": 0.1, "D": None}
    human = {"A": 1100.0, "B": 1000.0, "C": 1050.0, "D": 900.0}  # D has no automatic score: left out
    rho, tau = correlation.rank_correlation(automatic, human)
    # automatic ranks A1 B2 C3, human A1 C2 B3: d^2 = 0 + 1 + 1 -> rho = 1 - 6*2/(3*8) = 0.5; tau = (2 - 1)/3
    assert rho == pytest.approx(0.5) and tau == pytest.approx(1 / 3)
    assert correlation.rank_correlation({"A": 1.0, "B": 0.5}, {"A": 1.0, "B": 2.0}) == (None, None)  # < 3 models


def test_pairwise_agreement_and_separability_by_hand() -> None:
    battles = [
        row("A", "B", "model_a", "p1"), row("B", "A", "model_b", "p1"), row("A", "B", "tie", "p1"),  # A 2.5 of 3
        row("A", "C", "model_b", "p2"),  # C beats A on p2
        row("B", "C", "tie", "p3"),  # undecided
    ]
    verdicts = correlation.pair_verdicts(battles)
    assert [(v.prompt, v.model_x, v.model_y, v.votes, round(v.x_share, 3)) for v in verdicts] == [
        ("p1", "A", "B", 3, 0.833), ("p2", "A", "C", 1, 0.0), ("p3", "B", "C", 1, 0.5),
    ]
    clip_scores = {("A", "p1"): 0.9, ("B", "p1"): 0.4, ("A", "p2"): 0.9, ("C", "p2"): 0.3, ("B", "p3"): 0.1, ("C", "p3"): 0.2}
    # p1 agrees, p2 disagrees (automatic prefers A), p3 is not decided
    assert correlation.pairwise_agreement(verdicts, clip_scores) == (0.5, 2)
    assert correlation.disagreement(verdicts[1], 0.9, 0.3) == pytest.approx(0.6)
    assert correlation.disagreement(verdicts[0], 0.9, 0.4) == 0.0
    # intervals: [0,1] [2,3] [2.5,4]: pairs (1,2) and (1,3) apart, (2,3) overlap -> 2/3
    assert correlation.separability([0, 2, 2.5], [1, 3, 4]) == pytest.approx(2 / 3)


def test_vectorised_rank_statistics_agree_with_scipy() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(200, 7)).astype(float)  # many ties
    b = rng.normal(size=(200, 7))
    b[:, 3] = b[:, 4]  # a tie on the other side too
    rho = correlation.spearman_rows(a, b)
    tau = correlation.kendall_rows(a, b)
    for k in range(200):
        if np.ptp(a[k]) == 0:
            assert np.isnan(rho[k])
            continue
        assert rho[k] == pytest.approx(stats.spearmanr(a[k], b[k]).statistic)
        assert tau[k] == pytest.approx(stats.kendalltau(a[k], b[k]).statistic)


def test_bootstrap_intervals_bracket_the_estimate_and_shrink_with_data() -> None:
    rng = np.random.default_rng(1)
    models = ["m0", "m1", "m2", "m3", "m4", "m5"]
    strength = {m: 0.5 * k for k, m in enumerate(reversed(models))}
    automatic = {m: 0.2 + 0.1 * strength[m] + 0.03 * rng.normal() for m in models}
    prompts = [f"p{k}" for k in range(8)]
    clip_scores = {(m, p): automatic[m] + 0.05 * rng.normal() for m in models for p in prompts}

    def battles(n: int) -> list[BattleRow]:
        out = []
        for _ in range(n):
            i, j = rng.choice(len(models), 2, replace=False)
            a, b = models[i], models[j]
            p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
            out.append(row(a, b, "model_a" if rng.random() < p else "model_b", prompts[int(rng.integers(8))]))
        return out

    few = correlation.correlate(battles(60), automatic, clip_scores, rounds=300, rng=np.random.default_rng(2))
    many = correlation.correlate(battles(3000), automatic, clip_scores, rounds=300, rng=np.random.default_rng(2))
    for result in (few, many):
        assert result.models == tuple(sorted(models)) and result.rounds == 300
        assert result.spearman_lower <= result.spearman <= result.spearman_upper  # type: ignore[operator]
        assert result.kendall_lower <= result.kendall <= result.kendall_upper  # type: ignore[operator]
    assert (many.spearman_upper - many.spearman_lower) < (few.spearman_upper - few.spearman_lower)  # type: ignore[operator]
    assert many.spearman > 0.8 and many.separability > few.separability  # type: ignore[operator]
