"""Reads behind the public pages and exports: the ranked table with intervals, slices and human ratings,
a model's profile, a clip's evidence, and the automatic-vs-human agreement.

Everything starts from `selectors.submissions_public()` (the one definition of what the public may
see) and from each model's latest public scored submission on a suite. The expensive part, the suite's
*field* (every such submission with its per-prompt results), is built once per cache generation; the
rankings for each query are computed from it in memory.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Prefetch

from config.exceptions import ApplicationError
from leaderboard import cache
from leaderboard.models import Clip, ModelEntry, Prompt, Submission, Suite
from leaderboard.vocabulary import PARADIGMS, TASKS
from scoring import engine
from scoring.engine.catalog import DIMENSIONS, METRICS_BY_NAME
from scoring.models import ClipScore, SubmissionScore

OVERALL = "overall"
RANK_DIMENSIONS: tuple[str, ...] = (OVERALL, *DIMENSIONS)
TABS: tuple[str, ...] = ("automatic", "human", "both")
# The breakdown axes of the stored aggregates (scoring.services.BREAKDOWN_AXES), in the order the filters show them.
BREAKDOWN_AXES: tuple[str, ...] = ("genre", "shot_bucket", "realism", "style", "language")
BREAKDOWN_LABELS: dict[str, str] = {
    "genre": "Genre",
    "shot_bucket": "Shot count",
    "realism": "Realism (subject/scene)",
    "style": "Style",
    "language": "Language",
}
SORT_COLUMNS: tuple[str, ...] = (
    "rank", "model", "organisation", "open", "paradigm", "task", "score", *RANK_DIMENSIONS,
    "human", "human_rank", "votes", "prompts", "engine",
)
# Bootstrap over prompts for the automatic score's interval: resampling prompts, paired across models.
BOOTSTRAP_ROUNDS = 1000
CONFIDENCE = 0.95
# A score resting on fewer prompts than this is shown as provisional (its interval is wide); see min_prompts().
MIN_PROMPTS = 10
MSAVBENCH_SPEARMAN = 0.915

def min_prompts() -> int:
    return int(getattr(settings, "MSAV_LEADERBOARD_MIN_PROMPTS", MIN_PROMPTS))


ERROR_UNKNOWN_VALUE = "{param}: unknown value {value!r}; expected one of: {allowed}"


# --- The query: what to rank, which rows, in which order ---------------------------------------


@dataclass(frozen=True)
class LeaderboardQuery:
    """A leaderboard view as the URL states it (a permalink): ranking dimension, filters, slice, sort, tab."""

    dimension: str = OVERALL
    is_open: bool | None = None
    paradigm: str = ""
    task: str = ""
    slice: tuple[tuple[str, str], ...] = ()  # (axis, value) pairs, axes in BREAKDOWN_AXES order
    sort: str = "rank"
    descending: bool = False
    tab: str = "automatic"

    @property
    def slice_dict(self) -> dict[str, str]:
        return dict(self.slice)

    @property
    def is_filtered(self) -> bool:
        return self.is_open is not None or bool(self.paradigm or self.task or self.slice)

    def to_params(self, **overrides: Any) -> dict[str, str]:
        """The query as URL parameters, defaults left out (canonical: equal queries give equal strings)."""
        query = replace(self, **overrides) if overrides else self
        params: dict[str, str] = {}
        if query.tab != "automatic":
            params["tab"] = query.tab
        if query.dimension != OVERALL:
            params["dimension"] = query.dimension
        if query.is_open is not None:
            params["open"] = "open" if query.is_open else "closed"
        if query.paradigm:
            params["paradigm"] = query.paradigm
        if query.task:
            params["task"] = query.task
        for axis, value in query.slice:
            params[axis] = value
        if query.sort != "rank":
            params["sort"] = query.sort
        if query.descending:
            params["dir"] = "reverse"
        return params

    def cache_params(self) -> str:
        return "&".join(f"{key}={value}" for key, value in sorted(self.to_params().items()))


def query_from_params(
    params: Mapping[str, str], *, suite: Suite, strict: bool = True
) -> LeaderboardQuery:
    """Parse URL parameters into a query; a bad value is an ApplicationError naming the parameter, the value and what is allowed.

    With strict=False (the browser page) an unknown sort column falls back to the rank, so an old
    permalink still opens; filters are always checked, since a silently ignored filter misleads.
    """

    def choice(name: str, allowed: Iterable[str], default: str = "") -> str:
        value = (params.get(name) or "").strip()
        if not value:
            return default
        allowed = list(allowed)
        if value not in allowed:
            raise ApplicationError(
                ERROR_UNKNOWN_VALUE.format(param=name, value=value, allowed=", ".join(allowed) or "(none on this suite)"),
                extra={"param": name, "value": value, "allowed": allowed},
            )
        return value

    openness = choice("open", ("open", "closed"))
    facets = suite_facets(suite=suite)
    slice_pairs = tuple(
        (axis, choice(axis, facets[axis])) for axis in BREAKDOWN_AXES if (params.get(axis) or "").strip()
    )
    sort_value = (params.get("sort") or "").strip() or "rank"
    if sort_value not in SORT_COLUMNS:
        if strict:
            choice("sort", SORT_COLUMNS)
        sort_value = "rank"
    direction = (params.get("dir") or "").strip()
    if strict:
        choice("dir", ("reverse", "natural"))
    return LeaderboardQuery(
        dimension=choice("dimension", RANK_DIMENSIONS, OVERALL),
        is_open=None if not openness else openness == "open",
        paradigm=choice("paradigm", PARADIGMS),
        task=choice("task", TASKS),
        slice=slice_pairs,
        sort=sort_value,
        descending=direction == "reverse",
        tab=choice("tab", TABS, "automatic") if strict else (params.get("tab") if params.get("tab") in TABS else "automatic"),
    )


# --- Suites by name (cached: the public pages and the API look one up on every request) ------


def suite_lookup(*, name: str, version: str | None = None) -> Suite | None:
    """A suite by name and version; without a version, the latest imported version of that name."""

    def build() -> Suite | bool:
        suites = Suite.objects.filter(name=name)
        found = suites.filter(version=version).first() if version else suites.order_by("-imported_at", "-pk").first()
        return found if found is not None else False  # False, not None: "no such suite" is cached too

    found = cache.cached(suite_id=None, kind="suite", params=f"{name}\x00{version or ''}", build=build, catalog_only=True)
    return found or None


def suite_latest() -> Suite | None:
    """The suite the home page shows: the most recently imported."""

    def build() -> Suite | bool:
        return Suite.objects.order_by("-imported_at", "-pk").first() or False

    return cache.cached(suite_id=None, kind="suite-default", params="", build=build, catalog_only=True) or None


def suite_names() -> list[str]:
    return cache.cached(
        suite_id=None, kind="suite-names", params="", catalog_only=True,
        build=lambda: [f"{name} {version}" for name, version in Suite.objects.order_by("name", "version").values_list("name", "version")],
    )


# --- The field: each model's latest public scored submission and its per-prompt results -------


@dataclass(frozen=True)
class PromptFacets:
    pk: int
    prompt_id: str
    position: int
    shot_count: int
    axes: dict[str, tuple[str, ...]]  # axis -> this prompt's value(s) on it

    def in_slice(self, pairs: tuple[tuple[str, str], ...]) -> bool:
        return all(value in self.axes[axis] for axis, value in pairs)


@dataclass(frozen=True)
class PromptResult:
    """One prompt of one submission: its clip and what the engine gave it (a failed generation scores 0)."""

    clip_id: int
    status: str
    reason: str
    overall: float
    dimensions: dict[str, float | None] | None  # None: a failed or missing generation

    @property
    def scored(self) -> bool:
        return self.dimensions is not None


@dataclass(frozen=True)
class FieldEntry:
    submission_id: int
    model: ModelEntry
    scored_at: datetime | None
    engine_version: str
    overall: float
    dimensions: dict[str, float | None]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    prompts_total: int
    prompts_scored: int
    per_prompt: dict[int, PromptResult]  # prompt pk -> result; empty when no clip rows exist

    @property
    def measured_dimensions(self) -> frozenset[str]:
        return frozenset(
            dimension
            for result in self.per_prompt.values()
            if result.dimensions is not None
            for dimension, value in result.dimensions.items()
            if value is not None
        )


@dataclass(frozen=True)
class SuiteField:
    suite: Suite
    prompts: list[PromptFacets]
    entries: list[FieldEntry]


def _prompt_facets(prompt: Prompt) -> PromptFacets:
    # The same axes the aggregation uses, so a slice here equals the stored breakdown.
    axes = {
        "genre": (prompt.category,),
        "shot_bucket": (prompt.shot_count_bucket,),
        "realism": (prompt.realism_bucket,),
        "style": (prompt.style,),
        "language": tuple(prompt.languages) or ("none",),
    }
    return PromptFacets(pk=prompt.pk, prompt_id=prompt.prompt_id, position=prompt.position, shot_count=prompt.shot_count, axes=axes)


def _preferred_aggregate(aggregates: list[SubmissionScore]) -> SubmissionScore | None:
    """The current engine's aggregate if there is one, else the newest."""
    current = [aggregate for aggregate in aggregates if aggregate.engine_version == engine.ENGINE_VERSION]
    if current:
        return current[0]
    return max(aggregates, key=lambda aggregate: aggregate.created_at, default=None)


