"""python manage.py bench_annotation_load: simulated annotators through the HTTP API against the production setup.

It checks PostgreSQL and Redis (starting them with pg_ctlcluster / redis-server when they are down),
creates a throw-away database on that server, migrates it, seeds a suite, models, public scored
submissions, a campaign and annotators with API tokens, starts gunicorn on it, and lets client
processes (each with threads, one annotator per thread) loop `POST /api/annotation/next/` ->
`POST /api/annotation/judgments/` for a fixed time; a share of the posts is sent twice (a replay).
It prints judgments per second, p50/p95 latency per endpoint and a count check in the database: every
accepted (201) post stored exactly one row per dimension, every replay stored nothing, no pair has
more judgments than its overlap. Then it stops gunicorn and drops the database (unless --keep).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

REPO_ROOT = Path(__file__).resolve().parents[3]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_cpu_s(pid: int) -> float:
    """utime + stime of a live process, in seconds (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(root: int) -> float:
    """CPU seconds of a process and its live children (gunicorn's master and workers)."""
    total = _proc_cpu_s(root)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                total += _proc_cpu_s(int(entry.name))
    return total


def _client_process(args: tuple[str, list[str], int, float, float, str]) -> tuple[list[tuple[str, float, int]], float]:
    """One client process: a thread per annotator token, looping next -> judgments until the deadline, on one
    keep-alive HTTP/1.1 connection per annotator (http.client: the client's own CPU is kept small, since it
    shares the 2 cores with the server). Returns the timings and the CPU seconds this process used."""
    import http.client
    import resource
    import threading

    base, tokens, campaign_id, deadline, replay_share, dims_json = args
    dimensions = json.loads(dims_json)
    host, port = urlparse(base).hostname or "127.0.0.1", urlparse(base).port or 80
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def annotator(token: str, index: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "keep-alive"}

        def call(method: str, path: str, body: object = None) -> tuple[int, bytes]:
            payload = json.dumps(body).encode() if body is not None else None
            for attempt in (0, 1):
                try:
                    connection.request(method, path, body=payload, headers=headers)
                    response = connection.getresponse()
                    return response.status, response.read()
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    connection.close()  # the server closed an idle keep-alive connection: reconnect once
                    if attempt:
                        raise
            raise AssertionError("unreachable")

        local: list[tuple[str, float, int]] = []
        count = 0
        if campaign_id < 0:  # the peer: the platform's lightest request (one SELECT 1) on the same stack
            while time.time() < deadline:
                started = time.perf_counter()
                status, _ = call("GET", "/healthz")
                local.append(("healthz", time.perf_counter() - started, status))
            with lock:
                results.extend(local)
            return
        while time.time() < deadline:
            started = time.perf_counter()
            status, content = call("POST", "/api/annotation/next/", {"campaign": campaign_id})
            local.append(("next", time.perf_counter() - started, status))
            if status != 200 or json.loads(content)["task"] is None:
                break
            task = json.loads(content)["task"]
            outcomes = ("a", "b", "both_good", "both_bad")
            votes = {d: {"outcome": outcomes[(count + k + index) % 4]} for k, d in enumerate(dimensions)}
            body = {"task": task["id"], "votes": votes, "client_elapsed_ms": 1000}
            sends = 2 if (count * 7919 + index) % 100 < replay_share * 100 else 1
            for attempt in range(sends):
                started = time.perf_counter()
                status, _ = call("POST", "/api/annotation/judgments/", body)
                local.append(("replay" if attempt else "judgments", time.perf_counter() - started, status))
            count += 1
        connection.close()
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=annotator, args=(token, i)) for i, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return results, usage.ru_utime + usage.ru_stime


