"""Transaction-scoped advisory locks, keyed by text (released at commit or rollback)."""

from __future__ import annotations

import psycopg


def lock_key(conn: psycopg.Connection, key: str) -> None:
    """Serialize the transactions that take the same key, e.g. conditional creates of one criteria."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
