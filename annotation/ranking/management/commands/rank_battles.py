"""python manage.py rank_battles FILE.csv [--bootstrap N] [--json]: Bradley-Terry ratings of LMArena-format battles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.ranking.battles_csv import BattleFileError, read_battles_csv
from annotation.stats import bradley_terry as bt


class Command(BaseCommand):
    help = (
        "Rate models from a CSV of battles (columns model_a, model_b, winner in {model_a, model_b, tie, both_bad}): "
        "Bradley-Terry with ties as half wins, 400*log10 odds scale, mean 1000; 95%% intervals and Rank (UB)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--bootstrap", type=int, default=1000, metavar="N",
            help="bootstrap rounds for the intervals (default 1000); 0 uses the sandwich estimator instead",
        )
        parser.add_argument("--confidence", type=float, default=0.95)
        parser.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: object, **options: object) -> None:
        rounds = int(options["bootstrap"])  # type: ignore[call-overload]
        confidence = float(options["confidence"])  # type: ignore[arg-type]
        if rounds < 0:
            raise CommandError(f"--bootstrap: expected a number of rounds >= 0, got {rounds}")
        if not 0 < confidence < 1:
            raise CommandError(f"--confidence: expected a share between 0 and 1, got {confidence}")
        seed = int(options["seed"])  # type: ignore[call-overload]
        if seed < 0:
            raise CommandError(f"--seed: expected a whole number >= 0, got {seed}")
        try:
            battles = read_battles_csv(Path(options["file"]))  # type: ignore[arg-type]
        except BattleFileError as error:
            raise CommandError("\n".join(error.problems)) from None
        counts = bt.aggregate_arrays(battles.model_a, battles.model_b, battles.winner)
        if counts.n_models < 2:
            raise CommandError("the file names fewer than two models")
        if rounds:
            result = bt.rate(
                counts, ci="bootstrap", rounds=rounds, confidence=confidence, rng=np.random.default_rng(seed)
            )
        else:
            result = bt.rate(counts, ci="sandwich", confidence=confidence)
        groups = bt.comparison_components(counts)
        rows = result.rows()
        if options["json"]:
            self.stdout.write(json.dumps({
                "battles": counts.total_battles,
                "models": counts.n_models,
                "interval": f"{confidence:.0%} {'bootstrap (' + str(rounds) + ' rounds)' if rounds else 'sandwich'}",
                "connected": len(groups) == 1,
                "ratings": [
                    {"model": r.model, "rating": round(r.rating, 2), "lower": round(r.lower, 2),
                     "upper": round(r.upper, 2), "rank_ub": r.rank_ub, "battles": r.battles}
                    for r in rows
                ],
            }, indent=2))
            return
        width = max(len("model"), *(len(r.model) for r in rows))
        self.stdout.write(
            f"{counts.total_battles:,} battles, {counts.n_models} models; "
            f"{confidence:.0%} intervals by {'bootstrap (' + str(rounds) + ' rounds)' if rounds else 'the sandwich estimator'}"
        )
        self.stdout.write(f"{'rank (UB)':>9}  {'model':<{width}}  {'rating':>8}  {'lower':>8}  {'upper':>8}  {'battles':>8}")
        for r in rows:
            self.stdout.write(
                f"{r.rank_ub:>9}  {r.model:<{width}}  {r.rating:>8.1f}  {r.lower:>8.1f}  {r.upper:>8.1f}  {r.battles:>8,}"
            )
        if len(groups) > 1:
            self.stderr.write(
                f"warning: the battles fall into {len(groups)} groups of models that never met "
                f"({'; '.join(', '.join(g) for g in groups[:5])}); ratings compare only within a group"
            )
