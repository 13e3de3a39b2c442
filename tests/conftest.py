"""Shared fixtures: the real services (PostgreSQL, Redis), real Celery worker processes, demo media.

With CI=true a missing service fails the run; elsewhere the tests that need it are skipped with
the reason, so that a developer without the services can still run the rest.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# A small slice of the demo that still has hard cuts, dissolves, references, a missing clip
# (driftsync has no narrative-001) and an audio offset (driftsync's audio lags by 400 ms).
DEMO_SLICE_MODELS = ["aurora-av", "driftsync"]
DEMO_SLICE_PROMPTS = ["action-001", "advert-002", "dialogue-002", "narrative-001"]


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _service_state() -> dict[str, str | None]:
    """Each needed service -> None when usable, else why not."""
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    state: dict[str, str | None] = {}
    if not database_url.startswith("postgres"):
        state["postgres"] = "DATABASE_URL does not point at PostgreSQL (run the tests with `make test`)"
    elif not _reachable(database_url, 5432):
        state["postgres"] = f"PostgreSQL is not reachable at {urlparse(database_url).netloc}"
    else:
        state["postgres"] = None
    if not broker_url.startswith("redis"):
        state["redis"] = "CELERY_BROKER_URL does not point at Redis (run the tests with `make test`)"
    elif not _reachable(broker_url, 6379):
        state["redis"] = f"Redis is not reachable at {urlparse(broker_url).netloc}"
    else:
        state["redis"] = None
    state["chromium"] = None if Path("/usr/bin/chromium").exists() else "Chromium is not installed (/usr/bin/chromium)"
    return state


SERVICES = _service_state()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs = {
        "postgres": lambda item: item.get_closest_marker("django_db") is not None,
        "redis": lambda item: item.get_closest_marker("pipeline") is not None or item.get_closest_marker("redis") is not None,
        "chromium": lambda item: item.get_closest_marker("browser") is not None,
    }
    for service, reason in SERVICES.items():
        if reason is None:
            continue
        affected = [item for item in items if needs[service](item)]
        if not affected:
            continue
        if IN_CI:
            raise pytest.UsageError(f"CI=true and {service} is missing: {reason}")
        for item in affected:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- Demo media -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo generated once per run: real H.264 + AAC clips with ground truth beside them."""
    from leaderboard.demo import generator

    out = tmp_path_factory.mktemp("demo")
    generator.generate_demo(out, models=DEMO_SLICE_MODELS, prompts=DEMO_SLICE_PROMPTS)
    return out


def demo_slice_models() -> list[str]:
    return list(DEMO_SLICE_MODELS)


# --- Real Celery worker processes --------------------------------------------------------------


class WorkerProcess:
    """A `celery worker` child process bound to the test database and the test broker."""

    def __init__(self, env: dict[str, str], log_path: Path, queues: str = "bookkeeping,scoring", concurrency: int = 1):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--queues", queues, "--concurrency", str(concurrency), "--pool", "prefork",
                "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--without-heartbeat",
                "--hostname", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill -9 reaches the pool children too
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def worker_env(**overrides: str) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = os.environ.copy()
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VAR_DIR": str(settings.VAR_DIR),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONUNBUFFERED": "1",
            # Worker tests prove the pipeline, not the engine: the DSP path scores a clip in under a second,
            # the expert models take several (tests/engine covers both paths).
            "MSAV_ENGINE_EXPERT_MODELS": "false",
        }
    )
    env.update(overrides)
    return env


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes on the real Redis broker and the test PostgreSQL database."""
    from django.conf import settings

    redis_flush(settings.CELERY_BROKER_URL)
    workers: list[WorkerProcess] = []

    def start(**kwargs: object) -> WorkerProcess:
        worker = WorkerProcess(worker_env(), tmp_path / f"worker-{len(workers)}.log", **kwargs)  # type: ignore[arg-type]
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    redis_flush(settings.CELERY_BROKER_URL)


def wait_for(predicate: Callable[[], bool], timeout: float, message: str, workers: list[WorkerProcess] = ()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    logs = "\n".join(worker.output()[-4000:] for worker in workers)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}\n{logs}")


@pytest.fixture
def media_root(settings: object, tmp_path: Path) -> Path:
    """A fresh MEDIA_ROOT for tests that do not share files with worker processes."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root  # type: ignore[attr-defined]
    return root


# --- Browser tests: Debian's Chromium driven by Playwright -------------------------------------------
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"]


@pytest.fixture
def chromium(request: pytest.FixtureRequest) -> Iterator[object]:
    """A headless Chromium; a test adds launch flags with `@pytest.mark.chromium_args(...)`."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are still sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    marker = request.node.get_closest_marker("chromium_args")
    extra = list(marker.args) if marker else []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS + extra)
        yield browser
        # The ORM opened a connection in Playwright's context: close it there, or the test database
        # cannot be dropped at the end of the run.
        from django.db import connections

        connections.close_all()
        browser.close()


@pytest.fixture
def browser_page(chromium: object) -> object:
    """A page at desktop width in the `chromium` browser."""
    return chromium.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
