"""Writes of the leaderboard app: suite import, model registration, submissions and their validation."""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from config import handwritten_sql
from config.exceptions import ApplicationError
from leaderboard import archives, suite_format
from leaderboard.models import (
    ApiToken,
    Clip,
    ModelEntry,
    Prompt,
    ReferenceAsset,
    RubricQuestion,
    Shot,
    Submission,
    SubmissionQuotaLock,
    Suite,
    UploadSession,
)
from leaderboard.roles import Role, user_has_role
from scoring import engine

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")

# Which states a submission may enter from which: a transition is one conditional UPDATE, so two
# workers can never both move the same submission.
SUBMISSION_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Submission.State.UPLOADED: (Submission.State.VALIDATING,),  # the reaper's retry of a stalled validation
    Submission.State.VALIDATING: (Submission.State.UPLOADED,),
    Submission.State.QUEUED: (Submission.State.VALIDATING, Submission.State.SCORED, Submission.State.FAILED),
    Submission.State.SCORING: (Submission.State.QUEUED,),
    Submission.State.SCORED: (Submission.State.QUEUED, Submission.State.SCORING),
    Submission.State.FAILED: (
        Submission.State.UPLOADED,
        Submission.State.VALIDATING,
        Submission.State.QUEUED,
        Submission.State.SCORING,
    ),
    Submission.State.CANCELLED: (Submission.State.UPLOADED, Submission.State.QUEUED, Submission.State.SCORING),
}


# --- Suites ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteImportResult:
    suite: Suite
    created: bool


def suite_import(*, path: Path) -> SuiteImportResult:
    """Import a suite folder or archive; re-importing the same name, version and content changes nothing.

    Raises `suite_format.SuiteFormatError` (every problem, each naming file, prompt and field) or
    `ApplicationError` when the name and version exist with other content. Imports nothing on error.
    """
    with tempfile.TemporaryDirectory(prefix="suite-", dir=settings.VAR_DIR) as workdir:
        loaded = suite_format.load_suite(Path(path), Path(workdir))
        spec = loaded.spec
        existing = Suite.objects.filter(name=spec.name, version=spec.version).first()
        if existing is not None:
            if existing.content_hash == loaded.content_hash:
                return SuiteImportResult(suite=existing, created=False)
            raise ApplicationError(
                f'suite "{spec.name}" version "{spec.version}" is already imported with different content; '
                "give the changed suite a new version",
                extra={"suite": spec.name, "version": spec.version},
            )
        media_dir = suite_media_dir(spec.name, spec.version)
        try:
            with transaction.atomic():
                suite = Suite.objects.create(
                    name=spec.name,
                    version=spec.version,
                    description=spec.description,
                    content_hash=loaded.content_hash,
                )
                _suite_create_prompts(suite=suite, loaded=loaded, media_dir=media_dir)
        except BaseException:
            shutil.rmtree(media_dir, ignore_errors=True)
            raise
    return SuiteImportResult(suite=suite, created=True)


