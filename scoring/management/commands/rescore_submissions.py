"""python manage.py rescore_submissions (--all-older | --suite NAME | --submission ID ...) [--dry-run]

Re-scores submissions scored by an older engine version with the current one. Each submission keeps
its older aggregate (and its place on the leaderboard, labelled with that version) until every clip
is settled under the new version; old results are never deleted.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.models import Submission, Suite
from scoring import engine, services
from scoring.tasks import score_clip


class Command(BaseCommand):
    help = "Queue the re-scoring, with the current engine version, of submissions scored by an older one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all-older", action="store_true", help="every suite's submissions scored by an older engine")
        parser.add_argument("--suite", help="only this suite's (name; with --suite-version, that version)")
        parser.add_argument("--suite-version", help="the suite version (default: every imported version of --suite)")
        parser.add_argument("--submission", type=int, action="append", default=[], help="this submission (repeatable)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be re-scored, queue nothing")

    def handle(self, *args: object, **options: object) -> None:
        if not (options["all_older"] or options["suite"] or options["submission"]):
            raise CommandError("say what to re-score: --all-older, --suite NAME or --submission ID")
        suite_ids: list[int | None] = [None]
        if options["suite"]:
            suites = Suite.objects.filter(name=options["suite"])
            if options["suite_version"]:
                suites = suites.filter(version=options["suite_version"])
            suite_ids = list(suites.values_list("pk", flat=True))
            if not suite_ids:
                raise CommandError(f'no suite named "{options["suite"]}"' + (
                    f' with version "{options["suite_version"]}"' if options["suite_version"] else ""
                ))
        candidates: list[int] = []
        for suite_id in suite_ids:
            candidates += services.submissions_scored_by_older_engine(suite_id=suite_id)
        if options["submission"]:
            wanted = set(options["submission"])  # type: ignore[arg-type]
            unknown = wanted - set(Submission.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            if unknown:
                raise CommandError(f"no submission with id {', '.join(map(str, sorted(unknown)))}")
            for pk in sorted(wanted - set(candidates)):
                self.stdout.write(f"  #{pk}: skipped (not scored, already scored by engine {engine.ENGINE_VERSION}, or not in --suite)")
            candidates = [pk for pk in candidates if pk in wanted]
        self.stdout.write(f"engine {engine.ENGINE_VERSION}: {len(candidates)} scored submission(s) have no aggregate by it")
        queued_clips = 0
        for submission_id in candidates:
            if options["dry_run"]:
                submission = Submission.objects.select_related("model", "suite").get(pk=submission_id)
                versions = sorted(set(submission.scores.values_list("engine_version", flat=True)))
                self.stdout.write(f"  #{submission_id} {submission.model} on {submission.suite}: scored by {', '.join(versions)}")
                continue
            request = services.submission_rescore_request(submission_id=submission_id)
            if request is None:
                continue
            for clip_id in request.clips_to_score:
                score_clip.delay(clip_id, submission_id)
            # A submission with nothing to re-score (every prompt missing) settles at once.
            services.submission_finish_if_complete(submission_id=submission_id)
            queued_clips += len(request.clips_to_score)
            self.stdout.write(
                f"  #{submission_id}: {len(request.clips_to_score)} clips queued "
                f"(engine {request.from_engine_version or '?'} -> {engine.ENGINE_VERSION})"
            )
        if not options["dry_run"]:
            self.stdout.write(
                f"{queued_clips} clips queued; each submission keeps its current scores until all of its clips are re-scored"
            )
