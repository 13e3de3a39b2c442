"""In Chromium (Playwright): the public leaderboard sorted and filtered, a model page, a clip seeked from its
timeline, the agreement charts; screenshots at desktop and phone width and in dark mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SCREENSHOTS
from tests.factories import import_demo_suite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL = ("action-001", "narrative-001", "dialogue-002", "advert-002")


@pytest.fixture
def arena(demo_dir: Path, settings, tmp_path):  # type: ignore[no-untyped-def]
    """The demo suite with five public models (synthetic per-prompt scores), one clip really scored by the
    engine (its evidence has the shot boundaries), and a human-ranking snapshot."""
    from django.core.cache import cache

    from leaderboard.models import Clip
    from scoring import engine
    from scoring.engine.config import EngineConfig
    from scoring.services import clip_score_store
    from tests.public.factories import human_snapshot, model, scored_submission

    from leaderboard.cache import local_clear

    cache.clear()
    local_clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    suite = import_demo_suite(demo_dir)
    field = [
        ("aurora-av", "Aurora-AV", False, "joint", (0.92, 0.88, 0.85, 0.9)),
        ("driftsync", "DriftSync", True, "joint", (0.7, 0.65, 0.6, 0.72)),
        ("patchwork", "Patchwork", True, "modular-agentic", (0.55, 0.6, 0.9, 0.5)),
        ("dubline", "Dubline", False, "video-first+dubbing", (0.6, 0.4, 0.5, 0.62)),
        ("murmur", "Murmur", True, "joint", (0.3, 0.35, 0.4, 0.2)),
    ]
    for slug, name, is_open, paradigm, values in field:
        scored_submission(suite, model(slug, name=name, is_open=is_open, paradigm=paradigm), dict(zip(ALL, values)))
    clip = Clip.objects.get(submission__model__slug="aurora-av", prompt__prompt_id="advert-002")
    source = demo_dir / "clips" / "aurora-av" / "advert-002.mp4"
    target = Path(settings.MEDIA_ROOT) / "clips" / "aurora-advert-002.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    clip.file.name = "clips/aurora-advert-002.mp4"
    clip.save(update_fields=["file"])
    clip.scores.all().delete()
    result = engine.score_clip(target, clip.prompt.to_script(), config=EngineConfig(use_expert_models=False))
    # The correction loop made no change on this clip; a split at its last boundary, as the loop records one
    # (segmentation.Correction.to_dict), gives the page a correction to tell and to seek to.
    last = result.evidence["shots"]["boundaries_s"][-1]
    result.evidence["shots"]["corrections"] = [{
        "round": 1, "action": "split", "time_s": last, "frame": round(last * result.evidence["decode"]["fps"]), "confidence": 0.31,
        "reason": "detected 2 shots, script has 3: split the longest shot at its strongest sub-threshold peak",
    }]
    clip_score_store(clip_id=clip.pk, result=result)
    human_snapshot(
        suite,
        {"aurora-av": (1120, 1080, 1160, 90), "driftsync": (1030, 990, 1070, 80), "patchwork": (1060, 1010, 1110, 70),
         "dubline": (960, 910, 1010, 60), "murmur": (830, 780, 880, 50)},
        simulated_votes=20,
    )
    from leaderboard.cache import leaderboard_cache_invalidate

    leaderboard_cache_invalidate(suite_id=suite.pk)
    return {"suite": suite, "clip": clip, "boundaries": result.to_dict()["evidence"]["shots"]["boundaries_s"]}


def rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("table.leaderboard tbody tr").evaluate_all("rows => rows.map(r => r.dataset.model)")


def test_sort_and_filter_the_leaderboard(chromium, live_server, arena) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/")
    assert rows(page) == ["aurora-av", "driftsync", "patchwork", "dubline", "murmur"]
    page.screenshot(path=str(SCREENSHOTS / "public-leaderboard.png"), full_page=True)

    page.click("th[data-column=model] a")
    page.wait_for_url("**sort=model**")
    assert rows(page) == ["aurora-av", "driftsync", "dubline", "murmur", "patchwork"]
    assert page.get_attribute("th[data-column=model]", "aria-sort") == "ascending"

    page.select_option("#f-open", "open")  # applies at once with JavaScript (the Apply button without)
    page.wait_for_url("**open=open**")
    assert rows(page) == ["driftsync", "murmur", "patchwork"]
    assert "sort=model" in page.url  # the permalink keeps the sort

    page.goto(f"{live_server.url}/")
    page.select_option("#f-genre", "dialogue")  # re-rank on the dialogue prompt: Patchwork is best there
    page.wait_for_url("**genre=dialogue**")
    assert rows(page)[0] == "patchwork"
    assert page.locator("table.leaderboard tbody tr").first.locator("td.rank").inner_text() == "1"

    page.click("nav.tabs >> text=Side by side")
    page.wait_for_url("**tab=both**")
    assert page.locator("text=Δ rank").count() == 1 and page.locator(".badge.simulated").count() >= 1

    # Keyboard: the skip link comes first and moves focus to the content.
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # only the table scrolls sideways, not the page
    page.screenshot(path=str(SCREENSHOTS / "public-leaderboard-phone.png"), full_page=True)
    page.close()


def test_open_a_model_then_a_clip_and_seek_from_the_timeline(chromium, live_server, arena) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/")
    page.click("table.leaderboard >> text=Aurora-AV")
    page.wait_for_url("**/models/aurora-av/")
    page.wait_for_selector("#radar-chart svg.main-svg")
    assert page.locator(".chart.drawn").count() >= 4  # the radar and the breakdown bars
    page.screenshot(path=str(SCREENSHOTS / "public-model.png"), full_page=True)

    page.click("table.prompts >> text=advert-002")
    page.wait_for_url(f"**/clips/{arena['clip'].pk}/")
    page.wait_for_function("document.getElementById('player').readyState >= 2", timeout=20_000)
    marker = page.locator("[data-track=corrected] .marker").first
    target = float(marker.get_attribute("data-seek"))
    assert target == pytest.approx(arena["boundaries"][0])
    marker.focus()
    page.keyboard.press("Enter")  # a marker is a button: the keyboard seeks too
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {target}) < 0.05", timeout=10_000)
    page.wait_for_function("document.getElementById('playhead').dataset.time !== undefined")
    segment = page.locator("[data-track=script] .segment").nth(1)
    segment.click()
    second_start = float(segment.get_attribute("data-seek"))
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {second_start}) < 0.05", timeout=10_000)
    correction = page.locator("ul.corrections li").first
    assert "Round 1 · boundary added at" in correction.inner_text()
    correction.locator("button[data-seek]").click()  # the correction's time seeks the player too
    last = arena["boundaries"][-1]
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {last}) < 0.05", timeout=10_000)
    assert page.locator("table.metrics tbody tr").count() >= 10
    page.screenshot(path=str(SCREENSHOTS / "public-clip.png"), full_page=True)
    page.close()


def test_agreement_charts_render_in_dark_mode(chromium, live_server, arena) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, color_scheme="dark")
    page = context.new_page()
    suite = arena["suite"]
    page.goto(f"{live_server.url}/suites/{suite.name}/{suite.version}/agreement/")
    for chart in ("scatter", "history", "heatmap"):
        page.wait_for_selector(f"#{chart}-chart svg.main-svg", timeout=20_000)
    assert page.locator("#history-chart").inner_text().find("MSAVBench") >= 0  # the 0.915 reference line's label
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 24)"  # the dark theme is applied
    page.screenshot(path=str(SCREENSHOTS / "public-agreement-dark.png"), full_page=True)
    page.goto(f"{live_server.url}/")
    page.screenshot(path=str(SCREENSHOTS / "public-leaderboard-dark.png"), full_page=True)
    context.close()


def test_every_column_fits_a_laptop_and_no_page_overflows_a_phone(chromium, live_server, arena) -> None:  # type: ignore[no-untyped-def]
    suite = arena["suite"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/")
    # Names wrap and the "simulated" badge goes under the rating: votes, prompts and engine are on screen.
    widths = page.evaluate(
        "(() => { const t = document.querySelector('table.leaderboard'); return [t.scrollWidth, t.parentElement.clientWidth]; })()"
    )
    assert widths[0] <= widths[1], widths
    page.close()

    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    for path in (f"/suites/{suite.name}/{suite.version}/models/aurora-av/", f"/suites/{suite.name}/{suite.version}/agreement/",
                 f"/clips/{arena['clip'].pk}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        # Wide tables scroll inside their own box; the page itself never gets wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.screenshot(path=str(SCREENSHOTS / "public-clip-phone.png"), full_page=True)
    context.close()
