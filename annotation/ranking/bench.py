"""The ranking benchmark: our aggregated-count Bradley-Terry against LMArena's arena-rank on the same battles.

Both sides get the same synthetic battles (true strengths ~ N(0, 1) logits, a share of ties). Each
side's per-bootstrap-round cost is measured as that side's work for one resample and refit, in one
process: ours in vectorised batches, arena-rank's with its own `fit_single_bootstrap_sample` (the
function its multiprocessing pool runs; the pool itself forks a multithreaded JAX process, which
deadlocks on this machine, so its rounds run one after another).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotation.stats import bradley_terry as bt


@dataclass
class BenchResult:
    battles: int
    models: int
    rounds: int
    peer_rounds: int
    ours: dict[str, float] = field(default_factory=dict)
    peer: dict[str, float] = field(default_factory=dict)
    peer_error: str = ""
    max_rating_diff: float | None = None
    max_sandwich_bound_diff: float | None = None
    peer_version: str = ""

    @property
    def per_round_speedup(self) -> float | None:
        if "per_round_s" not in self.peer or not self.ours.get("per_round_s"):
            return None
        return self.peer["per_round_s"] / self.ours["per_round_s"]


def synthetic_battles(*, battles: int, models: int, tie_share: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0.0, 1.0, models)
    a = rng.integers(0, models, battles)
    b = (a + rng.integers(1, models, battles)) % models
    p_a = 1.0 / (1.0 + np.exp(-(strength[a] - strength[b])))
    winner = np.where(
        rng.random(battles) < tie_share,
        np.where(rng.random(battles) < 0.5, "tie", "both_bad"),
        np.where(rng.random(battles) < p_a, "model_a", "model_b"),
    )
    names = np.array([f"model-{k:03d}" for k in range(models)])
    return names[a], names[b], winner


def run(
    *, battles: int, models: int, rounds: int, peer_rounds: int, tie_share: float = 0.2, seed: int = 0,
    log: Any = print,
) -> BenchResult:
    result = BenchResult(battles=battles, models=models, rounds=rounds, peer_rounds=peer_rounds)
    model_a, model_b, winner = synthetic_battles(battles=battles, models=models, tie_share=tie_share, seed=seed)

    started = time.perf_counter()
    counts = bt.aggregate_arrays(model_a, model_b, winner)
    result.ours["aggregate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    fit = bt.fit_bradley_terry(counts)
    result.ours["fit_s"] = time.perf_counter() - started
    sandwich = bt.rate(counts, ci="sandwich")
    bt.bootstrap_ratings(counts, rounds=8, rng=np.random.default_rng(seed), fit=fit)  # warm-up (BLAS threads)
    started = time.perf_counter()
    samples = bt.bootstrap_ratings(counts, rounds=rounds, rng=np.random.default_rng(seed + 1), fit=fit)
    result.ours["bootstrap_s"] = time.perf_counter() - started
    result.ours["per_round_s"] = result.ours["bootstrap_s"] / rounds
    result.ours["ci_width_median"] = float(np.median(np.quantile(samples, 0.975, axis=0) - np.quantile(samples, 0.025, axis=0)))
    log(f"ours: aggregated, fitted and bootstrapped {rounds} rounds")

    # jax logs at INFO that it found no TPU; that is noise in a benchmark report
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
    try:
        import jax
        import pandas as pd
        from arena_rank.models.bradley_terry import BradleyTerry, fit_single_bootstrap_sample
        from arena_rank.utils.data_utils import PairDataset
    except ImportError as error:
        result.peer_error = f"arena-rank is not installed ({error}); install it with: pip install arena-rank"
        return result
    from importlib.metadata import version

    result.peer_version = version("arena-rank")
    frame = pd.DataFrame({"model_a": model_a, "model_b": model_b, "winner": winner})
    started = time.perf_counter()
    dataset = PairDataset.from_pandas(frame)
    result.peer["aggregate_s"] = time.perf_counter() - started
    model = BradleyTerry(n_competitors=len(dataset.competitors))
    started = time.perf_counter()
    model.fit(dataset)
    jax.block_until_ready(model.params["ratings"])
    result.peer["fit_s"] = time.perf_counter() - started  # includes JAX compilation
    theirs = model.compute_ratings_and_cis(dataset, ci_method="sandwich")
    index = [counts.index_of(name) for name in dataset.competitors]
    result.max_rating_diff = float(np.max(np.abs(np.asarray(theirs["ratings"]) - sandwich.ratings[index])))
    result.max_sandwich_bound_diff = float(
        max(
            np.max(np.abs(np.asarray(theirs["rating_lower"]) - sandwich.lower[index])),
            np.max(np.abs(np.asarray(theirs["rating_upper"]) - sandwich.upper[index])),
        )
    )
    key = jax.random.PRNGKey(seed)
    total = float(np.sum(np.asarray(dataset.counts)))
    boot_counts = jax.random.multinomial(
        key, n=int(total), p=dataset.counts / total, shape=(peer_rounds + 1, dataset.counts.shape[0]), dtype=model.dtype
    )
    jax.block_until_ready(fit_single_bootstrap_sample(boot_counts[0], model, dataset)["ratings"])  # warm-up
    log(f"arena-rank: fitted; timing {peer_rounds} bootstrap rounds")
    started = time.perf_counter()
    for k in range(1, peer_rounds + 1):
        jax.block_until_ready(fit_single_bootstrap_sample(boot_counts[k], model, dataset)["ratings"])
    result.peer["bootstrap_s"] = time.perf_counter() - started
    result.peer["per_round_s"] = result.peer["bootstrap_s"] / peer_rounds
    return result


def report(result: BenchResult) -> list[str]:
    def seconds(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value * 1000:.2f} ms" if value < 1 else f"{value:.2f} s"

    lines = [
        f"bench_ranking: {result.battles:,} battles, {result.models} models, "
        f"{result.rounds:,} bootstrap rounds (arena-rank: {result.peer_rounds} rounds, one after another)",
        f"{'':28}{'msav (numpy, aggregated)':>26}{'arena-rank ' + result.peer_version:>22}",
    ]
    rows = [
        ("aggregate battles", "aggregate_s"),
        ("point fit", "fit_s"),
        ("bootstrap (all rounds)", "bootstrap_s"),
        ("per bootstrap round", "per_round_s"),
    ]
    for label, key in rows:
        lines.append(f"{label:28}{seconds(result.ours.get(key)):>26}{seconds(result.peer.get(key)):>22}")
    if result.peer_error:
        lines.append(result.peer_error)
        return lines
    speedup = result.per_round_speedup
    lines += [
        f"max |rating difference|: {result.max_rating_diff:.4f} points (target <= 0.5): "
        f"{'PASS' if (result.max_rating_diff or 0) <= 0.5 else 'FAIL'}",
        f"max |95% sandwich bound difference|: {result.max_sandwich_bound_diff:.4f} points",
        f"per-round speed-up: {speedup:.1f}x (target >= 20x): {'PASS' if speedup and speedup >= 20 else 'FAIL'}",
        f"our bootstrap: median 95% interval width {result.ours['ci_width_median']:.2f} points",
    ]
    return lines
