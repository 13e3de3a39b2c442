"""The annotation API's hot path in hand-written SQL: the statements every `next` and every submission runs.

Why not the ORM here: the load benchmark (`manage.py bench_annotation_load`) showed Django spending more CPU
compiling these queries (joins, Exists, filtered aggregates) than PostgreSQL spent answering them, on the two cores
that serve both. Each statement is plain SQL that SQLite (the embedded default) runs too, except the slot take,
whose PostgreSQL form uses FOR UPDATE SKIP LOCKED and whose portable form is in services (SQLite has one writer at
a time, so no row locks are needed there). Table and column names are those of annotation.models and
leaderboard.models. The suite runs these through the API on PostgreSQL, and on SQLite in
tests/annotation/test_embedded_sqlite.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection

from annotation.models import Campaign, CampaignMember, Pair, Task
from config.handwritten_sql import columns, instance, prepared_cursor, width


def _when(value: datetime) -> Any:
    """A datetime as the database stores it (SQLite: naive UTC text, as the ORM writes it)."""
    return connection.ops.adapt_datetimefield_value(value)


def _json_value(value: Any) -> Any:
    """A JSON column read by hand-written SQL: text (Django leaves the decoding to the field), or already decoded."""
    return json.loads(value) if isinstance(value, str) else value


# --- Reads ------------------------------------------------------------------------------------------


def member_status(*, campaign_id: int, user_id: int, role: str) -> tuple[str | None, str, bool]:
    """(membership status or None when not a member, its reason, whether the user has `role`) in one query."""
    with prepared_cursor() as cursor:
        cursor.execute(
            """
            SELECT member.status, member.status_reason,
                   EXISTS (SELECT 1 FROM auth_user_groups AS user_group
                           JOIN auth_group AS grp ON grp.id = user_group.group_id
                           WHERE user_group.user_id = %s AND grp.name = %s)
            FROM (SELECT 1) AS one
            LEFT JOIN annotation_campaignmember AS member ON member.campaign_id = %s AND member.user_id = %s
            """,
            [user_id, role, campaign_id, user_id],
        )
        status, reason, has_role = cursor.fetchone()
    return status, reason or "", bool(has_role)


@dataclass(frozen=True)
class AnnotatorCounts:
    submitted_total: int
    submitted_today: int
    submitted_regular: int
    active_task_id: int | None


def annotator_counts(*, campaign_id: int, user_id: int, day_start: datetime) -> AnnotatorCounts:
    """The annotator's submitted tasks in the campaign (in all, since `day_start`, regular ones) and their active
    task, if any: one index scan serves the daily limit, the progress shown and the anomaly checkpoints."""
    with prepared_cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(CASE WHEN state = 'submitted' THEN 1 END),
                   COUNT(CASE WHEN state = 'submitted' AND finished_at >= %s THEN 1 END),
                   COUNT(CASE WHEN state = 'submitted' AND kind = 'regular' THEN 1 END),
                   MAX(CASE WHEN state = 'active' THEN id END)
            FROM annotation_task
            WHERE campaign_id = %s AND annotator_id = %s AND state IN ('active', 'submitted')
            """,
            [_when(day_start), campaign_id, user_id],
        )
        total, today, regular, active_id = cursor.fetchone()
    return AnnotatorCounts(int(total), int(today), int(regular), None if active_id is None else int(active_id))


@dataclass(frozen=True)
class PairPrompt:
    prompt_pk: int
    prompt_id: str
    script: str
    duration_s: float
    languages: list[str]
    watch_s: float  # how long the pair plays: the longer clip, both playing in sync


def pair_prompt(*, pair_id: int) -> PairPrompt:
    """The pair's prompt and how long its clips play."""
    with prepared_cursor() as cursor:
        cursor.execute(
            """
            SELECT prompt.id, prompt.prompt_id, prompt.script, prompt.duration_s, prompt.languages,
                   clip_x.probe, clip_y.probe
            FROM annotation_pair AS pair
            JOIN leaderboard_prompt AS prompt ON prompt.id = pair.prompt_id
            JOIN leaderboard_clip AS clip_x ON clip_x.id = pair.clip_x_id
            LEFT JOIN leaderboard_clip AS clip_y ON clip_y.id = pair.clip_y_id
            WHERE pair.id = %s
            """,
            [pair_id],
        )
        prompt_pk, prompt_id, script, duration_s, languages, probe_x, probe_y = cursor.fetchone()
    # A clip plays for its measured duration, else the script's; a gold/attention pair has one clip (and its copy).
    probes = [_json_value(probe) or {} for probe in (probe_x, probe_y) if probe is not None]
    watch_s = max(float(probe.get("duration_s") or duration_s) for probe in probes)
    return PairPrompt(int(prompt_pk), prompt_id, script, float(duration_s), _json_value(languages), watch_s)


