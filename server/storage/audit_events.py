"""The AuditEvent table (migrations/0014): one row an event, written once and never changed, with its search
keys in one text joined by <RS>, GIN-indexed as the array string_to_array(keys, <RS>). (COPY writes a text in C; a
text[] psycopg writes element by element in Python, which cost more than the rest of the event.) What the shared
index tables hold as rows is here a key per way of matching it, so a criterion is an array overlap (`&&`):

    c<US>param<US>code                 the code of a token with a system       (`type=rest`)
    n<US>param<US>code                 a token without a system                (`outcome=0`, `outcome=|0`)
    s<US>param<US>system<US>code       a token with its system                 (`type=http://...|rest`)
    y<US>param<US>system               any code of a system                    (`type=http://...|`)
    i<US>param<US>id                   a reference's target id, any type       (`patient=7`)
    t<US>param<US>type<US>id           a reference's type and id               (`entity=Patient/7`)
    u<US>param<US>uri                  a uri                                   (`_profile=...`)

Each key costs the database a few µs per event, so there is none for `:missing`: that rare criterion reads the keys
text of each candidate row instead of an index. <US> is chr(31) and <RS> chr(30), which no FHIR string (R4
datatypes.html#string) and no HTTP header value holds.

Most keys are shared by many events: those of the client, the user, the interaction and its outcome (every parameter
but OWN_PARAMS). The trail's events keep those in one row of audit_shapes (migrations/0016), named by a hash of its
keys, and carry one key naming it instead:

    h<US>hash                          the shape whose keys (audit_shapes.keys) are the event's too

so that a criterion on a shared parameter also matches the events of every shape that has one of its keys. Events
the generic extraction indexed (and those stored before 0016) keep all their keys themselves.

A shape also holds the JSON members its events share (agents, type, subtype, outcome, source; migrations/0017), as
the end of a JSON object (`,"type":...}`): a trail's event stores only its own members (id, meta, recorded, entity)
and names its shape in its `shape` column, and every read of the table renders it whole (content_column)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from psycopg import sql

from .index import date, reference, token, uri

AUDIT_TYPE = "AuditEvent"
TABLE = "audit_events"
US = "\x1f"
RS = "\x1e"
KEYS = "string_to_array({}.keys, chr(30))"  # the expression of the GIN indexes on audit_events and audit_shapes
OWN_PARAMS = frozenset({"entity", "entity:identifier", "patient"})  # what differs from event to event


def select_columns(alias: str) -> str:
    """A search Match's columns (storage/search.py) of row `alias`: an AuditEvent is in no compartment."""
    return f"{alias}.seq, 'AuditEvent', {alias}.id, {content_column(alias)}, NULL::text"


def content_column(alias: str) -> str:
    """The whole JSON of row `alias`: its content, completed by the members its shape holds (migrations/0017)."""
    return (
        f"CASE WHEN {alias}.shape IS NULL THEN {alias}.content ELSE left({alias}.content, -1)"
        f" || (SELECT s.members FROM audit_shapes s WHERE s.hash = {alias}.shape) END"
    )


class UnsupportedCriterion(ValueError):
    """A criterion the AuditEvent table cannot answer (a chain, _has, :text, :below, a sort other than date)."""

    def __init__(self, param: str):
        super().__init__(param)
        self.param = param


def _key(kind: str, *parts: str) -> str:
    return US.join((kind, *parts))


def keys(index_rows: dict[str, list[tuple]]) -> str:
    """The search keys of an event, from its index rows (search/extract or audit/rows.py)."""
    return RS.join(sorted(key_set(index_rows)))


def key_set(index_rows: dict[str, list[tuple]]) -> frozenset[str]:
    """The keys of some index rows: of an event's, or of the part many events share (audit/events.EventShape)."""
    return frozenset(_keys_of(index_rows, _shared_row_keys))


def _keys_of(index_rows: dict[str, list[tuple]], row_keys) -> set[str]:
    found: set[str] = set()
    for kind in ("token", "reference", "uri"):
        for row in index_rows.get(kind, ()):
            found.update(row_keys(kind, row))
    return found


@dataclass(frozen=True)
class Shape:
    """The keys of shared parameters that some events have in common (a row of audit_shapes), and the keys of
    per-event parameters that came with them (a patient user's own reference), which each event keeps."""

    hash: str | None  # None: no shared key at all and no shared members
    keys: str  # the shared keys, joined by RS
    own: frozenset[str]
    key: frozenset[str]  # the key an event carries to name this shape (none without a hash)
    members: str | None = None  # the end of its events' JSON (`,"type":...}`), None: the events are whole

    @property
    def completes(self) -> str | None:
        """What an event's shape column holds: the shape that completes its content, or None (it is whole)."""
        return self.hash if self.members is not None else None


