"""The public leaderboard's REST API: the ranked table and the per-prompt scores, as JSON or CSV.

Anonymous and read-only. Every row comes from `selectors.submissions_public()`, so private, hidden
and withdrawn submissions never appear. Responses are cached as finished bytes per (format, query)
and invalidated through `leaderboard.cache`, like the pages.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from config.exceptions import ApplicationError
from leaderboard import cache, public_selectors
from leaderboard.models import ModelEntry, Suite
from leaderboard.serializers import MessageSerializer
from leaderboard.vocabulary import PARADIGMS, TASKS
from scoring.engine.catalog import DIMENSIONS

ERROR_NO_SUITE = 'suite "{name}"{version}: no such suite; known suites: {known}'
ERROR_NO_MODEL = 'model "{slug}": no public scored submission of this model on {suite}'


class CsvRenderer(renderers.BaseRenderer):
    """text/csv; the views hand it finished text (they build and cache the bytes themselves)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, (bytes, str)):
            return data if isinstance(data, bytes) else data.encode()
        # An error body (a dict) reaching the CSV renderer: render it as JSON text rather than fail.
        return json.dumps(data).encode()


def _csv_cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _csv_text(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue()


def _suite_from(request: Request) -> Suite:
    name = (request.query_params.get("suite") or "").strip()
    version = (request.query_params.get("version") or "").strip() or None
    if not name:
        suite = public_selectors.suite_latest()
        if suite is None:
            raise ApplicationError("no suite has been imported yet", extra={"param": "suite"}, status_code=404)
        return suite
    suite = public_selectors.suite_lookup(name=name, version=version)
    if suite is None:
        raise ApplicationError(
            ERROR_NO_SUITE.format(
                name=name, version=f' version "{version}"' if version else "", known=", ".join(public_selectors.suite_names()) or "none"
            ),
            extra={"param": "suite", "value": name, "version": version},
            status_code=404,
        )
    return suite


def _respond_plain(params: Any, *, body: str, filename: str, fmt: str) -> HttpResponse:
    if fmt == "csv":
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    else:
        response = HttpResponse(body, content_type="application/json")
        if params.get("download") in ("1", "true", "yes"):
            response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    return response


def _respond(request: Request, *, body: str, filename: str, fmt: str) -> HttpResponse:
    return _respond_plain(request.query_params, body=body, filename=filename, fmt=fmt)


def _slug(text: str) -> str:
    return "".join(char if char.isalnum() or char in "._-" else "-" for char in text)


# --- Output shapes (the schema, and the serializer the JSON goes through) -------------------


class ModelCardSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    organisation = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    license = serializers.CharField(allow_blank=True)
    open = serializers.BooleanField(help_text="open weights")
    # The registry's own choices, so the schema has one enum for each (shared with the researchers' API).
    paradigm = serializers.ChoiceField(choices=ModelEntry.Paradigm.choices)
    task = serializers.ChoiceField(choices=ModelEntry.Task.choices)


class HumanRatingSerializer(serializers.Serializer):
    rating = serializers.FloatField(help_text="Bradley-Terry rating on the Elo-like scale (anchor 1000)")
    lower = serializers.FloatField(help_text="95% interval, lower bound")
    upper = serializers.FloatField(help_text="95% interval, upper bound")
    rank = serializers.IntegerField(allow_null=True, help_text="rank among the rows returned (ties shared)")
    rank_ub = serializers.IntegerField(allow_null=True, help_text="Rank (UB) among the rows returned")
    votes = serializers.IntegerField()
    simulated = serializers.BooleanField(help_text="some counted votes are simulated, not real people's")
    provisional = serializers.BooleanField(help_text="too few votes for a stable rating")


class DimensionScoresSerializer(serializers.Serializer):
    video = serializers.FloatField(allow_null=True)
    audio = serializers.FloatField(allow_null=True)
    shot = serializers.FloatField(allow_null=True)
    reference = serializers.FloatField(allow_null=True)
    sync = serializers.FloatField(allow_null=True)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="by the ranked dimension's score on the slice; ties share a rank")
    rank_ub = serializers.IntegerField(help_text="1 + rows whose interval lies wholly above this row's")
    model = ModelCardSerializer()
    submission = serializers.IntegerField()
    score = serializers.FloatField(help_text="the ranked dimension's score in [0, 1] on the slice")
    score_lower = serializers.FloatField(allow_null=True, help_text="95% bootstrap interval over prompts")
    score_upper = serializers.FloatField(allow_null=True)
    overall = serializers.FloatField(allow_null=True)
    dimensions = DimensionScoresSerializer()
    prompts = serializers.IntegerField(help_text="prompts in the slice (all of the suite's without one)")
    prompts_scored = serializers.IntegerField(help_text="of those, clips the engine scored (the rest count 0)")
    prompts_total = serializers.IntegerField()
    engine_version = serializers.CharField()
    provisional = serializers.BooleanField()
    provisional_reason = serializers.CharField(allow_blank=True)
    human = HumanRatingSerializer(allow_null=True)
    model_page = serializers.CharField()


class SuiteRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()


class LeaderboardSerializer(serializers.Serializer):
    suite = SuiteRefSerializer()
    dimension = serializers.ChoiceField(choices=list(public_selectors.RANK_DIMENSIONS))
    query = serializers.DictField(child=serializers.CharField(), help_text="the canonical parameters of this view")
    engine_versions = serializers.ListField(child=serializers.CharField())
    mixed_engine_versions = serializers.BooleanField(help_text="rows come from more than one engine version")
    human_available = serializers.BooleanField()
    human_simulated = serializers.BooleanField()
    prompts_in_slice = serializers.IntegerField()
    excluded_models = serializers.ListField(child=serializers.CharField(), help_text="public models with no clip on the slice")
    rows = LeaderboardRowSerializer(many=True)


class PromptScoreSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="model slug")
    model_name = serializers.CharField()
    submission = serializers.IntegerField()
    engine_version = serializers.CharField()
    prompt = serializers.CharField()
    position = serializers.IntegerField()
    shots = serializers.IntegerField()
    genre = serializers.CharField()
    shot_bucket = serializers.CharField()
    realism = serializers.CharField()
    style = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    clip = serializers.IntegerField()
    status = serializers.CharField(help_text="scored, failed or missing (failed and missing count 0)")
    reason = serializers.CharField(allow_blank=True)
    overall = serializers.FloatField()
    dimensions = DimensionScoresSerializer()
    clip_page = serializers.CharField()
    evidence = serializers.CharField(help_text="the clip's metrics and evidence as JSON")


class PromptScoresSerializer(serializers.Serializer):
    suite = SuiteRefSerializer()
    rows = PromptScoreSerializer(many=True)


# --- Parameters -------------------------------------------------------------------------------

SUITE_PARAMETERS = [
    OpenApiParameter("suite", OpenApiTypes.STR, description="suite name (default: the latest imported suite)"),
    OpenApiParameter("version", OpenApiTypes.STR, description="suite version (default: the latest of that name)"),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="json (default) or csv"),
    OpenApiParameter("download", OpenApiTypes.BOOL, description="JSON as an attachment (CSV always is)"),
]
LEADERBOARD_PARAMETERS = SUITE_PARAMETERS + [
    OpenApiParameter("dimension", OpenApiTypes.STR, enum=list(public_selectors.RANK_DIMENSIONS), description="rank by this score (default overall)"),
    OpenApiParameter("open", OpenApiTypes.STR, enum=["open", "closed"], description="open-weights or closed models only"),
    OpenApiParameter("paradigm", OpenApiTypes.STR, enum=list(PARADIGMS)),
    OpenApiParameter("task", OpenApiTypes.STR, enum=list(TASKS)),
    *[
        OpenApiParameter(axis, OpenApiTypes.STR, description=f"re-rank on the prompts whose {label.lower()} is this value (values: see the suite)")
        for axis, label in public_selectors.BREAKDOWN_LABELS.items()
    ],
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(public_selectors.SORT_COLUMNS), description="order of the rows (default rank)"),
    OpenApiParameter("dir", OpenApiTypes.STR, enum=["natural", "reverse"], description="natural: best first / A-Z"),
]


# --- Views ------------------------------------------------------------------------------------


def _leaderboard_payload(suite: Suite, query: public_selectors.LeaderboardQuery) -> dict[str, Any]:
    board = public_selectors.leaderboard(suite=suite, query=query)
    rows = []
    for row in board.rows:
        rows.append(
            {
                "rank": row.rank,
                "rank_ub": row.rank_ub,
                "model": {
                    "slug": row.model.slug,
                    "name": row.model.name,
                    "organisation": row.model.organisation,
                    "url": row.model.url,
                    "license": row.model.license,
                    "open": row.model.is_open,
                    "paradigm": row.model.paradigm,
                    "task": row.model.task,
                },
                "submission": row.submission_id,
                "score": row.score,
                "score_lower": row.score_lower,
                "score_upper": row.score_upper,
                "overall": row.overall,
                "dimensions": {d: row.dimensions.get(d) for d in DIMENSIONS},
                "prompts": row.prompts,
                "prompts_scored": row.prompts_scored,
                "prompts_total": row.prompts_total,
                "engine_version": row.engine_version,
                "provisional": row.provisional,
                "provisional_reason": row.provisional_reason,
                "human": None
                if row.human is None
                else {
                    "rating": row.human.rating,
                    "lower": row.human.lower,
                    "upper": row.human.upper,
                    "rank": row.human_rank,
                    "rank_ub": row.human_rank_ub,
                    "votes": row.human.votes,
                    "simulated": row.human.simulated,
                    "provisional": row.human.provisional,
                },
                "model_page": reverse("leaderboard:model", args=[suite.name, suite.version, row.model.slug]),
            }
        )
    return LeaderboardSerializer(
        {
            "suite": {"name": suite.name, "version": suite.version},
            "dimension": query.dimension,
            "query": query.to_params(),
            "engine_versions": board.engine_versions,
            "mixed_engine_versions": board.mixes_engine_versions,
            "human_available": board.human_available,
            "human_simulated": board.simulated_human,
            "prompts_in_slice": board.prompts_in_slice,
            "excluded_models": board.excluded_models,
            "rows": rows,
        }
    ).data


