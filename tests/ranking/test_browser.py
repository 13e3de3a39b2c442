"""In Chromium (Playwright): from the public agreement page to the disagreement explorer, with both clips playable."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings

from annotation.models import Judgment
from annotation.ranking import services
from tests.conftest import SCREENSHOTS
from tests.ranking.builders import annotators, judgments_create, scored_suite, simulated_votes
from tests.ranking.conftest import TRUTH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def write_clip(path: Path, colour: tuple[int, int, int]) -> None:
    """A real one-second H.264 clip (a flat colour), enough for the player to load."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        frame_data = np.zeros((48, 64, 3), dtype=np.uint8)
        frame_data[:] = colour
        for _ in range(10):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame_data, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_agreement_page_links_to_the_explorer_which_shows_both_clips(browser_page, live_server, settings_media, few_rounds) -> None:  # type: ignore[no-untyped-def]
    scored = scored_suite(truth=TRUTH, prompts=4, name="browser-ranking")
    colours = {"alpha": (200, 40, 40), "bravo": (40, 200, 40), "charlie": (40, 40, 200), "delta": (200, 200, 40), "echo": (40, 200, 200)}
    for (slug, _prompt), clip in scored.clips.items():
        write_clip(Path(settings.MEDIA_ROOT) / clip.file.name, colours[slug])
    judgments_create(simulated_votes(scored, votes=200, rng=np.random.default_rng(5)), annotators(3))
    people = annotators(3, prefix="person")
    for person in people:  # a strong real contradiction: people prefer echo's clip over alpha's on p-000
        Judgment.objects.create(annotator=person, clip_a=scored.clips[("alpha", "p-000")],
                                clip_b=scored.clips[("echo", "p-000")], dimension="overall", outcome="b")
    services.ranking_snapshot_compute(suite_id=scored.suite.pk, reason="browser test")
    page = browser_page
    page.goto(f"{live_server.url}/suites/{scored.suite.name}/{scored.suite.version}/agreement/")
    page.click("text=Explore the pairs where they disagree")
    page.wait_for_selector("section.disagreement")
    first = page.locator("section.disagreement").first
    assert "p-000" in first.locator("h2").inner_text()
    videos = first.locator("video")
    assert videos.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('section.disagreement')[0].querySelectorAll('video')].every(v => v.readyState >= 1)", timeout=15_000)
    assert "Sides with people" in first.inner_text() and "video_sharpness" in first.inner_text()
    assert page.locator(".badge.simulated").count() >= 1
    assert page.locator("text=Metric weights fitted to these judgments").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "ranking-disagreements.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "ranking-disagreements-phone.png"), full_page=True)
