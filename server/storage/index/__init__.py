"""Search index tables, one module per search type. Each owns the rows it writes (insert_rows) and
the SQL condition that reads them (condition: the rows of one parameter that match a criterion)."""
from __future__ import annotations

import psycopg
from psycopg import sql

from . import date, quantity, reference, string, token, uri

INDEX_TYPES = {"token": token, "reference": reference, "string": string, "date": date,
               "quantity": quantity, "uri": uri}


Statement = tuple[sql.Composable, list]


def index_statements(seq: sql.Composable, seq_args: list, resource_type: str, patient_id: str | None,
                     rows_by_type: dict[str, list[tuple]], replace: bool) -> list[Statement]:
    """Data-modifying statements, meant as CTEs of one SQL statement, that (re)write the index rows
    of the resource whose seq the `seq` expression gives. Arrays go in binary (%b): much cheaper to
    send than their text form. In one statement every CTE sees the same snapshot, so the DELETEs
    never see the rows the INSERTs add."""
    statements: list[Statement] = []
    if replace:
        for module in INDEX_TYPES.values():
            statements.append((sql.SQL("DELETE FROM {} WHERE resource_seq = ({})").format(
                sql.Identifier(module.TABLE), seq), list(seq_args)))
    for search_type, rows in rows_by_type.items():
        if not rows:
            continue
        module = INDEX_TYPES[search_type]
        names = sql.SQL(", ").join(sql.Identifier(c) for c in module.COLUMNS)
        unnest = sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(cast)) for cast in module.CASTS)
        statements.append((sql.SQL("INSERT INTO {} (resource_seq, resource_type, patient_id, {})"
                                   " SELECT ({}), %b, %b, * FROM unnest({})").format(
            sql.Identifier(module.TABLE), names, seq, unnest),
            [*seq_args, resource_type, patient_id, *(list(column) for column in zip(*rows))]))
    return statements


def as_ctes(statements: list[Statement], final: sql.Composable, final_args: list | None = None) -> Statement:
    """WITH s0 AS (...), s1 AS (...) <final>: several writes in one round trip."""
    if not statements:
        return final, list(final_args or [])
    ctes = sql.SQL(", ").join(sql.SQL("{} AS ({})").format(sql.Identifier(f"s{i}"), statement)
                              for i, (statement, _) in enumerate(statements))
    args = [arg for _, statement_args in statements for arg in statement_args]
    return sql.SQL("WITH {} {}").format(ctes, final), args + list(final_args or [])


def replace_index_rows(conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None,
                       rows_by_type: dict[str, list[tuple]]) -> None:
    statements = index_statements(sql.SQL("%b"), [seq], resource_type, patient_id, rows_by_type, replace=True)
    conn.execute(*as_ctes(statements, sql.SQL("SELECT 1")))


def delete_index_rows(conn: psycopg.Connection, seq: int) -> None:
    conn.execute(*as_ctes(index_statements(sql.SQL("%b"), [seq], "", None, {}, replace=True), sql.SQL("SELECT 1")))


def matching_seqs(search_type: str, resource_types: list[str], param: str,
                  where: sql.Composable | None = None, args: list | None = None) -> tuple[sql.Composable, list]:
    """SELECT resource_seq of the rows of one parameter (optionally matching `where` on alias t)."""
    table = sql.Identifier(INDEX_TYPES[search_type].TABLE)
    query = sql.SQL("SELECT t.resource_seq FROM {} t WHERE t.resource_type = ANY(%s) AND t.param = %s").format(table)
    if where is not None:
        query = sql.SQL("{} AND ({})").format(query, where)
    return query, [resource_types, param, *(args or [])]
