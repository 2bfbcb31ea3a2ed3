"""The patient compartment (R4 compartmentdefinition-patient.html): every live resource whose
patient_id is the patient, the Patient itself included; keyset-paged on seq."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql



@dataclass(frozen=True)
class Member:
    resource_type: str
    seq: int
    id: str
    content: str


@dataclass(frozen=True)
class CompartmentQuery:
    patient_id: str
    resource_types: tuple[str, ...]
    since: datetime | None = None
    after_seq: int | None = None
    count: int = 20


def compartment_page(conn: psycopg.Connection, query: CompartmentQuery) -> tuple[list[Member], int]:
    """Up to count+1 members in seq order, and the total number in the compartment."""
    parts = [sql.SQL("r.patient_id = %s AND r.resource_type = ANY(%s) AND NOT r.deleted")]
    args: list = [query.patient_id, list(query.resource_types)]
    if query.since is not None:
        parts.append(sql.SQL("r.last_updated >= %s"))
        args.append(query.since)
    where = sql.SQL(" AND ").join(parts)
    page_where, page_args = where, args
    if query.after_seq is not None:
        page_where, page_args = sql.SQL("{} AND r.seq > %s").format(where), args + [query.after_seq]
    rows = conn.execute(
        sql.SQL("SELECT r.resource_type, r.seq, r.id, r.content::text FROM resources r WHERE {}"
                " ORDER BY r.seq LIMIT %s").format(page_where), page_args + [query.count + 1]).fetchall()
    total = conn.execute(sql.SQL("SELECT count(*) FROM resources r WHERE {}").format(where), args).fetchone()[0]
    return [Member(*row) for row in rows], total
