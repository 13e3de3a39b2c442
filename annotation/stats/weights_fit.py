"""Metric weights fitted to human judgments: a Bradley-Terry model over metric differences (pure: numpy/scipy).

P(clip a beats clip b) = sigmoid(beta . (x_a - x_b)), x the clips' metric values in [0, 1], beta >= 0
(a metric can only help), ties half a win, a small L2 penalty. The fitted weights beta / sum(beta)
are reported next to the default weights with cross-validated figures (folds by prompt: a prompt's
clips are scored with weights fitted without that prompt's judgments). They never replace the
default weights; they tell benchmark authors which metrics people actually follow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize

from annotation.stats import correlation

FloatArray = npt.NDArray[np.float64]
DEFAULT_FOLDS = 5
L2_PENALTY = 1e-2


@dataclass(frozen=True)
class PairRows:
    """Clip pairs as a design matrix: diff[k] = x_x - x_y (0 where either clip lacks the metric)."""

    prompts: tuple[str, ...]
    diff: FloatArray
    share_x: FloatArray
    weight: FloatArray


def _pair_rows(
    verdicts: Sequence[correlation.PairVerdict],
    clip_metrics: Mapping[tuple[str, str], Mapping[str, float]],
    metrics: Sequence[str],
) -> PairRows:
    prompts: list[str] = []
    diffs: list[list[float]] = []
    shares: list[float] = []
    weights: list[float] = []
    for verdict in verdicts:
        mx = clip_metrics.get((verdict.model_x, verdict.prompt))
        my = clip_metrics.get((verdict.model_y, verdict.prompt))
        if mx is None or my is None:
            continue
        row = [
            float(mx[m]) - float(my[m]) if m in mx and m in my else 0.0
            for m in metrics
        ]
        prompts.append(verdict.prompt)
        diffs.append(row)
        shares.append(verdict.x_share)
        weights.append(verdict.weight)
    return PairRows(
        prompts=tuple(prompts),
        diff=np.array(diffs, dtype=np.float64).reshape(len(diffs), len(metrics)),
        share_x=np.array(shares, dtype=np.float64),
        weight=np.array(weights, dtype=np.float64),
    )


def fit_metric_weights(diff: FloatArray, share_x: FloatArray, weight: FloatArray, *, l2: float = L2_PENALTY) -> FloatArray:
    """Non-negative beta maximising the weighted Bradley-Terry likelihood of the pair outcomes (ties half)."""
    n_metrics = diff.shape[1]
    if diff.shape[0] == 0 or n_metrics == 0:
        return np.zeros(n_metrics)
    total = float(weight.sum())

    def objective(beta: FloatArray) -> tuple[float, FloatArray]:
        z = diff @ beta
        # -[y log s(z) + (1 - y) log s(-z)] = softplus(z) - y z
        loss = float(np.sum(weight * (np.logaddexp(0.0, z) - share_x * z))) / total + 0.5 * l2 * float(beta @ beta)
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        grad = diff.T @ (weight * (p - share_x)) / total + l2 * beta
        return loss, np.asarray(grad, dtype=np.float64)

    result = optimize.minimize(
        objective, np.zeros(n_metrics), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * n_metrics
    )
    beta: FloatArray = np.asarray(result.x, dtype=np.float64)
    return beta


def normalised(beta: FloatArray) -> FloatArray:
    total = float(beta.sum())
    result: FloatArray = beta / total if total > 0 else np.full(beta.shape[0], 1.0 / max(beta.shape[0], 1))
    return result


def weighted_clip_score(values: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """Weighted mean of the measured metrics (weights renormalised over them, as the engine does)."""
    num = 0.0
    den = 0.0
    for name, w in weights.items():
        if name in values and w > 0:
            num += w * float(values[name])
            den += w
    return num / den if den > 0 else None


def _model_means(clip_scores: Mapping[tuple[str, str], float | None]) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for (model, _prompt), value in clip_scores.items():
        if value is not None:
            sums.setdefault(model, []).append(value)
    return {m: float(np.mean(v)) for m, v in sums.items()}


def fit_report(
    *,
    battles: Sequence[correlation.PromptBattle],
    clip_metrics: Mapping[tuple[str, str], Mapping[str, float]],
    metric_weights: Mapping[str, float],
    default_clip_scores: Mapping[tuple[str, str], float | None],
    human_ratings: Mapping[str, float],
    rng: np.random.Generator,
    folds: int = DEFAULT_FOLDS,
) -> dict[str, Any] | None:
    """Fitted weights of the dimension's metrics with cross-validated agreement next to the defaults.

    `metric_weights`: the default weights of the metrics considered; `default_clip_scores[(model, prompt)]`:
    the engine's score of each clip. Returns None when fewer than 2 prompts or no decided clip pair
    have metric values (nothing to cross-validate). JSON-ready.
    """
    metrics = sorted(m for m, w in metric_weights.items() if w > 0)
    verdicts = correlation.pair_verdicts(battles)
    rows = _pair_rows(verdicts, clip_metrics, metrics)
    # Metrics never differing between judged clips carry no information: leave them out of the fit.
    informative = [k for k in range(len(metrics)) if rows.diff.shape[0] and np.any(rows.diff[:, k] != 0)]
    prompts = sorted(set(rows.prompts))
    if len(prompts) < 2 or not informative:
        return None
    used = [metrics[k] for k in informative]
    diff = rows.diff[:, informative]
    beta_all = fit_metric_weights(diff, rows.share_x, rows.weight)
    fitted_all = normalised(beta_all)

    # Folds by prompt; each held-out prompt's clips are scored with weights fitted on the other folds.
    k = min(folds, len(prompts))
    order = rng.permutation(len(prompts))
    fold_of = {prompts[int(i)]: f % k for f, i in enumerate(order)}
    row_fold = np.array([fold_of[p] for p in rows.prompts])
    cv_clip_scores: dict[tuple[str, str], float | None] = {}
    for f in range(k):
        train = row_fold != f
        beta = fit_metric_weights(diff[train], rows.share_x[train], rows.weight[train])
        weights = dict(zip(used, normalised(beta).tolist()))
        for (model, prompt), values in clip_metrics.items():
            if fold_of.get(prompt) == f:
                cv_clip_scores[(model, prompt)] = weighted_clip_score(values, weights)
    default_agreement, decided = correlation.pairwise_agreement(verdicts, default_clip_scores)
    fitted_agreement, _ = correlation.pairwise_agreement(verdicts, cv_clip_scores)
    default_rho, _ = correlation.rank_correlation(_model_means(default_clip_scores), human_ratings)
    fitted_rho, _ = correlation.rank_correlation(_model_means(cv_clip_scores), human_ratings)
    default_total = sum(metric_weights[m] for m in used)

    def clean(value: float | None) -> float | None:
        return None if value is None or not math.isfinite(value) else round(value, 4)

    return {
        "metrics": used,
        "fitted_weights": {m: round(float(w), 4) for m, w in zip(used, fitted_all)},
        "default_weights": {m: round(metric_weights[m] / default_total, 4) for m in used},
        "folds": k,
        "clip_pairs": int(diff.shape[0]),
        "decided_pairs": decided,
        "default": {"pairwise_agreement": clean(default_agreement), "spearman": clean(default_rho)},
        "fitted_cross_validated": {"pairwise_agreement": clean(fitted_agreement), "spearman": clean(fitted_rho)},
    }
