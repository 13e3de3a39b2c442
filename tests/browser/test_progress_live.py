"""In Chromium (Playwright): the submission page follows scoring live, without a reload.

The test plays the worker's part in-process (the same services a worker calls), one step at a time,
and checks that each step appears on the open page: clips done / total and the progress bar, each
clip's status, a failed generation with its reason, then the scores.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from leaderboard import services
from scoring import services as scoring_services
from tests.conftest import SCREENSHOTS
from tests.factories import demo_archive, import_demo_suite, model_entry, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def test_the_submission_page_shows_scoring_progress_live(  # type: ignore[no-untyped-def]
    browser_page, live_server, demo_dir: Path, settings
) -> None:
    settings.MSAV_ENGINE_EXPERT_MODELS = False  # the fast signal-processing path: this is about the page
    suite = import_demo_suite(demo_dir)
    owner = user_with_role("rita")  # password "pw-rita"
    submission = services.submission_create(
        owner=owner, model=model_entry("Live Model", owner=owner), suite=suite,
        archive=io.BytesIO(demo_archive(demo_dir, "aurora-av").read_bytes()), archive_name="live.zip",
        is_public=False, enforce_quota=False,
    )
    clip_ids = services.submission_validate(submission_id=submission.pk)
    total = len(clip_ids)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/?next=/submissions/{submission.pk}/")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", "pw-rita")
    page.click("main button[type=submit]")
    page.wait_for_selector("#state.state-queued")
    assert page.locator("#count").inner_text() == f"0 / {total} clips done"
    page.wait_for_selector("#live-note", state="visible")  # shown once the page's script starts polling
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    scoring_services.clip_score(clip_id=clip_ids[0])
    page.wait_for_function(f"document.getElementById('count').textContent === '1 / {total} clips done'")
    assert page.locator("#state").inner_text() == "scoring"
    assert page.locator(f"#clip-rows tr[data-clip='{clip_ids[0]}'] td.status").inner_text() == "scored"
    assert page.locator("#bar").evaluate("bar => bar.value") == 1
    page.screenshot(path=str(SCREENSHOTS / "pipeline-progress-scoring.png"), full_page=True)

    reason = "over the memory limit: scoring it took 1203 MiB of resident memory (limit 500 MiB per clip)"
    scoring_services.clip_fail(clip_id=clip_ids[1], reason=reason)
    page.wait_for_selector("#failures:not([hidden])")
    assert reason in page.locator("#failure-list").inner_text()
    assert page.locator(f"#clip-rows tr[data-clip='{clip_ids[1]}'] td.reason").inner_text() == reason
    assert page.locator("#by-status .status-failed").inner_text() == "1 failed"

    for clip_id in clip_ids[2:]:
        scoring_services.clip_score(clip_id=clip_id)
    scoring_services.submission_finish_if_complete(submission_id=submission.pk)
    page.wait_for_selector("#state.state-scored")
    page.wait_for_selector("#scores:not([hidden])")
    assert page.locator("#count").inner_text() == f"{total} / {total} clips done"
    assert page.locator("#percent").inner_text() == "(100%)"
    assert page.locator("#score-overall").inner_text() != "\u2014"
    assert page.locator("#live-note").is_hidden()
    assert page.evaluate("window.__sameDocument") is True  # every update came without a reload
    page.screenshot(path=str(SCREENSHOTS / "pipeline-progress-scored.png"), full_page=True)
