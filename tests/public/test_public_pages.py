"""The public pages through Django's test client: server-rendered table with permalinks, tabs, model, clip, agreement."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from leaderboard.models import Clip
from scoring import engine
from tests.public.factories import human_snapshot, model, scored_submission

pytestmark = pytest.mark.django_db

PROMPTS = ("action-001", "narrative-001", "dialogue-002", "advert-002")


@pytest.fixture
def field(suite):  # type: ignore[no-untyped-def]
    alpha = model("alpha", is_open=True, url="https://example.org/alpha", license="Apache-2.0", description="First.")
    beta = model("beta", paradigm="modular-agentic")
    scored_submission(suite, alpha, {"action-001": 0.9, "narrative-001": 0.8, "dialogue-002": 0.2, "advert-002": 0.7})
    scored_submission(suite, beta, {"action-001": 0.3, "narrative-001": 0.3, "dialogue-002": 0.95, "advert-002": None})
    return {"alpha": alpha, "beta": beta}


def page(client, suite, **params):  # type: ignore[no-untyped-def]
    response = client.get(reverse("leaderboard:suite", args=[suite.name, suite.version]), params)
    return response, response.content.decode()


def model_order(html: str) -> list[str]:
    return re.findall(r'<tr data-model="([^"]+)"', html)


def test_the_table_is_server_rendered_with_ranks_intervals_and_links(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    response, html = page(client, suite)

    assert response.status_code == 200
    assert model_order(html) == ["alpha", "beta"]
    assert "Rank (UB)" in html and 'class="ci"' in html
    assert reverse("leaderboard:model", args=[suite.name, suite.version, "alpha"]) in html
    assert "provisional" in html  # 4 prompts: below the minimum
    assert "/static/js/leaderboard.js" in html and "<table" in html  # the table needs no script
    assert "@article{wei2026msavbench" in html and "2605.20183" in html


def test_sort_links_are_permalinks_that_keep_the_filters(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    _, html = page(client, suite, open="open", genre="action")

    model_header = re.search(r'<th scope="col" aria-sort="none" data-column="model"><a href="([^"]+)"', html)
    assert model_header is not None
    href = model_header.group(1).replace("&amp;", "&")
    assert "sort=model" in href and "open=open" in href and "genre=action" in href
    # Following it gives that view; the active column links to its reverse.
    _, sorted_html = page(client, suite, **dict(part.split("=") for part in href.lstrip("?").split("&")))
    assert 'data-column="model"' in sorted_html and 'aria-sort="ascending" data-column="model"' in sorted_html
    assert "dir=reverse" in re.search(r'data-column="model"><a href="([^"]+)"', sorted_html).group(1)


def test_sort_from_the_url_orders_rows_and_a_stale_column_falls_back(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    assert model_order(page(client, suite, sort="model", dir="reverse")[1]) == ["beta", "alpha"]
    response, html = page(client, suite, sort="nonsense")
    assert response.status_code == 200 and model_order(html) == ["alpha", "beta"]


def test_a_filter_the_suite_does_not_have_is_a_400_with_the_reason(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    response, html = page(client, suite, genre="western")
    assert response.status_code == 400
    assert "genre: unknown value &#x27;western&#x27;" in html and "action" in html


def test_breakdown_filter_re_ranks_and_says_so(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    _, html = page(client, suite, genre="dialogue")
    assert model_order(html) == ["beta", "alpha"]
    assert "Re-ranked on the slice" in html and "genre = dialogue" in html


def test_tabs_human_and_side_by_side(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    _, html = page(client, suite, tab="human")
    assert "No human ratings for these models yet" in html
    human_snapshot(suite, {"beta": (1080, 1040, 1120, 50), "alpha": (980, 940, 1020, 40)}, simulated_votes=3)
    # Writing a snapshot row fires no leaderboard signal: the ranking's writer calls the invalidation.
    from leaderboard.cache import leaderboard_cache_invalidate

    leaderboard_cache_invalidate(suite_id=suite.pk)
    _, html = page(client, suite, tab="human")
    assert model_order(html) == ["beta", "alpha"]  # people prefer beta
    assert "simulated" in html and "1080" in html
    _, both = page(client, suite, tab="both")
    assert "Δ rank" in both and model_order(both) == ["alpha", "beta"]
    assert re.search(r'<tr data-model="alpha".*?<td class="num">\+?-1</td>', both, re.S)  # engine 1st, people 2nd


def test_mixed_engine_versions_are_said(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    scored_submission(suite, model("old"), {"action-001": 0.5}, engine_version="0.0.9")
    _, html = page(client, suite)
    assert "Mixed engine versions" in html and "0.0.9" in html and "older engine" in html
    assert engine.ENGINE_VERSION in html


def test_model_page_has_card_radar_breakdowns_prompts_and_history(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    url = reverse("leaderboard:model", args=[suite.name, suite.version, "alpha"])
    response = client.get(url)
    html = response.content.decode()

    assert response.status_code == 200
    assert "Apache-2.0" in html and "https://example.org/alpha" in html and "open" in html
    data = json.loads(re.search(r'<script id="model-chart-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    radar = {point["dimension"]: point for point in data["radar"]}
    assert radar["video"]["model"] == pytest.approx(0.65) and radar["video"]["best"] == pytest.approx(0.65)
    assert radar["reference"]["model"] is None  # not measured: never drawn as 0 in the table
    assert {group["axis"] for group in data["breakdowns"]} >= {"shot_bucket", "realism", "genre"}
    assert "/static/js/vendor/plotly.min.js" in html
    clip = Clip.objects.get(submission__model__slug="alpha", prompt__prompt_id="action-001")
    assert reverse("leaderboard:clip", args=[clip.pk]) in html and reverse("leaderboard:clip_result", args=[clip.pk]) in html
    assert "Submission history" in html and "on the leaderboard" in html
    assert client.get(reverse("leaderboard:model", args=[suite.name, suite.version, "nobody"])).status_code == 404


def test_plotly_is_served_as_a_static_file(client) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.staticfiles import finders

    path = finders.find("js/vendor/plotly.min.js")
    assert path is not None
    with open(path, "rb") as bundle:
        assert b"plotly" in bundle.read(2000).lower()


def test_clip_page_shows_script_timeline_metrics_and_evidence(client, suite, demo_dir) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from scoring.services import clip_score_store

    entry = model("aurora")
    submission = scored_submission(suite, entry, {"advert-002": 0.9})
    clip = Clip.objects.get(submission=submission, prompt__prompt_id="advert-002")
    clip.scores.all().delete()
    from scoring.engine.config import EngineConfig

    # The signal-processing path: quick, and its evidence has the shot boundaries this page draws.
    result = engine.score_clip(
        Path(demo_dir) / "clips" / "aurora-av" / "advert-002.mp4", clip.prompt.to_script(), config=EngineConfig(use_expert_models=False)
    )
    clip_score_store(clip_id=clip.pk, result=result)

    response = client.get(reverse("leaderboard:clip", args=[clip.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert clip.prompt.script[:40] in html
    assert html.count('data-track="') == 3
    # The scripted cut, the detected boundary and the corrected one, each a control that seeks the player.
    boundary = result.to_dict()["evidence"]["shots"]["boundaries_s"][0]
    assert f'data-seek="{boundary}"' in html
    assert re.search(r'class="marker [a-z]+ origin-detector" data-seek=', html)
    for name, metric in result.to_dict()["metrics"].items():
        assert name in html and metric["tool"] in html
    # Long tool chains and version lists wrap in their cells instead of pushing the table off the page.
    assert '<td class="tool"><code>' in html and '<td class="small version">' in html
    assert "Evidence" in html and "raw_candidates" in html


def test_clip_page_tells_each_correction_in_words_with_a_control_that_seeks_to_it(client, suite, demo_dir) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from scoring.engine.config import EngineConfig
    from scoring.services import clip_score_store

    submission = scored_submission(suite, model("aurora"), {"advert-002": 0.9})
    clip = Clip.objects.get(submission=submission, prompt__prompt_id="advert-002")
    clip.scores.all().delete()
    result = engine.score_clip(
        Path(demo_dir) / "clips" / "aurora-av" / "advert-002.mp4", clip.prompt.to_script(), config=EngineConfig(use_expert_models=False)
    )
    # The loop's record as the engine writes it (segmentation.Correction.to_dict): a round that changed nothing
    # and a merge, whose reason quotes the script.
    result.evidence["shots"]["corrections"] = [
        {"round": 1, "action": "none", "time_s": None, "frame": None, "confidence": None,
         "reason": "detected 7 shots, script has 6: no boundary is weaker than confidence 0.60"},
        {"round": 2, "action": "merge", "time_s": 7.4167, "frame": 178, "confidence": 0.6054,
         "reason": "detected 7 shots, script has 6: merged the shots either side of the weakest cut <a>"},
    ]
    clip_score_store(clip_id=clip.pk, result=result)

    html = client.get(reverse("leaderboard:clip", args=[clip.pk])).content.decode()
    corrections = re.sub(r"\s+", " ", html.split('<ul class="corrections">')[1].split("</ul>")[0])

    assert "Round 1</strong> · no change: detected 7 shots, script has 6: no boundary is weaker" in corrections
    assert ('Round 2</strong> · boundary removed at <button type="button" class="link" data-seek="7.4167">7.42 s</button> '
            "(frame 178, confidence 0.61): detected 7 shots") in corrections
    assert "weakest cut &lt;a&gt;" in corrections  # the reason is text, never markup
    assert '{"round"' not in corrections  # no raw dictionaries


def test_agreement_page_renders_correlations_charts_data_and_reference(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    url = reverse("leaderboard:agreement", args=[suite.name, suite.version])
    html = client.get(url).content.decode()
    assert "No human ranking has been computed" in html

    human_snapshot(suite, {"alpha": (1100, 1050, 1150, 60), "beta": (950, 900, 1000, 60)}, spearman=0.7)
    from leaderboard.cache import leaderboard_cache_invalidate

    leaderboard_cache_invalidate(suite_id=suite.pk)
    html = client.get(url).content.decode()

    data = json.loads(re.search(r'<script id="agreement-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert data["reference_spearman"] == 0.915
    assert [c["dimension"] for c in data["correlations"]] == ["overall"]
    assert data["correlations"][0]["spearman"] == 0.7 and data["correlations"][0]["spearman_lower"] == pytest.approx(0.5)
    assert {p["slug"] for p in data["scatter"]} == {"alpha", "beta"}
    assert data["scatter"][0]["automatic_lower"] is not None and data["scatter"][0]["human_lower"] is not None
    assert data["win_rate"]["models"] == ["Alpha", "Beta"] and data["win_rate"]["battles"][0][1] == 20
    assert len(data["history"]) == 1
    for chart in ("scatter", "history", "heatmap"):
        assert f'data-chart="{chart}"' in html
    assert f"/suites/{suite.name}/{suite.version}/disagreements/?dimension=overall" in html  # the ranking's explorer


def test_agreement_page_refuses_an_unknown_dimension_with_the_reason(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("leaderboard:agreement", args=[suite.name, suite.version]), {"dimension": "smell"})
    assert response.status_code == 400
    assert "dimension: unknown value &#x27;smell&#x27;; expected one of: overall, video" in response.content.decode()


def test_agreement_page_with_one_judged_model_says_why_there_is_no_heatmap(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    human_snapshot(suite, {"alpha": (1100, 1050, 1150, 60)})
    from leaderboard.cache import leaderboard_cache_invalidate

    leaderboard_cache_invalidate(suite_id=suite.pk)
    html = client.get(reverse("leaderboard:agreement", args=[suite.name, suite.version])).content.decode()

    assert 'data-chart="heatmap"' not in html  # a 1 x 1 matrix with no battles would draw an empty square
    assert "the heatmap needs two public models judged against each other" in html

