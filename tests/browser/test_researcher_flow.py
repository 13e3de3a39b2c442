"""In Chromium (Playwright): a researcher logs in, makes an API token, registers a model, drops a demo
archive on the upload page (progress bar), watches it get scored, publishes it, finds it on the leaderboard."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from leaderboard.models import ApiToken, ModelEntry, Submission
from tests.conftest import SCREENSHOTS, WorkerProcess, redis_flush, worker_env
from tests.factories import demo_archive, demo_models, import_demo_suite, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]


# Drop a file on the drop zone the way a desktop drag does: a DataTransfer holding a File.
DROP_FILE_JS = """
([selector, name, base64]) => {
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "application/zip"}));
  const zone = document.querySelector(selector);
  zone.dispatchEvent(new DragEvent("dragenter", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}
"""


@pytest.fixture
def dsp_worker(transactional_db: None, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real Celery worker on the DSP engine path: this test is about the researcher's flow, and the
    expert models would spend a minute per clip on two shared cores."""
    from django.conf import settings

    redis_flush(settings.CELERY_BROKER_URL)
    worker = WorkerProcess(worker_env(MSAV_ENGINE_EXPERT_MODELS="false"), tmp_path / "worker.log", concurrency=2)
    yield worker
    worker.stop()
    redis_flush(settings.CELERY_BROKER_URL)


def test_researcher_registers_uploads_publishes_and_is_ranked(
    browser_page, live_server, dsp_worker, demo_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    import_demo_suite(demo_dir)
    user_with_role("rhea")  # password "pw-rhea"
    archive = demo_archive(demo_dir, demo_models(demo_dir)[0]["slug"])
    page = browser_page

    page.goto(f"{live_server.url}/accounts/signup/")
    assert page.locator("input[name=role][value=researcher]").count() == 1
    assert page.locator("input[name=role][value=curator]").count() == 0  # curators are appointed, not self-made
    page.screenshot(path=str(SCREENSHOTS / "researchers-signup.png"), full_page=True)
    page.goto(f"{live_server.url}/accounts/login/?next=/account/")
    page.fill("input[name=username]", "rhea")
    page.fill("input[name=password]", "pw-rhea")
    page.click("main button[type=submit]")
    page.wait_for_url("**/account/")

    # An API token, shown once.
    page.fill("#token-form input[name=name]", "lab workstation")
    page.click("#token-form button[type=submit]")
    key = page.locator("#new-token-key").inner_text()
    assert re.fullmatch(r"msav_[A-Za-z0-9_-]{40,}", key)
    assert ApiToken.objects.get().prefix == key[:12]
    page.screenshot(path=str(SCREENSHOTS / "researchers-account-token.png"), full_page=True)

    # Register a model from the registry.
    page.click("nav >> text=Models")
    page.click("main >> text=Register a model")
    page.fill("input[name=name]", "Rhea AV-1")
    page.fill("input[name=organisation]", "Rhea Lab")
    page.fill("input[name=url]", "https://example.org/rhea")
    page.fill("input[name=license]", "CC-BY-4.0")
    page.select_option("select[name=paradigm]", "video-first+dubbing")
    page.select_option("select[name=task]", "TI2AV")
    page.screenshot(path=str(SCREENSHOTS / "researchers-model-form.png"), full_page=True)
    page.click("main button[type=submit]")
    page.wait_for_url("**/submit/")
    assert ModelEntry.objects.get(name="Rhea AV-1").paradigm == "video-first+dubbing"

    # Drop the archive on the drop zone; the progress bar runs; then the live submission page.
    payload = base64.b64encode(archive.read_bytes()).decode()
    page.evaluate(DROP_FILE_JS, ["#dropzone", archive.name, payload])
    assert archive.name in page.locator("#chosen-file").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "researchers-upload-dropped.png"), full_page=True)
    page.click("#upload-button")
    page.wait_for_url("**/submissions/*/", timeout=60_000)
    try:
        page.wait_for_selector("#state.state-scored", timeout=180_000)
    except Exception:
        raise AssertionError(f"not scored; worker log:\n{dsp_worker.output()[-4000:]}") from None
    page.screenshot(path=str(SCREENSHOTS / "researchers-submission-scored.png"), full_page=True)
    submission = Submission.objects.get()
    assert submission.archive_name == archive.name and not submission.is_public

    # Not on the leaderboard while private.
    page.click("nav >> text=Leaderboard")
    assert "Rhea AV-1" not in page.locator("main").inner_text()

    # Publish from "My submissions", then find it ranked.
    page.click("nav >> text=My submissions")
    row = page.locator(f"tr[data-submission='{submission.pk}']")
    assert row.locator(".visibility").inner_text().startswith("private")
    row.locator("button[data-action=publish]").click()
    page.wait_for_selector(f"tr[data-submission='{submission.pk}'] .visibility-public")
    page.screenshot(path=str(SCREENSHOTS / "researchers-my-submissions.png"), full_page=True)

    page.click("nav >> text=Leaderboard")
    page.wait_for_selector("table.leaderboard")
    assert "Rhea AV-1" in page.locator("table.leaderboard").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "researchers-leaderboard.png"), full_page=True)

    page.goto(f"{live_server.url}/models/rhea-av-1/")
    assert "video-first + dubbing" in page.locator("main").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "researchers-model-page.png"), full_page=True)
