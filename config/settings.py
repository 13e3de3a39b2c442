"""MSAV Arena settings: one module, configured from the environment.

With no environment set, the platform runs on an embedded default that needs no services: SQLite
under `var/` and a Celery broker over files in `var/broker/` (kombu's filesystem transport), served
by real worker processes. With `DATABASE_URL` and `CELERY_BROKER_URL` set it uses PostgreSQL
(psycopg 3) and Redis.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Everything the embedded default writes (database, broker files, media, secret) lives here.
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (never committed)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaderboard",
    "scoring",
    "annotation",
    "annotation.ranking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", 60)), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Lets the hand-written hot statements (config.handwritten_sql.prepared_cursor) be prepared once per connection.
    # The ORM's own queries are bound client-side, which psycopg never prepares, so they are unaffected.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to one file: WAL lets readers run beside a writer, and
    # IMMEDIATE transactions take the write lock up front instead of failing on upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# The public leaderboard's rendered pages and JSON (see leaderboard.cache). CACHE_URL=redis://...
# in production (shared by every web process); process-local memory in the embedded default.
CACHE_URL = os.environ.get("CACHE_URL", "").strip()
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "msav"}
    }
elif CACHE_URL in ("", "locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "msav-arena"}}
else:
    raise ImproperlyConfigured(f"CACHE_URL: expected redis://host:port/db, rediss://... or locmem://, got {CACHE_URL!r}")
# With a shared cache, each web process re-reads the leaderboard's cache generations at most this often
# (seconds): how stale a page may be after another process invalidated it.
MSAV_LEADERBOARD_CACHE_CHECK_S = float(os.environ.get("MSAV_LEADERBOARD_CACHE_CHECK_S", 1.0))
# A leaderboard row resting on fewer scored prompts than this is shown as provisional.
MSAV_LEADERBOARD_MIN_PROMPTS = int(os.environ.get("MSAV_LEADERBOARD_MIN_PROMPTS", 10))
# A view that returns a constant, the peer that `manage.py bench_leaderboard` measures pages against.
MSAV_BENCH_CONSTANT_VIEW = env_bool("MSAV_BENCH_CONSTANT_VIEW", False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "leaderboard:home"
LOGOUT_REDIRECT_URL = "leaderboard:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "leaderboard.staticfinders.PlotlyFinder",  # js/vendor/plotly.min.js from the plotly package: charts offline, no CDN
]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Uploaded archives and clips; never served from a user-chosen path (see leaderboard.views).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media")).resolve()
MEDIA_URL = "/media/"
# Archives stream to disk above this size instead of being held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "upload-tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)

# Limits of one submission archive (the format doc's rules); see leaderboard.archives.ArchiveLimits.
MSAV_ARCHIVE_MAX_UPLOAD_BYTES = int(os.environ.get("MSAV_ARCHIVE_MAX_UPLOAD_BYTES", 4 * 1024**3))
MSAV_CLIP_MAX_BYTES = int(os.environ.get("MSAV_CLIP_MAX_BYTES", 200 * 1024**2))
MSAV_PROBE_TIMEOUT_S = float(os.environ.get("MSAV_PROBE_TIMEOUT_S", 20))
# Submissions per user per suite per UTC day (those failed by the platform do not count).
MSAV_SUBMISSIONS_PER_DAY = int(os.environ.get("MSAV_SUBMISSIONS_PER_DAY", 10))
# Largest chunk of a resumable upload (PATCH /api/uploads/{id}/); the CLI sends 8 MiB chunks.
MSAV_UPLOAD_CHUNK_MAX_BYTES = int(os.environ.get("MSAV_UPLOAD_CHUNK_MAX_BYTES", 32 * 1024**2))

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://localhost//"
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    (BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
    (BROKER_DIR / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.2,  # seconds between looks at the queue folder: the file transport polls
    }
    # The file transport has no broadcast channel for remote control.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
else:
    # A message unacknowledged this long is redelivered (a worker killed with -9 never acks): it must
    # exceed the longest clip's scoring, i.e. MSAV_CLIP_HARD_TIME_LIMIT_S (checked below).
    MSAV_BROKER_VISIBILITY_TIMEOUT_S = int(os.environ.get("MSAV_BROKER_VISIBILITY_TIMEOUT_S", 2 * 3600))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": MSAV_BROKER_VISIBILITY_TIMEOUT_S,
        # How often a worker looks for messages whose consumer died; short timeouts need short sweeps.
        "unacked_restore_interval": max(1, min(10, MSAV_BROKER_VISIBILITY_TIMEOUT_S // 10)),
        "unacked_restore_throttle": 1 if MSAV_BROKER_VISIBILITY_TIMEOUT_S < 600 else 10,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # results live in the database, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "bookkeeping"
CELERY_TASK_ROUTES = {"scoring.score_clip": {"queue": "scoring"}}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "reap-stalled-clips": {
        "task": "scoring.reap_stalled",
        "schedule": float(os.environ.get("MSAV_REAPER_INTERVAL_S", 60)),
        "options": {"queue": "bookkeeping"},
    },
    # Human ranking: request a recomputation of every suite with data (unchanged inputs store nothing).
    "ranking-recompute-periodic": {"task": "ranking.recompute_periodic", "schedule": 600.0},
    # Researchers' chunked uploads left open (a client that never came back) lose their bytes.
    "expire-stale-uploads": {"task": "leaderboard.expire_uploads", "schedule": 3600.0, "options": {"queue": "bookkeeping"}},
}
MSAV_UPLOAD_EXPIRE_AFTER_H = float(os.environ.get("MSAV_UPLOAD_EXPIRE_AFTER_H", 48))
# Human ranking (annotation.ranking): a burst of votes is recomputed once, this many seconds after its
# first vote; bootstrap rounds per snapshot; whether annotators are weighted by gold reliability.
MSAV_RANKING_DEBOUNCE_S = float(os.environ.get("MSAV_RANKING_DEBOUNCE_S", 1.5))
MSAV_RANKING_BOOTSTRAP_ROUNDS = int(os.environ.get("MSAV_RANKING_BOOTSTRAP_ROUNDS", 500))
MSAV_RANKING_WEIGHT_BY_RELIABILITY = env_bool("MSAV_RANKING_WEIGHT_BY_RELIABILITY", False)
# A pool child imports the engine before its first task (scoring.tasks._warm_engine): give it time on a busy machine.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60
# Per-clip limits so that one pathological clip cannot hold a worker (see scoring.limits): past the
# soft time or memory limit the clip fails with the reason and the worker takes the next one.
MSAV_CLIP_SOFT_TIME_LIMIT_S = int(os.environ.get("MSAV_CLIP_SOFT_TIME_LIMIT_S", 600))
# Past this the pool kills the process scoring the clip (the clip fails from the worker's main process).
MSAV_CLIP_HARD_TIME_LIMIT_S = int(os.environ.get("MSAV_CLIP_HARD_TIME_LIMIT_S", MSAV_CLIP_SOFT_TIME_LIMIT_S + 60))
MSAV_CLIP_TIME_LIMIT_S = MSAV_CLIP_HARD_TIME_LIMIT_S  # the older name
# Resident memory (MiB) scoring one clip may add to its process (soft: past it the clip fails).
MSAV_CLIP_MEMORY_LIMIT_MB = int(os.environ.get("MSAV_CLIP_MEMORY_LIMIT_MB", 3072))
# Address space (MiB) one clip may add to the process (hard, RLIMIT_AS: allocations beyond it fail).
MSAV_CLIP_ADDRESS_SPACE_LIMIT_MB = int(os.environ.get("MSAV_CLIP_ADDRESS_SPACE_LIMIT_MB", 8192))
# A pool child above this resident size after a task is replaced by a fresh one (leaks, fragmentation).
# (With the expert models loaded a child holds 1.1-1.3 GiB, measured: a lower value would reload them every few clips.)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(os.environ.get("MSAV_WORKER_MAX_MEMORY_PER_CHILD_MB", 3072)) * 1024  # KiB
# Transient errors (database, broker, shared media): retries with exponential backoff and jitter.
MSAV_CLIP_MAX_RETRIES = int(os.environ.get("MSAV_CLIP_MAX_RETRIES", 5))
MSAV_CLIP_RETRY_BACKOFF_S = float(os.environ.get("MSAV_CLIP_RETRY_BACKOFF_S", 2))
MSAV_CLIP_RETRY_BACKOFF_MAX_S = float(os.environ.get("MSAV_CLIP_RETRY_BACKOFF_MAX_S", 120))
# A clip queued or scoring for longer than this is re-queued by the reaper.
MSAV_CLIP_STALL_AFTER_S = int(os.environ.get("MSAV_CLIP_STALL_AFTER_S", 30 * 60))
# Attempts whose worker was lost (killed, crashed) before a clip is failed with the reason.
MSAV_CLIP_MAX_ATTEMPTS = int(os.environ.get("MSAV_CLIP_MAX_ATTEMPTS", 3))
# An upload still waiting for validation this long had its task lost (broker down): queue it again.
MSAV_UPLOAD_STALL_AFTER_S = int(os.environ.get("MSAV_UPLOAD_STALL_AFTER_S", 120))
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

if MSAV_CLIP_HARD_TIME_LIMIT_S <= MSAV_CLIP_SOFT_TIME_LIMIT_S:
    raise ImproperlyConfigured(
        f"MSAV_CLIP_HARD_TIME_LIMIT_S ({MSAV_CLIP_HARD_TIME_LIMIT_S}) must exceed MSAV_CLIP_SOFT_TIME_LIMIT_S "
        f"({MSAV_CLIP_SOFT_TIME_LIMIT_S}): the soft limit fails the clip cleanly, the hard one kills the process"
    )
if not CELERY_BROKER_URL.startswith("filesystem://") and MSAV_BROKER_VISIBILITY_TIMEOUT_S <= MSAV_CLIP_HARD_TIME_LIMIT_S:
    raise ImproperlyConfigured(
        f"MSAV_BROKER_VISIBILITY_TIMEOUT_S ({MSAV_BROKER_VISIBILITY_TIMEOUT_S}) must exceed MSAV_CLIP_HARD_TIME_LIMIT_S "
        f"({MSAV_CLIP_HARD_TIME_LIMIT_S}): otherwise a clip still being scored is handed to a second worker"
    )

# --- Scoring engine ---------------------------------------------------------------------------
# Built into scoring.engine.config.EngineConfig by scoring.services.engine_config().
MSAV_ENGINE_EXPERT_MODELS = env_bool("MSAV_ENGINE_EXPERT_MODELS", True)
MSAV_JUDGE_URL = os.environ.get("MSAV_JUDGE_URL", "")  # an OpenAI-compatible API base, e.g. http://host:8080/v1
MSAV_JUDGE_MODEL = os.environ.get("MSAV_JUDGE_MODEL", "")
MSAV_JUDGE_KEY = os.environ.get("MSAV_JUDGE_KEY", "")
MSAV_ASR_URL = os.environ.get("MSAV_ASR_URL", "")
MSAV_ASR_MODEL = os.environ.get("MSAV_ASR_MODEL", "")
MSAV_ASR_KEY = os.environ.get("MSAV_ASR_KEY", "")
MSAV_ASR_MODEL_PATH = os.environ.get("MSAV_ASR_MODEL_PATH", "")

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leaderboard.authentication.ApiTokenAuthentication",  # Authorization: Token <key>
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.negotiation.ExplainingContentNegotiation",  # ?format=xml: 400 naming the formats
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# OpenAPI at /api/schema/, Swagger UI at /api/docs/; the UI's assets come from the sidecar package
# (served as static files) because these machines and many users have no internet.
SPECTACULAR_SETTINGS = {
    "TITLE": "MSAV Arena API",
    "DESCRIPTION": "Submissions, scores, human judgments, rankings and the automatic-vs-human correlation of MSAV Arena.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
