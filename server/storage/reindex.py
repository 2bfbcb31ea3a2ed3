"""Reading live resources in seq order for reindexing, and updating their compartment key."""
from __future__ import annotations

import psycopg


def count_live(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM resources WHERE NOT deleted").fetchone()[0]


def live_batch(conn: psycopg.Connection, after_seq: int, limit: int) -> list[tuple[int, str, str]]:
    """(seq, resource_type, content) of the next live resources after after_seq, locked for this transaction."""
    return conn.execute("SELECT seq, resource_type, content::text FROM resources WHERE NOT deleted AND seq > %s"
                        " ORDER BY seq LIMIT %s FOR UPDATE", (after_seq, limit)).fetchall()


def set_patient(conn: psycopg.Connection, seq: int, patient_id: str | None) -> None:
    conn.execute("UPDATE resources SET patient_id = %s WHERE seq = %s AND patient_id IS DISTINCT FROM %s",
                 (patient_id, seq, patient_id))
