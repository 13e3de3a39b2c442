"""`msav`: the MSAV Arena command line. Log in with an API token, submit archives with a resumable
chunked upload and a progress bar, follow a submission's validation and scoring.

It talks only to the REST API (the same one documented at /api/docs/) and needs no Django.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import requests

DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
TERMINAL_STATES = ("scored", "failed", "cancelled")
RETRIES = 8
# How the platform lists its dimensions (scoring/engine/catalog.py); the CLI does not import the engine.
DIMENSION_ORDER = ("video", "audio", "shot", "reference", "sync")


class CliError(Exception):
    """Something the user can act on; printed as `msav: error: <message>` with exit status 1."""


# --- Configuration ------------------------------------------------------------------------------


def config_path() -> Path:
    if os.environ.get("MSAV_CONFIG"):
        return Path(os.environ["MSAV_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "msav" / "config.json"


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON readable by the owner only (0600), replacing the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def config_load(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CliError(f"{path}: unreadable configuration ({error}); run `msav login` again") from error
    return data if isinstance(data, dict) else {}


def config_save(data: dict[str, Any], path: Path | None = None) -> Path:
    path = path or config_path()
    _write_private(path, data)
    return path


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Client:
    url: str
    token: str
    session: requests.Session

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Client:
        if not config.get("url") or not config.get("token"):
            raise CliError("not logged in: run `msav login --url URL` with a token from your account page")
        session = requests.Session()
        session.headers["Authorization"] = f"Token {config['token']}"
        session.headers["User-Agent"] = "msav-cli/1"
        return cls(url=config["url"].rstrip("/"), token=config["token"], session=session)

    def api(self, path: str) -> str:
        return f"{self.url}/api/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        try:
            response = self.session.request(method, self.api(path), **kwargs)
        except requests.RequestException as error:
            raise CliError(f"cannot reach {self.url}: {error}") from error
        if response.status_code not in expect:
            raise CliError(api_message(response))
        return response


def api_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        message = str(body["message"])
        fields = (body.get("extra") or {}).get("fields") if isinstance(body.get("extra"), dict) else None
        if fields and not message.startswith("Validation error:"):  # older servers sent the fields alone
            message += ": " + "; ".join(f"{name}: {' '.join(map(str, errs))}" for name, errs in fields.items())
        return f"{message} (HTTP {response.status_code})"
    return f"HTTP {response.status_code} from {response.url}"


# --- Progress bar ----------------------------------------------------------------------------------


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover


class ProgressBar:
    def __init__(self, total: int, stream: TextIO, label: str = "upload") -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.label = label
        self.started = time.monotonic()
        self.first = 0

    def start_at(self, done: int) -> None:
        self.first = done
        self.update(done)

    def update(self, done: int) -> None:
        fraction = min(done / self.total, 1.0)
        width = 30
        filled = int(round(fraction * width))
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (done - self.first) / elapsed
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% "
            f"{format_bytes(done)} / {format_bytes(self.total)} {format_bytes(rate)}/s   "
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


# --- Upload state (for resuming) -------------------------------------------------------------------


def uploads_state_path() -> Path:
    return config_path().with_name("uploads.json")


def upload_key(url: str, sha256: str, size: int, model: str, suite: str, suite_version: str) -> str:
    return "|".join((url, sha256, str(size), model, suite, suite_version))


def uploads_state_load() -> dict[str, str]:
    path = uploads_state_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def uploads_state_store(key: str, upload_id: str | None) -> None:
    state = uploads_state_load()
    if upload_id is None:
        state.pop(key, None)
    else:
        state[key] = upload_id
    _write_private(uploads_state_path(), state)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


# --- Commands ---------------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = config_load()
    url = (args.url or config.get("url") or "").rstrip("/")
    if not url:
        url = input("MSAV Arena URL (e.g. https://arena.example.org): ").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f'URL "{url}": must start with http:// or https://')
    token = args.token or os.environ.get("MSAV_TOKEN") or getpass.getpass("API token (from your account page): ").strip()
    if not token:
        raise CliError("no token given")
    client = Client.from_config({"url": url, "token": token})
    me = client.request("GET", "me/").json()
    path = config_save({"url": url, "token": token})
    roles = ", ".join(me.get("roles") or []) or "no role"
    out.write(f"Logged in to {url} as {me['username']} ({roles}). Configuration saved to {path} (mode 0600).\n")
    return 0


def _resume_or_create(
    client: Client, archive: Path, size: int, sha256: str, args: argparse.Namespace, err: TextIO
) -> dict[str, Any]:
    key = upload_key(client.url, sha256, size, args.model, args.suite, args.suite_version or "")
    known = uploads_state_load().get(key)
    if known:
        response = client.session.get(client.api(f"uploads/{known}/"), timeout=60)
        if response.status_code == 200 and response.json().get("state") in ("open", "complete"):
            upload = response.json()
            if upload["state"] == "open":
                err.write(f"Resuming upload {known} at byte {upload['offset']} of {size}.\n")
            return upload
        uploads_state_store(key, None)
    upload = client.request(
        "POST",
        "uploads/",
        expect=(201,),
        json={
            "filename": archive.name,
            "total_size": size,
            "sha256": sha256,
            "model": args.model,
            "suite": args.suite,
            "suite_version": args.suite_version or "",
            "publish": bool(args.publish),
        },
    ).json()
    uploads_state_store(key, upload["id"])
    return upload


def _current_offset(client: Client, upload_id: str) -> int:
    response = client.session.head(client.api(f"uploads/{upload_id}/"), timeout=60)
    if response.status_code != 200 or "Upload-Offset" not in response.headers:
        raise CliError(f"upload {upload_id}: cannot read its offset (HTTP {response.status_code})")
    return int(response.headers["Upload-Offset"])


def upload_chunks(
    client: Client,
    upload: dict[str, Any],
    archive: Path,
    size: int,
    *,
    chunk_bytes: int,
    bar: ProgressBar | None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send the bytes from the upload's offset in Content-Range chunks; after a broken connection or a
    server error, ask for the offset again and go on from there (a few retries with back-off)."""
    upload_id = upload["id"]
    chunk_bytes = min(chunk_bytes, int(upload.get("chunk_max_bytes") or chunk_bytes))
    offset = int(upload["offset"])
    if bar:
        bar.start_at(offset)
    failures = 0
    with open(archive, "rb") as handle:
        while offset < size:
            handle.seek(offset)
            data = handle.read(min(chunk_bytes, size - offset))
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{size}",
            }
            try:
                response = client.session.patch(client.api(f"uploads/{upload_id}/"), data=data, headers=headers, timeout=300)
            except requests.RequestException as error:
                response = None
                problem = f"connection broke: {error}"
            else:
                if response.status_code == 200:
                    offset = int(response.headers.get("Upload-Offset", offset + len(data)))
                    failures = 0
                    if bar:
                        bar.update(offset)
                    continue
                if response.status_code < 500 and response.status_code not in (409, 408):
                    raise CliError(api_message(response))
                problem = api_message(response)
            failures += 1
            if failures > RETRIES:
                raise CliError(f"upload {upload_id}: gave up after {RETRIES} retries ({problem}); run the same command to resume")
            sleep(min(2 ** failures, 30))
            try:
                offset = _current_offset(client, upload_id)
            except (CliError, requests.RequestException):
                continue  # still unreachable: the next attempt asks again
    if bar:
        bar.finish()


