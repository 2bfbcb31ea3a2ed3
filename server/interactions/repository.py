"""Stored versions as a request may see them: every read, lock, search, history and include of the
interactions goes through here, and here the guard (ctx.guard, server/auth/guard.py) is applied at fixed
points. Interactions do not import storage's resource tables themselves (an import-linter contract in
pyproject.toml); writes go through the write path (versions.py)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest
from ..search.registry import ResourceDefinition
from ..storage import audit_events as _audit_events
from ..storage import export as _export
from ..storage import history as _history
from ..storage import include as _include
from ..storage import references as _references
from ..storage import resources as _resources
from ..storage import search as _search
from ..storage.history import HistoryQuery
from ..storage.resources import Version
from ..storage.search import AnyOfCriterion, CompartmentCriterion, Match, PatientsCriterion, SearchPlan, SearchResult
from . import audit
from .context import RequestContext

__all__ = [
    "AnyOfCriterion",
    "PatientsCriterion",
    "export_snapshot",
    "export_count",
    "export_stream",
    "CompartmentCriterion",
    "HistoryQuery",
    "Match",
    "SearchPlan",
    "SearchResult",
    "Version",
    "read",
    "read_version",
    "lock",
    "search",
    "search_page",
    "history",
    "included",
    "revincluded",
    "visible",
    "compartment_page",
    "referable",
    "referrers",
]


def read(
    ctx: RequestContext, conn, definition: ResourceDefinition, id: str, interaction: Interaction = Interaction.READ
) -> Version | None:
    """The current version (possibly a deletion), or None; 404 outside the token's compartment, 403
    outside its granular scopes."""
    return _noted(
        ctx,
        interaction,
        _checked(ctx, conn, interaction, definition, _resources.read_current(conn, definition.type, id)),
    )


def read_version(
    ctx: RequestContext,
    conn,
    definition: ResourceDefinition,
    id: str,
    version_id: int,
    interaction: Interaction = Interaction.VREAD,
) -> Version | None:
    """One version from history, checked like read."""
    return _noted(
        ctx,
        interaction,
        _checked(ctx, conn, interaction, definition, _resources.read_version(conn, definition.type, id, version_id)),
    )


def _noted(ctx: RequestContext, interaction: Interaction, version: Version | None) -> Version | None:
    """A version read for the client (not one a write matched or replaced) is in the request's AuditEvent."""
    if version is not None and interaction in (Interaction.READ, Interaction.VREAD):
        audit.saw(ctx, [version])
    return version


def lock(
    ctx: RequestContext, conn, definition: ResourceDefinition, id: str, interaction: Interaction
) -> Version | None:
    """The current version, row-locked for an update, patch or delete in conn's transaction, once the
    guard lets the interaction replace it."""
    return _checked(ctx, conn, interaction, definition, _resources.lock_current(conn, definition.type, id))


def _checked(
    ctx: RequestContext, conn, interaction: Interaction, definition: ResourceDefinition, version: Version | None
) -> Version | None:
    if version is not None:
        ctx.guard.check_stored(conn, interaction, definition, version)
    return version


def _scoped(ctx: RequestContext, plan: SearchPlan, interaction: Interaction) -> SearchPlan:
    registry = ctx.services.registry
    scope = ctx.guard.search_scope(interaction, [registry.definitions[t] for t in plan.resource_types])
    plan.compartment_patient = scope.patients
    plan.criteria += scope.criteria
    return plan


@contextmanager
def _answerable():
    """A criterion the AuditEvent table cannot answer is the client's 400, naming it."""
    try:
        yield
    except _audit_events.UnsupportedCriterion as unsupported:
        raise BadRequest(
            f"Searching AuditEvent by '{unsupported.param}' is not supported: use its parameters"
            " (date, type, subtype, outcome, agent, entity, patient, _id, _lastUpdated, _profile) with their"
            " plain, :not, :identifier and :missing forms, and _sort=date or -date",
            expression=unsupported.param,
        ) from None


def search_page(
    ctx: RequestContext, conn, plan: SearchPlan, interaction: Interaction = Interaction.SEARCH_TYPE
) -> SearchResult:
    """One page of a search, narrowed to what the token may see; its patients are audited."""
    with _answerable():
        result = _search.search_page(conn, _scoped(ctx, plan, interaction))
    audit.saw(ctx, result.matches, entities=False)
    return result


def search(ctx: RequestContext, conn, plan: SearchPlan, interaction: Interaction) -> list[Match]:
    """The matches (up to plan.count + 1) of a conditional interaction's criteria, narrowed by the
    guard for that interaction."""
    with _answerable():
        matches, _ = _search.search(conn, _scoped(ctx, plan, interaction))
    return matches


