"""The pure statistics of annotation: active sampling, agreement, gold verdicts, the anomaly test."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotation.stats import bradley_terry as bt
from annotation.stats import quality, sampling, sampling_bench
from annotation.stats.battles import BattleRow
from annotation.stats.quality import Rating


def counts_from(strengths: list[float], votes_per_pair: int, seed: int = 0) -> bt.PairCounts:
    rng = np.random.default_rng(seed)
    model_a, model_b, winner = [], [], []
    for i in range(len(strengths)):
        for j in range(i + 1, len(strengths)):
            for _ in range(votes_per_pair):
                p = 1 / (1 + np.exp(-(strengths[i] - strengths[j])))
                model_a.append(str(i))
                model_b.append(str(j))
                winner.append("model_a" if rng.random() < p else "model_b")
    return bt.aggregate_arrays(model_a, model_b, winner, models=[str(k) for k in range(len(strengths))])


def test_sampler_probabilities_are_a_distribution_with_a_floor() -> None:
    counts = counts_from([0.0, 0.05, 1.5, 3.0], votes_per_pair=30)
    scores = sampling.pair_scores(counts, floor=0.1)
    assert len(scores) == 6
    assert sum(s.probability for s in scores) == pytest.approx(1.0)
    assert min(s.probability for s in scores) >= 0.1 / 6 - 1e-12  # every pair keeps being compared


def test_sampler_prefers_pairs_whose_order_is_in_doubt() -> None:
    # 0 and 1 are nearly tied; 3 is far above everyone: their comparisons settle nothing.
    counts = counts_from([0.0, 0.25, 1.5, 4.0], votes_per_pair=40)
    probabilities = sampling.pair_probabilities(counts, floor=0.0)
    assert max(probabilities, key=probabilities.__getitem__) == (0, 1)
    assert probabilities[(2, 3)] < probabilities[(0, 1)] / 5 and probabilities[(0, 3)] < probabilities[(0, 1)] / 5


def exact_counts(strengths: list[float], votes: dict[tuple[int, int], int], default_votes: int = 20) -> bt.PairCounts:
    """Pair counts whose win shares are the Bradley-Terry probabilities of `strengths` (rounded), no sampling noise."""
    n = len(strengths)
    wins = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(i + 1, n):
            total = votes.get((i, j), default_votes)
            wins[i, j] = round(total / (1 + np.exp(-(strengths[i] - strengths[j]))))
            wins[j, i] = total - wins[i, j]
    ties = np.zeros((n, n), dtype=np.int64)
    return bt.PairCounts(
        models=tuple(str(k) for k in range(n)),
        win_count=wins,
        tie_count=ties,
        win_weight=wins.astype(np.float64),
        tie_weight=ties.astype(np.float64),
        win_weight_sq=wins.astype(np.float64),
        tie_weight_sq=ties.astype(np.float64),
    )


def test_a_near_tie_stops_soaking_up_votes_once_its_interval_is_narrow() -> None:
    # 0 and 1 are all but equal; 2 and 3 differ by 0.4, which 20 votes do not settle.
    strengths = [0.0, 0.02, 1.5, 1.9]
    fresh = sampling.pair_probabilities(exact_counts(strengths, {(0, 1): 20}), floor=0.0)
    assert fresh[(0, 1)] > fresh[(2, 3)]  # while its interval is wide the near tie is the pair most in doubt
    worn = sampling.pair_probabilities(exact_counts(strengths, {(0, 1): 400}), floor=0.0)
    # 400 votes later its order is still a coin flip, but getting it wrong costs little: the votes go where
    # they can settle an order (counting every wrong order as 1 gave (0, 1) 0.61 here and (2, 3) 0.38).
    assert worn[(2, 3)] > 1.5 * worn[(0, 1)]


def test_a_new_model_catches_up() -> None:
    counts = counts_from([0.0, 0.5, 1.0], votes_per_pair=50)
    newcomer = bt.PairCounts(
        models=(*counts.models, "3"),
        win_count=np.pad(counts.win_count, ((0, 1), (0, 1))),
        tie_count=np.pad(counts.tie_count, ((0, 1), (0, 1))),
        win_weight=np.pad(counts.win_weight, ((0, 1), (0, 1))),
        tie_weight=np.pad(counts.tie_weight, ((0, 1), (0, 1))),
        win_weight_sq=np.pad(counts.win_weight_sq, ((0, 1), (0, 1))),
        tie_weight_sq=np.pad(counts.tie_weight_sq, ((0, 1), (0, 1))),
    )
    probabilities = sampling.pair_probabilities(newcomer)
    with_newcomer = sum(p for (i, j), p in probabilities.items() if 3 in (i, j))
    assert with_newcomer > 0.5  # 3 of the 6 pairs, but most of the chance until it has votes


def test_a_pair_below_min_votes_gets_the_best_chance() -> None:
    # (0, 3) has a single vote, every other pair 40: it is asked about as often as the most wanted pair.
    probabilities = sampling.pair_probabilities(exact_counts([0.0, 0.5, 1.0, 1.5], {(0, 3): 1}, default_votes=40))
    assert probabilities[(0, 3)] == pytest.approx(max(probabilities.values()))
    assert min(probabilities.values()) > 0.0


def test_votes_concentrate_on_the_uncertain_adjacent_pairs() -> None:
    # 0, 1 and 2 are a close cluster; 3, 4 and 5 stand far apart, so with 20 votes a pair only the two
    # adjacent orders inside the cluster remain in doubt.
    probabilities = sampling.pair_probabilities(exact_counts([0.0, 0.25, 0.5, 2.0, 3.5, 5.0], {}))
    top_two = sorted(probabilities, key=probabilities.__getitem__, reverse=True)[:2]
    assert set(top_two) == {(0, 1), (1, 2)}
    assert probabilities[(0, 1)] + probabilities[(1, 2)] > 0.8
    # ... while every other pair keeps the floor's share.
    assert min(probabilities.values()) >= sampling.DEFAULT_FLOOR / 15 - 1e-12


def test_sampler_with_no_votes_is_uniform() -> None:
    counts = bt.aggregate_arrays([], [], [], models=["a", "b", "c"])
    assert list(sampling.pair_probabilities(counts).values()) == pytest.approx([1 / 3] * 3)


def test_sampling_bench_compares_both_samplers_on_the_same_campaigns() -> None:
    config = sampling_bench.SimulationConfig(models=5, budget=600, check_every=50)
    summary = sampling_bench.benchmark(seeds=[0, 1, 2], config=config)
    assert sorted((run.seed, run.sampler) for run in summary.runs) == [
        (seed, name) for seed in (0, 1, 2) for name in ("active", "uniform")
    ]
    needed = {(run.seed, run.sampler): run.votes_needed or config.budget for run in summary.runs}
    active = [needed[(seed, "active")] for seed in (0, 1, 2)]
    uniform = [needed[(seed, "uniform")] for seed in (0, 1, 2)]
    assert summary.saving_mean == pytest.approx(1 - np.mean(active) / np.mean(uniform))
    low, high = summary.saving_mean_interval
    assert low <= summary.saving_mean <= high
    # Each campaign's truth and voters depend on the seed only: the same run twice gives the same votes.
    again = sampling_bench.simulate(sampler_name="uniform", sampler=sampling_bench.uniform_sampler, seed=1, config=config)
    assert again.votes_needed == next(r.votes_needed for r in summary.runs if r.seed == 1 and r.sampler == "uniform")


def test_mean_saving_interval_resamples_campaigns() -> None:
    assert sampling_bench.mean_saving_interval([50, 50], [100, 100]) == pytest.approx((0.5, 0.5))
    low, high = sampling_bench.mean_saving_interval([10, 90, 40, 60], [100, 100, 20, 180])
    assert low < 1 - 200 / 400 < high


def test_kendall_tau() -> None:
    assert sampling.kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert sampling.kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert sampling.kendall_tau([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(4 / 6)


def test_battle_row_scores_ties_as_half() -> None:
    row = BattleRow(model_a="x", model_b="y", winner="both_bad", dimension="overall", annotator="ann-1", prompt="p")
    assert row.score_a() == 0.5 and row.weight == 1.0 and not row.is_simulated


def test_gold_verdicts() -> None:
    assert quality.gold_verdict(correct=1, total=2, min_answers=5, warn_below=0.8, suspend_below=0.6).action == "ok"
    warn = quality.gold_verdict(correct=7, total=10, min_answers=5, warn_below=0.8, suspend_below=0.6)
    assert warn.action == "warn" and "70%" in warn.reason
    assert quality.gold_verdict(correct=5, total=10, min_answers=5, warn_below=0.8, suspend_below=0.6).action == "suspend"


def test_agreement_measures_against_hand_worked_values() -> None:
    # Krippendorff's (1980) nominal example as the krippendorff package documents it would need its
    # matrix; here a small case checked by hand: two raters, four items, agreeing on three.
    ratings = [Rating(str(i), r, v) for i, (r1, r2) in enumerate([("x", "x"), ("y", "y"), ("x", "y"), ("both_bad", "both_bad")])
               for r, v in (("r1", r1), ("r2", r2))]
    # Cohen: po = 3/4; marginals r1 {x:2, y:1, bb:1}, r2 {x:1, y:2, bb:1}: pe = (2+2+1)/16 = 5/16.
    assert quality.cohen_kappa_mean(ratings, min_common=4) == pytest.approx((0.75 - 5 / 16) / (1 - 5 / 16))
    # Fleiss over 8 ratings: P_bar = 3/4; shares x 3/8, y 3/8, bb 2/8: Pe = (9+9+4)/64.
    assert quality.fleiss_kappa(ratings) == pytest.approx((0.75 - 22 / 64) / (1 - 22 / 64))
    # Krippendorff nominal: Do = 2/8 disagreeing pairable values (1 pair of 4 items, 2 of 8 ordered pairs),
    # De from the pooled values: 1 - sum n_c(n_c - 1) / (n(n - 1)) = 1 - (6 + 6 + 2) / 56.
    alpha = quality.krippendorff_alpha(ratings)
    assert alpha == pytest.approx(1 - (2 / 8) / (1 - 14 / 56))
    assert quality.krippendorff_alpha([Rating("1", "a", "x"), Rating("1", "b", "x")]) is None  # one value: undefined


def test_majority_agreement_leaves_the_rater_out() -> None:
    ratings = [Rating("1", "a", "x"), Rating("1", "b", "x"), Rating("1", "c", "y"),
               Rating("2", "a", "y"), Rating("2", "b", "y"), Rating("2", "c", "y")]
    agreement = quality.majority_agreement(ratings)
    # item 1: a vs {x, y} has no majority (skipped), b likewise, c vs {x, x} disagrees; item 2: all agree.
    assert agreement == {"a": (1, 1), "b": (1, 1), "c": (1, 2)}


def test_vote_p_values() -> None:
    assert quality.vote_p_value(p_a_wins=0.9, tie_rate=0.0, observed="a") == pytest.approx(1.0)
    assert quality.vote_p_value(p_a_wins=0.9, tie_rate=0.0, observed="b") == pytest.approx(0.1)
    assert quality.vote_p_value(p_a_wins=0.9, tie_rate=0.2, observed="b") == pytest.approx(0.08)


def test_anomaly_test_flags_a_contrarian_and_not_an_honest_annotator() -> None:
    rng = random.Random(7)
    checkpoints = quality.anomaly_checkpoints(rng, max_votes=400)
    assert checkpoints == sorted(set(checkpoints)) and 8 <= checkpoints[0] <= 25
    honest, contrarian = [], []
    vote_rng = np.random.default_rng(1)
    for _ in range(300):
        p = float(vote_rng.uniform(0.6, 0.95))
        a_wins = vote_rng.random() < p
        honest.append(quality.vote_p_value(p_a_wins=p, tie_rate=0.1, observed="a" if a_wins else "b"))
        contrarian.append(quality.vote_p_value(p_a_wins=p, tie_rate=0.1, observed="b"))
    assert not quality.anomaly_test(honest, checkpoints).flagged
    flagged = quality.anomaly_test(contrarian, checkpoints)
    assert flagged.flagged and flagged.p_value is not None and flagged.p_value < flagged.threshold
    assert quality.anomaly_test(contrarian[:3], checkpoints).p_value is None  # no checkpoint reached yet