LEADERBOARD_CSV_HEADER = [
    "rank", "rank_ub", "model", "model_name", "organisation", "open", "paradigm", "task", "dimension",
    "score", "score_lower", "score_upper", "overall", *DIMENSIONS,
    "human_rating", "human_lower", "human_upper", "human_rank", "human_rank_ub", "human_votes", "human_simulated",
    "human_provisional", "prompts", "prompts_scored", "prompts_total", "engine_version", "provisional", "provisional_reason",
]


def _leaderboard_csv(payload: dict[str, Any]) -> str:
    rows = []
    for row in payload["rows"]:
        human = row["human"] or {}
        model = row["model"]
        rows.append(
            [
                row["rank"], row["rank_ub"], model["slug"], model["name"], model["organisation"], model["open"],
                model["paradigm"], model["task"], payload["dimension"], row["score"], row["score_lower"], row["score_upper"],
                row["overall"], *[row["dimensions"][d] for d in DIMENSIONS],
                human.get("rating"), human.get("lower"), human.get("upper"), human.get("rank"), human.get("rank_ub"),
                human.get("votes"), human.get("simulated"), human.get("provisional"),
                row["prompts"], row["prompts_scored"], row["prompts_total"], row["engine_version"], row["provisional"],
                row["provisional_reason"],
            ]
        )
    return _csv_text(LEADERBOARD_CSV_HEADER, rows)


