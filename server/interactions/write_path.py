"""The one write path. Every new version (create, update, patch, delete, each batch or transaction
entry, import) is prepared once here (id, meta, compartment, index rows, reference targets) and
stored by commit(), which runs the one reference check, lets storage write the versions (one
statement for a few, COPY for many) and tells the write listeners: inside the transaction before
the versions are stored (what they return is stored with them: the AuditEvent), and after the
commit. Reindexing recomputes index rows through the same preparation (reindex()).

Writes that take more than one statement run in transaction(ctx), which holds the after-commit
calls until the database has committed; a lone statement on an autocommit connection is its own
transaction. Only this module imports storage's write functions (an import-linter contract)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import orjson
import psycopg

from ..fhir.interactions import Interaction
from ..fhir.outcomes import Issue, Unprocessable
from ..search.extract import index_rows, patient_compartment
from ..search.registry import ResourceDefinition
from ..storage.resources import Version
from ..storage.writes import StoredVersion, encode_for_copy, replace_index_rows, store
from . import repository
from .context import RequestContext, Services
from .references import UNRESOLVED, expression_of, local_targets, unresolved_reference_issues

_after_commit: contextvars.ContextVar[list | None] = contextvars.ContextVar("after_commit", default=None)


def instant(moment: datetime) -> str:
    """FHIR instant, UTC: 2026-11-27T19:20:01.123456Z."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # [:-6]: +00:00 (strftime: 2.5x slower)


@dataclass
class Prepared:
    """One new version, ready to store. `targets`: (type, id) of each local reference -> the
    Reference element holding it, or its expression (after pickling, for import)."""

    resource_type: str
    id: str
    version_id: int
    interaction: Interaction  # create, update, patch, delete, import, reindex (what listeners are told)
    method: str  # POST, PUT, PATCH, DELETE (what history records)
    last_updated: datetime
    content: bytes | None  # None for a deletion
    patient_id: str | None
    rows: dict | None = None
    rows_copy: dict | None = None  # rows encoded for storage (import workers' COPY text; an AuditEvent's keys)
    targets: dict = field(default_factory=dict)
    resource: dict | None = field(default=None, repr=False)
    seq: int | None = None  # a deletion: the current row

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.id)

    @property
    def deleted(self) -> bool:
        return self.content is None


class WriteListener:
    """Told of every stored version. Subclasses override either call."""

    def before_commit(self, ctx: RequestContext, conn, changes: list[Prepared]) -> list[Prepared]:
        """Inside the write's transaction, before the versions are stored: versions returned are
        stored with them (one statement), without being told to listeners again."""
        return []

    def after_commit(self, ctx: RequestContext, changes: list[Prepared]) -> None:
        """Once the transaction has committed."""


class UnresolvedReferences(Unprocessable):
    """A version refers to local resources that do not exist; `index`: which of the committed ones."""

    def __init__(self, index: int, message: str, issues: list[Issue]):
        super().__init__(message, issues=issues)
        self.index = index


def prepare(
    services: Services,
    definition: ResourceDefinition,
    resource: dict,
    id: str,
    version_id: int,
    interaction: Interaction,
    method: str,
    now: datetime | None = None,
    holders: list | None = None,
) -> Prepared:
    """The server owns id, meta.versionId and meta.lastUpdated (R4 resource.html#Meta). `holders`:
    the resource's Reference elements, when the caller has walked it already."""
    now = now or datetime.now(UTC)
    meta = {**resource.get("meta", {}), "versionId": str(version_id), "lastUpdated": instant(now)}
    resource = {**resource, "id": id, "meta": meta}
    patient_id = patient_compartment(definition, resource, services.base_url)
    return Prepared(
        definition.type,
        id,
        version_id,
        interaction,
        method,
        now,
        orjson.dumps(resource),
        patient_id,
        index_rows(definition, resource, services.base_url),
        targets=local_targets(services, resource, holders),
        resource=resource,
    )


def rendered(resource_type: str, id: str, now: datetime, content: bytes, encoded: dict) -> Prepared:
    """A first version whose JSON the server rendered itself, id and meta as prepare() makes them, and whose index
    rows it encoded for storage (the audit trail's AuditEvents: audit/events.rendered_event, kept equal to prepare()
    by a test); no references to check, in no patient compartment."""
    return Prepared(resource_type, id, 1, Interaction.CREATE, "POST", now, content, None, rows_copy=encoded)


def deletion(current: Version, now: datetime | None = None, interaction: Interaction = Interaction.DELETE) -> Prepared:
    """The deletion version of a current one (R4 http.html#delete: history keeps it)."""
    return Prepared(
        current.resource_type,
        current.id,
        current.version_id + 1,
        interaction,
        "DELETE",
        now or datetime.now(UTC),
        None,
        current.patient_id,
        seq=current.seq,
    )


def for_copy(prepared: Prepared) -> Prepared:
    """Small enough to pickle (import workers): index rows encoded for COPY, reference elements
    replaced by their expressions."""
    targets = {key: expression_of(resource_of(prepared), holder) for key, holder in prepared.targets.items()}
    rows = encode_for_copy(prepared.resource_type, prepared.id, prepared.patient_id, prepared.rows or {})
    return replace(prepared, rows=None, rows_copy=rows, targets=targets, resource=None)


def with_version(prepared: Prepared, version_id: int) -> Prepared:
    """The same version under another versionId (an import that finds the resource existing)."""
    if version_id == prepared.version_id:
        return prepared
    assert prepared.content is not None  # an import writes no deletions
    resource = orjson.loads(prepared.content)
    resource["meta"]["versionId"] = str(version_id)
    return replace(prepared, version_id=version_id, content=orjson.dumps(resource))


