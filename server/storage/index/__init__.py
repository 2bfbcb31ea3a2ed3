"""Search index tables, one module per search type. Each owns the rows it writes and the SQL
condition that reads them."""
from __future__ import annotations

import psycopg

from . import reference, token

INDEX_TYPES = {"token": token, "reference": reference}


def replace_index_rows(conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None,
                       rows_by_type: dict[str, list[tuple]]) -> None:
    delete_index_rows(conn, seq)
    for search_type, rows in rows_by_type.items():
        if rows:
            INDEX_TYPES[search_type].insert_rows(conn, seq, resource_type, patient_id, rows)


def delete_index_rows(conn: psycopg.Connection, seq: int) -> None:
    for module in INDEX_TYPES.values():
        conn.execute(module.DELETE_ROWS, (seq,))
