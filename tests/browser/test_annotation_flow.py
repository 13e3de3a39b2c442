"""In Chromium (Playwright): an annotator logs in, watches both clips, votes on every question with the keyboard,
gets the next task at once; nothing the browser receives names a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation.models import Judgment, Task
from tests.annotation.world import annotator, build_world, make_campaign
from tests.conftest import SCREENSHOTS

# The page plays both clips itself after the annotator's key press, as a user gesture would allow.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.chromium_args("--autoplay-policy=user-gesture-required"),
]


@pytest.fixture
def browser_page(chromium):  # type: ignore[no-untyped-def]
    return chromium.new_page(viewport={"width": 1366, "height": 1000})


def _watch_and_vote(page, outcomes: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("document.getElementById('clip-a').readyState >= 1 && document.getElementById('clip-b').readyState >= 1")
    assert page.locator(".ann-choice").first.is_disabled()  # locked until both clips have played through
    page.keyboard.press("Space")  # play both
    page.wait_for_function("!document.getElementById('clip-a').paused")
    page.keyboard.press("h")  # hear B
    assert page.locator("#heard-b").is_visible() and not page.locator("#heard-a").is_visible()
    page.wait_for_function("!document.querySelector('.ann-choice').disabled", timeout=60_000)
    page.keyboard.press("2")  # jump both to shot 2
    page.wait_for_function("Math.abs(document.getElementById('clip-a').currentTime - document.getElementById('clip-b').currentTime) < 0.3")
    for outcome in outcomes:
        page.keyboard.press(outcome)
    assert page.locator(".ann-dimension.answered").count() == len(outcomes)
    assert not page.locator("#submit").is_disabled()


def test_annotator_watches_votes_by_keyboard_and_gets_the_next_task_blind(
    browser_page, live_server, demo_dir: Path, media_root: Path  # type: ignore[no-untyped-def]
) -> None:
    world = build_world(demo_dir, n_models=2, prompts=["advert-002", "dialogue-002"])
    campaign = make_campaign(world, overlap=1, min_watch_ratio=1.0)
    annotator("ada")  # password "pw-ada"
    forbidden = [word.lower() for entry in world.models for word in (entry.name, entry.slug)]
    forbidden += [entry.slug.replace("-", "_") for entry in world.models]
    seen: list[tuple[str, bytes]] = []
    page = browser_page

    def collect(response) -> None:  # type: ignore[no-untyped-def]
        try:
            body = response.body()
        except Exception:  # a media response the player aborted mid-stream has no body to read
            body = b""
        seen.append((response.url, body))

    page.on("response", collect)
    page.goto(f"{live_server.url}/accounts/login/?next=/annotate/{campaign.pk}/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-ada")
    page.click("main button[type=submit]")
    page.wait_for_selector("#task:not([hidden])")
    assert "Keyboard shortcuts" in page.content()
    first_prompt = page.locator("#prompt-id").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "annotation-locked.png"), full_page=True)

    _watch_and_vote(page, ["a", "g", "n"])
    page.screenshot(path=str(SCREENSHOTS / "annotation-voted.png"), full_page=True)
    with page.expect_response(lambda r: "/api/annotation/next/" in r.url):
        page.keyboard.press("Enter")
    page.wait_for_function(f"document.getElementById('prompt-id').textContent !== {first_prompt!r}")
    assert page.locator(".ann-dimension.answered").count() == 0  # a fresh task, loaded at once

    _watch_and_vote(page, ["b", "b", "a"])
    with page.expect_response(lambda r: "/api/annotation/next/" in r.url):
        page.keyboard.press("Enter")
    page.wait_for_selector("#notice:not([hidden])")
    assert "no task is left" in page.locator("#notice").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "annotation-done.png"), full_page=True)

    tasks = list(Task.objects.filter(annotator__username="ada").order_by("served_at"))
    assert [task.state for task in tasks] == ["submitted", "submitted"]
    assert all(task.client_elapsed_ms and task.server_elapsed_ms >= 5500 for task in tasks)  # clips last 6 and 10 s
    outcomes = {(j.task_id, j.dimension): j.outcome for j in Judgment.objects.all()}
    assert [outcomes[(tasks[0].pk, d)] for d in ("overall", "video", "audio")] == ["a", "both_good", "both_bad"]
    assert [outcomes[(tasks[1].pk, d)] for d in ("overall", "video", "audio")] == ["b", "b", "a"]

    # Blindness: no URL and no body the browser received (HTML, JSON, JS, CSS, the clips) names a model.
    media = [url for url, _ in seen if "/annotate/media/" in url]
    assert len(seen) > 10 and len(media) >= 4
    for url, body in seen:
        text = (url + "\n" + body.decode("latin-1")).lower()
        for word in forbidden:
            assert word not in text, f"{word!r} reached the browser in {url}"

    # The curator sees the campaign's progress and the annotator on the dashboard.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/?next=/curate/campaigns/{campaign.pk}/")
    page.fill("input[name=username]", "curie")
    page.fill("input[name=password]", "pw-curie")
    page.click("main button[type=submit]")
    page.wait_for_selector("#annotators")
    assert "2 of 2 judgments" in page.locator("#progress-text").inner_text()
    assert page.locator("#annotators tbody tr th").first.inner_text() == "ada"
    page.screenshot(path=str(SCREENSHOTS / "annotation-dashboard.png"), full_page=True)