def suite_field_build(*, suite: Suite) -> SuiteField:
    from leaderboard.selectors import submissions_public

    prompts = [_prompt_facets(prompt) for prompt in Prompt.objects.filter(suite=suite).order_by("position")]
    latest: dict[int, Submission] = {}
    for submission in (
        submissions_public()
        .filter(suite=suite, state=Submission.State.SCORED)
        .select_related("model")
        .prefetch_related(Prefetch("scores", queryset=SubmissionScore.objects.order_by("-created_at")))
        .order_by("model_id", "-scored_at", "-pk")
    ):
        latest.setdefault(submission.model_id, submission)
    chosen: dict[int, SubmissionScore] = {}
    for submission in latest.values():
        aggregate = _preferred_aggregate(list(submission.scores.all()))
        if aggregate is not None:
            chosen[submission.pk] = aggregate
    clip_scores: dict[int, ClipScore] = {}
    wanted_versions = {aggregate.engine_version for aggregate in chosen.values()}
    for score in ClipScore.objects.filter(
        clip__submission_id__in=chosen.keys(), engine_version__in=wanted_versions
    ).select_related("clip").only("clip__submission_id", "clip_id", "engine_version", "overall", "dimensions"):
        if score.engine_version == chosen[score.clip.submission_id].engine_version:
            clip_scores[score.clip_id] = score
    per_submission: dict[int, dict[int, PromptResult]] = {pk: {} for pk in chosen}
    for clip in Clip.objects.filter(submission_id__in=chosen.keys()).only(
        "pk", "submission_id", "prompt_id", "status", "status_reason"
    ):
        score = clip_scores.get(clip.pk)
        per_submission[clip.submission_id][clip.prompt_id] = PromptResult(
            clip_id=clip.pk,
            status=clip.status if score is None else Clip.Status.SCORED,
            reason=clip.status_reason,
            overall=0.0 if score is None else score.overall,
            dimensions=None if score is None else dict(score.dimensions),
        )
    entries = [
        FieldEntry(
            submission_id=submission.pk,
            model=submission.model,
            scored_at=submission.scored_at,
            engine_version=chosen[submission.pk].engine_version,
            overall=chosen[submission.pk].overall,
            dimensions=dict(chosen[submission.pk].dimensions),
            breakdowns=chosen[submission.pk].breakdowns or {},
            prompts_total=chosen[submission.pk].prompts_total,
            prompts_scored=chosen[submission.pk].prompts_scored,
            per_prompt=per_submission[submission.pk],
        )
        for submission in latest.values()
        if submission.pk in chosen
    ]
    entries.sort(key=lambda entry: entry.model.name.lower())
    return SuiteField(suite=suite, prompts=prompts, entries=entries)