def history(ctx: RequestContext, conn, interaction: Interaction, query: HistoryQuery) -> tuple[list, int]:
    """Versions newest first, of the types and patients the guard allows (query.resource_types: wanted)."""
    types, patients = ctx.guard.history_scope(interaction, query.resource_types, query.id)
    rows, total = _history.history(conn, replace(query, resource_types=types, compartment_patient=patients))
    audit.saw(ctx, [row[1] for row in rows[: query.count]], entities=False)
    return rows, total


def included(
    ctx: RequestContext, conn, sources: list[int], source_type: str, param: str, target_type: str | None
) -> list[Match]:
    """_include targets the token may read."""
    if source_type == _audit_events.AUDIT_TYPE:  # its references are keys of its own table
        params = _reference_params(ctx, source_type, param)
        found = _include.included_by_audit_events(conn, sources, params, target_type, _visible(ctx))
    else:
        found = _include.included(conn, sources, source_type, param, target_type, _visible(ctx))
    definitions = ctx.services.registry.definitions
    return _shown(ctx, [m for m in found if ctx.guard.granted(definitions[m.resource_type], m.content)])


def revincluded(
    ctx: RequestContext, conn, targets: list[tuple[str, str]], source_type: str, param: str, target_type: str | None
) -> list[Match]:
    """_revinclude sources the token may read."""
    if source_type != _audit_events.AUDIT_TYPE:
        found = _include.revincluded(conn, targets, source_type, param, target_type, _visible(ctx))
    elif source_type in _visible(ctx).patients:
        params = _reference_params(ctx, source_type, param)
        found = _include.audit_events_referring(conn, targets, params, target_type)
    else:
        found = []
    definitions = ctx.services.registry.definitions
    return _shown(ctx, [m for m in found if ctx.guard.granted(definitions[m.resource_type], m.content)])


def _reference_params(ctx: RequestContext, resource_type: str, param: str) -> list[str]:
    """The reference parameters an _include names ("*": all of the type's)."""
    if param != "*":
        return [param]
    definition = ctx.services.registry.definitions[resource_type]
    return [p.name for p in definition.params.values() if p.type == "reference"]


def _shown(ctx: RequestContext, matches: list[Match]) -> list[Match]:
    audit.saw(ctx, matches, entities=False)
    return matches


def _visible(ctx: RequestContext) -> _include.Visible:
    return ctx.guard.visible(ctx.services.registry.types)


def visible(ctx: RequestContext, conn, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (type, id) the token may read (type and compartment), e.g. to name them in an error."""
    return _include.visible_keys(conn, keys, _visible(ctx))


def referable(
    ctx: RequestContext, conn, interaction: Interaction, resource_type: str, keys: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (type, id), the local references of a new resource_type, resolve for this request:
    live (share-locked until commit, so that a concurrent delete waits and then sees the reference) and
    within the guard's reach; one that is not reads as missing, whether it exists or not."""
    live = _references.lock_live_targets(conn, keys) if keys else {}
    return ctx.guard.referable(conn, interaction, resource_type, live)


def referrers(
    ctx: RequestContext, conn, resource_type: str, id: str, limit: int, ignoring: tuple[str, ...]
) -> list[tuple[str, str]]:
    """The live resources referring to resource_type/id (up to limit), once it is row-locked so that writers
    still adding references finish first. All of them, visible or not, keep it from being deleted: the caller
    names only those repository.visible lets it name."""
    _references.lock_for_delete(conn, resource_type, id)
    return _references.referrers(conn, resource_type, id, limit, ignoring)


def compartment_page(ctx: RequestContext, conn, patient_id: str, plan: SearchPlan) -> SearchResult:
    """Patient/$everything: the patient's compartment, of the types the guard lets the token read there
    (plan.resource_types: those wanted); 404 when the token does not reach the patient."""
    plan.resource_types = ctx.guard.compartment_types(conn, patient_id, plan.resource_types)
    plan.compartment_patient = patient_id
    result = _search.search_page(conn, plan)
    audit.record(
        ctx, Interaction.OPERATION, entities=[("Patient", patient_id)], patients=[patient_id], subtype="$everything"
    )
    audit.saw(ctx, result.matches, entities=False)
    return result


def export_snapshot(ctx: RequestContext):
    """A Bulk Data export's one consistent read of the database, with its transactionTime."""
    return _export.snapshot(ctx.services.database.url)


def export_count(ctx: RequestContext, conn, plan: SearchPlan) -> int:
    """How many resources an export's plan yields, narrowed like a search by the guard."""
    with _answerable():
        return _export.count(conn, _scoped(ctx, replace(plan, criteria=list(plan.criteria)), Interaction.SEARCH_TYPE))


def export_stream(ctx: RequestContext, conn, plan: SearchPlan, batch_size: int):
    """An export's matches as stored JSON text, in batches, narrowed like a search by the guard."""
    return _export.stream(
        conn, _scoped(ctx, replace(plan, criteria=list(plan.criteria)), Interaction.SEARCH_TYPE), batch_size
    )
