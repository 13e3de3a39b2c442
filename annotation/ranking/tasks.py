"""Celery tasks of the ranking app: the debounced recomputation of one suite, and the periodic sweep."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from annotation.ranking import services

logger = logging.getLogger(__name__)


@shared_task(
    name="ranking.recompute_suite",
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
    autoretry_for=(OperationalError, InterfaceError),  # the database blinked: transient
    retry_backoff=True,
    max_retries=5,
)
def recompute_suite(suite_id: int) -> None:
    """Compute a snapshot if the suite has a pending request (a burst of requests is claimed once)."""
    reason = services.ranking_recompute_claim(suite_id=suite_id)
    if reason is None:
        return
    try:
        services.ranking_snapshot_compute(suite_id=suite_id, reason=reason)
    except (OperationalError, InterfaceError):
        # Put the request back so the retry (or the periodic sweep) computes it.
        services.ranking_recompute_request(suite_id=suite_id, reason=reason)
        raise
    except Exception as error:
        logger.exception("ranking recomputation of suite %s failed", suite_id)
        services.ranking_recompute_finish(suite_id=suite_id, error=f"{type(error).__name__}: {error}")
        return
    services.ranking_recompute_finish(suite_id=suite_id)


@shared_task(name="ranking.recompute_periodic", acks_late=True)
def recompute_periodic() -> None:
    """Beat: request a recomputation of every suite with data (unchanged inputs store nothing)."""
    for suite_id in services.ranking_suites_due():
        services.ranking_recompute_request(suite_id=suite_id, reason="periodic")


@shared_task(name="ranking.seed_demo_judgments", bind=True, acks_late=True, max_retries=360)
def seed_demo_judgments(self, suite_id: int, intended_ranks: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """Demo: simulated judgments once the demo submissions are unpacked, then the first snapshot."""
    from annotation.ranking import demo
    from leaderboard.models import Suite

    suite = Suite.objects.filter(pk=suite_id).first()
    if suite is None:
        return
    if demo.demo_simulation_pending(suite=suite, slugs=list(intended_ranks)):
        raise self.retry(countdown=5)
    created = demo.demo_simulated_judgments_create(suite=suite, intended_ranks=intended_ranks)
    logger.info("demo: %d simulated judgments on suite %s", created, suite_id)
    services.ranking_recompute_request(suite_id=suite_id, reason="demo: simulated judgments")