@lru_cache(maxsize=4096)
def shape(shared_keys: frozenset[str], members: str | None = None) -> Shape:
    """The shape many events share (audit/events.EventShape's): their keys, split once, and the members of their
    JSON that they have in common (`members`, ending the object: `,"type":...}`), hashed once."""
    shared = sorted(key for key in shared_keys if key.split(US, 2)[1] not in OWN_PARAMS)
    own = frozenset(shared_keys).difference(shared)
    if not shared and members is None:
        return Shape(None, "", own, frozenset())
    text = RS.join(shared)
    named = text if members is None else f"{text}{RS}{members}"
    name = hashlib.blake2b(named.encode(), digest_size=16).hexdigest()  # a name, not a secret
    return Shape(name, text, own, frozenset((_key("h", name),)), members)


def encoded(
    shared_keys: frozenset[str], own_rows: dict[str, list[tuple]], recorded: datetime, members: str | None = None
) -> dict:
    """An event's index rows as this table stores them (StoredVersion.index_copy): its recorded instant, its keys
    and its Shape. `shared_keys` are those of the rows it has in common with other events (key_set, computed once
    for them all): the shape takes those of shared parameters, the event keeps the rest with its own rows' keys.
    `members`: the end of the JSON it shares with them, which its stored content then lacks (see Shape)."""
    common = shape(shared_keys, members)
    own = _keys_of(own_rows, _row_keys)  # not cached: an event's own rows are rarely another's
    own.update(common.own, common.key)
    return {TABLE: (recorded, RS.join(sorted(own)), common)}


def row_values(index_rows: dict[str, list[tuple]] | None, index_copy: dict | None, last_updated) -> tuple:
    """(recorded, keys, Shape or None) of an event, from its encoded rows if it has them, else from its index rows
    (then all its keys are its own)."""
    if index_copy is not None:
        return index_copy[TABLE]
    rows = index_rows or {}
    return recorded(rows, last_updated), keys(rows), None


def _row_keys(kind: str, row: tuple) -> tuple[str, ...]:
    """The keys of one index row."""
    if kind == "token":
        param, system, code = row
        if system is None:
            return (_key("n", param, code),)
        return (_key("c", param, code), _key("s", param, system, code), _key("y", param, system))
    if kind == "reference":
        param, target_type, target_id = row
        if target_type is None:
            return (_key("i", param, target_id),)
        return (_key("i", param, target_id), reference_key(param, target_type, target_id))
    param, value = row
    return (_key("u", param, value),)


_shared_row_keys = lru_cache(maxsize=8192)(_row_keys)  # the rows of shapes and of generic extractions, often repeated


def recorded(index_rows: dict[str, list[tuple]], last_updated):
    """AuditEvent.recorded (the `date` parameter) as a point: its range's low end."""
    lows = [row[1] for row in index_rows.get("date", ()) if row[0] == "date"]
    return min(lows) if lows else last_updated


def _token_keys(param: str, value: token.TokenValue) -> list[str]:
    if value.code is None:  # `system|`
        return [_key("y", param, str(value.system))]
    if value.system is token.ANY_SYSTEM:
        return [_key("c", param, value.code), _key("n", param, value.code)]
    if value.system is None:
        return [_key("n", param, value.code)]
    return [_key("s", param, str(value.system), value.code)]


def _reference_key(param: str, value: reference.ReferenceValue) -> str:
    if value.target_type is None:
        return _key("i", param, value.target_id)
    return reference_key(param, value.target_type, value.target_id)


def reference_key(param: str, target_type: str, target_id: str) -> str:
    return _key("t", param, target_type, target_id)


def key_prefix(kind: str, param: str) -> str:
    """A LIKE pattern for the keys of one kind of a parameter (its wildcards escaped)."""
    escaped = param.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _key(kind, escaped, "%")


def condition(criterion, alias: str) -> tuple[sql.Composable, list]:
    """The condition on row `alias` of a token, reference, exact uri or `date` criterion."""
    if isinstance(criterion, token.TokenCriterion):
        wanted = [key for value in criterion.values for key in _token_keys(criterion.param, value)]
        overlap, args = _overlap(criterion.param, wanted, alias)
        return (sql.SQL("NOT ({})").format(overlap) if criterion.negated else overlap), args
    if isinstance(criterion, reference.ReferenceCriterion):
        return _overlap(criterion.param, [_reference_key(criterion.param, value) for value in criterion.values], alias)
    if isinstance(criterion, uri.UriCriterion) and criterion.mode == "exact":
        return _overlap(criterion.param, [_key("u", criterion.param, value) for value in criterion.values], alias)
    if isinstance(criterion, date.DateCriterion) and criterion.param == "date":
        return date.point_condition(f'"{alias}".recorded', criterion)
    raise UnsupportedCriterion(str(getattr(criterion, "param", None) or getattr(criterion, "source_type", "?")))


