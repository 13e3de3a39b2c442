"""config.handwritten_sql on PostgreSQL: statements are prepared once per connection, and a connection that died
between requests is replaced before the first hand-written statement of the next request, as Django's cursor() does."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from django.db import close_old_connections, connection

from config.handwritten_sql import prepared_cursor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def persistent_connection() -> Iterator[None]:
    # The tests run with CONN_MAX_AGE 0 (every request reconnects anyway); production keeps connections.
    saved = connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["CONN_HEALTH_CHECKS"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["CONN_HEALTH_CHECKS"] = 60, True
    yield
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["CONN_HEALTH_CHECKS"] = saved


def _one(value: int) -> int:
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int + 1", [value])
        return int(cursor.fetchone()[0])


def test_statements_are_prepared_once_per_connection(persistent_connection: None) -> None:
    assert [_one(k) for k in range(3)] == [1, 2, 3]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["SELECT $1::int + 1%"])
        assert cursor.fetchone()[0] == 1


def test_a_connection_killed_between_requests_is_replaced(persistent_connection: None) -> None:
    assert _one(1) == 2
    dead_pid = connection.connection.info.backend_pid
    admin_url = connection.connection.info.dsn
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [dead_pid])
    close_old_connections()  # Django's request_started handler
    assert _one(2) == 3
    assert connection.connection.info.backend_pid != dead_pid