def suite_field(*, suite: Suite) -> SuiteField:
    return cache.cached(suite_id=suite.pk, kind="field", params="", build=lambda: suite_field_build(suite=suite))


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort '1-4' < '5-10' < '11-15': numbers by value, the rest as text."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def suite_facets(*, suite: Suite) -> dict[str, list[str]]:
    """Each breakdown axis -> the values the suite's prompts take on it (what a slice filter may ask for)."""

    def build() -> dict[str, list[str]]:
        values: dict[str, set[str]] = {axis: set() for axis in BREAKDOWN_AXES}
        for prompt in suite_field(suite=suite).prompts:
            for axis in BREAKDOWN_AXES:
                values[axis].update(prompt.axes[axis])
        return {axis: sorted(found, key=natural_key) for axis, found in values.items()}

    return cache.cached(suite_id=suite.pk, kind="facets", params="", build=build)


QUERY_PARAMETERS: tuple[str, ...] = ("tab", "dimension", "open", "paradigm", "task", *BREAKDOWN_AXES, "sort", "dir")


def request_cache_params(params: Mapping[str, str], *, strict: bool) -> str:
    """The request's own parameters as a cache key, before any parsing: only the names the views read, in a
    fixed order, so unknown parameters cannot multiply the entries.

    strict (the API): values as given; a bad one fails to build and is never cached, so it cannot
    hit an entry. Lenient (the page): a sort, tab or direction the page would ignore keys like none.
    """
    parts = []
    for name in QUERY_PARAMETERS:
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if not strict and (
            (name == "sort" and value not in SORT_COLUMNS) or (name == "tab" and value not in TABS) or (name == "dir" and value != "reverse")
        ):
            continue
        parts.append(f"{name}={value}")
    return "&".join(parts)


# --- Scores on a slice, intervals, ranks ------------------------------------------------------


