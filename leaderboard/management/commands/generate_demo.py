"""python manage.py generate_demo OUT_DIR: write the demo suite, submissions and ground truth (no database)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.demo.generator import demo_is_complete, generate_demo


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = "Generate the msav-demo suite, one submission archive per demo model, models.json and the ground truth."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", type=Path, help="folder to write into (its suite/, submissions/, clips/, truth/ are replaced)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--models", help="comma-separated demo model slugs (default: all)")
        parser.add_argument("--prompts", help="comma-separated prompt ids (default: all)")
        parser.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU; 1 = serial)")
        parser.add_argument("--force", action="store_true", help="regenerate even if OUT_DIR is up to date")

    def handle(self, *args: object, **options: object) -> None:
        out_dir: Path = options["out_dir"]  # type: ignore[assignment]
        params = {
            "seed": options["seed"],
            "models": _csv(options["models"]),  # type: ignore[arg-type]
            "prompts": _csv(options["prompts"]),  # type: ignore[arg-type]
        }
        try:
            if not options["force"] and demo_is_complete(out_dir, **params):  # type: ignore[arg-type]
                self.stdout.write(f"{out_dir} is up to date (use --force to regenerate)")
                return
            manifest = generate_demo(
                out_dir,
                workers=options["workers"],  # type: ignore[arg-type]
                progress=self.stdout.write,
                **params,  # type: ignore[arg-type]
            )
        except (KeyError, ValueError) as error:
            raise CommandError(str(error.args[0] if error.args else error)) from error
        self.stdout.write(self.style.SUCCESS(
            f"wrote {manifest.suite_json}, {manifest.models_json}, {len(manifest.archives)} submission(s) "
            f"in {manifest.out_dir / 'submissions'}, truth in {manifest.out_dir / 'truth'} "
            f"({manifest.elapsed_s:.1f} s, {manifest.workers} worker(s))"
        ))
