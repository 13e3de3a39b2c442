"""REST API of the human ranking: ratings with intervals, the correlation with the engine and its history.

Anonymous and read-only: everything comes from snapshots of judgments on public submissions, and the
selectors drop models no longer public.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import JUDGED_DIMENSIONS
from annotation.ranking import selectors
from config.exceptions import ApplicationError
from leaderboard.models import ModelEntry, Suite

ERROR_SUITE_MISSING = "suite: required (a suite id, or a suite name with an optional version=)"
ERROR_SUITE_UNKNOWN = 'suite "{value}"{version}: no such suite; known suites: {known}'
ERROR_NUL = "{param}: contains a NUL character"
ERROR_DIMENSION_UNKNOWN = 'dimension "{value}": unknown; one of {known}'

SUITE_PARAMETER = OpenApiParameter(
    "suite", str, required=True, description="suite id, or suite name (the latest imported version unless version= is given)"
)
VERSION_PARAMETER = OpenApiParameter("version", str, required=False, description="suite version, with a suite name")
DIMENSION_PARAMETER = OpenApiParameter(
    "dimension", str, required=False, enum=list(JUDGED_DIMENSIONS), description='judged dimension (default "overall")'
)


def suite_from_query(request: Request) -> Suite:
    """The suite named by ?suite= (id or name) and ?version=, or a 400/404 saying what is wrong."""
    value = (request.query_params.get("suite") or "").strip()
    version = (request.query_params.get("version") or "").strip()
    if not value:
        raise ApplicationError(ERROR_SUITE_MISSING, extra={"param": "suite"})
    for param, given in (("suite", value), ("version", version)):
        if "\x00" in given:  # PostgreSQL text cannot hold it: say so instead of failing in the query
            raise ApplicationError(ERROR_NUL.format(param=param), extra={"param": param})
    suites = Suite.objects.all()
    if value.isascii() and value.isdigit() and not version:
        suite = suites.filter(pk=int(value)).first()
    else:
        named = suites.filter(name=value)
        suite = (named.filter(version=version) if version else named).order_by("-imported_at").first()
    if suite is None:
        known = ", ".join(f"{s.name} {s.version} (id {s.pk})" for s in suites.order_by("name", "-imported_at")[:20])
        raise ApplicationError(
            ERROR_SUITE_UNKNOWN.format(value=value, version=f' version "{version}"' if version else "", known=known or "none"),
            extra={"param": "suite", "value": value},
            status_code=404,
        )
    return suite


def dimension_from_query(request: Request) -> str:
    value = (request.query_params.get("dimension") or "overall").strip()
    if value not in JUDGED_DIMENSIONS:
        raise ApplicationError(
            ERROR_DIMENSION_UNKNOWN.format(value=value, known=", ".join(JUDGED_DIMENSIONS)),
            extra={"param": "dimension", "value": value},
        )
    return value


class RankingErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    extra = serializers.DictField()


class CorrelationValuesSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    spearman = serializers.FloatField(allow_null=True, help_text="Spearman's rho, automatic vs human model ranking")
    spearman_lower = serializers.FloatField(allow_null=True, help_text="95% bootstrap interval (prompts and judgments resampled)")
    spearman_upper = serializers.FloatField(allow_null=True)
    kendall = serializers.FloatField(allow_null=True, help_text="Kendall's tau-b")
    kendall_lower = serializers.FloatField(allow_null=True)
    kendall_upper = serializers.FloatField(allow_null=True)
    pairwise_agreement = serializers.FloatField(
        allow_null=True, help_text="share of clip pairs with a human majority that the automatic scores order the same way"
    )
    decided_pairs = serializers.IntegerField(help_text="clip pairs with a human majority and both automatic scores")
    separability = serializers.FloatField(allow_null=True, help_text="share of model pairs whose human intervals do not overlap")
    models = serializers.IntegerField(help_text="models with both a human rating and an automatic score")
    judgments = serializers.IntegerField()
    simulated_judgments = serializers.IntegerField()
    simulated_share = serializers.FloatField(help_text="share of the judgments that are simulated (demo)")
    annotators = serializers.IntegerField()
    prompts = serializers.IntegerField()
    computed_at = serializers.DateTimeField()


class CorrelationDimensionSerializer(CorrelationValuesSerializer):
    weights_fit = serializers.JSONField(
        allow_null=True,
        help_text="metric weights fitted to the human judgments, with cross-validated agreement next to the "
        "default weights (reported only; the engine keeps its default weights)",
    )


class CorrelationLatestSerializer(serializers.Serializer):
    suite = serializers.IntegerField()
    suite_name = serializers.CharField()
    suite_version = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)
    bootstrap_rounds = serializers.IntegerField()
    dimensions = CorrelationDimensionSerializer(many=True)


class CorrelationHistorySerializer(serializers.Serializer):
    suite = serializers.IntegerField()
    dimension = serializers.CharField()
    points = CorrelationValuesSerializer(many=True)


class HumanRatingRowSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="ModelEntry slug")
    model_name = serializers.CharField()
    rating = serializers.FloatField(help_text="Bradley-Terry rating on the Elo-like scale (mean 1000)")
    lower = serializers.FloatField(help_text="95% bootstrap interval")
    upper = serializers.FloatField()
    rank_ub = serializers.IntegerField(help_text="1 + the number of models whose lower bound exceeds this upper bound")
    votes = serializers.IntegerField()
    simulated_votes = serializers.IntegerField()
    simulated = serializers.BooleanField(help_text="simulated votes are counted (demo)")
    provisional = serializers.BooleanField(help_text=f"fewer than {selectors.PROVISIONAL_BELOW_VOTES} votes")


class WinRateMatrixSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.CharField(), help_text="slugs, best first")
    win_rate = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="win_rate[i][j]: share of i's battles against j that i won, ties half; null if they never met",
    )
    battles = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class HumanRatingsSerializer(serializers.Serializer):
    suite = serializers.IntegerField()
    dimension = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)
    confidence = serializers.FloatField()
    ratings = HumanRatingRowSerializer(many=True)
    matrix = WinRateMatrixSerializer()


class CorrelationLatestApi(APIView):
    """The latest correlation between the automatic and the human ranking, per dimension."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="correlation_latest",
        parameters=[SUITE_PARAMETER, VERSION_PARAMETER],
        responses={200: CorrelationLatestSerializer, 400: RankingErrorSerializer, 404: RankingErrorSerializer},
        description="Spearman's rho and Kendall's tau (with 95% bootstrap intervals), pairwise agreement and "
        "separability per dimension, from the latest snapshot. `dimensions` is empty before the first snapshot.",
    )
    def get(self, request: Request) -> Response:
        suite = suite_from_query(request)
        snapshot = selectors.ranking_snapshot_latest(suite_id=suite.pk)
        dimensions = selectors.correlation_latest(suite_id=suite.pk, include_weights_fit=True)
        body = {
            "suite": suite.pk,
            "suite_name": suite.name,
            "suite_version": suite.version,
            "computed_at": snapshot.computed_at if snapshot else None,
            "bootstrap_rounds": snapshot.bootstrap_rounds if snapshot else 0,
            "dimensions": dimensions,
        }
        return Response(CorrelationLatestSerializer(body).data)


