"""Benchmark the public leaderboard under load, side by side with a bare Django view in the same run.

Starts gunicorn on this settings module (production-like: PostgreSQL and the Redis cache), then drives
three URLs with `wrk` under the same concurrent load, one after the other and interleaved over several
rounds: a constant response through the full middleware stack (`/bench/constant`), the leaderboard
HTML page and the leaderboard JSON API. Prints each one's p50 / p90 / p99 latency and throughput, the
median p50 over the rounds, and the ratios of the leaderboard's p50 to the constant view's (target
<= 1.5).

    CACHE_URL=redis://127.0.0.1:6379/8 DATABASE_URL=postgres://... python manage.py bench_leaderboard --prepare-demo
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

TARGET_RATIO = 1.5

# wrk reports its latency histogram through this script: one machine-readable line per run.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("MSAV-BENCH %d %d %d %d %d %d\\n", latency:percentile(50), latency:percentile(90),
    latency:percentile(99), summary.requests, summary.duration, errors))
end
"""


@dataclass(frozen=True)
class Run:
    p50_us: int
    p90_us: int
    p99_us: int
    requests: int
    duration_us: int
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Command(BaseCommand):
    help = "Load-test the leaderboard HTML and JSON against a constant Django view (gunicorn + wrk); prints p50s and ratios."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
        parser.add_argument("--duration", type=int, default=8, help="seconds per measurement (default 8)")
        parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the three URLs (default 3)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
        parser.add_argument("--suite", default="", help="suite name (default: the latest imported)")
        parser.add_argument(
            "--prepare-demo", nargs="?", const=str(Path(settings.VAR_DIR) / "bench-demo"), default=None, metavar="DIR",
            help="first import the demo into this database, score it in-process and publish it (demo media in DIR)",
        )
        parser.add_argument(
            "--create-database", action="store_true", help="create the PostgreSQL database of DATABASE_URL if missing, and migrate it"
        )
        parser.add_argument("--allow-embedded", action="store_true", help="run without PostgreSQL / Redis (not production-like)")

    def handle(self, *args: Any, **options: Any) -> None:
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed: `apt-get install -y wrk` (the load generator this benchmark uses)")
        if options["create_database"]:
            self._create_database()
        vendor, cache_backend = connection.vendor, settings.CACHES["default"]["BACKEND"]
        if not options["allow_embedded"]:
            if vendor != "postgresql":
                raise CommandError(f"DATABASE_URL points at {vendor}: set a PostgreSQL DATABASE_URL (or --allow-embedded)")
            if "redis" not in cache_backend.lower():
                raise CommandError("CACHE_URL is not a redis:// URL: set it (or --allow-embedded)")
        if options["prepare_demo"]:
            self._prepare_demo(Path(options["prepare_demo"]))
        from leaderboard import public_selectors

        suite = (
            public_selectors.suite_lookup(name=options["suite"]) if options["suite"] else public_selectors.suite_latest()
        )
        if suite is None:
            raise CommandError("no suite to benchmark: import one, or pass --prepare-demo")
        board = public_selectors.leaderboard_build(suite=suite, query=public_selectors.LeaderboardQuery())
        if not board.rows:
            raise CommandError(f"suite {suite.name} {suite.version} has no public scored submission: pass --prepare-demo")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        targets = {
            "constant view": f"{base}/bench/constant",
            "leaderboard HTML": f"{base}/suites/{suite.name}/{suite.version}/",
            "leaderboard JSON": f"{base}/api/leaderboard/?suite={suite.name}&version={suite.version}",
        }
        self.stdout.write(
            f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} (shared with other processes)\n"
            f"server: gunicorn, {options['workers']} sync workers; database {vendor}; cache {cache_backend.rsplit('.', 1)[-1]}\n"
            f"data: suite {suite.name} {suite.version}, {len(board.rows)} public models\n"
            f"load: wrk, {options['connections']} connections, {options['threads']} threads, {options['duration']} s per run, "
            f"{options['rounds']} interleaved rounds\n"
        )
        server = self._start_gunicorn(port, options["workers"])
        try:
            self._wait_ready(base, server)
            for url in targets.values():  # warm up: connections, imports, the cache
                for _ in range(20):
                    self._fetch(url)
            runs: dict[str, list[Run]] = {name: [] for name in targets}
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(WRK_REPORT)
            try:
                for round_index in range(options["rounds"]):
                    for name, url in targets.items():
                        run = self._wrk(wrk, script.name, url, options)
                        runs[name].append(run)
                        self.stdout.write(
                            f"round {round_index + 1} {name:<17} p50 {run.p50_us / 1000:7.2f} ms  p90 {run.p90_us / 1000:7.2f} ms  "
                            f"p99 {run.p99_us / 1000:7.2f} ms  {run.rps:8.0f} req/s  errors {run.errors}"
                        )
            finally:
                os.unlink(script.name)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        self._report(runs)

    # --- steps ---------------------------------------------------------------------------------

    def _create_database(self) -> None:
        import psycopg
        from django.core.management import call_command

        if connection.vendor != "postgresql":
            raise CommandError("--create-database needs a PostgreSQL DATABASE_URL")
        params = connection.get_connection_params()
        name = params.pop("dbname")
        params["dbname"] = "postgres"
        with psycopg.connect(**{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}, autocommit=True) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                admin.execute(f'CREATE DATABASE "{name}"')
                self.stdout.write(f"created database {name}")
        call_command("migrate", interactive=False, verbosity=0)

    def _prepare_demo(self, out_dir: Path) -> None:
        from celery import current_app
        from django.utils import timezone

        from leaderboard.cache import leaderboard_cache_invalidate
        from leaderboard.demo_seed import demo_seed
        from leaderboard.models import Submission

        self.stdout.write(f"preparing the demo in {out_dir} (generated once, then reused) ...")
        started = time.monotonic()
        # Validate and score in this process (the signal-processing engine: the benchmark measures pages, not scoring).
        current_app.conf.task_always_eager = True
        settings.MSAV_ENGINE_EXPERT_MODELS = False
        result = demo_seed(out_dir=out_dir)
        submissions = Submission.objects.filter(suite=result.suite)
        submissions.filter(state=Submission.State.SCORED).update(is_public=True, published_at=timezone.now())
        leaderboard_cache_invalidate(suite_id=result.suite.pk)
        states = sorted(set(submissions.values_list("state", flat=True)))
        self.stdout.write(f"demo ready in {time.monotonic() - started:.1f} s: {submissions.count()} submissions, states {states}")

    def _start_gunicorn(self, port: int, workers: int) -> subprocess.Popen[bytes]:
        env = {**os.environ, "MSAV_BENCH_CONSTANT_VIEW": "1", "DEBUG": "false", "DB_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING"}
        return subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                "--worker-class", "sync", "--log-level", "warning", "--backlog", "2048",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            start_new_session=True,
        )

    def _fetch(self, url: str) -> int:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return int(response.status)

    def _wait_ready(self, base: str, server: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with {server.returncode}")
            try:
                if self._fetch(f"{base}/bench/constant") == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise CommandError("gunicorn did not answer within 60 s")

    def _wrk(self, wrk: str, script: str, url: str, options: dict[str, Any]) -> Run:
        completed = subprocess.run(
            [wrk, "-t", str(options["threads"]), "-c", str(options["connections"]), "-d", f"{options['duration']}s",
             "--timeout", "10s", "-s", script, url],
            capture_output=True, text=True, check=False,
        )
        for line in completed.stdout.splitlines():
            if line.startswith("MSAV-BENCH "):
                values = [int(float(part)) for part in line.split()[1:]]
                return Run(*values)
        raise CommandError(f"wrk gave no result for {url}: {completed.stdout[-500:]} {completed.stderr[-500:]}")

    def _report(self, runs: dict[str, list[Run]]) -> None:
        p50 = {name: statistics.median(run.p50_us for run in items) / 1000 for name, items in runs.items()}
        rps = {name: statistics.median(run.rps for run in items) for name, items in runs.items()}
        errors = {name: sum(run.errors for run in items) for name, items in runs.items()}
        constant = p50["constant view"]
        self.stdout.write("\nmedian over the rounds:")
        for name in runs:
            ratio = "" if name == "constant view" else f"  ratio to constant {p50[name] / constant:.2f}"
            self.stdout.write(f"  {name:<17} p50 {p50[name]:7.2f} ms  {rps[name]:8.0f} req/s  errors {errors[name]}{ratio}")
        worst = max(p50["leaderboard HTML"], p50["leaderboard JSON"]) / constant
        verdict = "PASS" if worst <= TARGET_RATIO and not any(errors.values()) else "FAIL"
        self.stdout.write(f"target: leaderboard p50 <= {TARGET_RATIO}x the constant view's: worst ratio {worst:.2f} -> {verdict}")
