"""Bradley-Terry with ties: hand-checkable answers, and agreement with scipy and with LMArena's arena-rank."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from annotation.stats import bradley_terry as bt

ELO = 400 / math.log(10)


def battles(*rows: tuple[str, str, str, int]) -> bt.PairCounts:
    a, b, w = [], [], []
    for model_a, model_b, winner, times in rows:
        a += [model_a] * times
        b += [model_b] * times
        w += [winner] * times
    return bt.aggregate_arrays(a, b, w)


def test_three_wins_to_one_is_400_log10_3_apart_around_1000() -> None:
    counts = battles(("A", "B", "model_a", 3), ("A", "B", "model_b", 1))
    fit = bt.fit_bradley_terry(counts, prior_per_battle=0)
    assert fit.ratings[0] - fit.ratings[1] == pytest.approx(400 * math.log10(3), abs=1e-6)  # 190.85
    assert fit.ratings.mean() == pytest.approx(1000.0)
    assert fit.ratings[0] == pytest.approx(1000 + 200 * math.log10(3), abs=1e-6)


def test_ties_and_both_bad_count_half_a_win_each_way() -> None:
    # 2 wins + 1 tie + 1 both_bad for A = 3 half-wins of 4: the same ratings as 3 wins to 1.
    counts = battles(("A", "B", "model_a", 2), ("B", "A", "tie", 1), ("A", "B", "both_bad", 1))
    assert counts.half_wins[0, 1] == 3.0 and counts.half_wins[1, 0] == 1.0
    fit = bt.fit_bradley_terry(counts, prior_per_battle=0)
    assert fit.ratings[0] - fit.ratings[1] == pytest.approx(400 * math.log10(3), abs=1e-6)
    # only ties: equal ratings
    even = bt.fit_bradley_terry(battles(("A", "B", "tie", 5), ("A", "B", "both_bad", 2)))
    assert even.ratings == pytest.approx([1000.0, 1000.0])


def test_a_cycle_of_equal_records_gives_equal_ratings() -> None:
    counts = battles(
        ("A", "B", "model_a", 2), ("A", "B", "model_b", 1),
        ("B", "C", "model_a", 2), ("B", "C", "model_b", 1),
        ("C", "A", "model_a", 2), ("C", "A", "model_b", 1),
    )
    assert bt.fit_bradley_terry(counts).ratings == pytest.approx([1000.0] * 3, abs=1e-9)


def test_fisher_and_sandwich_variances_by_hand() -> None:
    # No ties, p = 3/4: information of the difference d is n p (1 - p) = 0.75, var(d) = 4/3, and
    # var(r_A) = var(d) / 4 = 1/3 logit^2; the binary model is exact, so the sandwich agrees.
    counts = battles(("A", "B", "model_a", 3), ("A", "B", "model_b", 1))
    fit = bt.fit_bradley_terry(counts, prior_per_battle=0)
    assert bt.fisher_covariance(counts, fit)[0, 0] == pytest.approx(ELO**2 / 3, rel=1e-6)
    assert bt.sandwich_covariance(counts, fit)[0, 0] == pytest.approx(ELO**2 / 3, rel=1e-6)
    # 2 wins and 2 ties: same fit, but the squared scores sum to 2 (1/4)^2 + 2 (1/4)^2 = 1/4, so the
    # sandwich var(d) = 0.25 / 0.75^2 = 4/9 and var(r_A) = 1/9, a third of the Fisher value.
    tied = battles(("A", "B", "model_a", 2), ("A", "B", "tie", 2))
    fit_tied = bt.fit_bradley_terry(tied, prior_per_battle=0)
    assert bt.fisher_covariance(tied, fit_tied)[0, 0] == pytest.approx(ELO**2 / 3, rel=1e-6)
    assert bt.sandwich_covariance(tied, fit_tied)[0, 0] == pytest.approx(ELO**2 / 9, rel=1e-6)


def test_rank_upper_bound_as_lmarena_defines_it() -> None:
    #        A: [1100, 1200]  B: [1050, 1150]  C: [900, 1000]  D: [950, 1060]
    lower = np.array([1100.0, 1050.0, 900.0, 950.0])
    upper = np.array([1200.0, 1150.0, 1000.0, 1060.0])
    # A: nobody's lower bound exceeds 1200 -> 1; B: none exceeds 1150 -> 1; C: A, B and D (950 < 1000? no) -> A, B -> 3;
    # D: A and B (1100, 1050 > 1060? 1100 yes, 1050 no) -> 2
    assert bt.rank_upper_bound(lower, upper).tolist() == [1, 1, 3, 2]


def test_win_rate_and_battle_matrices() -> None:
    counts = battles(("A", "B", "model_a", 3), ("B", "A", "tie", 2), ("B", "C", "model_b", 1))
    rates = bt.win_rate_matrix(counts)
    assert rates[0, 1] == pytest.approx(4 / 5) and rates[1, 0] == pytest.approx(1 / 5)
    assert rates[1, 2] == 0.0 and rates[2, 1] == 1.0 and math.isnan(rates[0, 2])
    assert counts.battles.tolist() == [[0, 5, 0], [5, 0, 1], [0, 1, 0]]
    assert counts.battles_per_model.tolist() == [5, 6, 1] and counts.total_battles == 6


def test_bad_battles_are_refused_with_the_row() -> None:
    with pytest.raises(bt.BattleDataError, match="winner must be one of") as error:
        bt.aggregate_arrays(["A", "A"], ["B", "B"], ["model_a", "draw"])
    assert error.value.index == 1
    with pytest.raises(bt.BattleDataError, match="two different models") as error:
        bt.aggregate_arrays(["A", "C"], ["B", "C"], ["model_a", "tie"])
    assert error.value.index == 1


def test_a_model_that_won_everything_stays_finite_and_uncertain() -> None:
    counts = battles(("A", "B", "model_a", 4), ("B", "C", "model_a", 3), ("C", "B", "model_a", 1))
    result = bt.rate(counts, ci="sandwich")
    assert np.all(np.isfinite(result.ratings)) and result.converged
    assert result.ratings[0] > result.ratings[1] > result.ratings[2]


def _random_battles(rng: np.random.Generator, models: int, n: int, tie_rate: float = 0.2) -> tuple[np.ndarray, ...]:
    strength = rng.normal(0, 0.8, models)
    a = rng.integers(0, models, n)
    b = (a + rng.integers(1, models, n)) % models
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    winner = np.where(rng.random(n) < tie_rate, "tie", np.where(rng.random(n) < p, "model_a", "model_b"))
    names = np.array([f"model-{k:02d}" for k in range(models)])
    return names[a], names[b], winner


def test_agrees_with_a_scipy_fit_of_the_per_battle_likelihood() -> None:
    rng = np.random.default_rng(3)
    a, b, winner = _random_battles(rng, models=6, n=3000)
    counts = bt.aggregate_arrays(a, b, winner)
    index = {m: k for k, m in enumerate(counts.models)}
    ia = np.array([index[m] for m in a])
    ib = np.array([index[m] for m in b])
    y = np.where(winner == "model_a", 1.0, np.where(winner == "model_b", 0.0, 0.5))

    def negative_loglik(free: np.ndarray) -> float:
        s = np.concatenate([[0.0], free])  # the first strength pinned at 0 (the scale's free shift)
        d = s[ia] - s[ib]
        return float(np.sum(np.logaddexp(0, d) - y * d))

    found = optimize.minimize(negative_loglik, np.zeros(5), method="BFGS", options={"gtol": 1e-8}).x
    strengths = np.concatenate([[0.0], found])
    expected = 1000 + ELO * (strengths - strengths.mean())
    assert bt.fit_bradley_terry(counts, prior_per_battle=0).ratings == pytest.approx(expected, abs=1e-3)


def test_agrees_with_arena_rank_on_random_data() -> None:
    pd = pytest.importorskip("pandas")
    arena_bt = pytest.importorskip("arena_rank.models.bradley_terry")
    from arena_rank.utils.data_utils import PairDataset

    rng = np.random.default_rng(11)
    a, b, winner = _random_battles(rng, models=10, n=20_000)
    dataset = PairDataset.from_pandas(pd.DataFrame({"model_a": a, "model_b": b, "winner": winner}))
    theirs = arena_bt.BradleyTerry(n_competitors=len(dataset.competitors)).compute_ratings_and_cis(
        dataset, ci_method="sandwich"
    )
    counts = bt.aggregate_arrays(a, b, winner, models=list(dataset.competitors))
    ours = bt.rate(counts, ci="sandwich")
    assert ours.ratings == pytest.approx(np.asarray(theirs["ratings"]), abs=0.05)
    assert ours.lower == pytest.approx(np.asarray(theirs["rating_lower"]), abs=0.1)
    assert ours.upper == pytest.approx(np.asarray(theirs["rating_upper"]), abs=0.1)


def test_bootstrap_intervals_cover_the_fit_and_match_the_sandwich_width() -> None:
    rng = np.random.default_rng(5)
    a, b, winner = _random_battles(rng, models=8, n=20_000)
    counts = bt.aggregate_arrays(a, b, winner)
    boot = bt.rate(counts, ci="bootstrap", rounds=400, rng=np.random.default_rng(1))
    sandwich = bt.rate(counts, ci="sandwich")
    assert np.all(boot.lower < boot.ratings) and np.all(boot.ratings < boot.upper)
    width_ratio = (boot.upper - boot.lower) / (sandwich.upper - sandwich.lower)
    assert np.all((width_ratio > 0.75) & (width_ratio < 1.3)), width_ratio


def test_reliability_weights_scale_battles() -> None:
    # Weighting every battle of one annotator 3x is the same as repeating them 3 times.
    repeated = bt.aggregate_arrays(["A"] * 3 + ["B"], ["B"] * 3 + ["A"], ["model_a"] * 3 + ["model_a"])
    weighted = bt.aggregate_arrays(["A", "B"], ["B", "A"], ["model_a", "model_a"], [3.0, 1.0])
    assert bt.fit_bradley_terry(weighted).ratings == pytest.approx(bt.fit_bradley_terry(repeated).ratings)
    with pytest.raises(bt.BattleDataError, match="weight"):
        bt.aggregate_arrays(["A"], ["B"], ["tie"], [0.0])