def suite_media_dir(name: str, version: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "suites" / slugify(name) / slugify(version)


def _suite_create_prompts(*, suite: Suite, loaded: suite_format.LoadedSuite, media_dir: Path) -> None:
    prompts_raw = {item["id"]: item for item in loaded.raw["prompts"]}
    for position, script in enumerate(loaded.spec.prompts):
        prompt = Prompt.objects.create(
            suite=suite,
            prompt_id=script.id,
            position=position,
            category=script.category,
            style=script.style,
            subject_realism=script.subject_realism,
            scene_realism=script.scene_realism,
            languages=list(script.languages),
            audio_classes=list(script.audio_classes),
            duration_s=script.duration_s,
            script=script.script,
            shot_count=script.shot_count,
            spec=prompts_raw[script.id] | {"duration_s": script.duration_s},
        )
        Shot.objects.bulk_create(
            Shot(
                prompt=prompt,
                index=shot.index,
                start_s=shot.start_s,
                end_s=shot.end_s,
                caption=shot.caption,
                shot_scale=shot.shot_scale,
                camera_angle=shot.camera_angle,
                camera_motion=shot.camera_motion,
                transition_in=shot.transition_in,
                lighting=shot.lighting,
                audio=prompts_raw[script.id]["shots"][shot.index - 1].get("audio"),
                on_screen_text=shot.on_screen_text,
            )
            for shot in script.shots
        )
        for reference in script.references:
            target = media_dir / reference.file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(loaded.reference_files[reference.file], target)
            ReferenceAsset.objects.create(
                prompt=prompt,
                kind=reference.kind,
                name=reference.name,
                path=reference.file,
                file=str(target.relative_to(settings.MEDIA_ROOT)),
                shots=list(reference.shots),
            )
        RubricQuestion.objects.bulk_create(
            RubricQuestion(
                prompt=prompt,
                question_id=question.id,
                metric=question.metric,
                question=question.question,
                choices=list(question.choices),
                answer=question.answer,
                shots=list(question.shots),
            )
            for question in script.rubric
        )


# --- Models ---------------------------------------------------------------------------------

# Slugs that would collide with page routes under /models/.
RESERVED_MODEL_SLUGS = frozenset({"new"})


def model_entry_create(
    *,
    name: str,
    owner: AbstractBaseUser | None,
    organisation: str = "",
    url: str = "",
    license: str = "",
    is_open: bool = False,
    paradigm: str = ModelEntry.Paradigm.JOINT,
    task: str = ModelEntry.Task.T2AV,
    description: str = "",
) -> ModelEntry:
    name = name.strip()
    slug = slugify(name)
    if not name or not slug:
        raise ApplicationError("model name: must contain at least one letter or digit", extra={"field": "name"})
    if slug in RESERVED_MODEL_SLUGS:
        raise ApplicationError(f'model name: "{name}" is reserved (it names a page); choose another', extra={"field": "name"})
    if ModelEntry.objects.filter(name__iexact=name).exists() or ModelEntry.objects.filter(slug=slug).exists():
        raise ApplicationError(f'model name: "{name}" is already registered', extra={"field": "name"})
    entry = ModelEntry(
        name=name,
        slug=slug,
        organisation=organisation,
        url=url,
        license=license,
        is_open=is_open,
        paradigm=paradigm,
        task=task,
        description=description,
        owner=owner,
    )
    entry.full_clean()
    entry.save()
    return entry


# --- Submissions ----------------------------------------------------------------------------


def archive_suffix(filename: str) -> str:
    """The archive's recognised suffix, or an ApplicationError naming the file and what is accepted."""
    lowered = filename.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    raise ApplicationError(
        f'archive "{filename}": not a .zip or .tar.gz file; a submission is one archive of clips named '
        "<prompt id>.mp4/.mov/.mkv/.webm",
        extra={"field": "archive"},
    )


def submission_create(
    *,
    owner: AbstractBaseUser | None,
    model: ModelEntry,
    suite: Suite,
    archive: IO[bytes],
    archive_name: str,
    is_public: bool = False,
    enforce_quota: bool = True,
) -> Submission:
    """Store an uploaded archive under a path of our choosing and queue its validation.

    The submission stays private unless `is_public` (the owner's choice to publish it once scored).
    With `enforce_quota` the owner's daily quota on the suite is checked before the bytes are stored
    and counted again, atomically, when the row is created.
    """
    suffix = archive_suffix(archive_name)
    submission_check_owner_may_submit(owner=owner, model=model)
    if enforce_quota and owner is not None:
        submission_quota_check(owner=owner, suite=suite)  # fail fast; the binding count is below
    relative = Path("submissions") / uuid.uuid4().hex / f"archive{suffix}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with open(target, "wb") as out:
            for chunk in _chunks(archive):
                size += len(chunk)
                if size > settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES:
                    raise archive_too_large(archive_name)
                out.write(chunk)
        if size == 0:
            raise ApplicationError(f'archive "{archive_name}": the file is empty', extra={"field": "archive"})
        submission = _submission_insert(
            owner=owner,
            model=model,
            suite=suite,
            relative=relative,
            archive_name=archive_name,
            size=size,
            is_public=is_public,
            enforce_quota=enforce_quota,
        )
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    return submission


def archive_too_large(archive_name: str) -> ApplicationError:
    return ApplicationError(
        f'archive "{archive_name}": larger than the limit of {settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES} bytes '
        f"({archives.format_bytes(settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES)})",
        extra={"field": "archive", "limit_bytes": settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES},
        status_code=413,
    )


def _submission_insert(
    *,
    owner: AbstractBaseUser | None,
    model: ModelEntry,
    suite: Suite,
    relative: Path,
    archive_name: str,
    size: int,
    is_public: bool,
    enforce_quota: bool,
    before_commit: Callable[[Submission], None] | None = None,
) -> Submission:
    """Create the row (counting the quota under its lock) and queue validation once committed."""
    with transaction.atomic():
        if enforce_quota and owner is not None:
            submission_quota_reserve(owner=owner, suite=suite)
        now = timezone.now()
        submission = Submission.objects.create(
            model=model,
            suite=suite,
            owner=owner,
            archive=str(relative),
            archive_name=Path(archive_name).name[:255],
            archive_size=size,
            is_public=is_public,
            published_at=now if is_public else None,
        )
        if before_commit is not None:
            before_commit(submission)
        transaction.on_commit(lambda: submission_enqueue_validation(submission_id=submission.pk))
    return submission


def submission_enqueue_validation(*, submission_id: int) -> bool:
    """Queue the validation task; if the broker is down the upload is kept and the reaper queues it later."""
    from leaderboard import tasks

    try:
        tasks.validate_submission.delay(submission_id)
    except Exception:  # kombu raises several types for an unreachable broker; none may lose the upload
        logger.warning("broker unavailable: submission %s stays uploaded until the reaper queues it", submission_id)
        return False
    return True


def _chunks(stream: IO[bytes], size: int = 1024 * 1024) -> Iterable[bytes]:
    if hasattr(stream, "chunks"):
        yield from stream.chunks(size)
        return
    while chunk := stream.read(size):
        yield chunk


def submission_transition(*, submission_id: int, to: str, reason: str = "") -> bool:
    """Move a submission to `to` if its current state allows it; False when another actor moved it first."""
    now = timezone.now()
    fields: dict[str, object] = {"state": to, "state_reason": reason, "updated_at": now}
    if to == Submission.State.SCORED:
        fields["scored_at"] = now
    moved = Submission.objects.filter(pk=submission_id, state__in=SUBMISSION_TRANSITIONS[to]).update(**fields)
    return moved == 1


def clips_dir(submission: Submission) -> Path:
    return Path(settings.MEDIA_ROOT) / "clips" / str(submission.pk)


def submission_validate(*, submission_id: int) -> list[int]:
    """Unpack and check an uploaded archive member by member; create one Clip per prompt.

    Returns the ids of clips to score. A refused member is reported by name with the reason; a
    prompt with no clip, or whose clip does not decode, becomes a failed generation (score 0).
    """
    if not submission_transition(submission_id=submission_id, to=Submission.State.VALIDATING):
        return []
    submission = Submission.objects.select_related("suite").get(pk=submission_id)
    prompts = list(submission.suite.prompts.order_by("position"))
    dest = clips_dir(submission)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    limits = archives.ArchiveLimits(
        max_clip_bytes=settings.MSAV_CLIP_MAX_BYTES,
        max_total_bytes=max(settings.MSAV_CLIP_MAX_BYTES * len(prompts) + 2**20, 2**20),
        max_members=max(2 * len(prompts) + 10, 20),
    )
    try:
        report = archives.extract_submission(
            Path(submission.archive.path), prompt_ids={p.prompt_id for p in prompts}, dest=dest, limits=limits
        )
    except archives.ArchiveError as error:
        shutil.rmtree(dest, ignore_errors=True)
        submission_transition(
            submission_id=submission_id, to=Submission.State.FAILED, reason=f'archive "{submission.archive_name}": {error}'
        )
        return []

    clips = []
    for prompt in prompts:
        accepted = report.accepted.get(prompt.prompt_id)
        if accepted is None:
            clips.append(
                Clip(
                    submission=submission,
                    prompt=prompt,
                    status=Clip.Status.MISSING,
                    status_reason="no clip for this prompt in the archive: counted as a failed generation",
                )
            )
            continue
        clip = Clip(
            submission=submission,
            prompt=prompt,
            file=str(Path(accepted.path).relative_to(settings.MEDIA_ROOT)),
            member_name=accepted.member_name,
            size_bytes=accepted.size_bytes,
            sha256=accepted.sha256,
        )
        try:
            clip.probe = engine.probe_clip(Path(accepted.path), timeout_s=settings.MSAV_PROBE_TIMEOUT_S).to_dict()
            clip.status = Clip.Status.QUEUED
        except engine.ClipDecodeError as error:
            clip.status = Clip.Status.FAILED
            clip.status_reason = f'"{accepted.member_name}" does not decode: {error.reason}; counted as a failed generation'
        clips.append(clip)

    with transaction.atomic():
        Clip.objects.bulk_create(clips)
        Submission.objects.filter(pk=submission_id).update(report=report.to_dict())
        submission_transition(submission_id=submission_id, to=Submission.State.QUEUED)
    return [clip.pk for clip in Clip.objects.filter(submission_id=submission_id, status=Clip.Status.QUEUED)]


# --- Who may submit, and the daily quota ------------------------------------------------------


def submission_check_owner_may_submit(*, owner: AbstractBaseUser | None, model: ModelEntry) -> None:
    """A researcher submits only for their own models; curators (staff) for any; None is the platform itself."""
    if owner is None or owner.is_staff:  # type: ignore[attr-defined]
        return
    if model.owner_id != owner.pk:
        raise ApplicationError(
            f'model "{model.name}": you can submit only for models you registered',
            extra={"field": "model"},
            status_code=403,
        )


@dataclass(frozen=True)
class QuotaStatus:
    used: int
    limit: int
    resets_at: datetime.datetime

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def _quota_day_start(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def submission_quota_status(*, owner: AbstractBaseUser, suite: Suite) -> QuotaStatus:
    """Submissions by `owner` on `suite` since 00:00 UTC that count: all but those failed by the platform."""
    day_start = _quota_day_start(timezone.now())
    used = Submission.objects.filter(
        owner=owner, suite=suite, created_at__gte=day_start, failed_by_infrastructure=False
    ).count()
    return QuotaStatus(
        used=used, limit=settings.MSAV_SUBMISSIONS_PER_DAY, resets_at=day_start + datetime.timedelta(days=1)
    )


def _quota_exceeded(status: QuotaStatus, suite: Suite) -> ApplicationError:
    return ApplicationError(
        f"quota: you have made {status.used} submissions to suite {suite.name} {suite.version} today, "
        f"the limit is {status.limit} per day (UTC); it resets at {status.resets_at:%Y-%m-%d %H:%M} UTC",
        extra={"used": status.used, "limit": status.limit, "resets_at": status.resets_at.isoformat()},
        status_code=429,
    )


def submission_quota_check(*, owner: AbstractBaseUser, suite: Suite) -> QuotaStatus:
    """An early, non-binding check (before receiving bytes); the binding one is `submission_quota_reserve`."""
    status = submission_quota_status(owner=owner, suite=suite)
    if status.remaining <= 0:
        raise _quota_exceeded(status, suite)
    return status


def submission_quota_reserve(*, owner: AbstractBaseUser, suite: Suite) -> None:
    """Inside the transaction that creates the submission: lock the (user, suite) row, then count.

    INSERT ... ON CONFLICT DO NOTHING makes the row exist without a race; SELECT ... FOR UPDATE makes a
    second transaction wait until the first commits (and so sees its submission) before counting.
    """
    SubmissionQuotaLock.objects.bulk_create([SubmissionQuotaLock(user=owner, suite=suite)], ignore_conflicts=True)
    SubmissionQuotaLock.objects.select_for_update().get(user=owner, suite=suite)
    status = submission_quota_status(owner=owner, suite=suite)
    if status.remaining <= 0:
        raise _quota_exceeded(status, suite)


def submission_fail_by_infrastructure(*, submission_id: int, reason: str) -> bool:
    """Fail a submission because the platform failed (not the archive): it does not count against the quota."""
    moved = submission_transition(submission_id=submission_id, to=Submission.State.FAILED, reason=reason)
    if moved:
        Submission.objects.filter(pk=submission_id).update(failed_by_infrastructure=True)
    return moved


# --- Visibility: publish, hide, withdraw; rerun ------------------------------------------------


def _invalidate_public_pages(submission: Submission) -> None:
    from leaderboard.cache import leaderboard_cache_invalidate

    leaderboard_cache_invalidate(suite_id=submission.suite_id)


def _require_owner(submission: Submission, user: AbstractBaseUser, action: str) -> None:
    if submission.owner_id != user.pk:
        raise ApplicationError(
            f"submission {submission.pk}: only its owner can {action} it", extra={"submission": submission.pk},
            status_code=403,
        )


def _require_curator(user: AbstractBaseUser, action: str) -> None:
    if not user_has_role(user, Role.CURATOR):
        raise ApplicationError(f"only curators can {action} submissions", status_code=403)


def _require_not_withdrawn(submission: Submission, action: str) -> None:
    if submission.withdrawn_at is not None:
        raise ApplicationError(
            f"submission {submission.pk}: was withdrawn by its owner and cannot be {action}",
            extra={"submission": submission.pk},
            status_code=409,
        )


def submission_publish(*, submission: Submission, user: AbstractBaseUser) -> Submission:
    """The owner shows the submission on the public leaderboard (once it is scored)."""
    _require_owner(submission, user, "publish")
    _require_not_withdrawn(submission, "published")
    with transaction.atomic():
        Submission.objects.filter(pk=submission.pk, is_public=False).update(
            is_public=True, published_at=timezone.now(), updated_at=timezone.now()
        )
        _invalidate_public_pages(submission)
    submission.refresh_from_db()
    return submission


def submission_unpublish(*, submission: Submission, user: AbstractBaseUser) -> Submission:
    """The owner makes the submission private again."""
    _require_owner(submission, user, "unpublish")
    with transaction.atomic():
        Submission.objects.filter(pk=submission.pk).update(is_public=False, published_at=None, updated_at=timezone.now())
        _invalidate_public_pages(submission)
    submission.refresh_from_db()
    return submission


def submission_hide(*, submission: Submission, curator: AbstractBaseUser, reason: str) -> Submission:
    """A curator takes a submission off every public listing; the owner sees the reason."""
    _require_curator(curator, "hide")
    reason = reason.strip()
    if not reason:
        raise ApplicationError("reason: a curator must say why a submission is hidden", extra={"field": "reason"})
    with transaction.atomic():
        Submission.objects.filter(pk=submission.pk).update(
            hidden_at=timezone.now(), hidden_reason=reason[:2000], hidden_by=curator, updated_at=timezone.now()
        )
        _invalidate_public_pages(submission)
    submission.refresh_from_db()
    return submission


def submission_unhide(*, submission: Submission, curator: AbstractBaseUser) -> Submission:
    _require_curator(curator, "unhide")
    with transaction.atomic():
        Submission.objects.filter(pk=submission.pk).update(
            hidden_at=None, hidden_reason="", hidden_by=None, updated_at=timezone.now()
        )
        _invalidate_public_pages(submission)
    submission.refresh_from_db()
    return submission


WITHDRAWN_REASON = "withdrawn by its owner"


def submission_withdraw(*, submission: Submission, user: AbstractBaseUser) -> Submission:
    """The owner withdraws a submission for good: off every public listing, and unfinished work is cancelled."""
    _require_owner(submission, user, "withdraw")
    _require_not_withdrawn(submission, "withdrawn again")
    with transaction.atomic():
        Submission.objects.filter(pk=submission.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now(), is_public=False, updated_at=timezone.now()
        )
        # Unfinished work stops: a clip task finding the submission cancelled stores nothing more.
        submission_transition(submission_id=submission.pk, to=Submission.State.CANCELLED, reason=WITHDRAWN_REASON)
        _invalidate_public_pages(submission)
    submission.refresh_from_db()
    return submission


def submission_rerun(*, submission: Submission, user: AbstractBaseUser) -> Submission:
    """Validate and score a failed submission's stored archive again (owner or curator); not a new upload,
    so it does not count against the quota."""
    if submission.owner_id != user.pk and not user_has_role(user, Role.CURATOR):
        raise ApplicationError(
            f"submission {submission.pk}: only its owner or a curator can rerun it", status_code=403
        )
    _require_not_withdrawn(submission, "rerun")
    if submission.state != Submission.State.FAILED:
        raise ApplicationError(
            f"submission {submission.pk}: only a failed submission can be rerun (it is {submission.state})",
            extra={"state": submission.state},
            status_code=409,
        )
    with transaction.atomic():
        moved = Submission.objects.filter(pk=submission.pk, state=Submission.State.FAILED).update(
            state=Submission.State.UPLOADED,
            state_reason="",
            report={},
            failed_by_infrastructure=False,
            scored_at=None,
            updated_at=timezone.now(),
        )
        if not moved:
            raise ApplicationError(f"submission {submission.pk}: its state changed meanwhile; reload", status_code=409)
        try:
            Clip.objects.filter(submission_id=submission.pk).delete()
        except ProtectedError as error:
            raise ApplicationError(
                f"submission {submission.pk}: its clips are referenced ({len(error.protected_objects)} records) "
                "and cannot be re-created",
                status_code=409,
            ) from error
        submission.scores.all().delete()
        transaction.on_commit(lambda: submission_enqueue_validation(submission_id=submission.pk))
    submission.refresh_from_db()
    return submission


# --- Model registry ---------------------------------------------------------------------------

MODEL_EDITABLE_FIELDS = ("organisation", "url", "license", "is_open", "paradigm", "task", "description")


def model_entry_update(*, entry: ModelEntry, user: AbstractBaseUser, **fields: object) -> ModelEntry:
    """The owner edits a model's details. The name (and slug) stay: they identify the model in rankings."""
    if entry.owner_id != user.pk:
        raise ApplicationError(f'model "{entry.name}": only its owner can edit it', status_code=403)
    unknown = set(fields) - set(MODEL_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            f"model fields {', '.join(sorted(unknown))}: cannot be changed (editable: {', '.join(MODEL_EDITABLE_FIELDS)})",
            extra={"fields": sorted(unknown)},
        )
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.full_clean()
    entry.save()
    return entry


# --- API tokens -------------------------------------------------------------------------------

API_TOKEN_PREFIX = "msav_"
# A token records its last use at most this often (not a write per request).
API_TOKEN_LAST_USED_EVERY = datetime.timedelta(seconds=60)


def api_token_hash(key: str) -> str:
    # The key has 256 random bits, so a plain sha256 cannot be brute-forced; a slow hash would only cost
    # every API request.
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new token; returns (record, key). The key is not stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ApplicationError("token name: give the token a name (e.g. the machine it runs on)", extra={"field": "name"})
    if len(name) > 100:
        raise ApplicationError("token name: at most 100 characters", extra={"field": "name"})
    key = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:12], key_hash=api_token_hash(key))
    return token, key