class CorrelationHistoryApi(APIView):
    """Every snapshot of one dimension's correlation, oldest first."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="correlation_history",
        parameters=[SUITE_PARAMETER, VERSION_PARAMETER, DIMENSION_PARAMETER],
        responses={200: CorrelationHistorySerializer, 400: RankingErrorSerializer, 404: RankingErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        suite = suite_from_query(request)
        dimension = dimension_from_query(request)
        points = selectors.correlation_history(suite_id=suite.pk, dimension=dimension)
        return Response(CorrelationHistorySerializer({"suite": suite.pk, "dimension": dimension, "points": points}).data)


class RatingsApi(APIView):
    """The human ratings of one dimension (Bradley-Terry, Elo-like scale) with intervals and Rank (UB)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="human_ratings",
        parameters=[SUITE_PARAMETER, VERSION_PARAMETER, DIMENSION_PARAMETER],
        responses={200: HumanRatingsSerializer, 400: RankingErrorSerializer, 404: RankingErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        suite = suite_from_query(request)
        dimension = dimension_from_query(request)
        ratings = selectors.human_ratings_latest(suite_id=suite.pk, dimension=dimension)
        names = dict(ModelEntry.objects.filter(slug__in=ratings).values_list("slug", "name"))
        snapshot = selectors.ranking_snapshot_latest(suite_id=suite.pk)
        rows: list[dict[str, Any]] = [
            {"model": slug, "model_name": names.get(slug, slug), **asdict(rating)}
            for slug, rating in sorted(ratings.items(), key=lambda item: (-item[1].rating, item[0]))
        ]
        body = {
            "suite": suite.pk,
            "dimension": dimension,
            "computed_at": snapshot.computed_at if snapshot else None,
            "confidence": 0.95,
            "ratings": rows,
            "matrix": selectors.win_rate_matrix(suite_id=suite.pk, dimension=dimension),
        }
        return Response(HumanRatingsSerializer(body).data)
