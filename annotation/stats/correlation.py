"""Agreement between the automatic model ranking and the human (Bradley-Terry) ranking (pure: numpy/scipy).

- `rank_correlation(automatic, human)`: Spearman's rho and Kendall's tau-b (scipy.stats) over the
  models that have both.
- `pair_verdicts(battles)` / `pairwise_agreement(verdicts, clip_scores)`: the human majority of each
  clip pair (one prompt, two models) and the share of decided pairs the automatic per-clip scores
  order the same way; `disagreement(verdict, score_x, score_y)` says how strongly they disagree.
- `separability(lower, upper)`: share of model pairs whose human confidence intervals do not overlap.
- `correlate(...)` -> `CorrelationResult`: all of the above, with bootstrap intervals for rho and tau
  that resample prompts (both sides) and then judgments within the resampled prompts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import stats

from annotation.stats import bradley_terry as bt

FloatArray = npt.NDArray[np.float64]
MIN_MODELS = 3  # below this a rank correlation says nothing


class PromptBattle(bt.BattleLike, Protocol):
    """A battle that knows its prompt (e.g. `annotation.stats.battles.BattleRow`)."""

    @property
    def prompt(self) -> str: ...


@dataclass(frozen=True)
class PairVerdict:
    """The human verdict on one clip pair: `model_x` < `model_y` by name; `x_share` is the weighted share
    of votes for x (ties and both-bad count half)."""

    prompt: str
    model_x: str
    model_y: str
    votes: int
    weight: float
    x_share: float

    @property
    def decided(self) -> bool:
        return not math.isclose(self.x_share, 0.5, abs_tol=1e-12)


@dataclass(frozen=True)
class CorrelationResult:
    """Correlation of one dimension; None where undefined (fewer than 3 models, or no decided pairs)."""

    models: tuple[str, ...]
    spearman: float | None
    spearman_lower: float | None
    spearman_upper: float | None
    kendall: float | None
    kendall_lower: float | None
    kendall_upper: float | None
    pairwise_agreement: float | None
    decided_pairs: int
    separability: float | None
    rounds: int
    confidence: float


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def rank_correlation(automatic: Mapping[str, float | None], human: Mapping[str, float]) -> tuple[float | None, float | None]:
    """(Spearman rho, Kendall tau-b) over models present in both with an automatic score; None below 3 models
    or when either side is constant."""
    models = sorted(m for m in human if automatic.get(m) is not None)
    if len(models) < MIN_MODELS:
        return None, None
    a = np.array([float(automatic[m] or 0.0) for m in models])
    h = np.array([float(human[m]) for m in models])
    if np.ptp(a) == 0 or np.ptp(h) == 0:
        return None, None
    rho = stats.spearmanr(a, h).statistic
    tau = stats.kendalltau(a, h).statistic
    return _finite_or_none(float(rho)), _finite_or_none(float(tau))


def separability(lower: Sequence[float] | FloatArray, upper: Sequence[float] | FloatArray) -> float | None:
    """Share of model pairs whose intervals do not overlap; None with fewer than 2 models."""
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    n = lo.shape[0]
    if n < 2:
        return None
    iu, ju = np.triu_indices(n, k=1)
    apart = (lo[iu] > hi[ju]) | (lo[ju] > hi[iu])
    return float(apart.mean())


def pair_verdicts(battles: Iterable[PromptBattle]) -> list[PairVerdict]:
    """Group battles by (prompt, unordered model pair) into the human majority per clip pair."""
    totals: dict[tuple[str, str, str], list[float]] = {}
    for battle in battles:
        if battle.model_a == battle.model_b:
            continue
        score_a = 1.0 if battle.winner == "model_a" else 0.0 if battle.winner == "model_b" else 0.5
        x, y = sorted((battle.model_a, battle.model_b))
        score_x = score_a if x == battle.model_a else 1.0 - score_a
        entry = totals.setdefault((battle.prompt, x, y), [0.0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += battle.weight
        entry[2] += battle.weight * score_x
    return [
        PairVerdict(prompt=p, model_x=x, model_y=y, votes=int(v[0]), weight=v[1], x_share=v[2] / v[1])
        for (p, x, y), v in sorted(totals.items())
        if v[1] > 0
    ]


def disagreement(verdict: PairVerdict, score_x: float, score_y: float) -> float:
    """How strongly the automatic scores contradict the human majority: the human margin (2 * share - 1,
    in [-1, 1]) times the automatic margin in the opposite direction; 0 when they agree."""
    human_margin = 2.0 * verdict.x_share - 1.0
    return max(0.0, -human_margin * (score_x - score_y))


def pairwise_agreement(
    verdicts: Iterable[PairVerdict], clip_scores: Mapping[tuple[str, str], float | None]
) -> tuple[float | None, int]:
    """(share of decided clip pairs the automatic per-clip scores order like the human majority, decided pairs).

    `clip_scores[(model, prompt)]` is the automatic score of that model's clip (None: not measured;
    such pairs are left out). An automatic tie counts half.
    """
    agreement = 0.0
    decided = 0
    for verdict in verdicts:
        if not verdict.decided:
            continue
        sx = clip_scores.get((verdict.model_x, verdict.prompt))
        sy = clip_scores.get((verdict.model_y, verdict.prompt))
        if sx is None or sy is None:
            continue
        decided += 1
        human_x_better = verdict.x_share > 0.5
        if sx == sy:
            agreement += 0.5
        elif (sx > sy) == human_x_better:
            agreement += 1.0
    return (agreement / decided if decided else None), decided


# --------------------------------------------------------------------------------------------------
# Vectorised rank statistics for the bootstrap (checked against scipy.stats in the tests)


def _rank_rows(values: FloatArray) -> FloatArray:
    """Average ranks along axis 1 (ties share their mean rank), like scipy.stats.rankdata."""
    ranks: FloatArray = np.asarray(stats.rankdata(values, axis=1), dtype=np.float64)
    return ranks


def spearman_rows(a: FloatArray, b: FloatArray) -> FloatArray:
    """Spearman's rho of each row pair (B, n); NaN where a row is constant."""
    ra = _rank_rows(a)
    rb = _rank_rows(b)
    ra = ra - ra.mean(axis=1, keepdims=True)
    rb = rb - rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho: FloatArray = np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)
    return rho