def cmd_submit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client = Client.from_config(config_load())
    archive = Path(args.archive)
    if not archive.is_file():
        raise CliError(f"{archive}: no such file")
    size = archive.stat().st_size
    if size == 0:
        raise CliError(f"{archive}: the file is empty")
    err.write(f"Hashing {archive.name} ({format_bytes(size)})…\n")
    sha256 = file_sha256(archive)
    upload = _resume_or_create(client, archive, size, sha256, args, err)
    key = upload_key(client.url, sha256, size, args.model, args.suite, args.suite_version or "")
    if upload["state"] == "open":
        bar = None if args.quiet else ProgressBar(size, err)
        upload_chunks(client, upload, archive, size, chunk_bytes=args.chunk_size, bar=bar)
        submission = client.request("POST", f"uploads/{upload['id']}/complete/", expect=(201,)).json()
    else:
        submission = client.request("GET", f"submissions/{upload['submission']}/").json()
    uploads_state_store(key, None)
    out.write(f"Submission {submission['id']}: {submission['state']} · {client.url}{submission['url_page']}\n")
    if args.follow:
        return follow(client, submission["id"], out, interval=args.interval)
    out.write(f"Follow it with: msav status {submission['id']} --follow\n")
    return 0


def describe_submission(detail: dict[str, Any], out: TextIO) -> None:
    progress = detail.get("progress") or {}
    out.write(
        f"Submission {detail['id']}: model {detail['model_name']} on {detail['suite']} {detail['suite_version']}\n"
        f"  state: {detail['state']}{' (' + detail['state_reason'] + ')' if detail.get('state_reason') else ''}\n"
        f"  visibility: {detail['visibility']}\n"
        f"  clips: {progress.get('clips_done', 0)} of {progress.get('clips_total', 0)} done\n"
    )
    for clip in progress.get("clips", []):
        if clip["status"] != "scored" or clip.get("reason"):
            out.write(f"    {clip['prompt']}: {clip['status']}{' — ' + clip['reason'] if clip.get('reason') else ''}\n")
    for refused in progress.get("refused", []):
        out.write(f"  refused: {refused['reason']}\n")
    scores = progress.get("scores")
    if scores:
        dimensions = scores["dimensions"]
        order = [name for name in DIMENSION_ORDER if name in dimensions] + sorted(set(dimensions) - set(DIMENSION_ORDER))
        dims = ", ".join(
            f"{name} {dimensions[name]:.3f}" if dimensions[name] is not None else f"{name} —" for name in order
        )
        out.write(f"  overall: {scores['overall']:.3f} ({dims}); engine {scores['engine_version']}\n")


