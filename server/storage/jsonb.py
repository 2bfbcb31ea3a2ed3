"""JSON that is already bytes, passed to PostgreSQL as jsonb without a Python round trip."""

from __future__ import annotations

from psycopg.types.json import Jsonb


def raw_jsonb(content: bytes) -> Jsonb:
    return Jsonb(content, dumps=bytes)