SHOT_COLUMNS = (
    "index", "start_s", "end_s", "caption", "shot_scale", "camera_angle", "camera_motion", "transition_in", "audio",
    "on_screen_text",
)


def prompt_shots(*, prompt_pk: int) -> list[dict[str, Any]]:
    """The prompt's scripted shots in order, as {column: value} (audio decoded)."""
    columns = ", ".join(connection.ops.quote_name(column) for column in SHOT_COLUMNS)
    with prepared_cursor() as cursor:
        cursor.execute(
            f'SELECT {columns} FROM leaderboard_shot WHERE prompt_id = %s ORDER BY {connection.ops.quote_name("index")}',
            [prompt_pk],
        )
        rows = cursor.fetchall()
    shots = [dict(zip(SHOT_COLUMNS, row)) for row in rows]
    for shot in shots:
        shot["audio"] = _json_value(shot["audio"])
    return shots


# --- Writes -----------------------------------------------------------------------------------------

# Take a free slot and lock it to the annotator in one statement: PostgreSQL's queue pattern (a row another request
# holds is skipped, not waited for). The model-pair condition uses the slot_model_pair_order index.
_SLOT_TAKE_SQL = """
WITH candidate AS (
    SELECT slot.id, slot.state AS prior_state
    FROM annotation_pairslot AS slot
    WHERE slot.campaign_id = %(campaign)s {model_pair}
      AND (slot.state = 'open' OR (slot.state = 'locked' AND slot.locked_until < %(now)s))
      AND NOT EXISTS (
          SELECT 1 FROM annotation_task AS seen WHERE seen.pair_id = slot.pair_id AND seen.annotator_id = %(user)s
      )
    ORDER BY slot.index, slot.order_key
    LIMIT 1
    FOR UPDATE OF slot SKIP LOCKED
)
UPDATE annotation_pairslot AS slot
SET state = 'locked', annotator_id = %(user)s, locked_until = %(locked_until)s
FROM candidate
WHERE slot.id = candidate.id
RETURNING slot.id, slot.pair_id, candidate.prior_state
"""
_SLOT_TAKE_SQL_BY_SCOPE = {
    True: _SLOT_TAKE_SQL.format(model_pair="AND slot.model_x_id = %(model_x)s AND slot.model_y_id = %(model_y)s"),
    False: _SLOT_TAKE_SQL.format(model_pair=""),
}


def slot_take_postgresql(
    *, campaign_id: int, user_id: int, now: datetime, locked_until: datetime, model_pair: tuple[int, int] | None
) -> tuple[int, int, str] | None:
    """(slot id, pair id, the slot's state before) of a free slot now locked to the user, or None (PostgreSQL)."""
    params: dict[str, Any] = {"campaign": campaign_id, "now": now, "user": user_id, "locked_until": locked_until}  # PG only
    if model_pair is not None:
        params["model_x"], params["model_y"] = model_pair
    with prepared_cursor() as cursor:
        cursor.execute(_SLOT_TAKE_SQL_BY_SCOPE[model_pair is not None], params)
        row = cursor.fetchone()
    return (int(row[0]), int(row[1]), str(row[2])) if row else None


def slot_finish(*, slot_id: int, user_id: int) -> bool:
    """Mark the slot done, only while it is still locked to this annotator (a conditional UPDATE row-locks it like
    SELECT ... FOR UPDATE would). False when the lock lapsed and the slot went to someone else."""
    with prepared_cursor() as cursor:
        cursor.execute(
            "UPDATE annotation_pairslot SET state = 'done', locked_until = NULL "
            "WHERE id = %s AND state = 'locked' AND annotator_id = %s",
            [slot_id, user_id],
        )
        return cursor.rowcount > 0


def task_mark_submitted(*, task_id: int, now: datetime, server_elapsed_ms: int, client_elapsed_ms: int | None) -> None:
    with prepared_cursor() as cursor:
        cursor.execute(
            "UPDATE annotation_task SET state = 'submitted', finished_at = %s, server_elapsed_ms = %s, "
            "client_elapsed_ms = %s WHERE id = %s",
            [_when(now), server_elapsed_ms, client_elapsed_ms, task_id],
        )