class PublicApiView(APIView):
    """Anonymous, read-only, JSON or CSV; no authentication work (the data is the same for everyone)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    def _format(self, request: Request) -> str:
        return "csv" if getattr(request.accepted_renderer, "format", "json") == "csv" else "json"

    # The hot path: a response already cached is served before DRF parses, negotiates and wraps the
    # request (half the cost of a cached request). Anything unusual goes the normal way.
    cache_kind = ""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == "GET" and self.cache_kind:
            fast = self._cached_response(request)
            if fast is not None:
                return fast
        return super().dispatch(request, *args, **kwargs)

    def _cached_response(self, request: Any) -> HttpResponse | None:
        fmt = request.GET.get("format") or ""
        accept = request.headers.get("Accept", "")
        if not fmt and accept not in ("", "*/*", "application/json"):
            return None  # let DRF negotiate from the Accept header
        if fmt not in ("", "json", "csv"):
            return None
        fmt = fmt or "json"
        name = (request.GET.get("suite") or "").strip()
        version = (request.GET.get("version") or "").strip() or None
        suite = public_selectors.suite_lookup(name=name, version=version) if name else public_selectors.suite_latest()
        if suite is None:
            return None
        body = cache.peek(suite_id=suite.pk, kind=f"{self.cache_kind}-{fmt}", params=self._cache_params(request.GET))
        if body is None:
            return None
        response = _respond_plain(request.GET, body=body, filename=self._filename(suite, request.GET), fmt=fmt)
        response["Vary"] = "Accept"
        return response

    def _cache_params(self, params: Any) -> str:
        raise NotImplementedError

    def _filename(self, suite: Suite, params: Any) -> str:
        raise NotImplementedError


class LeaderboardApi(PublicApiView):
    cache_kind = "api-leaderboard"

    def _cache_params(self, params: Any) -> str:
        return public_selectors.request_cache_params(params, strict=True)

    def _filename(self, suite: Suite, params: Any) -> str:
        return _slug(f"msav-arena-{suite.name}-{suite.version}-leaderboard")

    @extend_schema(
        operation_id="leaderboard_list",
        summary="The public leaderboard of a suite",
        description=(
            "Each model's latest public scored submission on the suite, ranked by `dimension` (overall by default) "
            "with a 95% bootstrap interval over prompts and Rank (UB); ties share a rank. Filters (open, paradigm, "
            "task) keep a subset and re-rank it; a breakdown (genre, shot_bucket, realism, style, language) re-ranks "
            "on that slice of the prompts. Each row carries the latest human (arena) rating on the same dimension "
            "when the ranking has one. Private, hidden and withdrawn submissions never appear. `format=csv` "
            "returns the same rows as CSV."
        ),
        parameters=LEADERBOARD_PARAMETERS,
        responses={
            (200, "application/json"): LeaderboardSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the same rows as CSV, one per model"),
            (400, "application/json"): OpenApiResponse(MessageSerializer, description="a parameter with an unknown value: which, and what is allowed"),
            (404, "application/json"): OpenApiResponse(MessageSerializer, description="no such suite"),
        },
        tags=["leaderboard"],
    )
    def get(self, request: Request) -> HttpResponse:
        suite = _suite_from(request)
        fmt = self._format(request)

        def build() -> str:
            # Parsed only on a miss; a bad parameter raises here and nothing is cached.
            query = public_selectors.query_from_params(request.query_params, suite=suite, strict=True)
            payload = _leaderboard_payload(suite, query)
            return _leaderboard_csv(payload) if fmt == "csv" else json.dumps(payload, separators=(",", ":"))

        body = cache.cached(suite_id=suite.pk, kind=f"{self.cache_kind}-{fmt}", params=self._cache_params(request.query_params), build=build)
        return _respond(request, body=body, filename=self._filename(suite, request.query_params), fmt=fmt)


PROMPT_CSV_HEADER = [
    "model", "model_name", "submission", "engine_version", "prompt", "position", "shots", "genre", "shot_bucket",
    "realism", "style", "languages", "clip", "status", "reason", "overall", *DIMENSIONS, "clip_page", "evidence",
]


class PromptScoresApi(PublicApiView):
    cache_kind = "api-prompts"

    def _cache_params(self, params: Any) -> str:
        return (params.get("model") or "").strip()

    def _filename(self, suite: Suite, params: Any) -> str:
        slug = self._cache_params(params)
        return _slug(f"msav-arena-{suite.name}-{suite.version}-prompt-scores" + (f"-{slug}" if slug else ""))

    @extend_schema(
        operation_id="leaderboard_prompt_scores",
        summary="Per-prompt scores of the public models of a suite",
        description=(
            "One row per (model, prompt) of each model's latest public scored submission: the clip's status, its "
            "overall and dimension scores (a failed or missing clip counts 0 and has no dimensions), and links to the "
            "clip page and its metrics and evidence. `model` limits it to one model. `format=csv` for CSV."
        ),
        parameters=SUITE_PARAMETERS + [OpenApiParameter("model", OpenApiTypes.STR, description="a model slug")],
        responses={
            (200, "application/json"): PromptScoresSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the same rows as CSV"),
            (404, "application/json"): OpenApiResponse(MessageSerializer, description="no such suite, or no public model by that slug on it"),
        },
        tags=["leaderboard"],
    )
    def get(self, request: Request) -> HttpResponse:
        suite = _suite_from(request)
        slug = (request.query_params.get("model") or "").strip() or None
        fmt = self._format(request)

        def build() -> str:
            rows = public_selectors.prompt_scores(suite=suite, model_slug=slug)
            if slug is not None and not rows:
                raise ApplicationError(
                    ERROR_NO_MODEL.format(slug=slug, suite=f"{suite.name} {suite.version}"),
                    extra={"param": "model", "value": slug},
                    status_code=404,
                )
            for row in rows:
                row["clip_page"] = reverse("leaderboard:clip", args=[row["clip"]])
                row["evidence"] = reverse("leaderboard:clip_result", args=[row["clip"]])
            if fmt == "csv":
                return _csv_text(
                    PROMPT_CSV_HEADER,
                    [
                        [
                            *[row[name] for name in PROMPT_CSV_HEADER[:11]],
                            " ".join(row["languages"]),
                            row["clip"], row["status"], row["reason"], row["overall"],
                            *[row["dimensions"][d] for d in DIMENSIONS],
                            row["clip_page"], row["evidence"],
                        ]
                        for row in rows
                    ],
                )
            payload = PromptScoresSerializer({"suite": {"name": suite.name, "version": suite.version}, "rows": rows}).data
            return json.dumps(payload, separators=(",", ":"))

        body = cache.cached(suite_id=suite.pk, kind=f"{self.cache_kind}-{fmt}", params=self._cache_params(request.query_params), build=build)
        return _respond(request, body=body, filename=self._filename(suite, request.query_params), fmt=fmt)