def follow(client: Client, submission_id: int, out: TextIO, *, interval: float, timeout: float = 3600) -> int:
    deadline = time.monotonic() + timeout
    last = None
    while True:
        detail = client.request("GET", f"submissions/{submission_id}/").json()
        progress = detail.get("progress") or {}
        line = f"{detail['state']} · {progress.get('clips_done', 0)}/{progress.get('clips_total', 0)} clips"
        if line != last:
            out.write(line + "\n")
            out.flush()
            last = line
        if detail["state"] in TERMINAL_STATES:
            describe_submission(detail, out)
            return 0 if detail["state"] == "scored" else 1
        if time.monotonic() > deadline:
            raise CliError(f"submission {submission_id}: still {detail['state']} after {timeout:.0f} s")
        time.sleep(interval)


def cmd_status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client = Client.from_config(config_load())
    if args.follow:
        return follow(client, args.id, out, interval=args.interval)
    detail = client.request("GET", f"submissions/{args.id}/").json()
    if args.json:
        out.write(json.dumps(detail, indent=2) + "\n")
    else:
        describe_submission(detail, out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="msav", description="MSAV Arena command line: log in, submit, follow.")
    commands = parser.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="store the platform URL and an API token (file mode 0600)")
    login.add_argument("--url", help="the platform's address, e.g. https://arena.example.org")
    login.add_argument("--token", help="an API token from your account page (default: $MSAV_TOKEN or a prompt)")
    login.set_defaults(run=cmd_login)

    submit = commands.add_parser("submit", help="upload an archive (resumable) and create a submission")
    submit.add_argument("archive", help="a .zip or .tar.gz with one <prompt id>.mp4 per prompt")
    submit.add_argument("--model", required=True, help="your model's name or slug")
    submit.add_argument("--suite", required=True, help="the suite's name")
    submit.add_argument("--suite-version", default="", help="default: the latest version")
    submit.add_argument("--publish", action="store_true", help="show it on the public leaderboard once scored")
    submit.add_argument("--follow", action="store_true", help="wait and print progress until it is scored")
    submit.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_BYTES, help="bytes per chunk (default 8 MiB)")
    submit.add_argument("--interval", type=float, default=2.0, help="seconds between progress checks")
    submit.add_argument("--quiet", action="store_true", help="no progress bar")
    submit.set_defaults(run=cmd_submit)

    status = commands.add_parser("status", help="a submission's state, clips, refused members and scores")
    status.add_argument("id", type=int)
    status.add_argument("--json", action="store_true", help="the API's JSON as is")
    status.add_argument("--follow", action="store_true", help="wait until it is scored or failed")
    status.add_argument("--interval", type=float, default=2.0)
    status.set_defaults(run=cmd_status)
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, out, err))
    except CliError as error:
        err.write(f"msav: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        err.write("\nmsav: interrupted; run the same command again to resume the upload\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
