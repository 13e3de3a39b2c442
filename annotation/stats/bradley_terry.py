"""Bradley-Terry ratings with ties from aggregated pair counts, on LMArena's Elo-like scale (pure: numpy only).

The public API, in the order a caller uses it:

- `aggregate_battles(battles)` / `aggregate_arrays(model_a, model_b, winner, weight)` -> `PairCounts`:
  one pass over the battles; everything after works on n x n matrices, so its cost does not grow
  with the number of judgments.
- `fit_bradley_terry(counts)` -> `BradleyTerryFit` (logit strengths, Elo ratings, convergence);
  `fit_strengths_batch` fits many problems at once (for bootstraps).
- `fisher_covariance(counts, fit)` / `sandwich_covariance(counts, fit)`: covariance of the Elo ratings.
- `bootstrap_ratings(counts, rounds=..., rng=...)`: Elo ratings of multinomial resamples of the
  aggregated (pair, outcome) counts, fitted in vectorised batches.
- `rate(counts, ci=...)` -> `RatingResult`: ratings, interval bounds, Rank (UB), battles per model.
- `rank_upper_bound(lower, upper)`, `win_rate_matrix(counts)`, `win_probability(rating_a, rating_b)`,
  `comparison_components(counts)` (ratings are comparable only inside one connected group).

Conventions (as LMArena's `arena-rank` and MSAVBench): a tie and "both bad" count half a win each
way; rating = 1000 + 400 * log10-odds strength, the strengths summing to zero (the mean rating is
1000). A tiny Gaussian prior (`prior_per_battle`, scaled by the total battle weight so duplicating all
data changes nothing) keeps ratings finite when a model won or lost every battle or the comparison
graph is disconnected; on real data it moves ratings by far less than a rating point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SCALE = 400.0
BASE = 10.0
ANCHOR = 1000.0
# Elo points per unit of natural-log odds: 400 / ln(10) ~= 173.7.
ELO_PER_LOGIT = SCALE / math.log(BASE)
DEFAULT_PRIOR_PER_BATTLE = 1e-7
WINNER_VALUES: tuple[str, ...] = ("model_a", "model_b", "tie", "both_bad")

CiMethod = Literal["bootstrap", "sandwich", "fisher"]


class BattleLike(Protocol):
    """Anything with LMArena's battle columns (e.g. `annotation.stats.battles.BattleRow`)."""

    @property
    def model_a(self) -> str: ...

    @property
    def model_b(self) -> str: ...

    @property
    def winner(self) -> str: ...

    @property
    def weight(self) -> float: ...


class BattleDataError(ValueError):
    """A battle the model cannot use; `index` is its 0-based position in the input."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class PairCounts:
    """Aggregated outcomes between every pair of models (indices follow `models`).

    `win_count[i, j]`: battles model i won against model j (either side); `tie_count` is symmetric and
    holds ties plus both-bad. The `*_weight` arrays hold the summed battle weights of the same cells
    (equal to the counts when unweighted) and `*_weight_sq` the summed squared weights, which the
    sandwich estimator needs.
    """

    models: tuple[str, ...]
    win_count: IntArray
    tie_count: IntArray
    win_weight: FloatArray
    tie_weight: FloatArray
    win_weight_sq: FloatArray
    tie_weight_sq: FloatArray

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def battles(self) -> IntArray:
        """Symmetric matrix of battle counts between each pair."""
        result: IntArray = self.win_count + self.win_count.T + self.tie_count
        return result

    @property
    def battles_per_model(self) -> IntArray:
        result: IntArray = self.battles.sum(axis=1)
        return result

    @property
    def total_battles(self) -> int:
        return int(self.win_count.sum() + np.triu(self.tie_count).sum())

    @property
    def total_weight(self) -> float:
        return float(self.win_weight.sum() + np.triu(self.tie_weight).sum())

    @property
    def half_wins(self) -> FloatArray:
        """Weighted wins of i over j with ties counted half a win each way."""
        result: FloatArray = self.win_weight + 0.5 * self.tie_weight
        return result

    @property
    def games(self) -> FloatArray:
        """Symmetric weighted number of battles between each pair."""
        result: FloatArray = self.win_weight + self.win_weight.T + self.tie_weight
        return result

    def index_of(self, model: str) -> int:
        return self.models.index(model)


@dataclass(frozen=True)
class BradleyTerryFit:
    """A maximum (penalised) likelihood fit: `strengths` in natural-log odds summing to zero."""

    models: tuple[str, ...]
    strengths: FloatArray
    ratings: FloatArray
    prior: float
    iterations: int
    converged: bool


@dataclass(frozen=True)
class ModelRating:
    """One model's row of a rating table."""

    model: str
    rating: float
    lower: float
    upper: float
    rank_ub: int
    battles: int


