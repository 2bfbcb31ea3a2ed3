"""Search index tables, one module per search type. Each owns the rows it writes (insert_rows) and
the SQL condition that reads them (condition: the rows of one parameter that match a criterion)."""
from __future__ import annotations

import psycopg
from psycopg import sql

from . import date, quantity, reference, string, token, uri

INDEX_TYPES = {"token": token, "reference": reference, "string": string, "date": date,
               "quantity": quantity, "uri": uri}


def insert(conn: psycopg.Connection, table: str, columns: tuple[str, ...], casts: tuple[str, ...], seq: int,
           resource_type: str, patient_id: str | None, rows: list[tuple]) -> None:
    """One INSERT ... SELECT FROM unnest(...) for all rows of one table: one round trip."""
    arrays = [list(column) for column in zip(*rows)]
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    unnest = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(cast)) for cast in casts)
    conn.execute(sql.SQL("INSERT INTO {} (resource_seq, resource_type, patient_id, {})"
                         " SELECT %s, %s, %s, * FROM unnest({})").format(sql.Identifier(table), names, unnest),
                 [seq, resource_type, patient_id, *arrays])


def replace_index_rows(conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None,
                       rows_by_type: dict[str, list[tuple]]) -> None:
    delete_index_rows(conn, seq)
    insert_index_rows(conn, seq, resource_type, patient_id, rows_by_type)


def insert_index_rows(conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None,
                      rows_by_type: dict[str, list[tuple]]) -> None:
    for search_type, rows in rows_by_type.items():
        if rows:
            module = INDEX_TYPES[search_type]
            insert(conn, module.TABLE, module.COLUMNS, module.CASTS, seq, resource_type, patient_id, rows)


def delete_index_rows(conn: psycopg.Connection, seq: int) -> None:
    for module in INDEX_TYPES.values():
        conn.execute(sql.SQL("DELETE FROM {} WHERE resource_seq = %s").format(sql.Identifier(module.TABLE)), (seq,))


def matching_seqs(search_type: str, resource_types: list[str], param: str,
                  where: sql.Composable | None = None, args: list | None = None) -> tuple[sql.Composable, list]:
    """SELECT resource_seq of the rows of one parameter (optionally matching `where` on alias t)."""
    table = sql.Identifier(INDEX_TYPES[search_type].TABLE)
    query = sql.SQL("SELECT t.resource_seq FROM {} t WHERE t.resource_type = ANY(%s) AND t.param = %s").format(table)
    if where is not None:
        query = sql.SQL("{} AND ({})").format(query, where)
    return query, [resource_types, param, *(args or [])]