def _prompt_value(entry: FieldEntry, result: PromptResult, dimension: str, measured: frozenset[str]) -> float | None:
    """A prompt's contribution to a mean, exactly as the aggregation counts it (scoring.services._summarise)."""
    if dimension == OVERALL:
        return result.overall
    if dimension not in measured:
        return None
    if result.dimensions is None:
        return 0.0
    return result.dimensions.get(dimension)


@dataclass(frozen=True)
class SliceScore:
    score: float | None
    overall: float | None
    dimensions: dict[str, float | None]
    prompts: int  # prompts of the slice in this submission
    prompts_scored: int  # of those, clips the engine scored
    values: dict[int, float | None]  # prompt pk -> the ranked dimension's value (for the interval)


def _slice_score(entry: FieldEntry, prompt_pks: list[int], pairs: tuple[tuple[str, str], ...], dimension: str) -> SliceScore | None:
    if not pairs:
        values: dict[int, float | None] = {}
        if entry.per_prompt:
            measured = entry.measured_dimensions
            values = {
                pk: _prompt_value(entry, entry.per_prompt[pk], dimension, measured) for pk in prompt_pks if pk in entry.per_prompt
            }
        score = entry.overall if dimension == OVERALL else entry.dimensions.get(dimension)
        return SliceScore(score, entry.overall, dict(entry.dimensions), entry.prompts_total, entry.prompts_scored, values)
    if not entry.per_prompt:
        # Rows stored without per-clip results: only a single-axis slice can come from the stored breakdowns.
        if len(pairs) != 1:
            return None
        stored = entry.breakdowns.get(pairs[0][0], {}).get(pairs[0][1])
        if stored is None:
            return None
        dims = dict(stored.get("dimensions") or {})
        score = stored.get("overall") if dimension == OVERALL else dims.get(dimension)
        prompts = int(stored.get("prompts") or 0)
        return SliceScore(score, stored.get("overall"), dims, prompts, prompts, {})
    results = {pk: entry.per_prompt[pk] for pk in prompt_pks if pk in entry.per_prompt}
    if not results:
        return None
    measured = entry.measured_dimensions
    means: dict[str, float | None] = {}
    for name in RANK_DIMENSIONS:
        contributions = [_prompt_value(entry, result, name, measured) for result in results.values()]
        present = [value for value in contributions if value is not None]
        means[name] = round(sum(present) / len(present), 6) if present else None
    values = {pk: _prompt_value(entry, result, dimension, measured) for pk, result in results.items()}
    return SliceScore(
        score=means[dimension],
        overall=means[OVERALL],
        dimensions={name: means[name] for name in DIMENSIONS},
        prompts=len(results),
        prompts_scored=sum(1 for result in results.values() if result.scored),
        values=values,
    )


def bootstrap_intervals(
    values: list[dict[int, float | None]], *, rounds: int = BOOTSTRAP_ROUNDS, confidence: float = CONFIDENCE, seed: int = 0
) -> list[tuple[float, float] | None]:
    """Percentile intervals of each row's mean, resampling prompts with replacement, paired across rows.

    `values[i]` maps prompt -> row i's value (None: not counted). One resample of prompts serves every
    row, as every model answered the same prompts; a row with no values gets None.
    """
    prompts = sorted({pk for row in values for pk in row})
    if not prompts or not values:
        return [None] * len(values)
    index = {pk: i for i, pk in enumerate(prompts)}
    matrix = np.zeros((len(values), len(prompts)))
    mask = np.zeros((len(values), len(prompts)))
    for row_index, row in enumerate(values):
        for pk, value in row.items():
            if value is not None:
                matrix[row_index, index[pk]] = value
                mask[row_index, index[pk]] = 1.0
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(prompts), np.full(len(prompts), 1.0 / len(prompts)), size=rounds).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (counts @ matrix.T) / (counts @ mask.T)  # rounds x rows; NaN where a resample missed a row's prompts
    tail = (1.0 - confidence) / 2.0 * 100.0
    intervals: list[tuple[float, float] | None] = []
    for row_index in range(len(values)):
        column = means[:, row_index]
        column = column[~np.isnan(column)]
        if mask[row_index].sum() == 0 or column.size == 0:
            intervals.append(None)
        else:
            low, high = np.percentile(column, [tail, 100.0 - tail])
            intervals.append((round(float(low), 6), round(float(high), 6)))
    return intervals


def shared_ranks(scores: list[float | None]) -> list[int | None]:
    """Standard competition ranks, best (highest) first, equal scores (to 4 decimals) sharing a rank (1, 2, 2, 4)."""
    order = sorted((i for i, score in enumerate(scores) if score is not None), key=lambda i: -float(scores[i]))  # type: ignore[arg-type]
    ranks: list[int | None] = [None] * len(scores)
    previous: float | None = None
    previous_rank = 0
    for position, i in enumerate(order, start=1):
        rounded = round(float(scores[i]), 4)  # type: ignore[arg-type]
        rank = previous_rank if rounded == previous else position
        ranks[i], previous, previous_rank = rank, rounded, rank
    return ranks