@dataclass(frozen=True)
class RatingResult:
    """Ratings with `confidence` intervals by `method`; arrays are indexed like `models`."""

    models: tuple[str, ...]
    ratings: FloatArray
    lower: FloatArray
    upper: FloatArray
    rank_ub: IntArray
    battles: IntArray
    covariance: FloatArray
    method: CiMethod
    confidence: float
    bootstrap_rounds: int
    converged: bool

    def rows(self) -> list[ModelRating]:
        """Table rows, best rating first (ties broken by model name)."""
        order = sorted(range(len(self.models)), key=lambda i: (-float(self.ratings[i]), self.models[i]))
        return [
            ModelRating(
                model=self.models[i],
                rating=float(self.ratings[i]),
                lower=float(self.lower[i]),
                upper=float(self.upper[i]),
                rank_ub=int(self.rank_ub[i]),
                battles=int(self.battles[i]),
            )
            for i in order
        ]


# --------------------------------------------------------------------------------------------------
# Aggregation


def aggregate_arrays(
    model_a: Sequence[str] | npt.NDArray[np.str_] | npt.NDArray[np.object_],
    model_b: Sequence[str] | npt.NDArray[np.str_] | npt.NDArray[np.object_],
    winner: Sequence[str] | npt.NDArray[np.str_] | npt.NDArray[np.object_],
    weight: Sequence[float] | FloatArray | None = None,
    *,
    models: Sequence[str] | None = None,
) -> PairCounts:
    """Aggregate column arrays of battles (LMArena's `model_a`, `model_b`, `winner`) into `PairCounts`.

    `models` fixes the model order (and may include models without battles); by default the sorted
    set of models seen. Raises `BattleDataError` (with the 0-based row `index`) for an unknown winner,
    a model playing itself, a model outside `models`, or a weight that is not finite and positive.
    """
    a = np.asarray(model_a, dtype=object)
    b = np.asarray(model_b, dtype=object)
    w_raw = np.asarray(winner, dtype=object)
    n_battles = a.shape[0]
    if b.shape[0] != n_battles or w_raw.shape[0] != n_battles:
        raise BattleDataError(
            f"model_a, model_b and winner must have the same length (got {a.shape[0]}, {b.shape[0]}, {w_raw.shape[0]})"
        )
    if weight is None:
        weights = np.ones(n_battles, dtype=np.float64)
        weighted = False
    else:
        weights = np.asarray(weight, dtype=np.float64)
        if weights.shape[0] != n_battles:
            raise BattleDataError(f"weight has {weights.shape[0]} entries for {n_battles} battles")
        bad_weight = np.flatnonzero(~(np.isfinite(weights) & (weights > 0)))
        if bad_weight.size:
            i = int(bad_weight[0])
            raise BattleDataError(f"weight must be a finite number > 0, got {weights[i]!r}", index=i)
        weighted = True

    # winner -> code 0 (model_a won), 1 (model_b won), 2 (tie or both_bad)
    winner_codes = {"model_a": 0, "model_b": 1, "tie": 2, "both_bad": 2}
    uniq_winner, winner_inverse = np.unique(w_raw.astype(str), return_inverse=True)
    code_of_unique = np.empty(uniq_winner.shape[0], dtype=np.int64)
    for k, value in enumerate(uniq_winner.tolist()):
        if value not in winner_codes:
            i = int(np.flatnonzero(winner_inverse == k)[0])
            raise BattleDataError(
                f"winner must be one of {', '.join(WINNER_VALUES)}, got {value!r}", index=i
            )
        code_of_unique[k] = winner_codes[value]
    codes = code_of_unique[winner_inverse]

    both = np.concatenate([a.astype(str), b.astype(str)])
    seen, inverse = np.unique(both, return_inverse=True)
    if models is None:
        model_list = tuple(str(m) for m in seen.tolist())
        idx = inverse.astype(np.int64)
    else:
        model_list = tuple(models)
        if len(set(model_list)) != len(model_list):
            raise BattleDataError("models must not repeat a name")
        position = {m: k for k, m in enumerate(model_list)}
        seen_pos = np.empty(seen.shape[0], dtype=np.int64)
        for k, name in enumerate(seen.tolist()):
            if name not in position:
                i = int(np.flatnonzero(inverse == k)[0]) % max(n_battles, 1)
                raise BattleDataError(f"model {name!r} is not among the models being rated", index=i)
            seen_pos[k] = position[name]
        idx = seen_pos[inverse]
    ia = idx[:n_battles]
    ib = idx[n_battles:]
    self_play = np.flatnonzero(ia == ib)
    if self_play.size:
        i = int(self_play[0])
        raise BattleDataError(f"a battle needs two different models, got {str(a[i])!r} twice", index=i)

    n = len(model_list)
    # winner index / loser index for decided battles; ties stored on both (i, j) and (j, i)
    decided = codes < 2
    win_idx = np.where(codes == 0, ia, ib)[decided]
    lose_idx = np.where(codes == 0, ib, ia)[decided]
    tie_a = ia[~decided]
    tie_b = ib[~decided]

    def cells(rows: IntArray, cols: IntArray, values: FloatArray) -> FloatArray:
        flat = np.bincount(rows * n + cols, weights=values, minlength=n * n)
        return flat.reshape(n, n).astype(np.float64)

    ones_decided = np.ones(win_idx.shape[0], dtype=np.float64)
    ones_tied = np.ones(tie_a.shape[0], dtype=np.float64)
    win_count = cells(win_idx, lose_idx, ones_decided)
    tie_half = cells(tie_a, tie_b, ones_tied)
    tie_count = tie_half + tie_half.T
    if weighted:
        wd = weights[decided]
        wt = weights[~decided]
        win_weight = cells(win_idx, lose_idx, wd)
        win_weight_sq = cells(win_idx, lose_idx, wd * wd)
        tie_w_half = cells(tie_a, tie_b, wt)
        tie_wsq_half = cells(tie_a, tie_b, wt * wt)
        tie_weight = tie_w_half + tie_w_half.T
        tie_weight_sq = tie_wsq_half + tie_wsq_half.T
    else:
        win_weight = win_count.copy()
        win_weight_sq = win_count.copy()
        tie_weight = tie_count.copy()
        tie_weight_sq = tie_count.copy()
    return PairCounts(
        models=model_list,
        win_count=np.rint(win_count).astype(np.int64),
        tie_count=np.rint(tie_count).astype(np.int64),
        win_weight=win_weight,
        tie_weight=tie_weight,
        win_weight_sq=win_weight_sq,
        tie_weight_sq=tie_weight_sq,
    )


