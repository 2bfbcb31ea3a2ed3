"""The server's signing keys (private JWKs), created once and shared by every worker."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb


def load_signing_keys(conn: psycopg.Connection) -> list[dict]:
    rows = conn.execute("SELECT private_jwk FROM signing_keys ORDER BY created_at DESC").fetchall()
    return [row[0] for row in rows]


def store_signing_key_once(conn: psycopg.Connection, kid: str, private_jwk: dict) -> None:
    """Insert a key unless one exists already (concurrent starters keep the first one)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7305002)")
        if conn.execute("SELECT 1 FROM signing_keys LIMIT 1").fetchone() is None:
            conn.execute("INSERT INTO signing_keys (kid, private_jwk) VALUES (%s, %s)", (kid, Jsonb(private_jwk)))
