"""Reading live resources in seq order for reindexing (storage/writes.py rewrites their index rows)."""

from __future__ import annotations

import psycopg


def count_live(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM resources WHERE NOT deleted").fetchone()
    assert row is not None  # the query always returns one row
    return row[0]


def live_batch(conn: psycopg.Connection, after_seq: int, limit: int) -> list[tuple[int, str, str, int, str]]:
    """(seq, resource_type, id, version_id, content) of the next live resources after after_seq,
    locked for this transaction."""
    return conn.execute(
        "SELECT seq, resource_type, id, version_id, content::text FROM resources WHERE NOT deleted AND seq > %s"
        " ORDER BY seq LIMIT %s FOR UPDATE",
        (after_seq, limit),
    ).fetchall()