def _overlap(param: str, wanted: list[str], alias: str) -> tuple[sql.Composable, list]:
    """Row `alias` has one of the keys, or (a shared parameter) names a shape that has one."""
    column = sql.SQL(KEYS).format(sql.Identifier(alias))
    if param in OWN_PARAMS:
        return sql.SQL("{} && %s::text[]").format(column), [wanted]
    shapes = _shape_keys_where(sql.SQL("{} && %s::text[]").format(sql.SQL(KEYS).format(sql.Identifier("s"))))
    return sql.SQL("{} && (%s::text[] || {})").format(column, shapes), [wanted, wanted]


def _shape_keys_where(condition: sql.Composable) -> sql.Composable:
    """The keys (h<US>hash) naming the shapes (alias s) that meet a condition, as a text[]."""
    return sql.SQL("ARRAY(SELECT 'h' || chr(31) || s.hash FROM audit_shapes s WHERE {})").format(condition)


SELECTIVE_TOKENS = frozenset({"entity:identifier"})  # an X-Request-ID: one request's events


def is_selective(criterion) -> bool:
    """Whether a criterion's keys name few events: a reference (a patient's, a user's, a resource's) or a
    request id; not a code (type, subtype, outcome) nor a client, which most events may share."""
    if isinstance(criterion, reference.ReferenceCriterion):
        return True
    return isinstance(criterion, token.TokenCriterion) and not criterion.negated and criterion.param in SELECTIVE_TOKENS


def missing_condition(param: str, missing: bool, alias: str) -> tuple[sql.Composable, list]:
    """`:missing`: whether any key of the parameter is in the row's keys text (no index: see the docstring)."""
    if param == "date":  # AuditEvent.recorded is 1..1: a column, never missing
        return sql.SQL("false" if missing else "true"), []
    prefixes = [f"%{RS}{key_prefix(kind, param)}" for kind in "cnsyitu"]
    row = sql.Identifier(alias)
    present = sql.SQL("(chr(30) || {}.keys) LIKE ANY(%s::text[])").format(row)
    args = [prefixes]
    if param not in OWN_PARAMS:
        shapes = _shape_keys_where(sql.SQL("(chr(30) || s.keys) LIKE ANY(%s::text[])"))
        present = sql.SQL("({} OR {} && {})").format(present, sql.SQL(KEYS).format(row), shapes)
        args.append(prefixes)
    return (sql.SQL("NOT {}").format(present) if missing else present), args


def sort_column(search_type: str, param: str) -> tuple[str, str]:
    """(expression, cast) of a sort key on the table: AuditEvent.recorded for `date`."""
    if search_type == "date" and param == "date":
        return "r.recorded", "timestamptz"
    raise UnsupportedCriterion(f"_sort={param}")


_CURRENT = (
    f"SELECT 'AuditEvent', a.id, 1, a.last_updated, false, {content_column('a')}, 'POST', a.seq, NULL::text"
    " FROM audit_events a WHERE a.id = %s"
)


def read_current(conn, id: str):
    return conn.execute(_CURRENT, (id,)).fetchone()


INSERT_ROW = (
    "INSERT INTO audit_events (id, last_updated, recorded, keys, content, shape)"
    " VALUES (%(id)s, %(last_updated)s, %(recorded)s, %(keys)s, %(content)s, %(shape)s) RETURNING seq"
)
# every statement that stores an event stores its shape too (if no other did before): no event names a missing one
INSERT_SHAPE = (
    "INSERT INTO audit_shapes (hash, keys, members) SELECT %(shape_hash)s::text, %(shape_keys)s::text,"
    " %(shape_members)s::text WHERE %(shape_hash)s::text IS NOT NULL ON CONFLICT (hash) DO NOTHING"
)


def shape_parameters(common: Shape | None) -> dict:
    """INSERT_SHAPE's parameters."""
    if common is None:
        return {"shape_hash": None, "shape_keys": None, "shape_members": None}
    return {"shape_hash": common.hash, "shape_keys": common.keys, "shape_members": common.members}


def append(conn, events: list[tuple], shapes: list[Shape | None] | tuple = ()) -> None:
    """Store many events ((id, last_updated, recorded, keys, content JSON text, shape completing it or None), ...)
    in one COPY, after the shapes they name."""
    named = {common.hash: common for common in shapes if common is not None and common.hash is not None}
    ordered = [named[name] for name in sorted(named)]  # one order for every writer: none waits on another's shapes
    if ordered:  # not as arrays: psycopg escapes each element of a text[] in Python, and members are JSON
        conn.cursor().executemany(INSERT_SHAPE, [shape_parameters(common) for common in ordered])
    with conn.cursor().copy("COPY audit_events (id, last_updated, recorded, keys, content, shape) FROM STDIN") as copy:
        copy.set_types(["text", "timestamptz", "timestamptz", "text", "text", "text"])
        for event in events:
            copy.write_row(event)