def task_insert(
    *, campaign_id: int, pair_id: int, slot_id: int | None, user_id: int, kind: str, x_is_a: bool, now: datetime,
    expires_at: datetime,
) -> Task:
    """A new active task (a random public id and media tokens, as the model's defaults make them)."""
    task = Task(
        campaign_id=campaign_id, pair_id=pair_id, slot_id=slot_id, annotator_id=user_id, kind=kind, x_is_a=x_is_a,
        served_at=now, expires_at=expires_at,
    )
    fields = [field for field in Task._meta.concrete_fields if not field.primary_key]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(task, add=True), connection) for field in fields]
    with prepared_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO annotation_task ({names}) VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id", values
        )
        task.pk = cursor.fetchone()[0]
    task._state.adding = False
    return task


def judgments_insert(
    *, task_id: int, campaign_id: int, user_id: int, clip_a_id: int, clip_b_id: int, votes: dict[str, tuple[str, str]],
    now: datetime,
) -> None:
    """One Judgment row per dimension, in one INSERT. A row that breaks a constraint (this annotator judged these
    clips already) raises IntegrityError and nothing is inserted."""
    rows = [[user_id, clip_a_id, clip_b_id, name, outcome, comment, False, _when(now), campaign_id, task_id]
            for name, (outcome, comment) in votes.items()]
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    with prepared_cursor() as cursor:
        cursor.execute(
            "INSERT INTO annotation_judgment (annotator_id, clip_a_id, clip_b_id, dimension, outcome, comment, "
            f"is_simulated, created_at, campaign_id, task_id) VALUES {placeholders}",
            [value for row in rows for value in row],
        )


def ranking_request_count_if_queued(*, suite_id: int, reason: str, now: datetime, scheduled_after: datetime) -> bool:
    """Count one more request on a recomputation already queued (scheduled after `scheduled_after`, i.e. not stale)
    and mark the suite dirty, in one UPDATE. False when nothing is queued."""
    with prepared_cursor() as cursor:
        cursor.execute(
            "UPDATE ranking_recomputestate SET requests = requests + 1, last_reason = %s, "
            "dirty_since = COALESCE(dirty_since, %s) WHERE suite_id = %s AND scheduled_for >= %s",
            [reason, _when(now), suite_id, _when(scheduled_after)],
        )
        return cursor.rowcount > 0


# --- Rows as model instances ---------------------------------------------------------------------------


def task_for_submission(*, public_id: UUID, user_id: int) -> tuple[Task, CampaignMember] | None:
    """The user's task with its campaign and pair, and the user's membership of the campaign, the task and the
    membership row-locked (FOR UPDATE) on PostgreSQL; None when the user has no such task."""
    lock = " FOR UPDATE OF task, member" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT {columns(Task, 'task')}, {columns(Campaign, 'campaign')}, {columns(Pair, 'pair')}, "
        f"{columns(CampaignMember, 'member')} "
        "FROM annotation_task AS task "
        "JOIN annotation_campaign AS campaign ON campaign.id = task.campaign_id "
        "JOIN annotation_pair AS pair ON pair.id = task.pair_id "
        "JOIN annotation_campaignmember AS member ON member.campaign_id = task.campaign_id "
        "AND member.user_id = task.annotator_id "
        f"WHERE task.public_id = %s AND task.annotator_id = %s{lock}"
    )
    public_id_db = Task._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [public_id_db, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    widths = [width(model) for model in (Task, Campaign, Pair, CampaignMember)]
    starts = [sum(widths[:k]) for k in range(len(widths) + 1)]
    task = instance(Task, row[starts[0]:starts[1]], "task")
    campaign = instance(Campaign, row[starts[1]:starts[2]], "campaign")
    pair = instance(Pair, row[starts[2]:starts[3]], "pair")
    member = instance(CampaignMember, row[starts[3]:starts[4]], "member")
    task.campaign, task.pair, member.campaign = campaign, pair, campaign
    return task, member


def campaign_open(*, campaign_id: int) -> Campaign | None:
    """The campaign, if it exists and is open."""
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Campaign, 'campaign')} FROM annotation_campaign AS campaign "
            "WHERE campaign.id = %s AND campaign.is_active = %s",
            [campaign_id, True],
        )
        row = cursor.fetchone()
    return instance(Campaign, row, "campaign") if row else None
