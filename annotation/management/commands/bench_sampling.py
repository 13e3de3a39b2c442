"""python manage.py bench_sampling: simulated annotators, active sampler vs uniform sampling, votes to Kendall tau >= 0.9."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from annotation.stats.sampling_bench import SimulationConfig, benchmark


class Command(BaseCommand):
    help = (
        "Play simulated annotators (hidden true strengths, noise, ties) against the active sampler and uniform "
        "sampling; print the votes each needs until the Bradley-Terry ranking keeps Kendall tau >= 0.9 with the truth."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seeds", type=int, default=100, help="simulated campaigns (default 100: sets of 100 differ "
                            "by 5-10 points in the mean saving)")
        parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1 (fresh "
                            "seeds check that the sampler was not tuned to the default ones)")
        parser.add_argument("--models", type=int, default=12)
        parser.add_argument("--budget", type=int, default=SimulationConfig.budget, help="votes per simulated campaign")
        parser.add_argument("--target-tau", type=float, default=0.9)

    def handle(
        self, *args: object, seeds: int, first_seed: int, models: int, budget: int, target_tau: float, **options: object
    ) -> None:
        config = SimulationConfig(models=models, budget=budget, target_tau=target_tau)
        started = time.monotonic()
        summary = benchmark(seeds=list(range(first_seed, first_seed + seeds)), config=config)
        self.stdout.write(
            f"{models} models (true logit strengths ~ N(0, {config.strength_sd})), {config.annotators} annotators "
            f"answering at random up to {config.max_noise:.0%} of the time, ties up to {config.tie_rate:.0%}; "
            f"votes in batches of {config.batch}, tau checked every {config.check_every}, budget {budget}"
        )
        self.stdout.write(f"{'seed':>4}  {'active':>8}  {'uniform':>8}   (votes until tau stays >= {target_tau})")
        by_seed: dict[int, dict[str, str]] = {}
        for run in summary.runs:
            label = str(run.votes_needed) if run.votes_needed is not None else f">{budget}"
            by_seed.setdefault(run.seed, {})[run.sampler] = label
        for seed, row in sorted(by_seed.items()):
            self.stdout.write(f"{seed:>4}  {row['active']:>8}  {row['uniform']:>8}")
        self.stdout.write(
            f"median votes: active {summary.median_active:.0f}, uniform {summary.median_uniform:.0f} "
            f"-> active needs {summary.saving:.0%} fewer (target >= 30%)"
        )
        self.stdout.write(
            f"mean votes: active {summary.mean_active:.0f}, uniform {summary.mean_uniform:.0f} "
            f"-> active needs {summary.saving_mean:.0%} fewer (target >= 30%; 90% bootstrap interval over the campaigns "
            f"{summary.saving_mean_interval[0]:.0%} to {summary.saving_mean_interval[1]:.0%})  (a campaign that never "
            f"settles counts as the budget, {budget})"
        )
        unsettled = {
            sampler: sum(1 for run in summary.runs if run.sampler == sampler and run.votes_needed is None)
            for sampler in ("active", "uniform")
        }
        self.stdout.write(
            f"never settled within the budget: active {unsettled['active']}, uniform {unsettled['uniform']} of {seeds} "
            f"campaigns (counted as {budget} votes above, which understates the mean saving when uniform leaves more unsettled)"
        )
        met = summary.saving >= 0.30 and summary.saving_mean >= 0.30
        self.stdout.write(
            f"active needed more votes than uniform on {summary.active_lost} of {seeds} campaigns (the same number on "
            f"{summary.ties}); target (mean and median >= 30% fewer) {'met' if met else 'NOT met'}  "
            f"[{time.monotonic() - started:.1f} s]"
        )
