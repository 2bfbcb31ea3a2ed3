"""Search index tables, one module per search type. Each owns the rows it writes (insert_rows) and
the SQL condition that reads them (condition: the rows of one parameter that match a criterion)."""

from __future__ import annotations

from decimal import Decimal

import orjson
from psycopg import sql
from psycopg.types.json import Jsonb

from ..jsonb import raw_jsonb
from . import date, quantity, reference, string, token, uri

INDEX_TYPES = {"token": token, "reference": reference, "string": string, "date": date, "quantity": quantity, "uri": uri}


def _json_rows(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot index a {type(value).__name__}")


def index_rows_json(rows_by_type: dict[str, list[tuple]]) -> Jsonb:
    """All index rows of a resource as one JSON parameter, {"token": [[param, system, code], ...], ...}:
    sent as one value, it costs a fraction of what one array per column costs to adapt."""
    rows = {search_type: values for search_type, values in rows_by_type.items() if values}
    return raw_jsonb(orjson.dumps(rows, default=_json_rows))


def index_ctes(seq: str, replace: bool) -> list[str]:
    """Data-modifying statements, meant as CTEs of one constant SQL statement (so that psycopg
    prepares it), that (re)write the index rows of the resource whose seq the SQL expression `seq`
    gives, from the %(index_rows)s parameter (index_rows_json) and %(resource_type)s, %(patient_id)s.
    In one statement every CTE sees the same snapshot, so the DELETEs never see the rows the INSERTs add."""
    return (delete_ctes(seq) if replace else []) + _insert_ctes(seq)


def delete_ctes(seq: str) -> list[str]:
    return [
        sql.SQL("DELETE FROM {} WHERE resource_seq = ({})")
        .format(sql.Identifier(module.TABLE), sql.SQL(seq))
        .as_string(None)
        for module in INDEX_TYPES.values()
    ]


def _insert_ctes(seq: str) -> list[str]:
    statements = []
    for search_type, module in INDEX_TYPES.items():
        names = sql.SQL(", ").join(sql.Identifier(c) for c in module.COLUMNS)
        values = sql.SQL(", ").join(
            sql.SQL("(r.value->>{})::{}").format(sql.Literal(i), sql.SQL(cast)) for i, cast in enumerate(module.CASTS)
        )
        statements.append(
            sql.SQL(
                "INSERT INTO {} (resource_seq, resource_type, patient_id, {})"
                " SELECT ({}), %(resource_type)s, %(patient_id)s, {}"
                " FROM jsonb_array_elements(%(index_rows)s::jsonb -> {}) AS r"
            )
            .format(sql.Identifier(module.TABLE), names, sql.SQL(seq), values, sql.Literal(search_type))
            .as_string(None)
        )
    return statements


def with_ctes(statements: list[str], final: str) -> str:
    """WITH s0 AS (...), s1 AS (...) <final>: several writes in one round trip."""
    return "WITH " + ", ".join(f"s{i} AS ({statement})" for i, statement in enumerate(statements)) + " " + final


def matching_seqs(
    search_type: str,
    resource_types: list[str],
    param: str,
    where: sql.Composable | None = None,
    args: list | None = None,
    part: str | None = None,
) -> tuple[sql.Composable, list]:
    """SELECT resource_seq of the rows of one parameter (optionally matching `where` on alias t);
    `part`: only the string rows of that element (SearchParam.part)."""
    table = sql.Identifier(INDEX_TYPES[search_type].TABLE)
    query = sql.SQL("SELECT t.resource_seq FROM {} t WHERE t.resource_type = ANY(%s) AND t.param = %s").format(table)
    if part is not None:
        query, args = sql.SQL("{} AND t.part = %s").format(query), [part, *(args or [])]
    if where is not None:
        query = sql.SQL("{} AND ({})").format(query, where)
    return query, [resource_types, param, *(args or [])]
