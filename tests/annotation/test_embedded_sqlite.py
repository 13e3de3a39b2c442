"""The annotation API on the embedded default (SQLite): its hand-written statements (annotation/queries.py) and the
portable slot take run there too. The rest of the suite runs on PostgreSQL, so this runs in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.pipeline.test_embedded_default import embedded_env, manage

SCRIPT = """
import json
import django
django.setup()
from django.test import Client
from annotation.loadbench import count_check, seed
from annotation.models import Judgment, PairSlot, Task

world = seed(models=3, prompts=2, annotators=2, overlap=1)
client = Client()
report = {"tasks": [], "replays": []}
for token in world["tokens"]:
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    while True:
        answer = client.post("/api/annotation/next/", {"campaign": world["campaign"]}, content_type="application/json", **headers)
        assert answer.status_code == 200, answer.content
        task = answer.json()["task"]
        if task is None:
            report["empty_message"] = answer.json()["message"]
            break
        again = client.post("/api/annotation/next/", {"campaign": world["campaign"]}, content_type="application/json", **headers)
        assert again.json()["resumed"] and again.json()["task"]["id"] == task["id"]
        body = {"task": task["id"], "votes": {d: {"outcome": "a"} for d in world["dimensions"]}, "client_elapsed_ms": 1200}
        first = client.post("/api/annotation/judgments/", body, content_type="application/json", **headers)
        replay = client.post("/api/annotation/judgments/", body, content_type="application/json", **headers)
        report["tasks"].append([first.status_code, first.json()["progress"]["done_total"], len(task["prompt"]["shots"]) >= 0])
        report["replays"].append(replay.status_code)
report["counts"] = count_check(campaign_id=world["campaign"])
report["pairs"] = world["pairs"]
report["slots_done"] = PairSlot.objects.filter(state="done").count()
report["judgment_times_ok"] = all(j.created_at.tzinfo is not None for j in Judgment.objects.all())
report["finished_ok"] = all(t.finished_at >= t.served_at for t in Task.objects.filter(state="submitted"))
print(json.dumps(report))
"""


def test_annotation_next_and_submit_on_sqlite(tmp_path: Path) -> None:
    env = embedded_env(tmp_path / "var")
    manage(env, "migrate", "--noinput")
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    # 3 models x 2 prompts: 3 model pairs per prompt = 6 pairs, overlap 1: the first annotator takes all six.
    assert report["pairs"] == 6
    assert [status for status, _, _ in report["tasks"]] == [201] * 6
    assert [done for _, done, _ in report["tasks"]] == [1, 2, 3, 4, 5, 6]
    assert report["replays"] == [200] * 6
    assert "no task is left" in report["empty_message"]
    assert report["counts"] == {"submitted_tasks": 6, "judgment_rows": 18, "duplicate_rows": 0, "max_per_pair": 1}
    assert report["slots_done"] == 6 and report["judgment_times_ok"] and report["finished_ok"]