def kendall_rows(a: FloatArray, b: FloatArray) -> FloatArray:
    """Kendall's tau-b of each row pair (B, n); NaN where a row is constant."""
    n = a.shape[1]
    iu, ju = np.triu_indices(n, k=1)
    sa = np.sign(a[:, iu] - a[:, ju])
    sb = np.sign(b[:, iu] - b[:, ju])
    concordance = (sa * sb).sum(axis=1)
    untied_a = (sa != 0).sum(axis=1)
    untied_b = (sb != 0).sum(axis=1)
    denom = np.sqrt(untied_a.astype(np.float64) * untied_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau: FloatArray = np.where(denom > 0, concordance / np.where(denom > 0, denom, 1.0), np.nan)
    return tau


# --------------------------------------------------------------------------------------------------
# The bootstrap


def _bootstrap_rank_statistics(
    battles: Sequence[PromptBattle],
    counts: bt.PairCounts,
    fit: bt.BradleyTerryFit,
    automatic: Mapping[str, float],
    clip_scores: Mapping[tuple[str, str], float | None],
    compared: tuple[str, ...],
    *,
    rounds: int,
    rng: np.random.Generator,
    batch_size: int = 128,
) -> tuple[FloatArray, FloatArray]:
    """Spearman and Kendall of `rounds` resamples: prompts with replacement (for both rankings), then the
    judgments of the resampled prompts with replacement; the human ranking is refitted each round."""
    models = counts.models
    n = len(models)
    index = {m: k for k, m in enumerate(models)}
    prompts = sorted({b.prompt for b in battles} | {p for (_, p) in clip_scores})
    prompt_index = {p: k for k, p in enumerate(prompts)}
    n_prompts = len(prompts)

    # Battle cells: (prompt, winner-or-lower-index, other, kind) with counts and mean weight.
    cells: dict[tuple[int, int, int, int], list[float]] = {}
    for b in battles:
        i, j = index[b.model_a], index[b.model_b]
        if b.winner == "model_a":
            key = (prompt_index[b.prompt], i, j, 0)
        elif b.winner == "model_b":
            key = (prompt_index[b.prompt], j, i, 0)
        else:
            key = (prompt_index[b.prompt], min(i, j), max(i, j), 1)
        entry = cells.setdefault(key, [0.0, 0.0])
        entry[0] += 1.0
        entry[1] += b.weight
    keys = list(cells)
    cell_prompt = np.array([k[0] for k in keys], dtype=np.int64)
    cell_row = np.array([k[1] for k in keys], dtype=np.int64)
    cell_col = np.array([k[2] for k in keys], dtype=np.int64)
    cell_tie = np.array([k[3] for k in keys], dtype=bool)
    cell_count = np.array([cells[k][0] for k in keys], dtype=np.float64)
    cell_mean_weight = np.array([cells[k][1] / cells[k][0] for k in keys], dtype=np.float64)
    # half-win contributions of one battle of each cell to the flattened (n*n) half-win matrix
    contribution = np.zeros((len(keys), n * n))
    rows = np.arange(len(keys))
    contribution[rows[~cell_tie], (cell_row * n + cell_col)[~cell_tie]] = 1.0
    contribution[rows[cell_tie], (cell_row * n + cell_col)[cell_tie]] = 0.5
    contribution[rows[cell_tie], (cell_col * n + cell_row)[cell_tie]] = 0.5
    contribution *= cell_mean_weight[:, None]

    # Automatic per-prompt scores of the compared models (NaN: no score for that prompt).
    per_prompt = np.full((len(compared), n_prompts), np.nan)
    for mi, model in enumerate(compared):
        for p, pk in prompt_index.items():
            value = clip_scores.get((model, p))
            if value is not None:
                per_prompt[mi, pk] = value
    has_score = ~np.isnan(per_prompt)
    filled = np.where(has_score, per_prompt, 0.0)
    full_mean = np.where(
        has_score.sum(axis=1) > 0, filled.sum(axis=1) / np.maximum(has_score.sum(axis=1), 1), 0.0
    )
    base_auto = np.array([automatic[m] for m in compared], dtype=np.float64)
    compared_idx = np.array([index[m] for m in compared], dtype=np.int64)

    rho_all = np.empty(rounds)
    tau_all = np.empty(rounds)
    uniform = np.full(n_prompts, 1.0 / n_prompts)
    for start in range(0, rounds, batch_size):
        size = min(batch_size, rounds - start)
        multiplicity = rng.multinomial(n_prompts, uniform, size=size).astype(np.float64)  # (size, P)
        # Human side: judgments of the resampled prompts, then resampled themselves.
        cell_expect = cell_count[None, :] * multiplicity[:, cell_prompt]  # (size, K)
        totals = cell_expect.sum(axis=1)
        probabilities = cell_expect / np.where(totals > 0, totals, 1.0)[:, None]
        draws = np.zeros_like(cell_expect)
        for r in range(size):
            if totals[r] > 0:
                draws[r] = rng.multinomial(int(round(totals[r])), probabilities[r])
        half_wins = (draws @ contribution).reshape(size, n, n)
        games = half_wins + half_wins.transpose(0, 2, 1)
        strengths = bt.fit_strengths_batch(half_wins, games, np.tile(fit.strengths, (size, 1)), prior=fit.prior)
        human = strengths[:, compared_idx]
        # Automatic side: the model's score moved by how its mean over the resampled prompts differs.
        weighted = multiplicity[:, None, :] * has_score[None, :, :]
        denom = weighted.sum(axis=2)
        resampled_mean = np.where(
            denom > 0, (multiplicity[:, None, :] * filled[None, :, :]).sum(axis=2) / np.where(denom > 0, denom, 1.0),
            full_mean[None, :],
        )
        auto = base_auto[None, :] + (resampled_mean - full_mean[None, :])
        rho_all[start : start + size] = spearman_rows(auto, human)
        tau_all[start : start + size] = kendall_rows(auto, human)
    return rho_all, tau_all


def _interval(samples: FloatArray, confidence: float) -> tuple[float | None, float | None]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None, None
    alpha = 1.0 - confidence
    return float(np.quantile(finite, alpha / 2.0)), float(np.quantile(finite, 1.0 - alpha / 2.0))


def correlate(
    battles: Sequence[PromptBattle],
    automatic: Mapping[str, float | None],
    clip_scores: Mapping[tuple[str, str], float | None],
    *,
    ratings: bt.RatingResult | None = None,
    rounds: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    prior_per_battle: float = bt.DEFAULT_PRIOR_PER_BATTLE,
) -> CorrelationResult:
    """Correlation between the automatic and the human ranking of one dimension.

    `automatic[model]`: the model's automatic score (None: not measured); `clip_scores[(model, prompt)]`:
    its per-clip automatic scores, used for the pairwise agreement and to resample prompts on the
    automatic side. `ratings`: the human rating table (its intervals give the separability); computed
    with a sandwich interval when omitted. Rounds = 0 skips the bootstrap (no intervals).
    """
    generator = rng if rng is not None else np.random.default_rng(0)
    counts = bt.aggregate_battles(battles)
    if ratings is None:
        ratings = bt.rate(counts, ci="sandwich", prior_per_battle=prior_per_battle) if counts.n_models else None
    human = {m: float(r) for m, r in zip(counts.models, ratings.ratings)} if ratings is not None else {}
    # Only models that were actually judged have a human rating.
    judged = {m for m, v in zip(counts.models, counts.battles_per_model) if v > 0}
    human = {m: r for m, r in human.items() if m in judged}
    compared = tuple(sorted(m for m in human if automatic.get(m) is not None))
    spearman, kendall = rank_correlation(automatic, human)
    verdicts = pair_verdicts(battles)
    agreement, decided = pairwise_agreement(verdicts, clip_scores)
    sep = None
    if ratings is not None:
        keep = [k for k, m in enumerate(ratings.models) if m in judged]
        sep = separability(ratings.lower[keep], ratings.upper[keep])
    bounds: tuple[float | None, float | None, float | None, float | None] = (None, None, None, None)
    used_rounds = 0
    if rounds > 0 and spearman is not None:
        fit = bt.fit_bradley_terry(counts, prior_per_battle=prior_per_battle)
        auto_values = {m: float(automatic[m] or 0.0) for m in compared}
        rho_samples, tau_samples = _bootstrap_rank_statistics(
            battles, counts, fit, auto_values, clip_scores, compared, rounds=rounds, rng=generator
        )
        bounds = (*_interval(rho_samples, confidence), *_interval(tau_samples, confidence))
        used_rounds = rounds
    return CorrelationResult(
        models=compared,
        spearman=spearman,
        spearman_lower=bounds[0],
        spearman_upper=bounds[1],
        kendall=kendall,
        kendall_lower=bounds[2],
        kendall_upper=bounds[3],
        pairwise_agreement=agreement,
        decided_pairs=decided,
        separability=sep,
        rounds=used_rounds,
        confidence=confidence,
    )
