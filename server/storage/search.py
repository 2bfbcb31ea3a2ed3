"""Search SQL: one query over the index tables for a parsed search, keyset-paged.

Every criterion becomes a condition on a resources row (alias r at the top; chains and _has nest
their own aliases), so each search is a handful of index lookups joined on resource_seq."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from . import audit_events
from .index import INDEX_TYPES, date, matching_seqs, quantity, reference, string, token, uri
from .patient_filter import PatientFilter, patient_condition

_CRITERION_TYPES = {
    token.TokenCriterion: "token",
    reference.ReferenceCriterion: "reference",
    string.StringCriterion: "string",
    date.DateCriterion: "date",
    quantity.QuantityCriterion: "quantity",
    uri.UriCriterion: "uri",
}


@dataclass(frozen=True)
class IdCriterion:
    ids: tuple[str, ...]  # OR-ed


@dataclass(frozen=True)
class MissingCriterion:
    search_type: str
    param: str
    missing: bool
    part: str | None = None  # see SearchParam.part


@dataclass(frozen=True)
class ChainCriterion:
    """`subject:Patient.name=x`: a reference whose target matches the inner criteria."""

    param: str
    target_types: tuple[str, ...]
    criteria: tuple


@dataclass(frozen=True)
class HasCriterion:
    """`_has:MedicationRequest:patient:status=active`: referenced by a source that matches."""

    source_type: str
    param: str
    criteria: tuple


@dataclass(frozen=True)
class CompartmentCriterion:
    """In the compartment of target_type/target_id through any of params (R4 compartmentdefinition.html)."""

    target_type: str
    target_id: str
    params: tuple[str, ...]
    is_owner: bool = False  # the compartment's own resource (the Patient itself)


@dataclass(frozen=True)
class AnyOfCriterion:
    """Matches when any alternative (each a tuple of AND-ed criteria) matches: Bulk Data _typeFilter ORs,
    several granular scopes of one type."""

    alternatives: tuple[tuple, ...]


@dataclass(frozen=True)
class PatientsCriterion:
    """In the compartment of one of these patients (resources.patient_id; a Patient's own id), or of any."""

    patient_ids: tuple[str, ...] | None


@dataclass(frozen=True)
class SortKey:
    search_type: str  # an index type, or "column"
    param: str
    descending: bool = False
    part: str | None = None  # see SearchParam.part


@dataclass
class SearchPlan:
    resource_types: tuple[str, ...]
    criteria: list = field(default_factory=list)  # AND-ed
    compartment_patient: PatientFilter = None  # the patient(s) the guard filters to
    count: int = 20
    sort: tuple[SortKey, ...] = ()
    cursor: tuple | None = None  # (direction "after"|"before", sort values, seq)
    total: str = "accurate"  # none | estimate | accurate

    @property
    def resource_type(self) -> str:
        return self.resource_types[0]


@dataclass(frozen=True)
class Match:
    seq: int
    resource_type: str
    id: str
    content: str
    sort_values: tuple = ()
    patient_id: str | None = None  # the patient compartment it belongs to


def _in_audit_table(types: list[str] | tuple[str, ...]) -> bool:
    return list(types) == [audit_events.AUDIT_TYPE]


def table_of(plan: SearchPlan) -> sql.Identifier:
    """The table a plan's matches are rows of (alias r): resources, or the AuditEvent table."""
    return sql.Identifier(audit_events.TABLE if _in_audit_table(plan.resource_types) else "resources")


def _rows_of(plan: SearchPlan) -> tuple[sql.Composable, list]:
    """What a page or a count reads as `r`: the plan's table, or for AuditEvents with a selective criterion the
    events its keys select. The planner cannot tell a rare key (one patient's events) from a common one, so it
    would walk the date index and filter every row; the OFFSET 0 fence has it take the GIN index first."""
    table = table_of(plan)
    selective = next((c for c in plan.criteria if audit_events.is_selective(c)), None)
    if not _in_audit_table(plan.resource_types) or selective is None:
        return sql.SQL("{} r").format(table), []
    condition, args = audit_events.condition(selective, "a")
    return sql.SQL("(SELECT * FROM {} a WHERE {} OFFSET 0) r").format(table, condition), args


def _criterion_condition(criterion, types: list[str], alias: str, depth: int) -> tuple[sql.Composable, list]:
    row = sql.Identifier(alias)
    if _in_audit_table(types) and not isinstance(criterion, (IdCriterion, AnyOfCriterion)):
        return _audit_condition(criterion, alias)
    if isinstance(criterion, IdCriterion):
        return sql.SQL("{}.id = ANY(%s)").format(row), [list(criterion.ids)]
    if isinstance(criterion, date.DateCriterion) and criterion.param == "_lastUpdated":
        return date.point_condition(f'"{alias}".last_updated', criterion)
    if isinstance(criterion, MissingCriterion):
        seqs, args = matching_seqs(criterion.search_type, types, criterion.param, part=criterion.part)
        return sql.SQL("{}.seq {} ({})").format(row, sql.SQL("NOT IN" if criterion.missing else "IN"), seqs), args
    if isinstance(criterion, ChainCriterion):
        return _chain_condition(criterion, types, row, depth)
    if isinstance(criterion, HasCriterion):
        return _has_condition(criterion, types, row, depth)
    if isinstance(criterion, CompartmentCriterion):
        return _compartment_condition(criterion, types, row)
    if isinstance(criterion, PatientsCriterion):
        if criterion.patient_ids is None:
            return sql.SQL("{}.patient_id IS NOT NULL").format(row), []
        return sql.SQL("{}.patient_id = ANY(%s)").format(row), [list(criterion.patient_ids)]
    if isinstance(criterion, AnyOfCriterion):
        parts, args = [], []
        for alternative in criterion.alternatives:
            part, part_args = _all_of(alternative, types, alias, depth)
            parts.append(sql.SQL("({})").format(part))
            args += part_args
        return sql.SQL("({})").format(sql.SQL(" OR ").join(parts) if parts else sql.SQL("false")), args
    search_type = _CRITERION_TYPES[type(criterion)]
    where, where_args = INDEX_TYPES[search_type].condition(criterion)
    seqs, args = matching_seqs(search_type, types, criterion.param, where, where_args, getattr(criterion, "part", None))
    negated = getattr(criterion, "negated", False)  # R4 :not also matches resources with no value
    return sql.SQL("{}.seq {} ({})").format(row, sql.SQL("NOT IN" if negated else "IN"), seqs), args


def _audit_condition(criterion, alias: str) -> tuple[sql.Composable, list]:
    """A criterion on the AuditEvent table (storage/audit_events.py); UnsupportedCriterion for a kind it lacks."""
    if isinstance(criterion, date.DateCriterion) and criterion.param == "_lastUpdated":
        return date.point_condition(f'"{alias}".last_updated', criterion)
    if isinstance(criterion, MissingCriterion) and criterion.part is None:
        return audit_events.missing_condition(criterion.param, criterion.missing, alias)
    if isinstance(criterion, PatientsCriterion):  # in no patient compartment (see _where)
        return sql.SQL("false"), []
    return audit_events.condition(criterion, alias)


def _all_of(criteria, types: list[str], alias: str, depth: int) -> tuple[sql.Composable, list]:
    parts, args = [], []
    for criterion in criteria:
        part, part_args = _criterion_condition(criterion, types, alias, depth)
        parts.append(part)
        args += part_args
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true"), args


def _chain_condition(criterion: ChainCriterion, types, row, depth) -> tuple[sql.Composable, list]:
    target = f"chain{depth}"
    inner, inner_args = _all_of(criterion.criteria, list(criterion.target_types), target, depth + 1)
    query = sql.SQL(
        "{row}.seq IN (SELECT ref.resource_seq FROM search_reference ref"
        " JOIN resources {t} ON {t}.resource_type = ref.target_type AND {t}.id = ref.target_id"
        " WHERE ref.resource_type = ANY(%s) AND ref.param = %s AND ref.target_type = ANY(%s)"
        " AND NOT {t}.deleted AND {inner})"
    ).format(row=row, t=sql.Identifier(target), inner=inner)
    return query, [types, criterion.param, list(criterion.target_types), *inner_args]


def _has_condition(criterion: HasCriterion, types, row, depth) -> tuple[sql.Composable, list]:
    """Driven from the inner criteria: matching sources -> their reference rows -> target ids."""
    if _in_audit_table([criterion.source_type]):
        raise audit_events.UnsupportedCriterion(f"_has:{criterion.source_type}")
    source = f"has{depth}"
    inner, inner_args = _all_of(criterion.criteria, [criterion.source_type], source, depth + 1)
    query = sql.SQL(
        "{row}.id IN (SELECT ref.target_id FROM search_reference ref"
        " WHERE ref.resource_type = %s AND ref.param = %s AND ref.target_type = ANY(%s)"
        " AND ref.resource_seq IN (SELECT {s}.seq FROM resources {s}"
        "  WHERE {s}.resource_type = %s AND NOT {s}.deleted AND {inner}))"
    ).format(row=row, s=sql.Identifier(source), inner=inner)
    return query, [criterion.source_type, criterion.param, types, criterion.source_type, *inner_args]


def _compartment_condition(criterion: CompartmentCriterion, types, row) -> tuple[sql.Composable, list]:
    query = sql.SQL(
        "{row}.seq IN (SELECT t.resource_seq FROM search_reference t WHERE t.resource_type = ANY(%s)"
        " AND t.param = ANY(%s) AND t.target_type = %s AND t.target_id = %s)"
    ).format(row=row)
    args = [types, list(criterion.params), criterion.target_type, criterion.target_id]
    if criterion.is_owner:
        query = sql.SQL("({} OR {}.id = %s)").format(query, row)
        args.append(criterion.target_id)
    return query, args


def _where(plan: SearchPlan) -> tuple[sql.Composable, list]:
    types = list(plan.resource_types)
    if audit_events.AUDIT_TYPE in types and len(types) > 1:  # AuditEvents are searched on their own
        types = [t for t in types if t != audit_events.AUDIT_TYPE]
    if _in_audit_table(types):
        # an AuditEvent is in no patient compartment: a search confined to patients finds none
        parts: list[sql.Composable] = [sql.SQL("true" if plan.compartment_patient is None else "false")]
        args: list = []
    else:
        parts, args = [sql.SQL("r.resource_type = ANY(%s) AND NOT r.deleted")], [types]
        if plan.compartment_patient is not None:
            condition, condition_args = patient_condition(plan.compartment_patient, sql.SQL("r.patient_id"))
            parts.append(condition)
            args += condition_args
    criteria, criteria_args = _all_of(plan.criteria, types, "r", 1)
    return sql.SQL(" AND ").join([*parts, criteria]), args + criteria_args


# Missing sort values sort last in either direction (sentinels outside every real value).
_SENTINELS = {
    ("text", False): "chr(1114111)",
    ("text", True): "''",
    ("timestamptz", False): "'infinity'::timestamptz",
    ("timestamptz", True): "'-infinity'::timestamptz",
    ("numeric", False): "'Infinity'::numeric",
    ("numeric", True): "'-Infinity'::numeric",
}
_COLUMNS = {"_id": ('r.id COLLATE "C"', "text"), "_lastUpdated": ("r.last_updated", "timestamptz")}


def _sort_expression(key: SortKey, audit: bool = False) -> tuple[sql.Composable, list, str]:
    if audit and key.search_type != "column":
        column, cast = audit_events.sort_column(key.search_type, key.param)
        return sql.SQL(column), [], cast
    if key.search_type == "column":
        column, cast = _COLUMNS[key.param]
        return sql.SQL(column), [], cast
    module = INDEX_TYPES[key.search_type]
    cast = module.SORT_TYPE
    collate = ' COLLATE "C"' if cast == "text" else ""
    aggregate = "max" if key.descending else "min"
    part = sql.SQL(" AND t.part = %s" if key.part else "")
    expression = sql.SQL(
        "coalesce((SELECT {agg}({col}{collate}) FROM {table} t WHERE t.resource_seq = r.seq"
        " AND t.param = %s{part}), {sentinel})"
    ).format(
        agg=sql.SQL(aggregate),
        col=sql.SQL(module.SORT_EXPRESSION),
        collate=sql.SQL(collate),
        table=sql.Identifier(module.TABLE),
        part=part,
        sentinel=sql.SQL(_SENTINELS[(cast, key.descending)]),
    )
    return expression, [key.param, key.part] if key.part else [key.param], cast


def _keyset(keys, expressions, cursor) -> tuple[sql.Composable, list]:
    """Rows strictly after (or before) the cursor in the (sort keys..., seq) order, as an OR chain:
    k1 > v1 OR (k1 = v1 AND k2 > v2) OR ... (with < for descending keys)."""
    direction, values, seq = cursor
    columns = [
        (expression, args, cast, key.descending)
        for key, (expression, args, cast) in zip(keys, expressions, strict=False)
    ]
    columns.append((sql.SQL("r.seq"), [], "bigint", False))
    values = [*values, seq]
    ors, or_args = [], []
    for i, (expression, args, cast, descending) in enumerate(columns):
        ands, and_args = [], []
        for (prior, prior_args, prior_cast, _), prior_value in zip(columns[:i], values[:i], strict=False):
            ands.append(sql.SQL("{} = %s::{}").format(prior, sql.SQL(prior_cast)))
            and_args += [*prior_args, prior_value]
        forward = (direction == "after") != descending
        ands.append(sql.SQL("{} {} %s::{}").format(expression, sql.SQL(">" if forward else "<"), sql.SQL(cast)))
        ors.append(sql.SQL("({})").format(sql.SQL(" AND ").join(ands)))
        or_args += [*and_args, *args, values[i]]
    return sql.SQL("({})").format(sql.SQL(" OR ").join(ors)), or_args


@dataclass
class SearchResult:
    matches: list[Match]  # in the requested order
    more: bool  # another page exists beyond these, in the paging direction
    total: int | None


def search(conn: psycopg.Connection, plan: SearchPlan) -> tuple[list[Match], int | None]:
    """The first `count` matches and the total (for conditional interactions)."""
    result = search_page(conn, plan)
    return result.matches, result.total


def page_query(plan: SearchPlan, where: tuple[sql.Composable, list] | None = None) -> tuple[sql.Composed, list]:
    """The SQL of one page: matches after (or before) the cursor in sort order, plus one row.
    `where`: the plan's conditions, when the caller has composed them already."""
    condition, args = where or _where(plan)
    audit = _in_audit_table(plan.resource_types)
    expressions = [_sort_expression(key, audit) for key in plan.sort]
    backwards = plan.cursor is not None and plan.cursor[0] == "before"
    page_where, page_args = condition, list(args)
    if plan.cursor is not None:
        keyset, keyset_args = _keyset(plan.sort, expressions, plan.cursor)
        page_where, page_args = sql.SQL("{} AND {}").format(condition, keyset), page_args + keyset_args
    order: list[sql.Composable] = []
    order_args: list = []
    select_args: list = []
    for key, (expression, expression_args, _) in zip(plan.sort, expressions, strict=False):
        descending = key.descending != backwards
        order.append(sql.SQL("{} {}").format(expression, sql.SQL("DESC" if descending else "ASC")))
        order_args += expression_args
        select_args += expression_args
    order.append(sql.SQL("r.seq DESC" if backwards else "r.seq ASC"))
    sort_columns = sql.SQL("").join(sql.SQL(", ({})::text").format(e) for e, _, _ in expressions)
    rows, rows_args = _rows_of(plan)
    query = sql.SQL("SELECT {}{} FROM {} WHERE {} ORDER BY {} LIMIT %s").format(
        sql.SQL(
            audit_events.select_columns("r") if audit else "r.seq, r.resource_type, r.id, r.content::text, r.patient_id"
        ),
        sort_columns,
        rows,
        page_where,
        sql.SQL(", ").join(order),
    )
    return query, select_args + rows_args + page_args + order_args + [plan.count + 1]


def search_page(conn: psycopg.Connection, plan: SearchPlan) -> SearchResult:
    """One page of matches, whether another page follows in the paging direction, and the total."""
    where, args = _where(plan)  # composed once: the page and the total share it
    rows = conn.execute(*page_query(plan, (where, args))).fetchall()
    matches = [Match(row[0], row[1], row[2], row[3], tuple(row[5:]), row[4]) for row in rows[: plan.count]]
    if plan.cursor is not None and plan.cursor[0] == "before":
        matches.reverse()
    more = len(rows) > plan.count
    if plan.cursor is None and not more and plan.total != "none":
        return SearchResult(matches, more, len(matches))  # the first page holds every match: no count query
    read, read_args = _rows_of(plan)
    return SearchResult(matches, more, _total(conn, plan.total, where, read_args + args, read))


def _total(conn: psycopg.Connection, mode: str, where: sql.Composable, args: list, rows: sql.Composable) -> int | None:
    if mode == "none":
        return None
    count = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(rows, where)
    if mode == "estimate":
        row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(count), args).fetchone()
        assert row is not None  # the query always returns one row
        plan = row[0]
        return int(plan[0]["Plan"]["Plans"][0]["Plan Rows"]) if plan[0]["Plan"].get("Plans") else 0
    row = conn.execute(count, args).fetchone()
    assert row is not None  # the query always returns one row
    return row[0]
