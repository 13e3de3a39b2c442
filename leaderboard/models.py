"""Suites and their prompts, the model registry, submissions and their clips."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from leaderboard.vocabulary import PARADIGMS, TASKS
from scoring.engine import script as fmt


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class Suite(models.Model):
    """A benchmark suite as imported from the suite format; (name, version) is its identity."""

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, help_text="sha256 of suite.json and its reference files")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-imported_at"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="suite_name_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Prompt(models.Model):
    """One prompt of a suite: the global script, its tags and (as rows) its shots, references, rubric."""

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="prompts")
    prompt_id = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    category = models.CharField(max_length=20, choices=_choices(fmt.CATEGORIES))
    style = models.CharField(max_length=100)
    subject_realism = models.CharField(max_length=10, choices=_choices(fmt.REALISM_VALUES))
    scene_realism = models.CharField(max_length=10, choices=_choices(fmt.REALISM_VALUES))
    languages = models.JSONField(default=list)
    audio_classes = models.JSONField(default=list)
    duration_s = models.FloatField()
    script = models.TextField()
    shot_count = models.PositiveSmallIntegerField()
    # The prompt exactly as the suite format gives it: what the engine is handed.
    spec = models.JSONField()

    class Meta:
        ordering = ["suite", "position"]
        constraints = [models.UniqueConstraint(fields=["suite", "prompt_id"], name="prompt_id_unique_in_suite")]

    def __str__(self) -> str:
        return self.prompt_id

    @property
    def shot_count_bucket(self) -> str:
        return fmt.shot_count_bucket(self.shot_count)

    @property
    def realism_bucket(self) -> str:
        return fmt.realism_bucket(self.subject_realism, self.scene_realism)

    def to_script(self) -> fmt.PromptScript:
        return fmt.prompt_from_dict(self.spec)


class Shot(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="shots")
    index = models.PositiveSmallIntegerField(help_text="1-based position in the prompt")
    start_s = models.FloatField()
    end_s = models.FloatField()
    caption = models.TextField()
    shot_scale = models.CharField(max_length=20, choices=_choices(fmt.SHOT_SCALES))
    camera_angle = models.CharField(max_length=20, choices=_choices(fmt.CAMERA_ANGLES))
    camera_motion = models.CharField(max_length=20, choices=_choices(fmt.CAMERA_MOTIONS))
    transition_in = models.CharField(max_length=20, choices=_choices(fmt.TRANSITIONS))
    lighting = models.TextField(blank=True)
    audio = models.JSONField(null=True, blank=True)
    on_screen_text = models.TextField(blank=True)

    class Meta:
        ordering = ["prompt", "index"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "index"], name="shot_index_unique_in_prompt"),
            models.CheckConstraint(condition=Q(end_s__gt=models.F("start_s")), name="shot_ends_after_start"),
        ]


class ReferenceAsset(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=10, choices=_choices(fmt.REFERENCE_KINDS))
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=300, help_text="the file's path inside the suite, as suite.json names it")
    file = models.FileField(upload_to="suites/", max_length=400)
    shots = models.JSONField(default=list, help_text="1-based shots; empty means all")


class RubricQuestion(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="rubric")
    question_id = models.CharField(max_length=64)
    metric = models.CharField(max_length=20, choices=_choices(fmt.RUBRIC_METRICS))
    question = models.TextField()
    choices = models.JSONField()
    answer = models.PositiveSmallIntegerField()
    shots = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prompt", "question_id"], name="rubric_question_unique_in_prompt")
        ]


class ModelEntry(models.Model):
    """A generation model in the registry."""

    # Choices built from leaderboard.vocabulary, the one definition the demo generator shares.
    Paradigm = models.TextChoices(
        "Paradigm", [(value.replace("-", "_").replace("+", "_").upper(), (value, label)) for value, label in PARADIGMS.items()]
    )
    Task = models.TextChoices("Task", [(value, (value, label)) for value, label in TASKS.items()])

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    organisation = models.CharField(max_length=200, blank=True)
    url = models.URLField(blank=True)
    license = models.CharField(max_length=100, blank=True)
    is_open = models.BooleanField(default=False, help_text="open weights")
    paradigm = models.CharField(max_length=30, choices=Paradigm.choices, default=Paradigm.JOINT)
    task = models.CharField(max_length=10, choices=Task.choices, default=Task.T2AV)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.name


class Submission(models.Model):
    """One archive of clips by one model for one suite, and its way through validation and scoring."""

    class State(models.TextChoices):
        UPLOADED = "uploaded"
        VALIDATING = "validating"
        QUEUED = "queued"
        SCORING = "scoring"
        SCORED = "scored"
        FAILED = "failed"
        CANCELLED = "cancelled"

    model = models.ForeignKey(ModelEntry, on_delete=models.PROTECT, related_name="submissions")
    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="submissions")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.UPLOADED)
    state_reason = models.TextField(blank=True, help_text="why it failed or was cancelled")
    archive = models.FileField(upload_to="submissions/", max_length=400)
    archive_name = models.CharField(max_length=255, help_text="the file name the uploader gave")
    archive_size = models.BigIntegerField(default=0)
    # Visibility (see leaderboard.selectors.submissions_public, the one definition): private until the
    # owner publishes; a curator may hide it with a reason; the owner may withdraw it for good.
    is_public = models.BooleanField(default=False, help_text="published by its owner: shown to the public once scored")
    published_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True, help_text="hidden by a curator")
    hidden_reason = models.TextField(blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="withdrawn by its owner")
    # A failure of the platform (lost worker, broker, storage), not of the archive: it does not count
    # against the owner's daily quota.
    failed_by_infrastructure = models.BooleanField(default=False)
    # What validation found: refused and ignored members, missing prompts, the manifest.
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["suite", "state"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model} on {self.suite}"


class Clip(models.Model):
    """One prompt's clip within a submission (or the record that it is missing or broken)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SCORING = "scoring"
        SCORED = "scored"
        FAILED = "failed"  # a failed generation: the clip does not decode or could not be scored
        MISSING = "missing"  # no clip for this prompt in the archive

    TERMINAL = (Status.SCORED, Status.FAILED, Status.MISSING)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="clips")
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="clips")
    file = models.FileField(upload_to="clips/", max_length=400, blank=True)
    member_name = models.CharField(max_length=255, blank=True, help_text="its name in the archive")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    probe = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submission", "prompt__position"]
        constraints = [models.UniqueConstraint(fields=["submission", "prompt"], name="one_clip_per_prompt")]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.submission_id}/{self.prompt.prompt_id}"


