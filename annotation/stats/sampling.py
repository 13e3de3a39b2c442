"""Active sampling of model pairs for human comparison (pure: numpy, scipy and the Bradley-Terry core).

LMArena's rule (Chiang et al. 2024, section 5.2) samples a pair with probability proportional to how
much one more vote shrinks the confidence interval: sqrt(var / n) - sqrt(var / (n + 1)). Here the
intervals are those of the Bradley-Terry rating differences, so a vote on one pair also tightens every
difference connected to it. With the ratings' covariance S (inverse Fisher information), one more
comparison of c = (i, j) adds information w_c d_c d_c^T, w_c = p_ij (1 - p_ij), and by Sherman-Morrison
the variance of every difference k drops to

    V_k' = V_k - w_c (d_k^T S d_c)^2 / (1 + w_c d_c^T S d_c).

What a ranking needs from an interval is that it leaves zero (the order is settled). The score of c is
the expected drop in the ranking's gap-weighted error, sum over k of E[|true delta_k| if the order of k
is wrong] (with the estimate delta_k ~ N(true, sd_k^2) that is sd_k * (phi(z_k) - z_k * Phi(-z_k)),
z_k = |delta_k| / sd_k), before minus expected after the vote, the expectation running over where the
estimate may move (a knowledge-gradient form of the CI-shrink rule). Counting each wrong order as 1
instead (the expected number of discordant pairs) looks natural for Kendall's tau but makes the sampler
pour votes into pairs of nearly equal models: their order flips on every batch, so one more batch always
seems able to settle it, and it never is. Weighting an error by the gap it gets wrong makes such a pair
worth little once its interval is narrow, and the votes go to pairs that more votes can settle (on the
simulated campaigns of `sampling_bench` it needs fewer votes to a stable tau >= 0.9 than the count and
leaves fewer campaigns unsettled; figures in the README).
Because a single vote moves a well-measured estimate by an exponentially small amount, the look-ahead
is a batch of votes (a quarter of an average pair's count so far), not one. Pairs are sampled
proportionally to that score, mixed with a uniform floor so every model keeps being compared, and pairs
with fewer than `min_votes` comparisons (a new model) get the best pair's chance until they catch up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from annotation.stats import bradley_terry as bt

FloatArray = npt.NDArray[np.float64]

DEFAULT_FLOOR = 0.1
DEFAULT_MIN_VOTES = 3
# The look-ahead batch as a share of an average pair's votes: tuned on simulated campaigns (bench_sampling).
LOOKAHEAD_SHARE = 0.25
_NODES, _NODE_WEIGHTS = np.polynomial.hermite_e.hermegauss(12)
_NODE_WEIGHTS = _NODE_WEIGHTS / _NODE_WEIGHTS.sum()


@dataclass(frozen=True)
class PairScore:
    i: int
    j: int
    votes: int
    score: float
    probability: float


def _normal_sf(z: FloatArray) -> FloatArray:
    result: FloatArray = np.asarray(ndtr(-z), dtype=np.float64)
    return result


def _gap_weighted_error(gap: FloatArray, sd: FloatArray) -> FloatArray:
    """E[|true difference| if the estimated order is wrong], estimate `gap` >= 0 with normal error `sd` (the normal loss)."""
    z = gap / sd
    result: FloatArray = sd * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) - gap * _normal_sf(z)
    return result


def pair_scores(counts: bt.PairCounts, *, floor: float = DEFAULT_FLOOR, min_votes: int = DEFAULT_MIN_VOTES) -> list[PairScore]:
    """Every unordered model pair (i < j) with its score (expected drop in gap-weighted order error) and sampling probability."""
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"floor must be between 0 and 1, got {floor}")
    n = counts.n_models
    if n < 2:
        return []
    iu, ju = np.triu_indices(n, k=1)
    n_pairs = iu.shape[0]
    votes = counts.battles[iu, ju]
    if counts.total_battles == 0:  # nothing known yet: every pair is as good as any other
        return [PairScore(i=int(a), j=int(b), votes=0, score=0.0, probability=1.0 / n_pairs) for a, b in zip(iu, ju)]
    fit = bt.fit_bradley_terry(counts)
    covariance = bt.fisher_covariance(counts, fit) / bt.ELO_PER_LOGIT**2  # logit scale
    differences = np.zeros((n_pairs, n))
    differences[np.arange(n_pairs), iu] = 1.0
    differences[np.arange(n_pairs), ju] = -1.0
    shared = differences @ covariance @ differences.T  # shared[k, c] = d_k^T S d_c
    variance = np.clip(np.diag(shared), 1e-12, None)
    delta = fit.strengths[iu] - fit.strengths[ju]
    p = 1.0 / (1.0 + np.exp(-delta))
    # One vote barely moves a well-measured estimate, so its value is exponentially small (and drowns in
    # floating-point noise); look ahead by a batch of a quarter of an average pair's votes (at least 1).
    lookahead = max(1.0, counts.total_battles / n_pairs) * LOOKAHEAD_SHARE
    information = lookahead * np.clip(p * (1.0 - p), 0.01, 0.25)
    # new_variance[k, c]: variance of difference k after one more vote on pair c (Sherman-Morrison).
    new_variance = variance[:, None] - information[None, :] * shared**2 / (1.0 + information * variance)[None, :]
    new_sd = np.sqrt(np.clip(new_variance, 1e-12, None))
    # Before the vote its outcome is unknown: the estimate of difference k will move by N(0, V_k - V_k').
    # Average the gap-weighted error after the vote over that move (Gauss-Hermite quadrature).
    moved_sd = np.sqrt(np.clip(variance[:, None] - new_sd**2, 0.0, None))
    shifted = delta[:, None, None] + moved_sd[:, :, None] * _NODES[None, None, :]
    error_after = (_gap_weighted_error(np.abs(shifted), new_sd[:, :, None]) * _NODE_WEIGHTS[None, None, :]).sum(axis=2)
    error_before = _gap_weighted_error(np.abs(delta), np.sqrt(variance))
    scores = (error_before[:, None] - error_after).sum(axis=0)
    scores = np.clip(scores, 0.0, None)
    total = scores.sum()
    active = scores / total if total > 0 else np.full(n_pairs, 1.0 / n_pairs)
    probability = (1.0 - floor) * active + floor / n_pairs
    behind = votes < min_votes
    if behind.any() and not behind.all():
        # A pair that has barely been compared (a new model) gets at least the best pair's chance.
        probability = np.where(behind, np.maximum(probability, probability.max()), probability)
    probability = probability / probability.sum()
    return [
        PairScore(i=int(iu[k]), j=int(ju[k]), votes=int(votes[k]), score=float(scores[k]), probability=float(probability[k]))
        for k in range(n_pairs)
    ]


def pair_probabilities(
    counts: bt.PairCounts, *, floor: float = DEFAULT_FLOOR, min_votes: int = DEFAULT_MIN_VOTES
) -> dict[tuple[int, int], float]:
    """(i, j) with i < j (indices into counts.models) -> the probability of asking about that pair next."""
    return {(s.i, s.j): s.probability for s in pair_scores(counts, floor=floor, min_votes=min_votes)}


def uniform_probabilities(n_models: int) -> dict[tuple[int, int], float]:
    pairs = [(i, j) for i in range(n_models) for j in range(i + 1, n_models)]
    return {pair: 1.0 / len(pairs) for pair in pairs}


def kendall_tau(x: FloatArray | list[float], y: FloatArray | list[float]) -> float:
    """Kendall's tau-b between two score vectors (the orderings they induce)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    iu, ju = np.triu_indices(a.shape[0], k=1)
    sa = np.sign(a[iu] - a[ju])
    sb = np.sign(b[iu] - b[ju])
    concordant_minus_discordant = float((sa * sb).sum())
    pairs_a = float(np.count_nonzero(sa))
    pairs_b = float(np.count_nonzero(sb))
    if pairs_a == 0 or pairs_b == 0:
        return 0.0
    return concordant_minus_discordant / math.sqrt(pairs_a * pairs_b)