def rank_upper_bounds(intervals: list[tuple[float, float] | None], scores: list[float | None]) -> list[int | None]:
    """Rank (UB) as LMArena defines it: 1 + the number of rows whose lower bound exceeds this row's upper bound."""
    bounds = [
        (interval if interval is not None else ((score, score) if score is not None else None))
        for interval, score in zip(intervals, scores)
    ]
    result: list[int | None] = []
    for own in bounds:
        if own is None:
            result.append(None)
            continue
        result.append(1 + sum(1 for other in bounds if other is not None and other[0] > own[1]))
    return result


# --- Human ratings (the ranking helper's snapshot; absent until it exists) -------------------


@dataclass(frozen=True)
class HumanCell:
    rating: float
    lower: float
    upper: float
    rank_ub: int | None
    votes: int
    simulated: bool
    provisional: bool

    @property
    def plus(self) -> float:
        return self.upper - self.rating

    @property
    def minus(self) -> float:
        return self.rating - self.lower


def human_ratings(*, suite: Suite, dimension: str) -> tuple[bool, dict[str, HumanCell]]:
    """(whether the ranking module is installed, ModelEntry slug -> latest human rating on this dimension)."""
    try:
        from annotation.ranking.selectors import human_ratings_latest
    except ImportError:
        return False, {}
    cells = {}
    for slug, rating in human_ratings_latest(suite_id=suite.pk, dimension=dimension).items():
        cells[slug] = HumanCell(
            rating=float(rating.rating),
            lower=float(rating.lower),
            upper=float(rating.upper),
            rank_ub=rating.rank_ub,
            votes=int(rating.votes),
            simulated=bool(rating.simulated),
            provisional=bool(rating.provisional),
        )
    return True, cells


# --- The ranked table ------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    rank_ub: int
    model: ModelEntry
    submission_id: int
    score: float  # the ranked dimension's score on the slice
    score_lower: float | None
    score_upper: float | None
    overall: float | None
    dimensions: dict[str, float | None]
    prompts: int  # prompts of the slice (all the suite's without a slice)
    prompts_scored: int
    prompts_total: int
    engine_version: str
    provisional: bool
    provisional_reason: str
    human: HumanCell | None = None
    human_rank: int | None = None
    human_rank_ub: int | None = None

    def dimension_list(self) -> list[float | None]:
        return [self.dimensions.get(dimension) for dimension in DIMENSIONS]

    @property
    def rank_delta(self) -> int | None:
        """Automatic rank minus human rank: positive when people rank the model higher than the engine does."""
        return None if self.human_rank is None else self.rank - self.human_rank


@dataclass(frozen=True)
class Leaderboard:
    suite: Suite
    rows: list[LeaderboardRow]
    query: LeaderboardQuery = field(default_factory=LeaderboardQuery)
    engine_versions: list[str] = field(default_factory=list)
    human_available: bool = False
    human_dimension: str = OVERALL
    excluded_models: list[str] = field(default_factory=list)  # public models with no data on the slice
    simulated_human: bool = False
    prompts_in_slice: int = 0

    @property
    def mixes_engine_versions(self) -> bool:
        return len(self.engine_versions) > 1

    @property
    def has_human(self) -> bool:
        return any(row.human is not None for row in self.rows)


def _model_matches(model: ModelEntry, query: LeaderboardQuery) -> bool:
    if query.is_open is not None and model.is_open != query.is_open:
        return False
    if query.paradigm and model.paradigm != query.paradigm:
        return False
    return not (query.task and model.task != query.task)


