"""Quality control of human judgments (pure: no Django): gold accuracy verdicts, inter-annotator
agreement (Krippendorff's alpha via the `krippendorff` package, Fleiss' and Cohen's kappa, agreement
with the majority) and LMArena's anomalous-user test.

Ratings are (item, rater, value) triples: an item is one pair on one dimension, the value one of
`CATEGORIES` expressed against the pair's fixed sides ("x" better, "y" better, both good, both bad),
never against the screen sides, which are randomised per task.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import krippendorff
import numpy as np
from scipy.stats import chi2

CATEGORIES: tuple[str, ...] = ("x", "y", "both_good", "both_bad")
GoldAction = Literal["ok", "warn", "suspend"]
VoteOutcome = Literal["a", "b", "tie"]


@dataclass(frozen=True)
class Rating:
    item: str
    rater: str
    value: str


@dataclass(frozen=True)
class GoldVerdict:
    action: GoldAction
    accuracy: float | None
    reason: str


def gold_verdict(*, correct: int, total: int, min_answers: int, warn_below: float, suspend_below: float) -> GoldVerdict:
    """Warn, then suspend, an annotator whose gold accuracy falls under the thresholds (after `min_answers`)."""
    if total <= 0:
        return GoldVerdict(action="ok", accuracy=None, reason="no gold answers yet")
    accuracy = correct / total
    if total < min_answers:
        return GoldVerdict(action="ok", accuracy=accuracy, reason=f"only {total} of {min_answers} gold answers so far")
    summary = f"gold accuracy {accuracy:.0%} ({correct} of {total})"
    if accuracy < suspend_below:
        return GoldVerdict(action="suspend", accuracy=accuracy, reason=f"{summary} is under {suspend_below:.0%}")
    if accuracy < warn_below:
        return GoldVerdict(action="warn", accuracy=accuracy, reason=f"{summary} is under {warn_below:.0%}")
    return GoldVerdict(action="ok", accuracy=accuracy, reason=summary)


# --- Agreement ------------------------------------------------------------------------------------


def _by_item(ratings: Iterable[Rating]) -> dict[str, dict[str, str]]:
    items: dict[str, dict[str, str]] = defaultdict(dict)
    for rating in ratings:
        items[rating.item][rating.rater] = rating.value
    return items


def krippendorff_alpha(ratings: Sequence[Rating], categories: Sequence[str] = CATEGORIES) -> float | None:
    """Nominal Krippendorff's alpha over every item rated at least twice; None when it is undefined."""
    items = {item: raters for item, raters in _by_item(ratings).items() if len(raters) >= 2}
    if not items:
        return None
    raters = sorted({rater for by_rater in items.values() for rater in by_rater})
    code = {value: float(index) for index, value in enumerate(categories)}
    data = np.full((len(raters), len(items)), np.nan)
    row = {rater: index for index, rater in enumerate(raters)}
    for column, by_rater in enumerate(items.values()):
        for rater, value in by_rater.items():
            data[row[rater], column] = code[value]
    if len(set(data[~np.isnan(data)].tolist())) < 2:
        return None  # one value everywhere: agreement is perfect but alpha is 0/0
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def fleiss_kappa(ratings: Sequence[Rating], categories: Sequence[str] = CATEGORIES) -> float | None:
    """Fleiss' kappa, generalised to a varying number of raters per item (items with >= 2 ratings)."""
    items = [by_rater for by_rater in _by_item(ratings).values() if len(by_rater) >= 2]
    if not items:
        return None
    counts = np.array([[sum(1 for v in by_rater.values() if v == c) for c in categories] for by_rater in items], dtype=float)
    per_item = counts.sum(axis=1)
    agreement = ((counts**2).sum(axis=1) - per_item) / (per_item * (per_item - 1))
    observed = float(agreement.mean())
    shares = counts.sum(axis=0) / per_item.sum()
    expected = float((shares**2).sum())
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters over the same items (in the same order)."""
    if len(first) != len(second) or not first:
        return None
    n = len(first)
    observed = sum(1 for a, b in zip(first, second) if a == b) / n
    left, right = Counter(first), Counter(second)
    expected = sum(left[c] * right[c] for c in set(left) | set(right)) / (n * n)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1.0 - expected)


def cohen_kappa_mean(ratings: Sequence[Rating], *, min_common: int = 5) -> float | None:
    """Mean pairwise Cohen's kappa over rater pairs sharing at least `min_common` items."""
    by_rater: dict[str, dict[str, str]] = defaultdict(dict)
    for rating in ratings:
        by_rater[rating.rater][rating.item] = rating.value
    kappas = []
    for left, right in combinations(sorted(by_rater), 2):
        common = sorted(by_rater[left].keys() & by_rater[right].keys())
        if len(common) < min_common:
            continue
        kappa = cohen_kappa([by_rater[left][i] for i in common], [by_rater[right][i] for i in common])
        if kappa is not None:
            kappas.append(kappa)
    return float(np.mean(kappas)) if kappas else None


