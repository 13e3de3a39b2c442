"""In Chromium (Playwright): a researcher logs in, registers a model, uploads an archive, watches it get scored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SCREENSHOTS
from tests.factories import demo_archive, demo_models, import_demo_suite, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.pipeline, pytest.mark.django_db(transaction=True)]



def test_researcher_uploads_in_the_browser_and_sees_it_ranked(
    browser_page, live_server, start_worker, demo_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    import_demo_suite(demo_dir)
    user_with_role("rita")  # password "pw-rita"
    entry = demo_models(demo_dir)[0]
    start_worker(concurrency=2)
    page = browser_page

    page.goto(f"{live_server.url}/accounts/login/?next=/submit/")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", "pw-rita")
    page.click("main button[type=submit]")
    page.click("text=Register a model")
    page.fill("input[name=name]", "Browser Model")
    page.fill("input[name=organisation]", "Playwright Lab")
    page.click("main button[type=submit]")
    page.set_input_files("input[name=archive]", str(demo_archive(demo_dir, entry["slug"])))
    page.check("input[name=is_public]")  # private unless published: publish once scored
    page.screenshot(path=str(SCREENSHOTS / "upload-form.png"), full_page=True)
    page.click("main button[type=submit]")

    page.wait_for_url("**/submissions/*/")
    page.wait_for_selector("#state.state-scored", timeout=180_000)  # the page updates itself, no reload
    page.screenshot(path=str(SCREENSHOTS / "submission-scored.png"), full_page=True)
    assert page.locator("#count").inner_text().startswith(page.locator("#bar").get_attribute("max"))
    assert page.locator("#score-overall").inner_text() != "—"
    page.click("#clip-rows a >> nth=0")  # a clip's score links to its metrics and evidence
    assert '"evidence"' in page.content() and '"tool"' in page.content()
    page.go_back()
    page.wait_for_selector("#state.state-scored")

    page.click("text=Leaderboard")
    page.wait_for_selector("table.leaderboard")
    page.screenshot(path=str(SCREENSHOTS / "leaderboard.png"), full_page=True)
    # A one-prompt submission is shown, labelled provisional (too few prompts scored to rank firmly).
    first_row = page.locator("table.leaderboard tbody tr").first
    assert first_row.locator("th a").inner_text() == "Browser Model"
    assert "provisional" in first_row.locator("th").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "leaderboard-phone.png"), full_page=True)

