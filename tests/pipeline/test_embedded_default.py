"""The embedded default, as `make run` uses it: SQLite, the file broker and a real worker process, no services."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO_ROOT, WorkerProcess, demo_slice_models

EMBEDDED_ENV_DROP = ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE")


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED_ENV_DROP}
    env["VAR_DIR"] = str(var_dir)
    env["PYTHONUNBUFFERED"] = "1"
    # This proves the embedded services, not the engine: its fast signal-processing path will do.
    env["MSAV_ENGINE_EXPERT_MODELS"] = "false"
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert completed.returncode == 0, f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def test_embedded_default_scores_the_demo_with_a_worker_process(demo_dir: Path, tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = embedded_env(var_dir)
    demo_copy = tmp_path / "demo"
    shutil.copytree(demo_dir, demo_copy)
    model = demo_slice_models()[0]

    manage(env, "migrate", "--noinput")
    seeded = manage(env, "setup_demo", "--out", str(demo_copy), "--models", model)
    assert "1 submissions queued" in seeded, seeded
    assert (var_dir / "db.sqlite3").is_file() and any((var_dir / "broker" / "queue").iterdir())

    worker = WorkerProcess(env, tmp_path / "worker.log", concurrency=1)
    try:
        database = sqlite3.connect(var_dir / "db.sqlite3", timeout=30)
        deadline = time.monotonic() + 240
        state = None
        while time.monotonic() < deadline:
            row = database.execute("SELECT state FROM leaderboard_submission").fetchone()
            state = row[0] if row else None
            if state in ("scored", "failed"):
                break
            time.sleep(1)
        assert state == "scored", f"submission state {state!r}\n{worker.output()[-4000:]}"
        scores = database.execute("SELECT overall, prompts_total FROM scoring_submissionscore").fetchall()
        assert len(scores) == 1 and 0 < scores[0][0] <= 1
        pending = database.execute(
            "SELECT count(*) FROM leaderboard_clip WHERE status NOT IN ('scored', 'failed', 'missing')"
        ).fetchone()[0]
        assert pending == 0
    finally:
        worker.stop()

    # Re-running the setup is safe: nothing is submitted twice.
    again = manage(env, "setup_demo", "--out", str(demo_copy), "--models", model)
    assert "0 submissions queued" in again
