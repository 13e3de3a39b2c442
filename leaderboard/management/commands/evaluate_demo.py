"""python manage.py evaluate_demo [DEMO_DIR]: the engine's cut and offset accuracy against the demo's truth."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.demo.evaluation import check_against_truth


class Command(BaseCommand):
    help = "Score every demo clip and compare shot boundaries and audio-visual offsets with the ground truth."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("demo_dir", nargs="?", type=Path, help="demo folder (default: VAR_DIR/demo)")

    def handle(self, *args: object, demo_dir: Path | None, **options: object) -> None:
        demo_dir = demo_dir or Path(settings.VAR_DIR) / "demo"
        if not (demo_dir / "truth").is_dir():
            raise CommandError(f"{demo_dir}: no demo with ground truth here (run `python manage.py generate_demo {demo_dir}`)")
        started = time.monotonic()
        check = check_against_truth(demo_dir)
        self.stdout.write(check.summary())
        self.stdout.write(f"({time.monotonic() - started:.1f} s)")
