"""The public leaderboard API through Django's test client: the JSON and CSV contracts, filters, slices, sort, errors."""

from __future__ import annotations

import csv
import io

import pytest

from leaderboard import public_api
from leaderboard.models import Submission
from scoring.engine.catalog import DIMENSIONS
from tests.public.factories import human_snapshot, model, scored_submission

pytestmark = pytest.mark.django_db

API = "/api/leaderboard/"
PROMPTS_API = "/api/leaderboard/prompts/"


@pytest.fixture
def field(suite):  # type: ignore[no-untyped-def]
    """Four public models on the 4-prompt demo suite, with distinct strengths; one failed clip, one missing."""
    alpha = model("alpha", is_open=True, paradigm="joint", task="T2AV")
    beta = model("beta", is_open=False, paradigm="modular-agentic", task="R2AV")
    gamma = model("gamma", is_open=True, paradigm="video-first+dubbing", task="T2AV")
    delta = model("delta", is_open=False, paradigm="joint", task="TI2AV")
    scored_submission(suite, alpha, {"action-001": 0.9, "narrative-001": 0.8, "dialogue-002": 0.2, "advert-002": 0.7})
    # beta: weak overall but the best on the dialogue prompt (genre "dialogue", language "ja", realism non-real/real).
    scored_submission(suite, beta, {"action-001": 0.3, "narrative-001": 0.3, "dialogue-002": 0.95, "advert-002": 0.3})
    scored_submission(suite, gamma, {"action-001": 0.6, "narrative-001": None, "dialogue-002": 0.6, "advert-002": 0.6})
    scored_submission(suite, delta, {"action-001": 0.5, "dialogue-002": 0.5, "advert-002": 0.5})  # narrative-001 missing
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}


def rows_of(client, **params):  # type: ignore[no-untyped-def]
    response = client.get(API, params)
    assert response.status_code == 200, response.content
    return response.json()["rows"]