def aggregate_battles(battles: Iterable[BattleLike], *, models: Sequence[str] | None = None) -> PairCounts:
    """Aggregate battle objects (attributes `model_a`, `model_b`, `winner`, `weight`) into `PairCounts`."""
    rows = list(battles)
    weights = [float(r.weight) for r in rows]
    unweighted = all(w == 1.0 for w in weights)
    return aggregate_arrays(
        [r.model_a for r in rows],
        [r.model_b for r in rows],
        [r.winner for r in rows],
        None if unweighted else weights,
        models=models,
    )


# --------------------------------------------------------------------------------------------------
# Fitting


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


def _log_sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = -np.logaddexp(0.0, -x)
    return result


def _objective(strengths: FloatArray, half_wins: FloatArray, prior: float) -> FloatArray:
    """Penalised log-likelihood per batch row; strengths (B, n), half_wins (B, n, n)."""
    diff = strengths[:, :, None] - strengths[:, None, :]
    loglik = np.einsum("bij,bij->b", half_wins, _log_sigmoid(diff))
    result: FloatArray = loglik - 0.5 * prior * np.einsum("bi,bi->b", strengths, strengths)
    return result


def _fit_batch(
    half_wins: FloatArray,
    games: FloatArray,
    start: FloatArray,
    prior: float,
    *,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, int, bool]:
    """Damped Newton on a batch of independent problems: half_wins, games (B, n, n); start (B, n).

    The penalised log-likelihood is strictly concave, so Newton with step halving converges; from a
    nearby start (a bootstrap round started at the point estimate) it takes 3-5 steps.
    """
    r = start.copy()
    batch, n = r.shape
    eye = np.eye(n)
    shift_pin = np.full((n, n), 1.0 / n)
    row_half_wins = half_wins.sum(axis=2)
    current = _objective(r, half_wins, prior)
    active = np.ones(batch, dtype=bool)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        ra = r[active]
        ga = games[active]
        diff = ra[:, :, None] - ra[:, None, :]
        p = _sigmoid(diff)
        grad = row_half_wins[active] - np.einsum("bij,bij->bi", ga, p) - prior * ra
        curvature = ga * p * (1.0 - p)
        hess = -curvature
        diag = curvature.sum(axis=2) + prior
        # + J/n pins the common shift (the gradient sums to zero, so steps keep the strengths' sum),
        # which keeps the system solvable even without a prior.
        hess = hess + diag[:, :, None] * eye[None, :, :] + shift_pin[None, :, :]
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        # step halving where the objective would not improve (only near-separated data needs it)
        scale = np.ones(ra.shape[0])
        candidate = ra + step
        new_val = _objective(candidate, half_wins[active], prior)
        old_val = current[active]
        for _ in range(40):
            worse = new_val < old_val - 1e-12 * np.abs(old_val)
            if not worse.any():
                break
            scale[worse] *= 0.5
            candidate[worse] = ra[worse] + scale[worse, None] * step[worse]
            new_val[worse] = _objective(candidate[worse], half_wins[active][worse], prior)
        r[active] = candidate
        current[active] = new_val
        moved = np.abs(scale[:, None] * step).max(axis=1)
        still = moved > tol
        idx = np.flatnonzero(active)
        active[idx[~still]] = False
        if not active.any():
            return r, iterations, True
    return r, iterations, False


