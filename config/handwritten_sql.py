"""Hand-written SQL for the few hot paths (annotation.queries, API token authentication): prepared statements, and
model instances from rows converted exactly as the ORM converts them.

Why: the annotation load benchmark (`manage.py bench_annotation_load`) showed the ORM spending more CPU compiling
these statements than PostgreSQL spent running them, and PostgreSQL spending much of its own CPU parsing and planning
them again on every request. Select a model's columns with `columns(Model, alias)`, run the statement on
`prepared_cursor()`, and turn the row's slice back into an instance with `instance(Model, values, alias)`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)


@functools.cache
def _columns_and_converters(model: type[Model], alias: str, vendor: str) -> tuple[str, list[tuple[Any, list[Any]]]]:
    """The model's concrete columns as `alias.column, ...` and, per column, the ORM's converters for this database
    (SQLite returns text for dates and JSON and integers for booleans; PostgreSQL text for JSON). Once per process."""
    names = ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields)
    converters = []
    for field in model._meta.concrete_fields:
        column = field.get_col(alias)
        converters.append((column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
    return names, converters


def columns(model: type[Model], alias: str) -> str:
    """`alias.col1, alias.col2, ...`: every concrete column of the model, in field order."""
    return _columns_and_converters(model, alias, connection.vendor)[0]


def width(model: type[Model]) -> int:
    """How many values `columns` selects."""
    return len(model._meta.concrete_fields)


def instance(model: type[ModelT], values: tuple[Any, ...] | list[Any], alias: str) -> ModelT:
    """A model instance from the values of `columns(model, alias)`, converted as the ORM would."""
    converted = []
    for (column, converters), value in zip(_columns_and_converters(model, alias, connection.vendor)[1], values):
        if value is not None:
            for converter in converters:
                value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in model._meta.concrete_fields], converted)


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor whose statements PostgreSQL parses and plans once per connection (server-side binding, psycopg's
    prepared statements), on the connection and transaction Django manages; errors are Django's (IntegrityError
    ...). Elsewhere (SQLite) Django's own cursor. Statements run here are not in Django's query log."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    # What Django's own cursor() does first: drop a connection that failed its health check, (re)connect, and
    # refuse a connection shared across threads.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        with psycopg.Cursor(connection.connection) as cursor:
            yield _PreparingCursor(cursor)


class _PreparingCursor:
    """A psycopg cursor whose execute() asks for a prepared statement from the first use."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Any = None) -> None:
        self._cursor.execute(sql, params, prepare=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)
