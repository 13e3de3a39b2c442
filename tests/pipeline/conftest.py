"""Fixtures of the pipeline proofs: worker processes with their own settings, a Redis server of our own,
a beat process, synthetic submissions built from the demo, and a pathological clip."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, WorkerProcess, redis_flush, wait_for, worker_env

# The pipeline proofs are about the pipeline, not the engine: the engine's fast signal-processing
# path keeps a clip well under a second, so a 20-clip submission scores in seconds.
FAST_ENGINE = {"MSAV_ENGINE_EXPERT_MODELS": "false"}
SYNTHETIC_MODEL = "aurora-av"  # has a clip for every prompt of the demo slice


def wait_ready(worker: WorkerProcess, timeout: float = 90) -> None:
    wait_for(lambda: " ready." in worker.output(), timeout, "the worker to be ready", [worker])


@pytest.fixture
def pipeline_workers(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `celery worker` processes with extra environment (limits, timeouts, another broker)."""
    from django.conf import settings

    redis_flush(settings.CELERY_BROKER_URL)
    workers: list[WorkerProcess] = []

    def start(*, queues: str = "bookkeeping,scoring", concurrency: int = 1, **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            worker_env(**(FAST_ENGINE | env)), tmp_path / f"worker-{len(workers)}.log", queues=queues, concurrency=concurrency
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    redis_flush(settings.CELERY_BROKER_URL)


def _free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, preferred + 50)]:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for a test Redis server")


class RedisServer:
    """A redis-server of this test's own (never the machine's shared one), without persistence:
    stopping it loses every message it held, as a crashed broker would."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(_free_port(6390), tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def beat(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `celery beat` (the reaper's clock) with extra environment."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "beat-schedule")],
            cwd=REPO_ROOT, env=worker_env(**env), stdout=open(tmp_path / "beat.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def synthetic_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """clips -> a folder with `suite/` (that many prompts) and `<model>.zip` (one real clip per prompt)."""
    from scoring.synthetic import replicate_demo

    built: dict[int, Path] = {}

    def build(clips: int) -> Path:
        if clips not in built:
            out = tmp_path_factory.mktemp(f"synthetic-{clips}")
            replicate_demo(demo_dir, out, model_slug=SYNTHETIC_MODEL, clips=clips, suite_version=f"{clips}")
            built[clips] = out
        return built[clips]

    return build


def write_heavy_clip(path: Path, *, frames: int = 18) -> Path:
    """An 8K H.264 clip with 16 reference frames: decoding it holds over a gigabyte and takes seconds,
    while the archive member stays a few megabytes (what a hostile or broken generator can send)."""
    import av

    width, height = 7680, 4320
    tile = np.random.default_rng(3).integers(0, 255, (height // 16, width // 16, 3), dtype=np.uint8)
    image = np.repeat(np.repeat(tile, 16, axis=0), 16, axis=1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(24))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30", "x264-params": "ref=16:bframes=0"}
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(image, 8 * index, axis=1), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def heavy_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_heavy_clip(tmp_path_factory.mktemp("heavy") / "heavy-8k.mp4")


def write_long_clip(path: Path, *, seconds: int = 600, size: tuple[int, int] = (160, 90), fps: int = 60) -> Path:
    """A tiny but ten-minute clip at 60 frames/s: 36,000 frames, which the engine decodes and segments one by
    one, so scoring it takes over ten times as long as a demo clip of 6-9 s (3.4-4.0 s against 0.27 s
    measured on 2 cores; at 24 frames/s it was only 1.4-2.2 s). tests/pipeline/test_clip_limits.py sets
    a time limit between the two."""
    import av

    width, height = size
    image = np.random.default_rng(5).integers(0, 255, (height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "35"}
        for index in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(np.roll(image, index, axis=1), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_long_clip(tmp_path_factory.mktemp("long") / "long-10min.mp4")
