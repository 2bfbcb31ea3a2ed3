"""Forward-only numbered SQL migrations, applied under an advisory lock (workers may start at once)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)
_MIGRATION_LOCK = 7_305_001  # any constant; shared by every process migrating this database
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def pending_files(directory: Path, applied: set[int]) -> list[tuple[int, Path]]:
    found = sorted((int(m.group(1)), path) for path in directory.iterdir() if (m := _NAME.match(path.name)))
    return [(number, path) for number, path in found if number not in applied]


def apply_migrations(database_url: str, directory: Path) -> list[str]:
    """Apply every pending migration, each in its own transaction; return their file names."""
    done: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for number, path in pending_files(directory, applied):
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, path.name))
                log.info("migration applied", extra={"migration": path.name})
                done.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return done
