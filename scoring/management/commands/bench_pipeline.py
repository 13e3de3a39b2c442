"""python manage.py bench_pipeline [--clips 40] [--processes 1,2]: clips per minute of the real pipeline.

Generates (once) a small demo, replicates its clips into a suite and a submission of --clips prompts
(scoring.synthetic), and for each process count starts a real `celery worker` with that many pool
processes on the configured broker and database, queues the submission's clip tasks on a queue of
its own (so other workers on the broker do not take them), and times from the first message to the
submission being scored. Prints clips per minute and the speed-up over the first run. What it
creates in the database is deleted at the end (--keep keeps it).
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from leaderboard import services as leaderboard_services
from leaderboard.demo import generator
from leaderboard.models import Clip, ModelEntry, Submission, Suite
from scoring import engine
from scoring.models import ClipAttempt, ClipScore
from scoring.synthetic import replicate_demo
from scoring.tasks import score_clip

BENCH_MODEL = "aurora-av"
# Short demo prompts (6-9 s at 320x180, 24 fps), different shot counts and transitions.
BENCH_PROMPTS = ["advert-002", "action-002", "advert-001", "narrative-002"]
BENCH_SUITE = "pipeline-bench"


class Command(BaseCommand):
    help = "Score a generated submission with 1, then 2 (or --processes) worker processes; print clips per minute."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clips", type=int, default=40, help="clips in the submission (default 40, at least 30 for the README figure)")
        parser.add_argument("--processes", default="1,2", help="comma-separated pool sizes to compare (default 1,2)")
        parser.add_argument("--out", type=Path, default=None, help="where the demo media go (default VAR_DIR/bench-pipeline)")
        parser.add_argument("--timeout", type=float, default=900, help="give up on a run after this many seconds")
        parser.add_argument("--keep", action="store_true", help="keep the bench suite and submissions in the database")
        parser.add_argument(
            "--create-database", action="store_true", help="create the PostgreSQL database of DATABASE_URL if missing, and migrate it"
        )
        parser.add_argument(
            "--engine", choices=("configured", "dsp"), default="configured",
            help="configured: the engine as settings configure it (MSAV_ENGINE_EXPERT_MODELS); dsp: the signal-processing path only",
        )

    def handle(self, *args: object, **options: object) -> None:
        clips = int(options["clips"])  # type: ignore[arg-type]
        try:
            process_counts = [int(value) for value in str(options["processes"]).split(",") if value.strip()]
        except ValueError:
            raise CommandError(f"--processes: comma-separated whole numbers, got {options['processes']!r}") from None
        if clips < 1 or not process_counts or min(process_counts) < 1:
            raise CommandError("--clips and every --processes value must be at least 1")
        if options["create_database"]:
            self._create_database()
        out_dir = Path(options["out"] or Path(settings.VAR_DIR) / "bench-pipeline")  # type: ignore[arg-type]
        demo_dir = out_dir / "demo"
        if not generator.demo_is_complete(demo_dir, models=[BENCH_MODEL], prompts=BENCH_PROMPTS):
            self.stdout.write(f"generating the bench clips in {demo_dir} ...")
            generator.generate_demo(demo_dir, models=[BENCH_MODEL], prompts=BENCH_PROMPTS)
        synthetic = replicate_demo(
            demo_dir, out_dir / f"suite-{clips}", model_slug=BENCH_MODEL, clips=clips,
            suite_name=BENCH_SUITE, suite_version=f"{clips}-clips",
        )
        suite = leaderboard_services.suite_import(path=synthetic.suite_dir).suite
        owner, _ = get_user_model().objects.get_or_create(username="bench-pipeline")
        model = ModelEntry.objects.filter(slug="bench-pipeline").first() or leaderboard_services.model_entry_create(
            name="bench-pipeline", owner=owner, organisation="bench_pipeline command"
        )
        broker = settings.CELERY_BROKER_URL.split("@")[-1]
        self.worker_env = os.environ | {"PYTHONUNBUFFERED": "1"}
        expert = settings.MSAV_ENGINE_EXPERT_MODELS
        if options["engine"] == "dsp":
            self.worker_env["MSAV_ENGINE_EXPERT_MODELS"] = "false"
            expert = False
        self.stdout.write(
            f"bench_pipeline: {clips} clips ({len(BENCH_PROMPTS)} demo clips of 6-9 s, 320x180 H.264+AAC, replicated) | "
            f"engine {engine.ENGINE_VERSION} ({'expert models where installed' if expert else 'DSP path only'}) | broker {broker} | database {connection.vendor} | "
            f"{os.cpu_count()} CPU cores ({platform.machine()}), shared with whatever else runs on this machine"
        )
        created: list[int] = []
        rows = []
        try:
            for processes in process_counts:
                submission = self._submission(suite, model, owner, synthetic.archive)
                created.append(submission.pk)
                elapsed, engine_s = self._run(submission, processes, float(options["timeout"]))  # type: ignore[arg-type]
                rows.append((processes, elapsed, engine_s))
        finally:
            if not options["keep"]:
                for submission in Submission.objects.filter(pk__in=created):
                    shutil.rmtree(leaderboard_services.clips_dir(submission), ignore_errors=True)
                    shutil.rmtree(Path(submission.archive.path).parent, ignore_errors=True)
                Submission.objects.filter(pk__in=created).delete()
                if not Submission.objects.filter(suite=suite).exists():
                    suite.delete()
                shutil.rmtree(Path(settings.MEDIA_ROOT) / "suites" / BENCH_SUITE, ignore_errors=True)
        base = clips / rows[0][1] * 60
        self.stdout.write(f"{'processes':>9}  {'wall s':>7}  {'clips/min':>9}  {'speed-up':>8}  {'engine s/clip':>13}")
        for processes, elapsed, engine_s in rows:
            per_minute = clips / elapsed * 60
            self.stdout.write(
                f"{processes:>9}  {elapsed:>7.2f}  {per_minute:>9.1f}  {per_minute / base:>7.2f}x  {engine_s / clips:>13.3f}"
            )

    def _create_database(self) -> None:
        import psycopg
        from django.core.management import call_command

        if connection.vendor != "postgresql":
            raise CommandError("--create-database needs a PostgreSQL DATABASE_URL")
        params = connection.get_connection_params()
        name = params.pop("dbname")
        params["dbname"] = "postgres"
        admin_params = {key: value for key, value in params.items() if key in ("host", "port", "user", "password", "dbname")}
        with psycopg.connect(**admin_params, autocommit=True) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                admin.execute(f'CREATE DATABASE "{name}"')
                self.stdout.write(f"created database {name}")
        call_command("migrate", interactive=False, verbosity=0)

    def _submission(self, suite: Suite, model: ModelEntry, owner: object, archive: Path) -> Submission:
        """A validated submission whose clips are queued but not yet sent: only scoring is timed."""
        with open(archive, "rb") as stream:
            submission = Submission.objects.create(
                model=model, suite=suite, owner=owner, archive_name=archive.name, archive_size=archive.stat().st_size
            )
            relative = Path("submissions") / f"bench-{submission.pk}" / "archive.zip"
            target = Path(settings.MEDIA_ROOT) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out)
            Submission.objects.filter(pk=submission.pk).update(archive=str(relative))
        clip_ids = leaderboard_services.submission_validate(submission_id=submission.pk)
        if len(clip_ids) != suite.prompts.count():
            raise CommandError(f"validation accepted {len(clip_ids)} of {suite.prompts.count()} clips: {Submission.objects.get(pk=submission.pk).report}")
        return submission

    def _run(self, submission: Submission, processes: int, timeout: float) -> tuple[float, float]:
        queue = f"bench-pipeline-{os.getpid()}-{processes}"
        log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queue,
                "--concurrency", str(processes), "--pool", "prefork", "--loglevel", "INFO",
                "--without-mingle", "--without-gossip", "--without-heartbeat", "--hostname", f"{queue}@%h",
            ],
            cwd=settings.BASE_DIR, env=self.worker_env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait(lambda: b" ready." in Path(log.name).read_bytes(), 120, "the worker to start", log.name)
            clip_ids = list(submission.clips.filter(status=Clip.Status.QUEUED).values_list("pk", flat=True))
            started = time.perf_counter()
            for clip_id in clip_ids:
                score_clip.apply_async((clip_id, submission.pk), queue=queue)
            self._wait(
                lambda: Submission.objects.filter(pk=submission.pk, state=Submission.State.SCORED).exists(),
                timeout, f"submission #{submission.pk} to be scored", log.name,
            )
            elapsed = time.perf_counter() - started
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
            log.close()
        scored = ClipScore.objects.filter(clip__submission=submission).count()
        if scored != len(clip_ids) or ClipAttempt.objects.filter(clip__submission=submission, outcome=ClipAttempt.Outcome.SCORED).count() != scored:
            raise CommandError(f"{scored} of {len(clip_ids)} clips scored; see {log.name}")
        engine_s = sum(
            float(timings.get("total", 0.0))
            for timings in ClipScore.objects.filter(clip__submission=submission).values_list("timings", flat=True)
        )
        Path(log.name).unlink(missing_ok=True)
        return elapsed, engine_s

    def _wait(self, done: object, timeout: float, what: str, log: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():  # type: ignore[operator]
                return
            time.sleep(0.1)
        raise CommandError(f"timed out after {timeout:.0f} s waiting for {what}; worker log: {log}")
