"""python manage.py bench_ranking: our Bradley-Terry against arena-rank on the same synthetic battles."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.ranking import bench


class Command(BaseCommand):
    help = "Time and compare the human-ranking fit and bootstrap with LMArena's arena-rank (same battles)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--battles", type=int, default=1_000_000)
        parser.add_argument("--models", type=int, default=100)
        parser.add_argument("--rounds", type=int, default=1000, help="our bootstrap rounds")
        parser.add_argument("--peer-rounds", type=int, default=10, help="arena-rank bootstrap rounds timed")
        parser.add_argument("--tie-share", type=float, default=0.2)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: object, **options: object) -> None:
        battles, models = int(options["battles"]), int(options["models"])  # type: ignore[call-overload]
        rounds, peer_rounds = int(options["rounds"]), int(options["peer_rounds"])  # type: ignore[call-overload]
        if battles < 1 or models < 2 or rounds < 1 or peer_rounds < 1:
            raise CommandError("--battles, --rounds and --peer-rounds must be >= 1 and --models >= 2")
        tie_share = float(options["tie_share"])  # type: ignore[arg-type]
        if not 0 <= tie_share < 1:
            raise CommandError("--tie-share must be in [0, 1)")
        result = bench.run(
            battles=battles, models=models, rounds=rounds, peer_rounds=peer_rounds, tie_share=tie_share,
            seed=int(options["seed"]), log=lambda text: self.stderr.write(text),  # type: ignore[call-overload]
        )
        if options["json"]:
            self.stdout.write(json.dumps({
                "battles": battles, "models": models, "rounds": rounds, "peer_rounds": peer_rounds,
                "ours": result.ours, "arena_rank": result.peer, "arena_rank_version": result.peer_version,
                "arena_rank_error": result.peer_error or None, "max_rating_diff": result.max_rating_diff,
                "max_sandwich_bound_diff": result.max_sandwich_bound_diff, "per_round_speedup": result.per_round_speedup,
            }, indent=2))
            return
        for line in bench.report(result):
            self.stdout.write(line)