@contextmanager
def transaction(ctx: RequestContext) -> Iterator[psycopg.Connection]:
    """One database transaction for writes; after-commit listeners run once it has committed."""
    pending: list = []
    token = _after_commit.set(pending)
    try:
        with ctx.services.database.transaction() as conn:
            yield conn
    finally:
        _after_commit.reset(token)
    _notify_after(ctx, pending)


def commit(
    ctx: RequestContext, conn, versions: list[Prepared], on_unresolved: Callable[[int, list], None] | None = None
) -> list[Version]:
    """Store the versions (distinct resources) on conn. A version with unresolved local references
    raises UnresolvedReferences, or with `on_unresolved(index, [(target, expression), ...])` is
    left out (with those that then lose their targets). Returns the stored versions in order."""
    pending = _after_commit.get()
    if pending is None and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("a write inside a database transaction must run in write_path.transaction(ctx)")
    if not ctx.services.allow_dangling_references:
        versions = _resolved(ctx, conn, versions, on_unresolved)
    if not versions:
        return []
    listeners = ctx.services.write_listeners
    extra = [added for listener in listeners for added in listener.before_commit(ctx, conn, versions)]
    seqs = store(conn, [_stored(v) for v in versions + extra])
    written = [
        Version(
            v.resource_type,
            v.id,
            v.version_id,
            v.last_updated,
            v.deleted,
            None if v.content is None else v.content.decode(),
            v.method,
            seq,
            v.patient_id,
        )
        for v, seq in zip(versions, seqs, strict=False)
    ]
    if pending is None:
        _notify_after(ctx, [versions])
    else:
        pending.append(versions)
    return written


def reindex(ctx: RequestContext, conn, stored: list[tuple[int, str, str, int, str]]) -> int:
    """Recompute compartment and index rows of stored versions ((seq, type, id, version_id, content)),
    as prepare() computes them; return how many were reindexed."""
    changes = []
    for seq, resource_type, id, version_id, content in stored:
        definition = ctx.services.registry.get(resource_type)
        if definition is None:
            continue
        resource = orjson.loads(content)
        patient_id = patient_compartment(definition, resource, ctx.base_url)
        rows = index_rows(definition, resource, ctx.base_url)
        replace_index_rows(conn, seq, resource_type, patient_id, rows)
        changes.append(
            Prepared(
                resource_type,
                id,
                version_id,
                Interaction.REINDEX,
                "PUT",
                datetime.now(UTC),
                None,
                patient_id,
                rows,
                seq=seq,
            )
        )
    for listener in ctx.services.write_listeners:
        listener.before_commit(ctx, conn, changes)
    pending = _after_commit.get()
    if pending is not None:
        pending.append(changes)
    return len(changes)


def _stored(v: Prepared) -> StoredVersion:
    return StoredVersion(
        v.resource_type,
        v.id,
        v.version_id,
        v.last_updated,
        v.content,
        v.patient_id,
        v.method,
        v.rows,
        v.rows_copy,
        v.version_id > 1,
        v.seq,
    )


def _notify_after(ctx: RequestContext, pending: list[list[Prepared]]) -> None:
    for changes in pending:
        for listener in ctx.services.write_listeners:
            listener.after_commit(ctx, changes)


def _resolved(ctx: RequestContext, conn, versions: list[Prepared], on_unresolved) -> list[Prepared]:
    """The one reference check: every local reference resolves to a live resource the request may refer
    to (repository.referable: share-locked until commit, so that a concurrent delete waits and then sees
    the reference; another patient's reads as missing), to a version committed here, or to one the
    enclosing transaction Bundle writes (R4 references.html)."""
    if not any(v.targets for v in versions):  # nothing to check (the audit trail's batches)
        return versions
    known = set(ctx.pending_targets) | {v.key for v in versions}
    wanted: dict[tuple[Interaction, str], set] = {}  # the guard's reach depends on the writing interaction and type
    for v in versions:
        wanted.setdefault((v.interaction, v.resource_type), set()).update(t for t in v.targets if t not in known)
    live = {
        writer: repository.referable(ctx, conn, writer[0], writer[1], sorted(targets)) if targets else set()
        for writer, targets in wanted.items()
    }
    known = set(ctx.pending_targets)
    numbered = list(enumerate(versions))
    while True:  # leaving one out may leave others without their target
        keys = {v.key for _, v in numbered}
        kept = []
        for index, version in numbered:
            reached = live[(version.interaction, version.resource_type)]
            missing = [t for t in version.targets if t not in reached and t not in known and t not in keys]
            if not missing:
                kept.append((index, version))
            elif on_unresolved is None:
                raise _unresolved(index, version, missing)
            else:
                on_unresolved(index, [(t, _expression(version, version.targets[t])) for t in sorted(missing)])
        if len(kept) == len(numbered):
            return [version for _, version in kept]
        numbered = kept


def resource_of(version: Prepared) -> dict:
    """The resource of a prepared version (all hold one but deletions, which have no references, and for_copy's)."""
    assert version.resource is not None
    return version.resource


def _expression(version: Prepared, holder) -> str:
    return holder if isinstance(holder, str) else expression_of(resource_of(version), holder)


def _unresolved(index: int, version: Prepared, missing: list) -> UnresolvedReferences:
    issues = unresolved_reference_issues(resource_of(version), version.targets, missing)
    return UnresolvedReferences(index, f"{version.resource_type} {UNRESOLVED}", issues)