def api_token_revoke(*, token_id: int, user: AbstractBaseUser) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise ApplicationError(f"token {token_id}: no such token of yours", status_code=404)
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db()
    return token


def api_token_authenticate(key: str) -> tuple[AbstractBaseUser, int] | None:
    """(the user, the token's id) of the active token with this key, recording when it was last used; else None.

    One hand-written query (every API request runs it; the ORM's select_related join cost more CPU to compile than
    the database took to answer): the user's row with the token's id and whether its last use is over a minute old.
    """
    if not key.startswith(API_TOKEN_PREFIX):
        return None
    user_model = get_user_model()
    now = timezone.now()
    with handwritten_sql.prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {handwritten_sql.columns(user_model, 'account')}, token.id, "
            "CASE WHEN token.last_used_at IS NULL OR token.last_used_at < %s THEN 1 ELSE 0 END "
            f"FROM {user_model._meta.db_table} AS account "
            f"JOIN {ApiToken._meta.db_table} AS token ON token.user_id = account.{user_model._meta.pk.column} "
            "WHERE token.key_hash = %s AND token.revoked_at IS NULL",
            [connection.ops.adapt_datetimefield_value(now - API_TOKEN_LAST_USED_EVERY), api_token_hash(key)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    user = handwritten_sql.instance(user_model, row[:-2], "account")
    token_id, last_use_is_old = int(row[-2]), bool(row[-1])
    if not user.is_active:
        return None
    if last_use_is_old:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)  # at most once a minute, not per request
    return user, token_id


