"""The public pages' cache: rendered leaderboard pages, JSON and the data behind them, invalidated per suite.

Entries are never deleted one by one. Every key carries *generations* (one per suite, a global one for
pages that span suites such as a model page, and one for the list of suites and models' cards);
`leaderboard_cache_invalidate` moves a suite's generation on, so every older entry becomes
unreachable at once and expires on its own.

Where a generation lives depends on the cache backend. With a shared backend (Redis, production) it
is a counter in that cache. With a process-local backend (LocMemCache, the embedded default) each
gunicorn or Celery process has its own memory, so a counter there would not reach the web server
when a worker scores a submission: the generation is then the modification time of a small file
under VAR_DIR, which every process on the machine sees (one stat per request).

Two in-process layers keep a hot page off the network. Entries are immutable (their key names their
generations), so each process also keeps the ones it used in a small LRU of live objects, never
unpickling them twice. And with a shared backend a process re-reads the generations at most every
MSAV_LEADERBOARD_CACHE_CHECK_S seconds (default 1): a page is at most that stale after an
invalidation made by another process (the invalidating process sees it at once).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
KEY_PREFIX = "msav:lb"
GLOBAL_SCOPE = "all"
CATALOG_SCOPE = "catalog"
# Entries outlive their generation only until this; invalidation is what keeps pages fresh.
ENTRY_TIMEOUT_S = 24 * 3600
LOCAL_ENTRIES = 256

_lock = threading.Lock()
_local_entries: OrderedDict[str, Any] = OrderedDict()
_local_generations: dict[str, tuple[str, float]] = {}
_generation_dir_ready: set[str] = set()


def _cache():  # type: ignore[no-untyped-def]
    return caches[CACHE_ALIAS]


def _is_process_local() -> bool:
    return isinstance(_cache(), LocMemCache)


def _check_interval_s() -> float:
    return float(getattr(settings, "MSAV_LEADERBOARD_CACHE_CHECK_S", 1.0))


def _generation_file(scope: str) -> Path:
    directory = Path(settings.VAR_DIR) / "cache-generations"
    if str(directory) not in _generation_dir_ready:
        directory.mkdir(parents=True, exist_ok=True)
        _generation_dir_ready.add(str(directory))
    return directory / f"{scope}.gen"


def _file_generation(scope: str) -> str:
    try:
        return str(_generation_file(scope).stat().st_mtime_ns)
    except FileNotFoundError:
        return "0"


def _generations(scopes: list[str]) -> str:
    if _is_process_local():
        return ".".join(_file_generation(scope) for scope in scopes)
    now = time.monotonic()
    interval = _check_interval_s()
    with _lock:
        known = {scope: _local_generations.get(scope) for scope in scopes}
    stale = [scope for scope, seen in known.items() if seen is None or now - seen[1] >= interval]
    if stale:
        keys = {scope: f"{KEY_PREFIX}:gen:{scope}" for scope in stale}
        found = _cache().get_many(list(keys.values()))  # one round trip for every stale scope
        with _lock:
            for scope, key in keys.items():
                value = str(found.get(key, 0))
                _local_generations[scope] = (value, now)
                known[scope] = (value, now)
    return ".".join(known[scope][0] for scope in scopes)  # type: ignore[index]


def _bump(scope: str) -> None:
    try:
        _bump_now(scope)
    except Exception:  # a cache outage must not fail the write that changed the scores
        logger.exception("could not invalidate the leaderboard cache (scope %s)", scope)


def _bump_now(scope: str) -> None:
    with _lock:
        _local_generations.pop(scope, None)  # this process sees its own invalidation at once
    if _is_process_local():
        path = _generation_file(scope)
        path.touch()
        # Two bumps within the file system's timestamp resolution must still differ.
        now_ns = max(time.time_ns(), path.stat().st_mtime_ns + 1)
        os.utime(path, ns=(now_ns, now_ns))
        return
    key = f"{KEY_PREFIX}:gen:{scope}"
    try:
        _cache().incr(key)
    except ValueError:  # not set yet (or evicted): any new value differs from what keys were built with
        _cache().set(key, time.time_ns(), timeout=None)


def local_clear() -> None:
    """Forget this process's copies (tests that clear the cache backend call it too)."""
    with _lock:
        _local_entries.clear()
        _local_generations.clear()


def leaderboard_cache_invalidate(*, suite_id: int) -> None:
    """Make every cached public page and export of this suite (and every cross-suite page) stale.

    Safe to call inside a transaction: the generation moves on now and again after the commit, so a
    request that re-cached the old rows between the two cannot keep them.
    """

    def bump() -> None:
        _bump(f"suite-{suite_id}")
        _bump(GLOBAL_SCOPE)

    bump()
    transaction.on_commit(bump)


def catalog_invalidate() -> None:
    """The list of suites or a model's card changed: pages that show them are stale."""
    _bump(CATALOG_SCOPE)
    _bump(GLOBAL_SCOPE)
    transaction.on_commit(lambda: (_bump(CATALOG_SCOPE), _bump(GLOBAL_SCOPE)))


