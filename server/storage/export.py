"""Streaming an export's matches out of PostgreSQL: one REPEATABLE READ snapshot for the whole job,
a server-side cursor per type, the stored JSON as text (never decoded, never re-serialized)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg import sql

from .search import SearchPlan, _where, table_of

# Writers take meta.lastUpdated in Python just before their statement starts (interactions/versions.py).
CLOCK_MARGIN = "1 second"


@contextmanager
def snapshot(url: str) -> Iterator[tuple[psycopg.Connection, datetime]]:
    """A read-only snapshot and its transactionTime (Bulk Data export.html#response---complete-status):
    no change the snapshot misses carries a lastUpdated after it, so `_since` of the next export loses
    nothing: it is the start of the oldest transaction still open when the snapshot began."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.autocommit = False
        with conn.transaction():
            row = conn.execute(
                "SELECT least(now(), (SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database()"
                f" AND pid <> pg_backend_pid() AND xact_start IS NOT NULL)) - interval '{CLOCK_MARGIN}'"
            ).fetchone()
            assert row is not None  # the query always returns one row
            since = row[0]
            yield conn, since


def count(conn: psycopg.Connection, plan: SearchPlan) -> int:
    where, args = _where(plan)
    row = conn.execute(sql.SQL("SELECT count(*) FROM {} r WHERE {}").format(table_of(plan), where), args).fetchone()
    assert row is not None  # the query always returns one row
    return row[0]


def stream(conn: psycopg.Connection, plan: SearchPlan, batch_size: int = 2000) -> Iterator[list[str]]:
    """The matches' stored JSON, in batches, through a server-side cursor (one batch in memory at a time)."""
    where, args = _where(plan)
    query = sql.SQL("SELECT r.content::text FROM {} r WHERE {} ORDER BY r.seq").format(table_of(plan), where)
    with conn.cursor(name=f"export_{plan.resource_type.lower()}") as cursor:
        cursor.itersize = batch_size
        cursor.execute(query, args)
        while rows := cursor.fetchmany(batch_size):
            yield [row[0] for row in rows]