# --- Resumable chunked uploads ----------------------------------------------------------------

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def upload_dir(session: UploadSession) -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads" / session.pk.hex


def upload_data_path(session: UploadSession) -> Path:
    return upload_dir(session) / "data.part"


def upload_session_create(
    *,
    owner: AbstractBaseUser,
    model: ModelEntry,
    suite: Suite,
    filename: str,
    total_size: int,
    sha256: str,
    publish: bool = False,
) -> UploadSession:
    """Open an upload of `total_size` bytes whose sha256 is known up front; limits are checked now."""
    archive_suffix(filename)
    submission_check_owner_may_submit(owner=owner, model=model)
    if total_size <= 0:
        raise ApplicationError("total_size: must be a positive number of bytes", extra={"field": "total_size"})
    if total_size > settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES:
        raise archive_too_large(filename)
    sha256 = sha256.strip().lower()
    if not SHA256_HEX.match(sha256):
        raise ApplicationError("sha256: must be 64 hexadecimal characters", extra={"field": "sha256"})
    submission_quota_check(owner=owner, suite=suite)
    session = UploadSession.objects.create(
        owner=owner,
        model=model,
        suite=suite,
        filename=Path(filename).name[:255],
        total_size=total_size,
        sha256=sha256,
        publish=publish,
    )
    upload_dir(session).mkdir(parents=True, exist_ok=True)
    upload_data_path(session).touch()
    return session