class SubmissionQuotaLock(models.Model):
    """One row per (user, suite), locked with SELECT ... FOR UPDATE while a submission is counted and created,
    so that two parallel uploads at the quota edge are serialised and cannot both pass."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "suite"], name="one_quota_lock_per_user_suite")]


class ApiToken(models.Model):
    """A named API key of one user. Only a hash of the key is stored; the key is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="the key's first characters, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, help_text="sha256 hex of the key")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UploadSession(models.Model):
    """A resumable chunked upload of one submission archive (Content-Range chunks appended in order).

    The bytes live under MEDIA_ROOT/uploads/<id>/ — a path the platform chooses — until `complete`
    turns the session into a Submission.
    """

    class State(models.TextChoices):
        OPEN = "open"
        COMPLETE = "complete"
        ABORTED = "aborted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_sessions")
    model = models.ForeignKey(ModelEntry, on_delete=models.CASCADE, related_name="+")
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255, help_text="the archive's file name as the uploader gave it")
    total_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    received = models.BigIntegerField(default=0)
    publish = models.BooleanField(default=False, help_text="publish the submission once it is scored")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    submission = models.OneToOneField(
        Submission, null=True, blank=True, on_delete=models.SET_NULL, related_name="upload_session"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(received__gte=0) & Q(received__lte=models.F("total_size")),
                name="upload_received_within_total",
            )
        ]
