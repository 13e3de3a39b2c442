"""The `msav` command line against a real live server: login, chunked submit with a progress bar,
resume after a connection dropped at 90%, status; and the installed entry point."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from leaderboard import cli, services
from leaderboard.models import Submission, UploadSession
from scoring import engine
from scoring.models import SubmissionScore
from tests.conftest import REPO_ROOT
from tests.factories import demo_archive, demo_models, import_demo_suite, model_entry, user_with_role
from tests.researchers.uploads import send_truncated_chunk, wait_for_offset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "msav" / "config.json"
    monkeypatch.setenv("MSAV_CONFIG", str(path))
    return path


@pytest.fixture
def platform(live_server, demo_dir: Path, media_root: Path, config_file: Path):  # type: ignore[no-untyped-def]
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")
    model = model_entry("CLI Model", owner=owner)
    _token, key = services.api_token_create(user=owner, name="cli")
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])
    return {"url": live_server.url, "suite": suite, "model": model, "key": key, "archive": archive, "owner": owner}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_login_stores_the_token_readable_by_the_owner_only(platform, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("login", "--url", platform["url"], "--token", platform["key"])

    assert code == 0, err
    assert "as rita (researcher)" in out
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert json.loads(config_file.read_text()) == {"url": platform["url"], "token": platform["key"]}

    code, _out, err = run("login", "--url", platform["url"], "--token", "msav_wrong")
    assert code == 1 and "invalid or revoked API token" in err and "(HTTP 401)" in err
    assert json.loads(config_file.read_text())["token"] == platform["key"]  # a failed login changes nothing


def test_submit_uploads_in_chunks_with_a_progress_bar(platform) -> None:  # type: ignore[no-untyped-def]
    run("login", "--url", platform["url"], "--token", platform["key"])
    size = platform["archive"].stat().st_size

    code, out, err = run(
        "submit", str(platform["archive"]), "--model", "CLI Model", "--suite", platform["suite"].name,
        "--chunk-size", str(size // 5 + 1),
    )

    assert code == 0, err
    submission = Submission.objects.get()
    assert f"Submission {submission.pk}: uploaded" in out and f"/submissions/{submission.pk}/" in out
    assert "100.0%" in err and "[" + "#" * 30 + "]" in err  # the bar reached the end
    assert err.count("\r") >= 6  # it moved chunk by chunk (5 or 6 chunks plus the start)
    assert Path(submission.archive.path).read_bytes() == platform["archive"].read_bytes()
    assert not submission.is_public  # private unless --publish
    assert json.loads(cli.uploads_state_path().read_text()) == {}  # nothing left to resume


def test_submit_resumes_after_a_connection_dropped_at_90_percent(platform) -> None:  # type: ignore[no-untyped-def]
    run("login", "--url", platform["url"], "--token", platform["key"])
    payload = platform["archive"].read_bytes()
    total = len(payload)
    # A first `msav submit` that died at 90%: its upload exists, its state file names it.
    config = cli.config_load()
    client = cli.Client.from_config(config)
    args = cli.build_parser().parse_args(
        ["submit", str(platform["archive"]), "--model", "CLI Model", "--suite", platform["suite"].name, "--publish"]
    )
    upload = cli._resume_or_create(client, platform["archive"], total, hashlib.sha256(payload).hexdigest(), args, io.StringIO())
    ninety = int(total * 0.9)
    send_truncated_chunk(platform["url"], upload["id"], platform["key"], payload, 0, total, sent=ninety)
    wait_for_offset(platform["url"], upload["id"], platform["key"], ninety)

    code, out, err = run(
        "submit", str(platform["archive"]), "--model", "CLI Model", "--suite", platform["suite"].name, "--publish"
    )

    assert code == 0, err
    assert f"Resuming upload {upload['id']} at byte {ninety} of {total}" in err
    assert UploadSession.objects.get().state == "complete"
    submission = Submission.objects.get()
    assert Path(submission.archive.path).read_bytes() == payload and submission.is_public


def test_status_shows_state_clips_refusals_and_scores(platform) -> None:  # type: ignore[no-untyped-def]
    run("login", "--url", platform["url"], "--token", platform["key"])
    code, out, _ = run("submit", str(platform["archive"]), "--model", "cli-model", "--suite", platform["suite"].name, "--quiet")
    submission = Submission.objects.get()
    services.submission_validate(submission_id=submission.pk)

    code, out, err = run("status", str(submission.pk))
    assert code == 0, err
    assert "state: queued" in out and "visibility: private" in out and "clips: 0 of" in out

    Submission.objects.filter(pk=submission.pk).update(state=Submission.State.SCORED)
    SubmissionScore.objects.create(
        submission=submission, engine_version=engine.ENGINE_VERSION, overall=0.5,
        dimensions={"video": 0.75, "audio": 0.5, "shot": 0.25, "reference": None, "sync": 0.5},
        breakdowns={}, prompts_total=4, prompts_scored=4,
    )
    code, out, _ = run("status", str(submission.pk))
    assert "overall: 0.500 (video 0.750, audio 0.500, shot 0.250, reference —, sync 0.500)" in out
    code, out, _ = run("status", str(submission.pk), "--json")
    assert json.loads(out)["progress"]["scores"]["overall"] == 0.5


def test_errors_are_one_clear_line(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run("status", "1")
    assert code == 1 and "not logged in" in err
    run("login", "--url", platform["url"], "--token", platform["key"])
    code, _out, err = run("submit", str(platform["archive"]), "--model", "nobody", "--suite", platform["suite"].name)
    assert code == 1 and 'model "nobody": no such model' in err and "(HTTP 404)" in err
    code, _out, err = run("submit", str(tmp_path / "missing.zip"), "--model", "cli-model", "--suite", "x")
    assert code == 1 and "no such file" in err
    code, _out, err = run("status", "999999")
    assert code == 1 and "no such submission" in err


def test_the_installed_msav_command_runs(platform, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    run("login", "--url", platform["url"], "--token", platform["key"])
    code, _, _ = run("submit", str(platform["archive"]), "--model", "cli-model", "--suite", platform["suite"].name, "--quiet")
    submission = Submission.objects.get()

    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "msav"), "status", str(submission.pk)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "MSAV_CONFIG": str(config_file)},
    )

    assert result.returncode == 0, result.stderr
    assert f"Submission {submission.pk}: model CLI Model" in result.stdout and "state: uploaded" in result.stdout


class DroppingSession(cli.requests.Session):
    """A real HTTP session whose first chunk really reaches the server only in part, then the connection
    fails: what the client sees when the network drops in the middle of a request."""

    def __init__(self, base_url: str, key: str, fraction: float) -> None:
        super().__init__()
        self.base_url, self.key, self.fraction = base_url, key, fraction
        self.dropped = False

    def patch(self, url, data=None, **kwargs):  # type: ignore[no-untyped-def, override]
        if not self.dropped:
            self.dropped = True
            start, _, total = kwargs["headers"]["Content-Range"].removeprefix("bytes ").replace("/", "-").split("-")
            upload_id = url.rstrip("/").rsplit("/", 1)[-1]
            send_truncated_chunk(self.base_url, upload_id, self.key, data, int(start), int(total), int(len(data) * self.fraction))
            raise cli.requests.ConnectionError("connection reset by peer")
        return super().patch(url, data=data, **kwargs)


def test_a_connection_dropped_mid_chunk_is_retried_from_the_servers_offset(platform) -> None:  # type: ignore[no-untyped-def]
    run("login", "--url", platform["url"], "--token", platform["key"])
    payload = platform["archive"].read_bytes()
    total = len(payload)
    client = cli.Client.from_config(cli.config_load())
    client.session = DroppingSession(platform["url"], platform["key"], fraction=0.9)
    client.session.headers["Authorization"] = f"Token {platform['key']}"
    args = cli.build_parser().parse_args(["submit", str(platform["archive"]), "--model", "cli-model", "--suite", platform["suite"].name])
    upload = cli._resume_or_create(client, platform["archive"], total, hashlib.sha256(payload).hexdigest(), args, io.StringIO())
    waits: list[float] = []

    cli.upload_chunks(client, upload, platform["archive"], total, chunk_bytes=total, bar=None, sleep=waits.append)

    assert waits == [2]  # one back-off, then it asked the server where to go on
    session = UploadSession.objects.get()
    assert session.received == total
    response = client.request("POST", f"uploads/{upload['id']}/complete/", expect=(201,))
    assert Path(Submission.objects.get(pk=response.json()["id"]).archive.path).read_bytes() == payload


def test_status_follow_ends_with_the_outcome(platform) -> None:  # type: ignore[no-untyped-def]
    run("login", "--url", platform["url"], "--token", platform["key"])
    run("submit", str(platform["archive"]), "--model", "cli-model", "--suite", platform["suite"].name, "--quiet")
    submission = Submission.objects.get()
    services.submission_transition(submission_id=submission.pk, to=Submission.State.VALIDATING)
    services.submission_transition(submission_id=submission.pk, to=Submission.State.FAILED, reason="not an archive")

    code, out, _ = run("status", str(submission.pk), "--follow", "--interval", "0.1")

    assert code == 1 and "failed" in out and "(not an archive)" in out
