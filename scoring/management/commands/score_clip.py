"""python manage.py score_clip CLIP --suite NAME --prompt ID [--json]: score one clip, print the result."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.models import Prompt
from leaderboard.services import suite_media_dir
from scoring import engine


class Command(BaseCommand):
    help = "Score one clip against a prompt of an imported suite with the current engine and print the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clip", type=Path)
        parser.add_argument("--suite", required=True, help="suite name")
        parser.add_argument("--suite-version", help="suite version (default: the latest imported)")
        parser.add_argument("--prompt", required=True, help="prompt id")
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")

    def handle(self, *args: object, **options: object) -> None:
        clip: Path = options["clip"]  # type: ignore[assignment]
        if not clip.is_file():
            raise CommandError(f"{clip}: no such file")
        prompts = Prompt.objects.select_related("suite").filter(
            suite__name=options["suite"], prompt_id=options["prompt"]
        )
        if options["suite_version"]:
            prompts = prompts.filter(suite__version=options["suite_version"])
        prompt = prompts.order_by("-suite__imported_at").first()
        if prompt is None:
            raise CommandError(f'suite "{options["suite"]}" has no prompt "{options["prompt"]}" (is the suite imported?)')
        try:
            result = engine.score_clip(
                clip, prompt.to_script(), reference_root=suite_media_dir(prompt.suite.name, prompt.suite.version)
            )
        except engine.ClipDecodeError as error:
            raise CommandError(f"{clip}: does not decode: {error}") from None
        data = result.to_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, sort_keys=True))
            return
        self.stdout.write(f"{clip.name} on {prompt.suite.name}/{prompt.prompt_id} (engine {data['engine_version']})")
        self.stdout.write(f"  overall  {data['overall']:.3f}")
        for name, value in data["dimensions"].items():
            self.stdout.write(f"  {name:<9}{'not measured' if value is None else f'{value:.3f}'}")
        self.stdout.write(f"  cuts at  {', '.join(f'{t:.2f}' for t in data['evidence']['shots']['boundaries_s'])} s")