def _upload_session_of(*, session_id: uuid.UUID | str, owner: AbstractBaseUser) -> UploadSession:
    session = UploadSession.objects.filter(pk=session_id, owner=owner).first()
    if session is None:
        raise ApplicationError(f"upload {session_id}: no such upload of yours", status_code=404)
    return session


def upload_session_get(*, session_id: uuid.UUID | str, owner: AbstractBaseUser) -> UploadSession:
    return _upload_session_of(session_id=session_id, owner=owner)


@dataclass(frozen=True)
class ContentRange:
    start: int
    end: int  # inclusive
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def content_range_parse(header: str | None) -> ContentRange:
    match = CONTENT_RANGE.match((header or "").strip())
    if not match:
        raise ApplicationError(
            f'Content-Range: expected "bytes START-END/TOTAL", got {header!r}', extra={"header": "Content-Range"}
        )
    start, end, total = (int(group) for group in match.groups())
    if end < start:
        raise ApplicationError(f"Content-Range: end {end} is before start {start}", extra={"header": "Content-Range"})
    return ContentRange(start, end, total)


def upload_session_append(
    *,
    session_id: uuid.UUID | str,
    owner: AbstractBaseUser,
    content_range: ContentRange,
    content_length: int | None,
    body: IO[bytes],
) -> UploadSession:
    """Append one chunk at the current offset. Sizes are checked before and while reading the body,
    so an over-long chunk is cut off as it arrives; bytes received before a dropped connection are kept,
    and the client resumes from the offset that HEAD reports."""
    session = _upload_session_of(session_id=session_id, owner=owner)
    if session.state != UploadSession.State.OPEN:
        raise ApplicationError(f"upload {session.pk}: is {session.state}, not open", status_code=409)
    if content_range.total != session.total_size:
        raise ApplicationError(
            f"Content-Range: total {content_range.total} differs from the upload's total_size {session.total_size}",
            extra={"header": "Content-Range", "offset": session.received},
        )
    if content_range.end >= session.total_size:
        raise ApplicationError(
            f"Content-Range: end {content_range.end} is past the last byte ({session.total_size - 1})",
            extra={"header": "Content-Range", "offset": session.received},
            status_code=416,
        )
    if content_range.length > settings.MSAV_UPLOAD_CHUNK_MAX_BYTES:
        raise ApplicationError(
            f"chunk of {content_range.length} bytes is over the {settings.MSAV_UPLOAD_CHUNK_MAX_BYTES}-byte chunk limit",
            extra={"limit_bytes": settings.MSAV_UPLOAD_CHUNK_MAX_BYTES, "offset": session.received},
            status_code=413,
        )
    if content_length is None or content_length != content_range.length:
        raise ApplicationError(
            f"Content-Length ({content_length}) must equal the Content-Range length ({content_range.length})",
            extra={"header": "Content-Length", "offset": session.received},
        )
    path = upload_data_path(session)
    with open(path, "r+b") as out:
        # One writer per upload at a time: a second connection for the same upload waits here.
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)
        session.refresh_from_db(fields=["received", "state"])
        if content_range.start != session.received:
            raise ApplicationError(
                f"Content-Range: starts at {content_range.start} but the upload has {session.received} bytes; "
                f"send from byte {session.received}",
                extra={"offset": session.received},
                status_code=409,
            )
        out.seek(session.received)
        got = 0
        broken: ApplicationError | None = None
        while got < content_range.length:
            try:
                piece = body.read(min(1024 * 1024, content_range.length - got))
            except OSError as error:  # the client went away mid-chunk
                broken = ApplicationError(f"the connection broke after {got} bytes of the chunk: {error}")
                break
            if not piece:
                broken = ApplicationError(
                    f"the chunk ended after {got} of {content_range.length} bytes; resume from the offset"
                )
                break
            out.write(piece)
            got += len(piece)
        out.truncate(session.received + got)
        out.flush()
        os.fsync(out.fileno())
        UploadSession.objects.filter(pk=session.pk, received=session.received).update(
            received=session.received + got, updated_at=timezone.now()
        )
    session.refresh_from_db()
    if broken is not None:
        broken.extra = {"offset": session.received}
        raise broken
    return session