def _scopes(suite_id: int | None, with_catalog: bool, catalog_only: bool = False) -> list[str]:
    if catalog_only:
        return [CATALOG_SCOPE]
    scopes = [GLOBAL_SCOPE if suite_id is None else f"suite-{suite_id}"]
    if with_catalog:
        scopes.append(CATALOG_SCOPE)
    return scopes


def cache_key(
    *, suite_id: int | None, kind: str, params: str, with_catalog: bool = False, catalog_only: bool = False
) -> str:
    """The key of one cached entry: its kind, the generations it depends on, and its parameters."""
    scopes = _scopes(suite_id, with_catalog, catalog_only)
    digest = hashlib.sha256(params.encode()).hexdigest()[:24]
    return f"{KEY_PREFIX}:{kind}:{'+'.join(scopes)}:{_generations(scopes)}:{digest}"


def cached(
    *,
    suite_id: int | None,
    kind: str,
    params: str,
    build: Callable[[], T],
    with_catalog: bool = False,
    catalog_only: bool = False,
) -> T:
    """The cached value for (kind, params) at the current generations, built and stored when missing.

    suite_id=None depends on every suite (a model's history across suites); with_catalog adds the
    list of suites and the models' cards (pages whose header lists the suites); catalog_only
    depends on that list alone (looking a suite up by name). Values must be treated as read-only:
    the same object serves every request of this process.
    """
    try:
        key = cache_key(suite_id=suite_id, kind=kind, params=params, with_catalog=with_catalog, catalog_only=catalog_only)
        with _lock:
            if key in _local_entries:
                _local_entries.move_to_end(key)
                return _local_entries[key]  # type: ignore[no-any-return]
        value = _cache().get(key)
    except Exception:  # the cache is down: serve fresh, uncached values rather than an error
        logger.exception("leaderboard cache unavailable; building %s uncached", kind)
        return build()
    if value is None:
        value = build()
        try:
            _cache().set(key, value, timeout=ENTRY_TIMEOUT_S)
        except Exception:
            logger.exception("could not store %s in the leaderboard cache", kind)
    with _lock:
        _local_entries[key] = value
        while len(_local_entries) > LOCAL_ENTRIES:
            _local_entries.popitem(last=False)
    return value


def peek(*, suite_id: int | None, kind: str, params: str, with_catalog: bool = False) -> Any | None:
    """The cached value for (kind, params) if there is one now, else None; never builds."""
    try:
        key = cache_key(suite_id=suite_id, kind=kind, params=params, with_catalog=with_catalog)
        with _lock:
            if key in _local_entries:
                _local_entries.move_to_end(key)
                return _local_entries[key]
        value = _cache().get(key)
    except Exception:
        return None
    if value is not None:
        with _lock:
            _local_entries[key] = value
            while len(_local_entries) > LOCAL_ENTRIES:
                _local_entries.popitem(last=False)
    return value


# --- Safety net: rows changed without an explicit call (admin edits, imports, other code paths) --


def _submission_loaded(sender: type, instance: Any, **kwargs: Any) -> None:
    instance._leaderboard_loaded_state = instance.__dict__.get("state")


def _submission_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    # Only a submission that is or was scored can be on a public page: uploads and scoring progress are not.
    scored = "scored"
    if instance.__dict__.get("state") == scored or getattr(instance, "_leaderboard_loaded_state", None) == scored:
        leaderboard_cache_invalidate(suite_id=instance.suite_id)
    instance._leaderboard_loaded_state = instance.__dict__.get("state")


def _aggregate_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    from leaderboard.models import Submission

    suite_id = Submission.objects.filter(pk=instance.submission_id).values_list("suite_id", flat=True).first()
    if suite_id is not None:
        leaderboard_cache_invalidate(suite_id=suite_id)


def _suite_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    catalog_invalidate()
    if instance.pk is not None:
        leaderboard_cache_invalidate(suite_id=instance.pk)


def _model_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    from leaderboard.models import Submission

    catalog_invalidate()
    for suite_id in Submission.objects.filter(model_id=instance.pk).values_list("suite_id", flat=True).distinct():
        leaderboard_cache_invalidate(suite_id=suite_id)


def connect_signals() -> None:
    """Invalidate on every save or delete of the rows the public pages show (called from the app config)."""
    from django.db.models.signals import post_delete, post_init, post_save

    from leaderboard.models import ModelEntry, Submission, Suite
    from scoring.models import SubmissionScore

    post_init.connect(_submission_loaded, sender=Submission, dispatch_uid="lb-cache-submission-init")
    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_submission_changed, sender=Submission, dispatch_uid=f"lb-cache-submission-{name}")
        signal.connect(_aggregate_changed, sender=SubmissionScore, dispatch_uid=f"lb-cache-aggregate-{name}")
        signal.connect(_suite_changed, sender=Suite, dispatch_uid=f"lb-cache-suite-{name}")
        signal.connect(_model_changed, sender=ModelEntry, dispatch_uid=f"lb-cache-model-{name}")