class Command(BaseCommand):
    help = "Load-test the annotation API (gunicorn + PostgreSQL + Redis): judgments/s, p50/p95 latency, count check."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", default=os.environ.get("LOADBENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                            help="a PostgreSQL server (any database on it); the bench creates and drops its own database")
        parser.add_argument("--redis-url", default=os.environ.get("LOADBENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
        parser.add_argument("--annotators", type=int, default=96)
        parser.add_argument("--client-processes", type=int, default=3)
        parser.add_argument("--gunicorn-workers", type=int, default=4)
        parser.add_argument("--gunicorn-threads", type=int, default=4)
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--models", type=int, default=8)
        parser.add_argument("--prompts", type=int, default=60)
        parser.add_argument("--overlap", type=int, default=5)
        parser.add_argument("--replay-share", type=float, default=0.05, help="share of posts sent twice")
        parser.add_argument("--peer-seconds", type=float, default=5.0, help="first load GET /healthz this long (the peer)")
        parser.add_argument("--keep", action="store_true", help="keep the database afterwards")

    def handle(self, *args: object, **options: object) -> None:
        database_url = str(options["database_url"])
        redis_url = str(options["redis_url"])
        self._services_ensure(database_url, redis_url)
        parsed = urlparse(database_url)
        bench_db = f"msav_loadbench_{os.getpid()}"
        bench_url = parsed._replace(path=f"/{bench_db}").geturl()
        var_dir = Path(tempfile.mkdtemp(prefix="msav-loadbench-"))
        env = {
            **os.environ, "DATABASE_URL": bench_url, "CELERY_BROKER_URL": redis_url, "VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"), "DB_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING", "DEBUG": "false",
            "CACHE_URL": redis_url,  # as in production (docker/compose.yml): the cache every web process shares
        }
        self._admin_sql(database_url, f'CREATE DATABASE "{bench_db}"')
        gunicorn = None
        try:
            self.stdout.write(f"database {bench_db} on {parsed.hostname}:{parsed.port or 5432}; migrating and seeding ...")
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO_ROOT, env=env, check=True)
            seed = subprocess.run(
                [sys.executable, "-c", "import django; django.setup(); from annotation.loadbench import seed; import json, sys; "
                 f"print(json.dumps(seed(models={options['models']}, prompts={options['prompts']}, "
                 f"annotators={options['annotators']}, overlap={options['overlap']})))"],
                cwd=REPO_ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, check=True, capture_output=True, text=True,
            )
            world = json.loads(seed.stdout.strip().splitlines()[-1])
            port = _free_port()
            gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(options["gunicorn_workers"]), "--threads", str(options["gunicorn_threads"]),
                 "--worker-class", "gthread", "--log-level", "warning", "--timeout", "120"],
                cwd=REPO_ROOT, env=env, start_new_session=True,
            )
            base = f"http://127.0.0.1:{port}"
            self._wait_up(base)
            peer, peer_elapsed, _ = self._drive(base, {**world, "campaign": -1}, {**options, "seconds": options["peer_seconds"]})
            pg_before = self._pg_backend_cpu(bench_url)
            gunicorn_before = _tree_cpu_s(gunicorn.pid)
            results, elapsed, client_cpu = self._drive(base, world, options)
            cpu = {
                "clients": client_cpu,
                "gunicorn": _tree_cpu_s(gunicorn.pid) - gunicorn_before,
                "postgres": sum(self._pg_backend_cpu(bench_url).values()) - sum(pg_before.values()),
            }
        finally:
            if gunicorn is not None:
                os.killpg(gunicorn.pid, signal.SIGTERM)
                gunicorn.wait(timeout=30)
        try:
            counts = json.loads(subprocess.run(
                [sys.executable, "-c", "import django; django.setup(); from annotation.loadbench import count_check; import json; "
                 f"print(json.dumps(count_check(campaign_id={world['campaign']})))"],
                cwd=REPO_ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, check=True, capture_output=True, text=True,
            ).stdout.strip().splitlines()[-1])
        finally:
            if not options["keep"]:
                self._admin_sql(database_url, f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
                shutil.rmtree(var_dir, ignore_errors=True)
        self._report(results, elapsed, counts, world, options, cpu)
        healthz = [seconds for name, seconds, status in peer if name == "healthz" and status == 200]
        if healthz:
            healthz.sort()
            self.stdout.write(
                f"peer, same stack and clients just before: GET /healthz (one SELECT 1) {len(healthz) / peer_elapsed:.0f} "
                f"requests/s, p50 {statistics.median(healthz) * 1000:.1f} ms, p95 {healthz[int(0.95 * (len(healthz) - 1))] * 1000:.1f} ms "
                f"(a judgment is 2 requests: next + judgments)"
            )

    # --- pieces ---------------------------------------------------------------------------------

    def _services_ensure(self, database_url: str, redis_url: str) -> None:
        db, broker = urlparse(database_url), urlparse(redis_url)
        if not _reachable(db.hostname or "127.0.0.1", db.port or 5432) and shutil.which("pg_ctlcluster"):
            clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.split()
            if len(clusters) >= 2:
                subprocess.run(["pg_ctlcluster", clusters[0], clusters[1], "start"], check=False)
        if not _reachable(broker.hostname or "127.0.0.1", broker.port or 6379) and shutil.which("redis-server"):
            subprocess.run(["redis-server", "--port", str(broker.port or 6379), "--daemonize", "yes"], check=False)
        for name, parsed, port in (("PostgreSQL", db, 5432), ("Redis", broker, 6379)):
            for _ in range(20):
                if _reachable(parsed.hostname or "127.0.0.1", parsed.port or port):
                    break
                time.sleep(0.5)
            else:
                raise CommandError(f"{name} is not reachable at {parsed.hostname}:{parsed.port or port} and could not be started")

    def _admin_sql(self, database_url: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(sql)

    def _wait_up(self, base: str) -> None:
        import requests

        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise CommandError("gunicorn did not come up within 30 s")

    def _pg_backend_cpu(self, bench_url: str) -> dict[int, float]:
        """CPU seconds so far of the PostgreSQL backends serving the bench's database (same machine), by pid."""
        import psycopg

        with psycopg.connect(bench_url, autocommit=True) as connection:
            pids = [row[0] for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )]
        return {pid: _proc_cpu_s(pid) for pid in pids}

    def _drive(self, base: str, world: dict, options: dict) -> tuple[list[tuple[str, float, int]], float, float]:  # type: ignore[type-arg]
        processes = int(options["client_processes"])
        tokens = world["tokens"]
        shares = [tokens[i::processes] for i in range(processes)]
        started = time.time()
        deadline = started + float(options["seconds"])
        jobs = [(base, share, world["campaign"], deadline, float(options["replay_share"]), json.dumps(world["dimensions"])) for share in shares]
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            chunks = pool.map(_client_process, jobs)
        elapsed = time.time() - started
        return [row for rows, _ in chunks for row in rows], elapsed, sum(cpu for _, cpu in chunks)

    def _report(self, results: list, elapsed: float, counts: dict, world: dict, options: dict, cpu: dict) -> None:  # type: ignore[type-arg]
        def latency(kind: str) -> str:
            values = sorted(seconds for name, seconds, _ in results if name == kind)
            if not values:
                return f"{kind:<10} no requests"
            p50 = statistics.median(values) * 1000
            p95 = values[min(len(values) - 1, int(0.95 * len(values)))] * 1000
            return f"{kind:<10} {len(values):>6} requests  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"

        accepted = sum(1 for name, _, status in results if name == "judgments" and status == 201)
        replays_ok = sum(1 for name, _, status in results if name == "replay" and status == 200)
        errors = sum(1 for _, _, status in results if status >= 500)
        refused = sum(1 for name, _, status in results if name == "judgments" and status != 201)
        dims = len(world["dimensions"])
        self.stdout.write(
            f"{options['annotators']} simulated annotators in {options['client_processes']} client processes; gunicorn "
            f"{options['gunicorn_workers']} workers x {options['gunicorn_threads']} threads; {os.cpu_count()} CPU cores "
            f"shared by the clients, gunicorn, PostgreSQL and Redis; campaign of {world['pairs']} pairs x overlap {options['overlap']}, "
            f"{dims} dimensions, minimum watch time 0 (the seeded clips have no media to watch; the server still runs "
            f"its watch-time check on every post)"
        )
        # Two honest units: a post answers one task (a clip pair) on every dimension at once; a judgment row is one
        # pairwise judgment on one dimension (A / B / both good / both bad), the unit of MSAVBench's human study.
        self.stdout.write(f"accepted judgment posts (tasks, all {dims} dimensions at once): {accepted} in {elapsed:.1f} s = "
                          f"{accepted / elapsed:.1f} posts/s")
        rows_per_s = accepted * dims / elapsed
        self.stdout.write(f"judgment rows stored (one per dimension, MSAVBench's unit): {accepted * dims} = "
                          f"{rows_per_s:.1f} judgments/s")
        self.stdout.write(f"issue target: >= 300 judgments/s on 2 cores, compared to the judgment rows/s (not posts/s): "
                          f"{'met' if rows_per_s >= 300 else 'NOT met'}")
        for kind in ("next", "judgments", "replay"):
            self.stdout.write("  " + latency(kind))
        replays = sum(1 for name, _, _ in results if name == "replay")
        self.stdout.write(f"  refused judgment posts: {refused}; server errors (5xx): {errors}; replays answered 200: "
                          f"{replays_ok} of {replays}")
        if accepted:
            per_post = {name: seconds * 1000 / accepted for name, seconds in cpu.items()}
            self.stdout.write(
                "  CPU per accepted post (next + judgments + its share of replays): "
                + ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_post.items())
                + f"; total {sum(per_post.values()):.1f} ms of the {os.cpu_count()} cores' "
                f"{(os.cpu_count() or 1) * elapsed * 1000 / accepted:.1f} ms; load average at the end {os.getloadavg()[0]:.1f}"
            )
        ok = (
            counts["submitted_tasks"] == accepted
            and counts["judgment_rows"] == accepted * dims
            and counts["max_per_pair"] <= options["overlap"]
            and counts["duplicate_rows"] == 0
            and replays_ok == replays
        )
        self.stdout.write(
            f"count check: {counts['submitted_tasks']} submitted tasks in the database for {accepted} accepted posts, "
            f"{counts['judgment_rows']} judgment rows (expected {accepted * dims}), {counts['duplicate_rows']} duplicate rows, "
            f"at most {counts['max_per_pair']} judgments per pair (overlap {options['overlap']}): {'OK' if ok else 'MISMATCH'}"
        )
        if not ok or errors:
            raise CommandError("the count check failed or the server answered 5xx")
