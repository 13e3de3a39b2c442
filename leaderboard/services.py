"""Writes of the leaderboard app: suite import, model registration, submissions and their validation."""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from config.exceptions import ApplicationError
from leaderboard import archives, suite_format
from leaderboard.models import Clip, ModelEntry, Prompt, ReferenceAsset, RubricQuestion, Shot, Submission, Suite
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
    is_public: bool = True,
) -> Submission:
    """Store an uploaded archive under a path of our choosing and queue its validation."""
    suffix = archive_suffix(archive_name)
    relative = Path("submissions") / uuid.uuid4().hex / f"archive{suffix}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with open(target, "wb") as out:
            for chunk in _chunks(archive):
                size += len(chunk)
                if size > settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES:
                    raise ApplicationError(
                        f'archive "{archive_name}": larger than the limit of '
                        f"{settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES} bytes",
                        extra={"field": "archive"},
                        status_code=413,
                    )
                out.write(chunk)
        if size == 0:
            raise ApplicationError(f'archive "{archive_name}": the file is empty', extra={"field": "archive"})
        with transaction.atomic():
            submission = Submission.objects.create(
                model=model,
                suite=suite,
                owner=owner,
                archive=str(relative),
                archive_name=Path(archive_name).name[:255],
                archive_size=size,
                is_public=is_public,
            )
            transaction.on_commit(lambda: submission_enqueue_validation(submission_id=submission.pk))
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
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
