"""The public pages' cache: rendered leaderboard pages and JSON, invalidated per suite.

Entries are never deleted one by one. Every key carries a *generation* (one per suite, plus a global
one for pages that span suites, such as a model page); `leaderboard_cache_invalidate` moves the
generation on, so every older entry becomes unreachable at once and expires on its own.

Where the generation lives depends on the cache backend. With a shared backend (Redis, production)
it is a counter in that cache. With a process-local backend (LocMemCache, the embedded default) each
gunicorn or Celery process has its own memory, so a counter there would not reach the web server
when a worker scores a submission: the generation is then the modification time of a small file
under VAR_DIR, which every process on the machine sees (one stat per request).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

T = TypeVar("T")

CACHE_ALIAS = "default"
KEY_PREFIX = "msav:lb"
GLOBAL_SCOPE = "all"
# Entries outlive their generation only until this; invalidation is what keeps pages fresh.
ENTRY_TIMEOUT_S = 24 * 3600


def _cache():
    return caches[CACHE_ALIAS]


def _is_process_local() -> bool:
    return isinstance(_cache(), LocMemCache)


def _generation_file(scope: str) -> Path:
    directory = Path(settings.VAR_DIR) / "cache-generations"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{scope}.gen"


def _generation(scope: str) -> str:
    if _is_process_local():
        try:
            return str(_generation_file(scope).stat().st_mtime_ns)
        except FileNotFoundError:
            return "0"
    value = _cache().get(f"{KEY_PREFIX}:gen:{scope}")
    return "0" if value is None else str(value)


def _bump(scope: str) -> None:
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


def cache_key(*, suite_id: int | None, kind: str, params: str) -> str:
    """The key of one cached entry: its kind, the suite's (or the global) generation and its parameters."""
    scope = GLOBAL_SCOPE if suite_id is None else f"suite-{suite_id}"
    digest = hashlib.sha256(params.encode()).hexdigest()[:24]
    return f"{KEY_PREFIX}:{kind}:{scope}:{_generation(scope)}:{digest}"


def cached(*, suite_id: int | None, kind: str, params: str, build: Callable[[], T]) -> T:
    """The cached value for (kind, params) at the current generation, built and stored when missing."""
    key = cache_key(suite_id=suite_id, kind=kind, params=params)
    value = _cache().get(key)
    if value is None:
        value = build()
        _cache().set(key, value, timeout=ENTRY_TIMEOUT_S)
    return value
