"""Assignment under real concurrency on PostgreSQL: threads, each with its own database connection, released
together. The server here allows 100 connections shared with other test runs, so 200 annotators' calls go
through 40 threads at once (each thread makes its annotators' calls back to back)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections

from annotation import services
from annotation.models import Judgment, PairSlot, Task
from tests.annotation.world import build_world, make_campaign

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 40
VOTES = {"overall": {"outcome": "a"}, "video": {"outcome": "b"}, "audio": {"outcome": "both_bad"}}


def annotators(count: int, prefix: str = "crowd") -> list[Any]:
    """Many annotator accounts quickly (no password hashing)."""
    user_model = get_user_model()
    users = [user_model(username=f"{prefix}{i}") for i in range(count)]
    for user in users:
        user.set_unusable_password()
    user_model.objects.bulk_create(users)
    users = list(user_model.objects.filter(username__startswith=prefix).order_by("pk"))
    group, _ = Group.objects.get_or_create(name="annotator")
    group.user_set.add(*users)
    return users


def run_together(calls: list[Callable[[], Any]], threads: int = THREADS) -> list[Any]:
    """Run the calls on `threads` threads released by one barrier; each thread closes its own connection."""
    barrier = threading.Barrier(min(threads, len(calls)))
    chunks = [calls[i::threads] for i in range(min(threads, len(calls)))]

    def worker(chunk: list[Callable[[], Any]]) -> list[Any]:
        results = []
        try:
            connection.ensure_connection()
            barrier.wait()
            for call in chunk:
                try:
                    results.append(call())
                except Exception as error:  # collected and asserted on by the test
                    results.append(error)
        finally:
            connections.close_all()
        return results

    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [result for chunk_results in pool.map(worker, chunks) for result in chunk_results]


@pytest.fixture
def world(demo_dir: Path, media_root: Path):  # type: ignore[no-untyped-def]
    return build_world(demo_dir, n_models=3, with_files=False)


def test_200_simultaneous_next_calls_never_exceed_the_overlap(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world, overlap=2)
    slots = PairSlot.objects.filter(campaign=campaign).count()
    crowd = annotators(200)
    results = run_together([lambda user=user: services.task_next(campaign=campaign, user=user) for user in crowd])
    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    tasks = [result.task for result in results if result.task is not None]
    assert len(tasks) == slots  # every slot handed out exactly once, the other annotators told none is left
    per_pair = Counter(Task.objects.filter(campaign=campaign, state=Task.State.ACTIVE).values_list("pair_id", flat=True))
    assert max(per_pair.values()) == 2 and len(per_pair) == campaign.pairs.count()
    assert PairSlot.objects.filter(campaign=campaign, state=PairSlot.State.LOCKED).count() == slots
    # The lucky ones submit at once, all together: every pair ends with exactly `overlap` judgments per dimension.
    holders = {task.annotator_id: task for task in tasks}
    by_id = {user.pk: user for user in crowd}
    submitted = run_together(
        [lambda t=held: services.task_submit(public_id=t.public_id, user=by_id[t.annotator_id], votes=VOTES) for held in holders.values()]
    )
    assert [r for r in submitted if isinstance(r, Exception)] == []
    per_pair_dimension = Counter(Judgment.objects.filter(campaign=campaign).values_list("task__pair_id", "dimension"))
    assert set(per_pair_dimension.values()) == {2}


def test_duplicate_judgment_posts_store_one_row_per_dimension(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    (user,) = annotators(1, prefix="dup")
    task = services.task_next(campaign=campaign, user=user).task
    results = run_together(
        [lambda: services.task_submit(public_id=task.public_id, user=user, votes=VOTES) for _ in range(30)], threads=10
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(1 for r in results if r.stored) == 1
    assert Judgment.objects.filter(task=task).count() == 3


def test_one_annotator_asking_many_times_at_once_holds_one_task(world) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(world)
    (user,) = annotators(1, prefix="eager")
    results = run_together([lambda: services.task_next(campaign=campaign, user=user) for _ in range(20)], threads=10)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({r.task.pk for r in results}) == 1
    assert Task.objects.filter(annotator=user, state=Task.State.ACTIVE).count() == 1
    assert Task.objects.filter(annotator=user).count() == 1
