"""python manage.py import_suite PATH: import a suite folder, .zip or .tar.gz (idempotent)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.exceptions import ApplicationError
from leaderboard.services import suite_import
from leaderboard.suite_format import SuiteFormatError


class Command(BaseCommand):
    help = "Import a benchmark suite (folder, .zip or .tar.gz) in the suite format; re-importing changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: object, path: Path, **options: object) -> None:
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        try:
            result = suite_import(path=path)
        except SuiteFormatError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{path}: {len(error.problems)} problem(s); nothing was imported") from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        suite = result.suite
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"imported suite {suite.name} {suite.version}: {suite.prompts.count()} prompts")
            )
        else:
            self.stdout.write(f"suite {suite.name} {suite.version} is already imported with the same content: unchanged")