def leaderboard_build(*, suite: Suite, query: LeaderboardQuery) -> Leaderboard:
    data = suite_field(suite=suite)
    prompt_pks = [prompt.pk for prompt in data.prompts if prompt.in_slice(query.slice)]
    candidates: list[tuple[FieldEntry, SliceScore]] = []
    excluded: list[str] = []
    for entry in data.entries:
        if not _model_matches(entry.model, query):
            continue
        sliced = _slice_score(entry, prompt_pks, query.slice, query.dimension)
        if sliced is None or sliced.score is None:
            excluded.append(entry.model.name)
            continue
        candidates.append((entry, sliced))
    intervals = bootstrap_intervals([sliced.values for _, sliced in candidates], seed=suite.pk)
    scores: list[float | None] = [sliced.score for _, sliced in candidates]
    ranks = shared_ranks(scores)
    upper_bounds = rank_upper_bounds(intervals, scores)
    human_dimension = query.dimension
    human_available, human = human_ratings(suite=suite, dimension=human_dimension)
    rows = []
    for (entry, sliced), rank, rank_ub, interval in zip(candidates, ranks, upper_bounds, intervals):
        reasons = []
        if sliced.prompts_scored < min_prompts():
            reasons.append(f"{sliced.prompts_scored} prompt(s) scored (fewer than {min_prompts()})")
        rows.append(
            LeaderboardRow(
                rank=rank or 0,
                rank_ub=rank_ub or rank or 0,
                model=entry.model,
                submission_id=entry.submission_id,
                score=float(sliced.score or 0.0),
                score_lower=None if interval is None else interval[0],
                score_upper=None if interval is None else interval[1],
                overall=sliced.overall,
                dimensions=sliced.dimensions,
                prompts=sliced.prompts,
                prompts_scored=sliced.prompts_scored,
                prompts_total=entry.prompts_total,
                engine_version=entry.engine_version,
                provisional=bool(reasons),
                provisional_reason="; ".join(reasons),
                human=human.get(entry.model.slug),
            )
        )
    rows = _with_human_ranks(rows)
    if query.tab == "human":
        rows = [row for row in rows if row.human is not None]
    rows = sort_rows(rows, sort=query.sort, descending=query.descending, tab=query.tab)
    return Leaderboard(
        suite=suite,
        rows=rows,
        query=query,
        engine_versions=sorted({row.engine_version for row in rows}),
        human_available=human_available,
        human_dimension=human_dimension,
        excluded_models=sorted(excluded),
        simulated_human=any(row.human is not None and row.human.simulated for row in rows),
        prompts_in_slice=len(prompt_pks),
    )


