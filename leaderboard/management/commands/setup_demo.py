"""python manage.py setup_demo: the demo suite, accounts, models and submissions (safe to re-run)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.demo_seed import DEMO_ACCOUNTS, demo_seed
from leaderboard.models import Submission


class Command(BaseCommand):
    help = "Generate (once) and import the demo suite, create the demo accounts and submit every demo model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=None, help="demo folder (default: VAR_DIR/demo)")
        parser.add_argument("--models", help="comma-separated demo model slugs to submit (default: all)")
        parser.add_argument("--wait", type=float, default=0, help="wait up to this many seconds for scoring")

    def handle(self, *args: object, **options: object) -> None:
        out_dir = options["out"] or Path(settings.VAR_DIR) / "demo"
        models = options["models"].split(",") if options["models"] else None  # type: ignore[union-attr]
        started = time.monotonic()
        result = demo_seed(out_dir=out_dir, models=models)
        self.stdout.write(
            f"demo suite {result.suite.name} {result.suite.version}: "
            f"{'generated' if result.generated else 'reused'} media in {out_dir}, "
            f"{len(result.models_created)} models registered, {len(result.submissions_created)} submissions queued "
            f"({time.monotonic() - started:.1f} s)"
        )
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  account {account.username:<11} password {account.password:<17} ({account.role})")
        wait = float(options["wait"])  # type: ignore[arg-type]
        if wait > 0:
            self._wait_for_scoring(result.suite.pk, wait)

    def _wait_for_scoring(self, suite_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending_states = [Submission.State.UPLOADED, Submission.State.VALIDATING, Submission.State.QUEUED, Submission.State.SCORING]
        while time.monotonic() < deadline:
            pending = Submission.objects.filter(suite_id=suite_id, state__in=pending_states).count()
            if pending == 0:
                self.stdout.write("all demo submissions are settled")
                return
            time.sleep(1)
        raise CommandError(f"demo submissions still scoring after {timeout:.0f} s (is a worker running?)")