def upload_session_complete(*, session_id: uuid.UUID | str, owner: AbstractBaseUser) -> Submission:
    """Turn a fully received upload into a submission (idempotent: completing twice gives the same one)."""
    session = _upload_session_of(session_id=session_id, owner=owner)
    if session.state == UploadSession.State.COMPLETE and session.submission_id is not None:
        return session.submission  # type: ignore[return-value]
    if session.state != UploadSession.State.OPEN:
        raise ApplicationError(f"upload {session.pk}: is {session.state}", status_code=409)
    if session.received != session.total_size:
        raise ApplicationError(
            f"upload {session.pk}: has {session.received} of {session.total_size} bytes; send the rest first",
            extra={"offset": session.received},
            status_code=409,
        )
    path = upload_data_path(session)
    digest = hashlib.sha256()
    with open(path, "rb") as stored:
        while piece := stored.read(1024 * 1024):
            digest.update(piece)
    if digest.hexdigest() != session.sha256:
        UploadSession.objects.filter(pk=session.pk).update(state=UploadSession.State.ABORTED)
        shutil.rmtree(upload_dir(session), ignore_errors=True)
        raise ApplicationError(
            f"upload {session.pk}: the received bytes have sha256 {digest.hexdigest()}, not the declared "
            f"{session.sha256}; the upload was discarded, start a new one",
            extra={"received_sha256": digest.hexdigest()},
        )
    suffix = archive_suffix(session.filename)
    relative = Path("submissions") / uuid.uuid4().hex / f"archive{suffix}"
    target = Path(settings.MEDIA_ROOT) / relative

    def claim_session(submission: Submission) -> None:
        claimed = UploadSession.objects.filter(pk=session.pk, state=UploadSession.State.OPEN).update(
            state=UploadSession.State.COMPLETE, submission=submission, updated_at=timezone.now()
        )
        if not claimed:
            raise ApplicationError(f"upload {session.pk}: was completed by another request", status_code=409)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    try:
        submission = _submission_insert(
            owner=owner,
            model=session.model,
            suite=session.suite,
            relative=relative,
            archive_name=session.filename,
            size=session.total_size,
            is_public=session.publish,
            enforce_quota=True,
            before_commit=claim_session,
        )
    except BaseException:
        if target.exists() and not path.exists():
            os.replace(target, path)  # the transaction rolled back: the bytes go back to the open upload
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    shutil.rmtree(upload_dir(session), ignore_errors=True)
    return submission


def upload_session_abort(*, session_id: uuid.UUID | str, owner: AbstractBaseUser) -> None:
    session = _upload_session_of(session_id=session_id, owner=owner)
    if session.state == UploadSession.State.COMPLETE:
        raise ApplicationError(f"upload {session.pk}: is already a submission", status_code=409)
    UploadSession.objects.filter(pk=session.pk).update(state=UploadSession.State.ABORTED)
    shutil.rmtree(upload_dir(session), ignore_errors=True)


def upload_sessions_expire(*, older_than: datetime.timedelta) -> int:
    """Abort open uploads untouched for longer than `older_than` and delete their bytes; returns how many."""
    cutoff = timezone.now() - older_than
    stale = list(UploadSession.objects.filter(state=UploadSession.State.OPEN, updated_at__lt=cutoff))
    for session in stale:
        if UploadSession.objects.filter(pk=session.pk, state=UploadSession.State.OPEN, updated_at__lt=cutoff).update(
            state=UploadSession.State.ABORTED
        ):
            shutil.rmtree(upload_dir(session), ignore_errors=True)
    return len(stale)