def _with_human_ranks(rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    """Human rank and Rank (UB) among the rows shown (so a filter re-ranks the arena column too)."""
    rated = [i for i, row in enumerate(rows) if row.human is not None]
    ratings: list[float | None] = [rows[i].human.rating for i in rated]  # type: ignore[union-attr]
    ranks = shared_ranks(ratings)
    bounds = rank_upper_bounds([(rows[i].human.lower, rows[i].human.upper) for i in rated], ratings)  # type: ignore[union-attr]
    updated = list(rows)
    for i, rank, bound in zip(rated, ranks, bounds):
        updated[i] = replace(rows[i], human_rank=rank, human_rank_ub=bound)
    return updated


def sort_rows(rows: list[LeaderboardRow], *, sort: str, descending: bool, tab: str = "automatic") -> list[LeaderboardRow]:
    """Rows in a column's natural order (best first for numbers, A-Z for text), or its reverse; blanks always last."""
    if sort == "rank" and tab == "human":
        sort = "human_rank"
    text_columns = {
        "model": lambda row: row.model.name.lower(),
        "organisation": lambda row: row.model.organisation.lower(),
        "paradigm": lambda row: row.model.paradigm,
        "task": lambda row: row.model.task,
        "engine": lambda row: row.engine_version,
    }
    ascending_numbers = {
        "rank": lambda row: row.rank,
        "human_rank": lambda row: row.human_rank,
    }
    descending_numbers = {
        "score": lambda row: row.score,
        OVERALL: lambda row: row.overall,
        "human": lambda row: None if row.human is None else row.human.rating,
        "votes": lambda row: None if row.human is None else row.human.votes,
        "prompts": lambda row: row.prompts_scored,
        "open": lambda row: int(row.model.is_open),
        **{dimension: (lambda row, d=dimension: row.dimensions.get(d)) for dimension in DIMENSIONS},
    }
    by_name = sorted(rows, key=lambda row: row.model.name.lower())
    if sort in text_columns:
        return sorted(by_name, key=text_columns[sort], reverse=descending)
    if sort in ascending_numbers:
        key, sign = ascending_numbers[sort], 1.0
    elif sort in descending_numbers:
        key, sign = descending_numbers[sort], -1.0
    else:
        key, sign = ascending_numbers["rank"], 1.0
    if descending:
        sign = -sign
    present = [row for row in by_name if key(row) is not None]
    blank = [row for row in by_name if key(row) is None]
    return sorted(present, key=lambda row: sign * float(key(row))) + blank


def leaderboard(*, suite: Suite, query: LeaderboardQuery) -> Leaderboard:
    """The ranked table for this query, cached until the suite's scores, ratings or visibility change."""
    return cache.cached(
        suite_id=suite.pk, kind="board", params=query.cache_params(), build=lambda: leaderboard_build(suite=suite, query=query)
    )


# --- Per-prompt scores (the model page's table and the export) ------------------------------


def prompt_scores(*, suite: Suite, model_slug: str | None = None) -> list[dict[str, Any]]:
    """One row per (public model, prompt): status, overall and dimension scores, the clip's id."""
    data = suite_field(suite=suite)
    rows = []
    for entry in data.entries:
        if model_slug is not None and entry.model.slug != model_slug:
            continue
        for prompt in data.prompts:
            result = entry.per_prompt.get(prompt.pk)
            if result is None:
                continue
            rows.append(
                {
                    "model": entry.model.slug,
                    "model_name": entry.model.name,
                    "submission": entry.submission_id,
                    "engine_version": entry.engine_version,
                    "prompt": prompt.prompt_id,
                    "position": prompt.position,
                    "shots": prompt.shot_count,
                    "genre": prompt.axes["genre"][0],
                    "shot_bucket": prompt.axes["shot_bucket"][0],
                    "realism": prompt.axes["realism"][0],
                    "style": prompt.axes["style"][0],
                    "languages": list(prompt.axes["language"]),
                    "clip": result.clip_id,
                    "status": result.status,
                    "reason": result.reason,
                    "overall": result.overall,
                    "dimensions": {d: (None if result.dimensions is None else result.dimensions.get(d)) for d in DIMENSIONS},
                }
            )
    return rows


# --- The model page ------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


def model_profile(*, suite: Suite, slug: str) -> dict[str, Any] | None:
    """A public model on a suite: card, its dimensions against the field's best and median, breakdowns, prompts, history."""
    from leaderboard.selectors import submissions_public

    data = suite_field(suite=suite)
    entry = next((entry for entry in data.entries if entry.model.slug == slug), None)
    if entry is None:
        return None
    board = leaderboard(suite=suite, query=LeaderboardQuery())
    row = next((row for row in board.rows if row.model.slug == slug), None)
    radar = []
    for dimension in DIMENSIONS:
        field_values = [float(other.dimensions[dimension]) for other in data.entries if other.dimensions.get(dimension) is not None]
        radar.append(
            {
                "dimension": dimension,
                "model": entry.dimensions.get(dimension),
                "best": max(field_values) if field_values else None,
                "median": _median(field_values),
            }
        )
    breakdowns = []
    for axis in ("shot_bucket", "realism", "genre", "style", "language"):
        values = sorted(entry.breakdowns.get(axis, {}), key=natural_key)
        if not values:
            continue
        bars = []
        for value in values:
            field_values = [
                float(other.breakdowns[axis][value]["overall"])
                for other in data.entries
                if other.breakdowns.get(axis, {}).get(value) is not None
            ]
            stored = entry.breakdowns[axis][value]
            bars.append({"value": value, "model": stored.get("overall"), "median": _median(field_values), "prompts": stored.get("prompts")})
        breakdowns.append({"axis": axis, "label": BREAKDOWN_LABELS[axis], "bars": bars})
    history = []
    for submission in (
        submissions_public()
        .filter(model=entry.model)
        .select_related("suite")
        .prefetch_related(Prefetch("scores", queryset=SubmissionScore.objects.order_by("-created_at")))
        .order_by("-created_at")
    ):
        aggregate = _preferred_aggregate(list(submission.scores.all()))
        history.append(
            {
                "submission": submission,
                "suite": submission.suite,
                "state": submission.state,
                "overall": None if aggregate is None else aggregate.overall,
                "engine_version": None if aggregate is None else aggregate.engine_version,
                "current": submission.pk == entry.submission_id,
            }
        )
    return {
        "model": entry.model,
        "entry": entry,
        "row": row,
        "field_size": len(data.entries),
        "radar": radar,
        "breakdowns": breakdowns,
        "prompts": prompt_scores(suite=suite, model_slug=slug),
        "history": history,
    }


# --- The clip page -------------------------------------------------------------------------


def clip_page(*, clip: Clip) -> dict[str, Any]:
    """A clip, its prompt's script and shots, its stored result (every metric with tool and version) and the evidence."""
    prompt = clip.prompt
    shots = list(prompt.shots.order_by("index"))
    score = (
        clip.scores.filter(engine_version=engine.ENGINE_VERSION).prefetch_related("metrics").first()
        or clip.scores.order_by("-created_at").prefetch_related("metrics").first()
    )
    evidence: dict[str, Any] = {} if score is None else dict(score.evidence or {})
    shots_evidence = evidence.get("shots") or {}
    duration = (
        (evidence.get("probe") or {}).get("duration_s")
        or (clip.probe or {}).get("duration_s")
        or prompt.duration_s
    )
    detected = [
        {
            "time_s": candidate.get("time_s"),
            "kind": candidate.get("kind", ""),
            "confidence": candidate.get("confidence"),
            "accepted": candidate.get("accepted", True),
        }
        for candidate in shots_evidence.get("raw_candidates") or []
        if candidate.get("time_s") is not None
    ]
    corrected = [
        {
            "time_s": boundary.get("time_s"),
            "kind": boundary.get("kind", ""),
            "confidence": boundary.get("confidence"),
            "origin": boundary.get("origin", ""),
        }
        for boundary in shots_evidence.get("boundaries") or []
        if boundary.get("time_s") is not None
    ]
    scripted = [{"time_s": shot.start_s, "index": shot.index, "transition": shot.transition_in} for shot in shots[1:]]
    duration = float(duration or 0.0) or max([shot.end_s for shot in shots] + [1.0])
    for marker in (*detected, *corrected, *scripted):
        # Where the marker sits on the timeline, in percent of the clip (markers past the end are pinned to it).
        marker["pct"] = round(min(100.0, max(0.0, 100.0 * float(marker["time_s"]) / duration)), 3)
    script_shots = [
        {
            "index": shot.index,
            "start_s": shot.start_s,
            "end_s": shot.end_s,
            "left_pct": round(min(100.0, 100.0 * shot.start_s / duration), 3),
            "width_pct": round(max(0.0, min(100.0, 100.0 * shot.end_s / duration) - min(100.0, 100.0 * shot.start_s / duration)), 3),
            "caption": shot.caption,
        }
        for shot in shots
    ]
    metrics = []
    if score is not None:
        for metric in score.metrics.all():
            spec = METRICS_BY_NAME.get(metric.name)
            metrics.append(
                {
                    "name": metric.name,
                    "dimension": metric.dimension,
                    "value": metric.value,
                    "status": metric.status,
                    "tool": metric.tool,
                    "version": metric.version,
                    "raw": metric.raw,
                    "reason": metric.reason,
                    "description": "" if spec is None else spec.description,
                }
            )
    return {
        "clip": clip,
        "prompt": prompt,
        "shots": shots,
        "score": score,
        "metrics": metrics,
        "evidence": evidence,
        "timeline": {
            "duration_s": duration,
            "script_shots": script_shots,
            "scripted": scripted,
            "detected": detected,
            "corrected": corrected,
            "corrections": shots_evidence.get("corrections") or [],
        },
    }


# --- The agreement page ----------------------------------------------------------------------


def agreement(*, suite: Suite, dimension: str) -> dict[str, Any]:
    """Correlation per dimension, its history, the scatter of automatic vs human per model, the win-rate matrix.

    Only models of the public field appear: the ranking module promises the same, and this re-checks it.
    """
    try:
        from annotation.ranking import selectors as ranking
    except ImportError:
        ranking = None
    public_slugs = {entry.model.slug: entry.model for entry in suite_field(suite=suite).entries}
    board = leaderboard(suite=suite, query=LeaderboardQuery(dimension=dimension))
    scatter = [
        {
            "model": row.model.name,
            "slug": row.model.slug,
            "automatic": row.score,
            "automatic_lower": row.score_lower,
            "automatic_upper": row.score_upper,
            "human": row.human.rating,
            "human_lower": row.human.lower,
            "human_upper": row.human.upper,
            "votes": row.human.votes,
            "simulated": row.human.simulated,
        }
        for row in board.rows
        if row.human is not None
    ]
    correlations: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    matrix: dict[str, Any] = {"models": [], "win_rate": [], "battles": []}
    if ranking is not None:
        correlations = [dict(item) for item in ranking.correlation_latest(suite_id=suite.pk)]
        history = [dict(item) for item in ranking.correlation_history(suite_id=suite.pk, dimension=dimension)]
        raw = ranking.win_rate_matrix(suite_id=suite.pk, dimension=dimension) or {}
        models = list(raw.get("models") or [])
        keep = [i for i, slug in enumerate(models) if slug in public_slugs]
        matrix = {
            "models": [public_slugs[models[i]].name for i in keep],
            "slugs": [models[i] for i in keep],
            "win_rate": [[_finite(raw["win_rate"][i][j]) for j in keep] for i in keep],
            "battles": [[int(raw["battles"][i][j]) for j in keep] for i in keep],
        }
    for item in correlations + history:
        for key, value in list(item.items()):
            if isinstance(value, datetime):
                item[key] = value.isoformat()
    return {
        "ranking_available": ranking is not None,
        "dimension": dimension,
        "correlations": correlations,
        "history": history,
        "scatter": scatter,
        "win_rate": matrix,
        "simulated": any(point["simulated"] for point in scatter)
        or any((item.get("simulated_share") or 0) > 0 for item in correlations),
        "reference_spearman": MSAVBENCH_SPEARMAN,
    }


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else round(number, 4)
