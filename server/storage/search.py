"""Search SQL: one query over the index tables for a parsed search, paged by keyset on seq."""
from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from .index import date, reference, token


@dataclass(frozen=True)
class IdCriterion:
    ids: tuple[str, ...]  # OR-ed


@dataclass
class SearchPlan:
    resource_type: str
    criteria: list = field(default_factory=list)  # AND-ed
    compartment_patient: str | None = None  # the access policy's patient, or a compartment search
    count: int = 20
    after_seq: int | None = None
    with_total: bool = True


@dataclass(frozen=True)
class Match:
    seq: int
    id: str
    content: str


def _criterion_condition(resource_type: str, criterion) -> tuple[sql.Composable, list]:
    if isinstance(criterion, IdCriterion):
        return sql.SQL("r.id = ANY(%s)"), [list(criterion.ids)]
    if isinstance(criterion, token.TokenCriterion):
        return token.condition(resource_type, criterion)
    if isinstance(criterion, reference.ReferenceCriterion):
        return reference.condition(resource_type, criterion)
    if isinstance(criterion, date.DateCriterion) and criterion.param == "_lastUpdated":
        return date.point_condition("r.last_updated", criterion)
    raise TypeError(f"no index for {criterion!r}")


def _where(plan: SearchPlan) -> tuple[sql.Composable, list]:
    parts = [sql.SQL("r.resource_type = %s AND NOT r.deleted")]
    args: list = [plan.resource_type]
    if plan.compartment_patient is not None:
        parts.append(sql.SQL("r.patient_id = %s"))
        args.append(plan.compartment_patient)
    for criterion in plan.criteria:
        part, part_args = _criterion_condition(plan.resource_type, criterion)
        parts.append(part)
        args += part_args
    return sql.SQL(" AND ").join(parts), args


def search(conn: psycopg.Connection, plan: SearchPlan) -> tuple[list[Match], int | None]:
    """The page of matches after `after_seq` (one extra row tells whether a next page exists) and the total."""
    where, args = _where(plan)
    page_where, page_args = where, args
    if plan.after_seq is not None:
        page_where = sql.SQL("{} AND r.seq > %s").format(where)
        page_args = args + [plan.after_seq]
    rows = conn.execute(
        sql.SQL("SELECT r.seq, r.id, r.content::text FROM resources r WHERE {} ORDER BY r.seq LIMIT %s")
        .format(page_where), page_args + [plan.count + 1]).fetchall()
    total = None
    if plan.with_total:
        total = conn.execute(sql.SQL("SELECT count(*) FROM resources r WHERE {}").format(where), args).fetchone()[0]
    return [Match(*row) for row in rows], total