def fit_strengths_batch(
    half_wins: FloatArray,
    games: FloatArray,
    start: FloatArray,
    *,
    prior: float,
    tol: float = 1e-8,
    max_iter: int = 100,
) -> FloatArray:
    """Fit many independent problems at once: half_wins, games (B, n, n), start (B, n) -> strengths (B, n).

    `prior` is the absolute precision of the Gaussian prior (e.g. a `BradleyTerryFit.prior`). The
    strengths are centred to sum to zero. Used by the bootstraps here and in `correlation`.
    """
    strengths, _, _ = _fit_batch(half_wins, games, start, prior, tol=tol, max_iter=max_iter)
    result: FloatArray = strengths - strengths.mean(axis=1, keepdims=True)
    return result


def fit_bradley_terry(
    counts: PairCounts,
    *,
    prior_per_battle: float = DEFAULT_PRIOR_PER_BATTLE,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> BradleyTerryFit:
    """Maximum (penalised) likelihood Bradley-Terry strengths for `counts`.

    `prior_per_battle` * total battle weight is the precision of a zero-mean Gaussian prior on the
    log-odds strengths; 0 gives the plain MLE (which diverges for a model that won or lost every
    battle). A model without battles gets strength 0 (rating 1000).
    """
    if counts.n_models == 0:
        empty = np.zeros(0, dtype=np.float64)
        return BradleyTerryFit(models=(), strengths=empty, ratings=empty, prior=0.0, iterations=0, converged=True)
    prior = _prior(counts, prior_per_battle)
    start = np.zeros((1, counts.n_models))
    strengths, iterations, converged = _fit_batch(
        counts.half_wins[None], counts.games[None], start, prior, tol=tol, max_iter=max_iter
    )
    s = _center(strengths[0])
    return BradleyTerryFit(
        models=counts.models,
        strengths=s,
        ratings=ANCHOR + ELO_PER_LOGIT * s,
        prior=prior,
        iterations=iterations,
        converged=converged,
    )


def _prior(counts: PairCounts, prior_per_battle: float) -> float:
    if prior_per_battle < 0:
        raise ValueError("prior_per_battle must be >= 0")
    # A model with no battles at all has a flat likelihood: give it a floor so the system stays solvable.
    floor = 1e-9 if prior_per_battle == 0 and (counts.games.sum(axis=1) == 0).any() else 0.0
    return max(prior_per_battle * counts.total_weight, floor)


def _center(strengths: FloatArray) -> FloatArray:
    # The penalised optimum already sums to zero; this removes floating-point drift.
    result: FloatArray = strengths - strengths.mean()
    return result


# --------------------------------------------------------------------------------------------------
# Uncertainty


def _hessian(counts: PairCounts, strengths: FloatArray, prior: float) -> FloatArray:
    """Negative Hessian of the penalised log-likelihood (the observed Fisher information)."""
    diff = strengths[:, None] - strengths[None, :]
    p = _sigmoid(diff)
    curvature = counts.games * p * (1.0 - p)
    hess: FloatArray = -curvature + np.diag(curvature.sum(axis=1) + prior)
    return hess


def _information_inverse(counts: PairCounts, fit: BradleyTerryFit) -> FloatArray:
    hess = _hessian(counts, fit.strengths, fit.prior)
    n = counts.n_models
    if fit.prior > 0:
        inverse: FloatArray = np.asarray(np.linalg.inv(hess), dtype=np.float64)
        return inverse
    # Without a prior the information is singular along the common shift (all ones):
    # (H + J/n)^-1 - J/n is its pseudo-inverse when the comparison graph is connected.
    j = np.full((n, n), 1.0 / n)
    pseudo: FloatArray = np.asarray(np.linalg.inv(hess + j), dtype=np.float64) - j
    return pseudo


def _centering(n: int) -> FloatArray:
    # Ratings are reported with strengths summing to zero: covariances are those of P r, P = I - J/n.
    result: FloatArray = np.eye(n) - np.full((n, n), 1.0 / n)
    return result


def fisher_covariance(counts: PairCounts, fit: BradleyTerryFit) -> FloatArray:
    """Model-based covariance of the Elo ratings: the inverse observed information, scaled to Elo."""
    centering = _centering(counts.n_models)
    result: FloatArray = ELO_PER_LOGIT**2 * (centering @ _information_inverse(counts, fit) @ centering)
    return result


def sandwich_covariance(counts: PairCounts, fit: BradleyTerryFit) -> FloatArray:
    """Robust (sandwich) covariance of the Elo ratings: H^-1 M H^-1 with M the summed outer products
    of per-battle score contributions, computed per (pair, outcome) cell as arena-rank does."""
    s = fit.strengths
    p = _sigmoid(s[:, None] - s[None, :])
    # For the battles of cell (i beat j) the score of i is (1 - p_ij); of a tie (0.5 - p_ij).
    # meat_cells[i, j] sums the squared scores of every battle between i and j exactly once; it is
    # symmetric because (1 - p_ij)^2 == p_ji^2 and (0.5 - p_ij)^2 == (0.5 - p_ji)^2.
    meat_cells = counts.win_weight_sq * (1.0 - p) ** 2 + counts.win_weight_sq.T * p**2
    meat_cells = meat_cells + counts.tie_weight_sq * (0.5 - p) ** 2
    meat = -meat_cells + np.diag(meat_cells.sum(axis=1))
    bread = _centering(counts.n_models) @ _information_inverse(counts, fit)
    result: FloatArray = ELO_PER_LOGIT**2 * (bread @ meat @ bread.T)
    return result


def bootstrap_ratings(
    counts: PairCounts,
    *,
    rounds: int,
    rng: np.random.Generator,
    prior_per_battle: float = DEFAULT_PRIOR_PER_BATTLE,
    fit: BradleyTerryFit | None = None,
    batch_size: int = 64,
    tol: float = 1e-8,
) -> FloatArray:
    """Elo ratings of `rounds` bootstrap resamples, shape (rounds, n_models).

    Each round draws the total number of battles from a multinomial over the aggregated
    (unordered pair, outcome) cells with the observed frequencies - the same distribution as
    resampling battles with replacement - and refits; weighted cells keep their mean battle weight.
    Rounds are fitted in vectorised batches of `batch_size`, each started from the point estimate.
    """
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    n = counts.n_models
    if n == 0:
        return np.zeros((rounds, 0), dtype=np.float64)
    point = fit if fit is not None else fit_bradley_terry(counts, prior_per_battle=prior_per_battle)
    iu, ju = np.triu_indices(n, k=1)
    # Cells: (i beat j), (j beat i), (tie between i and j) for every unordered pair i < j.
    cell_counts = np.concatenate([counts.win_count[iu, ju], counts.win_count[ju, iu], counts.tie_count[iu, ju]])
    cell_weights = np.concatenate([counts.win_weight[iu, ju], counts.win_weight[ju, iu], counts.tie_weight[iu, ju]])
    keep = cell_counts > 0
    total = int(cell_counts.sum())
    if total == 0:
        return np.tile(point.ratings, (rounds, 1))
    mean_weight = np.where(keep, cell_weights / np.maximum(cell_counts, 1), 0.0)[keep]
    probabilities = cell_counts[keep] / total
    m = iu.shape[0]
    cell_i = np.concatenate([iu, ju, iu])[keep]
    cell_j = np.concatenate([ju, iu, ju])[keep]
    cell_kind = np.concatenate([np.zeros(m), np.zeros(m), np.ones(m)])[keep]  # 1 = tie
    decided = cell_kind == 0
    # Prior precision depends only on the total weight, which resampling keeps up to weight mix.
    prior = point.prior
    out = np.empty((rounds, n), dtype=np.float64)
    for start in range(0, rounds, batch_size):
        size = min(batch_size, rounds - start)
        draws = rng.multinomial(total, probabilities, size=size).astype(np.float64) * mean_weight[None, :]
        half_wins = np.zeros((size, n * n))
        # decided cell (i beat j): a full win for i over j; tie cell: half a win each way
        flat_win = cell_i[decided] * n + cell_j[decided]
        flat_tie_ij = cell_i[~decided] * n + cell_j[~decided]
        flat_tie_ji = cell_j[~decided] * n + cell_i[~decided]
        half_wins[:, flat_win] += draws[:, decided]
        half_wins[:, flat_tie_ij] += 0.5 * draws[:, ~decided]
        half_wins[:, flat_tie_ji] += 0.5 * draws[:, ~decided]
        hw = half_wins.reshape(size, n, n)
        games = hw + hw.transpose(0, 2, 1)
        start_strengths = np.tile(point.strengths, (size, 1))
        strengths, _, _ = _fit_batch(hw, games, start_strengths, prior, tol=tol, max_iter=100)
        strengths = strengths - strengths.mean(axis=1, keepdims=True)
        out[start : start + size] = ANCHOR + ELO_PER_LOGIT * strengths
    return out


def comparison_components(counts: PairCounts) -> list[tuple[str, ...]]:
    """Groups of models linked by battles. Ratings are comparable only within one group: across groups
    only the prior relates them (and their intervals are then not meaningful)."""
    n = counts.n_models
    parent = list(range(n))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    rows, cols = np.nonzero(np.triu(counts.battles, k=1))
    for i, j in zip(rows.tolist(), cols.tolist()):
        parent[root(i)] = root(j)
    groups: dict[int, list[str]] = {}
    for k in range(n):
        groups.setdefault(root(k), []).append(counts.models[k])
    return sorted((tuple(g) for g in groups.values()), key=lambda g: (-len(g), g))


def rank_upper_bound(lower: FloatArray, upper: FloatArray) -> IntArray:
    """LMArena's Rank (UB): 1 + the number of models whose lower bound exceeds this model's upper bound."""
    lower_arr = np.asarray(lower, dtype=np.float64)
    upper_arr = np.asarray(upper, dtype=np.float64)
    result: IntArray = 1 + (lower_arr[None, :] > upper_arr[:, None]).sum(axis=1).astype(np.int64)
    return result


def rate(
    counts: PairCounts,
    *,
    ci: CiMethod = "bootstrap",
    rounds: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    prior_per_battle: float = DEFAULT_PRIOR_PER_BATTLE,
) -> RatingResult:
    """Ratings with intervals: bootstrap percentiles, or normal intervals from the sandwich or Fisher covariance.

    `covariance` is the bootstrap sample covariance for `ci="bootstrap"`, else the chosen estimator's.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    fit = fit_bradley_terry(counts, prior_per_battle=prior_per_battle)
    alpha = 1.0 - confidence
    n = counts.n_models
    if ci == "bootstrap":
        generator = rng if rng is not None else np.random.default_rng(0)
        samples = bootstrap_ratings(counts, rounds=rounds, rng=generator, prior_per_battle=prior_per_battle, fit=fit)
        lower = np.quantile(samples, alpha / 2.0, axis=0)
        upper = np.quantile(samples, 1.0 - alpha / 2.0, axis=0)
        covariance = np.cov(samples, rowvar=False).reshape(n, n) if rounds > 1 else np.zeros((n, n))
        used_rounds = rounds
    elif ci in ("sandwich", "fisher"):
        covariance = sandwich_covariance(counts, fit) if ci == "sandwich" else fisher_covariance(counts, fit)
        z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
        sd = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        lower = fit.ratings - z * sd
        upper = fit.ratings + z * sd
        used_rounds = 0
    else:
        raise ValueError(f"unknown ci method {ci!r}: use bootstrap, sandwich or fisher")
    return RatingResult(
        models=counts.models,
        ratings=fit.ratings,
        lower=np.asarray(lower, dtype=np.float64),
        upper=np.asarray(upper, dtype=np.float64),
        rank_ub=rank_upper_bound(lower, upper),
        battles=counts.battles_per_model,
        covariance=np.asarray(covariance, dtype=np.float64),
        method=ci,
        confidence=confidence,
        bootstrap_rounds=used_rounds,
        converged=fit.converged,
    )


def win_rate_matrix(counts: PairCounts) -> FloatArray:
    """win_rate[i, j]: share of i's battles against j that i won (ties half); NaN where they never met."""
    games = counts.games
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_matrix: FloatArray = np.where(games > 0, counts.half_wins / np.where(games > 0, games, 1.0), np.nan)
    return rate_matrix


def win_probability(rating_a: float | FloatArray, rating_b: float | FloatArray) -> float | FloatArray:
    """Modelled probability that A beats B (ties as half) for Elo-scale ratings: 1 / (1 + 10^((b - a) / 400))."""
    diff = (np.asarray(rating_a, dtype=np.float64) - np.asarray(rating_b, dtype=np.float64)) / ELO_PER_LOGIT
    p = _sigmoid(np.asarray(diff, dtype=np.float64))
    if p.ndim == 0:
        return float(p)
    return p
