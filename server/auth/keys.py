"""The server's signing key: created on first start, kept in the database, shared by every worker."""

from __future__ import annotations

from ..storage.database import Database
from ..storage.keys import load_signing_keys, store_signing_key_once
from .tokens import generate_signing_key


def ensure_signing_keys(database: Database) -> list[dict]:
    with database.connection() as conn:
        keys = load_signing_keys(conn)
        if not keys:
            key = generate_signing_key()
            assert key.kid is not None  # generated with auto_kid
            store_signing_key_once(conn, key.kid, key.as_dict(private=True))
            keys = load_signing_keys(conn)
    return keys