def test_json_contract_ranks_every_public_model_with_interval_and_rank_ub(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    response = client.get(API, {"suite": suite.name, "version": suite.version})

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["suite"] == {"name": "msav-demo", "version": "1.0"}
    assert body["dimension"] == "overall" and body["mixed_engine_versions"] is False
    assert [row["model"]["slug"] for row in body["rows"]] == ["alpha", "beta", "gamma", "delta"]
    first = body["rows"][0]
    assert set(first) >= {
        "rank", "rank_ub", "model", "submission", "score", "score_lower", "score_upper", "overall", "dimensions",
        "prompts", "prompts_scored", "prompts_total", "engine_version", "provisional", "human", "model_page",
    }
    assert set(first["dimensions"]) == set(DIMENSIONS)
    assert first["model"] == {
        "slug": "alpha", "name": "Alpha", "organisation": "alpha lab", "url": "", "license": "", "open": True,
        "paradigm": "joint", "task": "T2AV",
    }
    assert first["overall"] == pytest.approx((0.9 + 0.8 + 0.2 + 0.7) / 4)
    for row in body["rows"]:
        assert row["score_lower"] <= row["score"] <= row["score_upper"]
        assert 1 <= row["rank_ub"] <= row["rank"]  # UB counts only models clearly better, so never above the rank
        # 4 prompts is below the minimum for a stable score: every row says so, with its count.
        assert row["provisional"] is True and f"{row['prompts_scored']} prompt(s) scored" in row["provisional_reason"]
    # gamma failed one clip (counts 0) and delta has none for one prompt: both 4 prompts, 3 scored.
    by_slug = {row["model"]["slug"]: row for row in body["rows"]}
    assert (by_slug["gamma"]["prompts"], by_slug["gamma"]["prompts_scored"]) == (4, 3)
    assert by_slug["gamma"]["overall"] == pytest.approx(0.45)
    assert by_slug["delta"]["overall"] == pytest.approx(0.375)
    # The intervals overlap heavily on 4 prompts: Rank (UB) is 1 for everyone the leader's interval does not clear.
    assert by_slug["beta"]["rank"] == 2 and by_slug["beta"]["rank_ub"] <= 2


def test_rank_ub_counts_models_whose_interval_is_wholly_above(client, suite) -> None:  # type: ignore[no-untyped-def]
    strong, weak = model("strong"), model("weak")
    scored_submission(suite, strong, {p: 0.9 for p in ("action-001", "narrative-001", "dialogue-002", "advert-002")})
    scored_submission(suite, weak, {p: 0.1 for p in ("action-001", "narrative-001", "dialogue-002", "advert-002")})

    rows = {row["model"]["slug"]: row for row in rows_of(client)}

    assert (rows["strong"]["rank"], rows["strong"]["rank_ub"]) == (1, 1)
    assert (rows["weak"]["rank"], rows["weak"]["rank_ub"]) == (2, 2)
    assert rows["weak"]["score_lower"] == rows["weak"]["score_upper"] == pytest.approx(0.1)


def test_ties_share_a_rank(client, suite) -> None:  # type: ignore[no-untyped-def]
    for slug, value in (("one", 0.8), ("two", 0.5), ("three", 0.5), ("four", 0.2)):
        scored_submission(suite, model(slug), {"action-001": value, "narrative-001": value, "dialogue-002": value, "advert-002": value})

    rows = rows_of(client)

    assert [(row["model"]["slug"], row["rank"]) for row in rows] == [("one", 1), ("three", 2), ("two", 2), ("four", 4)]


def test_csv_contract_has_the_documented_header_one_row_per_model_and_is_a_download(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    model("evil-name", name="=HYPERLINK(\"http://x\")")  # a formula in a name must not run in a spreadsheet
    scored_submission(suite, model("formula", name="=SUM(A1:A9)"), {"action-001": 0.1})

    response = client.get(API, {"suite": suite.name, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="msav-arena-msav-demo-1.0-leaderboard.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == public_api.LEADERBOARD_CSV_HEADER
    assert [line[2] for line in table[1:]] == ["alpha", "beta", "gamma", "delta", "formula"]
    formula = table[-1]
    assert formula[3] == "'=SUM(A1:A9)"
    alpha = dict(zip(table[0], table[1]))
    assert alpha["rank"] == "1" and alpha["open"] == "true" and float(alpha["overall"]) == pytest.approx(0.65)
    assert alpha["reference"] == "" and alpha["human_rating"] == ""  # not measured / no rating: empty, never 0


def test_json_download_is_an_attachment(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    response = client.get(API, {"format": "json", "download": "1"})
    assert response["Content-Disposition"] == 'attachment; filename="msav-arena-msav-demo-1.0-leaderboard.json"'
    assert response.json()["rows"]


def test_filters_keep_a_subset_and_re_rank_it(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    closed = rows_of(client, open="closed")
    assert [(row["model"]["slug"], row["rank"]) for row in closed] == [("beta", 1), ("delta", 2)]
    assert [row["model"]["slug"] for row in rows_of(client, open="open")] == ["alpha", "gamma"]
    assert [row["model"]["slug"] for row in rows_of(client, paradigm="joint")] == ["alpha", "delta"]
    assert [row["model"]["slug"] for row in rows_of(client, task="T2AV", open="open")] == ["alpha", "gamma"]
    assert rows_of(client, task="R2AV")[0]["rank"] == 1


def test_a_breakdown_re_ranks_on_its_slice_and_equals_the_stored_breakdown(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    body = client.get(API, {"genre": "dialogue"}).json()

    assert body["prompts_in_slice"] == 1
    assert [(row["model"]["slug"], row["rank"]) for row in body["rows"]] == [("beta", 1), ("gamma", 2), ("delta", 3), ("alpha", 4)]
    beta = body["rows"][0]
    stored = Submission.objects.get(model=field["beta"]).scores.get().breakdowns["genre"]["dialogue"]
    assert beta["score"] == pytest.approx(stored["overall"]) and beta["dimensions"]["video"] == pytest.approx(stored["dimensions"]["video"])
    assert beta["prompts"] == 1 and beta["provisional"] is True
    # Other axes: language and realism of the same prompt give the same slice; shot_bucket mixes prompts.
    assert [row["model"]["slug"] for row in rows_of(client, language="ja")] == ["beta", "gamma", "delta", "alpha"]
    assert rows_of(client, realism="non-real/real")[0]["model"]["slug"] == "beta"
    narrative = client.get(API, {"genre": "narrative"}).json()
    # delta has no clip for narrative-001 (missing: counts 0), gamma's failed: also 0.
    assert {row["model"]["slug"]: row["score"] for row in narrative["rows"]} == {"alpha": 0.8, "beta": 0.3, "gamma": 0.0, "delta": 0.0}


def test_combined_slices_intersect(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    body = client.get(API, {"style": "photo-realistic", "shot_bucket": "1-4"}).json()
    assert body["prompts_in_slice"] == 0 and body["rows"] == []
    body = client.get(API, {"style": "photo-realistic", "realism": "real/real"}).json()
    assert body["prompts_in_slice"] == 2  # action-001 and narrative-001
    assert body["rows"][0]["model"]["slug"] == "alpha" and body["rows"][0]["score"] == pytest.approx(0.85)


def test_dimension_ranks_by_that_score(client, suite) -> None:  # type: ignore[no-untyped-def]
    prompts = ("action-001", "narrative-001", "dialogue-002", "advert-002")
    loud = {p: {"video": 0.2, "audio": 0.9, "shot": 0.5} for p in prompts}
    sharp = {p: {"video": 0.9, "audio": 0.2, "shot": 0.5} for p in prompts}
    scored_submission(suite, model("loud"), {p: 0.6 for p in prompts}, dims=loud)
    scored_submission(suite, model("sharp"), {p: 0.5 for p in prompts}, dims=sharp)

    assert [row["model"]["slug"] for row in rows_of(client)] == ["loud", "sharp"]
    video = client.get(API, {"dimension": "video"}).json()
    assert video["dimension"] == "video"
    assert [(row["model"]["slug"], row["score"]) for row in video["rows"]] == [("sharp", 0.9), ("loud", 0.2)]
    # A dimension nobody measured ranks nobody (not measured is not 0).
    assert rows_of(client, dimension="sync") == []
    assert client.get(API, {"dimension": "sync"}).json()["excluded_models"] == ["Loud", "Sharp"]


def test_sort_by_any_column_and_reverse(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    assert [r["model"]["slug"] for r in rows_of(client, sort="model")] == ["alpha", "beta", "delta", "gamma"]
    assert [r["model"]["slug"] for r in rows_of(client, sort="model", dir="reverse")] == ["gamma", "delta", "beta", "alpha"]
    assert [r["model"]["slug"] for r in rows_of(client, sort="rank", dir="reverse")] == ["delta", "gamma", "beta", "alpha"]
    by_paradigm = [r["model"]["paradigm"] for r in rows_of(client, sort="paradigm")]
    assert by_paradigm == sorted(by_paradigm)
    assert [r["model"]["slug"] for r in rows_of(client, sort="prompts")][-2:] in (["delta", "gamma"], ["gamma", "delta"])
    # Ranks stay what they are: sorting reorders, it does not re-rank.
    assert {r["model"]["slug"]: r["rank"] for r in rows_of(client, sort="model")}["alpha"] == 1


@pytest.mark.parametrize(
    ("params", "param", "fragment"),
    [
        ({"dimension": "loudness"}, "dimension", "expected one of: overall, video, audio, shot, reference, sync"),
        ({"open": "maybe"}, "open", "expected one of: open, closed"),
        ({"paradigm": "diffusion"}, "paradigm", "joint"),
        ({"task": "T2V"}, "task", "T2AV"),
        ({"genre": "western"}, "genre", "action"),
        ({"sort": "colour"}, "sort", "rank"),
        ({"dir": "up"}, "dir", "reverse"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_and_the_allowed_values(client, suite, field, params, param, fragment) -> None:  # type: ignore[no-untyped-def]
    response = client.get(API, params)

    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith(f"{param}: unknown value") and fragment in body["message"]
    assert body["extra"]["param"] == param


def test_an_unknown_suite_is_a_404_that_lists_the_known_ones(client, suite) -> None:  # type: ignore[no-untyped-def]
    response = client.get(API, {"suite": "nope"})
    assert response.status_code == 404
    assert response.json()["message"] == 'suite "nope": no such suite; known suites: msav-demo 1.0'
    assert client.get(API, {"suite": "msav-demo", "version": "9"}).status_code == 404
    assert client.get(PROMPTS_API, {"suite": "nope", "format": "csv"}).status_code == 404


def test_an_unsupported_format_is_refused(client, suite) -> None:  # type: ignore[no-untyped-def]
    response = client.get(API, {"format": "xml"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"].startswith("format: unknown value 'xml'; expected one of:") and "csv" in body["message"]
    assert body["extra"]["param"] == "format" and {"json", "csv"} <= set(body["extra"]["allowed"])


def test_human_ratings_join_the_rows_with_interval_votes_and_simulated_flag(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    human_snapshot(suite, {"alpha": (1100, 1060, 1140, 80), "beta": (1050, 1000, 1090, 60), "gamma": (900, 850, 950, 12)}, simulated_votes=5)

    body = client.get(API).json()
    rows = {row["model"]["slug"]: row for row in body["rows"]}

    assert body["human_available"] is True and body["human_simulated"] is True
    assert rows["alpha"]["human"] == {
        "rating": 1100.0, "lower": 1060.0, "upper": 1140.0, "rank": 1, "rank_ub": 1, "votes": 80, "simulated": True,
        "provisional": False,
    }
    assert rows["gamma"]["human"]["provisional"] is True  # 12 votes: too few
    assert rows["gamma"]["human"]["rank_ub"] == 3  # alpha's and beta's lower bounds clear gamma's upper bound
    assert rows["delta"]["human"] is None
    # A filter re-ranks the human column among the rows kept.
    closed = {row["model"]["slug"]: row for row in rows_of(client, open="open")}
    assert closed["gamma"]["human"]["rank"] == 2


def test_per_prompt_scores_json_and_csv(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    body = client.get(PROMPTS_API, {"suite": suite.name, "model": "gamma"}).json()

    assert body["suite"]["name"] == "msav-demo"
    rows = {row["prompt"]: row for row in body["rows"]}
    assert len(rows) == 4
    assert rows["narrative-001"]["status"] == "failed" and rows["narrative-001"]["overall"] == 0.0
    assert rows["narrative-001"]["dimensions"] == {d: None for d in DIMENSIONS}
    assert rows["action-001"]["overall"] == 0.6 and rows["action-001"]["genre"] == "action"
    assert rows["action-001"]["clip_page"] == f"/clips/{rows['action-001']['clip']}/"
    assert rows["action-001"]["evidence"] == f"/clips/{rows['action-001']['clip']}/result.json"
    every = client.get(PROMPTS_API, {"format": "csv"})
    assert every["Content-Disposition"] == 'attachment; filename="msav-arena-msav-demo-1.0-prompt-scores.csv"'
    table = list(csv.reader(io.StringIO(every.content.decode())))
    assert table[0] == public_api.PROMPT_CSV_HEADER
    assert len(table) == 1 + 16  # 4 models x 4 prompts (delta's missing clip is a row too)
    missing = [line for line in table[1:] if line[0] == "delta" and line[4] == "narrative-001"]
    assert missing and missing[0][13] == "missing"
    assert client.get(PROMPTS_API, {"model": "nobody"}).status_code == 404


def test_the_openapi_schema_documents_both_endpoints_and_formats(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/leaderboard/", "/api/leaderboard/prompts/"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}
        assert {"400", "404"} & set(paths[path]["get"]["responses"])
    names = {parameter["name"] for parameter in paths["/api/leaderboard/"]["get"]["parameters"]}
    assert names >= {"suite", "version", "dimension", "open", "paradigm", "task", "genre", "shot_bucket", "realism", "style", "language", "sort", "dir", "format"}


def test_a_bad_parameter_is_refused_even_when_the_valid_view_is_cached(client, suite, field) -> None:  # type: ignore[no-untyped-def]
    assert client.get(API).status_code == 200  # cached now
    assert client.get(API, {"sort": "colour"}).status_code == 400
    assert client.get(API, {"sort": "colour"}).status_code == 400  # never cached
    assert client.get(API, {"unknown": "x"}).status_code == 200  # an unknown parameter is ignored


def test_rows_on_enough_prompts_are_not_provisional(client, suite, field, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MSAV_LEADERBOARD_MIN_PROMPTS = 4
    rows = {row["model"]["slug"]: row for row in rows_of(client)}
    assert rows["alpha"]["provisional"] is False and rows["alpha"]["provisional_reason"] == ""
    assert rows["gamma"]["provisional"] is True  # one clip failed: 3 scored
