"""Simulated annotators against the active sampler and uniform sampling (pure; `manage.py bench_sampling` prints it).

Each simulated campaign draws hidden true strengths for the models, a pool of annotators with their
own noise (a share of votes given at random) and tie habits (both good / both bad, likelier when two
clips are close), then asks for votes in batches: before each batch the sampler sees only the votes so
far (as the platform's cached weights do). The Bradley-Terry ranking of the votes is compared with the
truth by Kendall's tau every `check_every` votes; "votes needed" is the first checkpoint from which tau
stays >= the target until the budget ends (so a lucky early crossing does not count).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from annotation.stats import bradley_terry as bt
from annotation.stats import sampling

FloatArray = npt.NDArray[np.float64]
Sampler = Callable[[bt.PairCounts], dict[tuple[int, int], float]]


@dataclass(frozen=True)
class SimulationConfig:
    models: int = 12
    strength_sd: float = 0.8  # logit spread of the hidden strengths
    annotators: int = 30
    max_noise: float = 0.25  # an annotator answers at random this often at most
    tie_rate: float = 0.3  # chance of "both good/bad" for two equal clips; fades as they differ
    # Votes per simulated campaign. A campaign that never settles within it counts as the budget, which biases
    # the mean towards no difference (uniform sampling hits it far more often): at 6,000 uniform sampling left
    # 41 of 300 campaigns unsettled, so the budget is twice that.
    budget: int = 12000
    batch: int = 10
    check_every: int = 25
    target_tau: float = 0.9


@dataclass
class SimulationRun:
    sampler: str
    seed: int
    votes_needed: int | None
    final_tau: float
    taus: list[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarkSummary:
    runs: list[SimulationRun]
    median_active: float
    median_uniform: float
    mean_active: float
    mean_uniform: float
    active_lost: int  # campaigns where the active sampler needed more votes than uniform sampling
    ties: int  # campaigns where both needed the same number (e.g. neither settled within the budget)
    # 90 % bootstrap interval of `saving_mean` (campaigns resampled): one set of 100 campaigns against another
    # moves the mean saving by 5-10 points, so the point figure alone says little.
    saving_mean_interval: tuple[float, float] = (float("nan"), float("nan"))

    @property
    def saving(self) -> float:
        """Share of votes the active sampler saves against uniform sampling (medians)."""
        return 1.0 - self.median_active / self.median_uniform

    @property
    def saving_mean(self) -> float:
        """Share of votes the active sampler saves against uniform sampling (means)."""
        return 1.0 - self.mean_active / self.mean_uniform


class _Tally:
    """Pair counts kept incrementally, handed to the Bradley-Terry core as `PairCounts`."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.wins = np.zeros((n, n), dtype=np.int64)
        self.ties = np.zeros((n, n), dtype=np.int64)

    def add(self, winner: int, loser: int, tie: bool) -> None:
        if tie:
            self.ties[winner, loser] += 1
            self.ties[loser, winner] += 1
        else:
            self.wins[winner, loser] += 1

    def counts(self) -> bt.PairCounts:
        wins = self.wins.astype(np.float64)
        ties = self.ties.astype(np.float64)
        return bt.PairCounts(
            models=tuple(str(k) for k in range(self.n)),
            win_count=self.wins.copy(),
            tie_count=self.ties.copy(),
            win_weight=wins,
            tie_weight=ties,
            win_weight_sq=wins.copy(),
            tie_weight_sq=ties.copy(),
        )


def active_sampler(counts: bt.PairCounts) -> dict[tuple[int, int], float]:
    return sampling.pair_probabilities(counts)


def uniform_sampler(counts: bt.PairCounts) -> dict[tuple[int, int], float]:
    return sampling.uniform_probabilities(counts.n_models)


def simulate(*, sampler_name: str, sampler: Sampler, seed: int, config: SimulationConfig) -> SimulationRun:
    """One simulated campaign; the truth, annotators and vote noise depend only on `seed`, not on the sampler."""
    truth_rng = np.random.default_rng(seed)
    strengths = truth_rng.normal(0.0, config.strength_sd, config.models)
    noise = truth_rng.uniform(0.0, config.max_noise, config.annotators)
    vote_rng = np.random.default_rng(seed + 1_000_003)
    pick_rng = np.random.default_rng(seed + 2_000_029)
    tally = _Tally(config.models)
    taus: list[tuple[int, float]] = []
    cast = 0
    while cast < config.budget:
        probabilities = sampler(tally.counts())
        pairs = list(probabilities)
        weights = np.array([probabilities[pair] for pair in pairs], dtype=np.float64)
        chosen = pick_rng.choice(len(pairs), size=config.batch, p=weights / weights.sum())
        for index in chosen:
            i, j = pairs[int(index)]
            annotator = int(vote_rng.integers(config.annotators))
            if vote_rng.random() < noise[annotator]:
                outcome = int(vote_rng.integers(3))  # 0: i better, 1: j better, 2: both good/bad
            else:
                gap = strengths[i] - strengths[j]
                if vote_rng.random() < config.tie_rate * float(np.exp(-abs(gap) / 0.5)):
                    outcome = 2
                else:
                    outcome = 0 if vote_rng.random() < 1.0 / (1.0 + np.exp(-gap)) else 1
            if outcome == 2:
                tally.add(i, j, tie=True)
            elif outcome == 0:
                tally.add(i, j, tie=False)
            else:
                tally.add(j, i, tie=False)
            cast += 1
            if cast % config.check_every == 0:
                fit = bt.fit_bradley_terry(tally.counts())
                taus.append((cast, sampling.kendall_tau(fit.strengths, strengths)))
    needed: int | None = None
    for votes, tau in reversed(taus):
        if tau < config.target_tau:
            break
        needed = votes
    return SimulationRun(
        sampler=sampler_name, seed=seed, votes_needed=needed, final_tau=taus[-1][1] if taus else 0.0, taus=taus
    )


def benchmark(*, seeds: list[int], config: SimulationConfig) -> BenchmarkSummary:
    """Both samplers on the same simulated campaigns; a run that never settles counts as the budget."""
    runs = []
    for seed in seeds:
        runs.append(simulate(sampler_name="active", sampler=active_sampler, seed=seed, config=config))
        runs.append(simulate(sampler_name="uniform", sampler=uniform_sampler, seed=seed, config=config))

    def needed(name: str) -> dict[int, int]:
        return {
            run.seed: run.votes_needed if run.votes_needed is not None else config.budget
            for run in runs
            if run.sampler == name
        }

    active, uniform = needed("active"), needed("uniform")
    return BenchmarkSummary(
        saving_mean_interval=mean_saving_interval([active[seed] for seed in seeds], [uniform[seed] for seed in seeds]),
        runs=runs,
        median_active=statistics.median(active.values()),
        median_uniform=statistics.median(uniform.values()),
        mean_active=statistics.mean(active.values()),
        mean_uniform=statistics.mean(uniform.values()),
        active_lost=sum(1 for seed in seeds if active[seed] > uniform[seed]),
        ties=sum(1 for seed in seeds if active[seed] == uniform[seed]),
    )


def mean_saving_interval(
    active: list[int], uniform: list[int], *, level: float = 0.9, draws: int = 4000, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap interval of 1 - mean(active) / mean(uniform), resampling campaigns (paired: the same seeds)."""
    a = np.asarray(active, dtype=np.float64)
    u = np.asarray(uniform, dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan")
    picks = np.random.default_rng(seed).integers(0, a.size, (draws, a.size))
    savings = 1.0 - a[picks].mean(axis=1) / u[picks].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(savings, [tail, 100.0 - tail])
    return float(low), float(high)