def majority_agreement(ratings: Sequence[Rating]) -> dict[str, tuple[int, int]]:
    """rater -> (agreed, compared): how often the rater matched the strict majority of the *other* raters."""
    result: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for by_rater in _by_item(ratings).values():
        if len(by_rater) < 3:
            continue
        for rater, value in by_rater.items():
            others = Counter(v for r, v in by_rater.items() if r != rater).most_common()
            if len(others) > 1 and others[0][1] == others[1][1]:
                continue  # no majority among the others
            result[rater][1] += 1
            result[rater][0] += int(value == others[0][0])
    return {rater: (agreed, compared) for rater, (agreed, compared) in result.items()}


# --- Anomalous users (LMArena, Chiang et al. 2024, section 5.3) ----------------------------------------


@dataclass(frozen=True)
class AnomalyResult:
    flagged: bool
    p_value: float | None  # the smallest combined p-value over the checkpoints reached
    checkpoint: int | None  # the vote count where it was reached
    threshold: float


def vote_p_value(*, p_a_wins: float, tie_rate: float, observed: VoteOutcome) -> float:
    """P(an outcome at least as improbable as the observed one) under the current ranking.

    The ranking gives A's win probability p; ties (both good / both bad) happen at the campaign's
    overall tie rate t: P(A) = (1 - t) p, P(B) = (1 - t)(1 - p), P(tie) = t.
    """
    t = min(max(tie_rate, 0.0), 1.0)
    p = min(max(p_a_wins, 0.0), 1.0)
    probability = {"a": (1.0 - t) * p, "b": (1.0 - t) * (1.0 - p), "tie": t}
    seen = probability[observed]
    return min(1.0, sum(value for value in probability.values() if value <= seen + 1e-12))


def anomaly_checkpoints(rng: random.Random, *, max_votes: int, count: int = 8, first: tuple[int, int] = (8, 25)) -> list[int]:
    """Vote counts at which the test runs, drawn at random per user (kept secret) so it cannot be timed."""
    checkpoints: list[int] = []
    current = rng.randint(*first)
    while current <= max_votes and len(checkpoints) < count:
        checkpoints.append(current)
        current += rng.randint(max(1, current // 2), max(2, (3 * current) // 2))
    return checkpoints


def anomaly_test(p_values: Sequence[float], checkpoints: Sequence[int], *, alpha: float = 0.01) -> AnomalyResult:
    """Fisher's combination of the user's per-vote p-values at each checkpoint reached; flagged when any
    combined p-value falls under alpha / len(checkpoints) (Bonferroni over the checkpoints)."""
    threshold = alpha / max(len(checkpoints), 1)
    best: tuple[float, int] | None = None
    for checkpoint in sorted(checkpoints):
        if checkpoint > len(p_values) or checkpoint <= 0:
            continue
        head = np.clip(np.asarray(p_values[:checkpoint], dtype=float), 1e-300, 1.0)
        statistic = float(-2.0 * np.log(head).sum())
        combined = float(chi2.sf(statistic, 2 * checkpoint))
        if best is None or combined < best[0]:
            best = (combined, checkpoint)
    if best is None:
        return AnomalyResult(flagged=False, p_value=None, checkpoint=None, threshold=threshold)
    return AnomalyResult(flagged=best[0] < threshold, p_value=best[0], checkpoint=best[1], threshold=threshold)
