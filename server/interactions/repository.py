"""Stored versions as a request may see them: every read, lock, search, history and include of the
interactions goes through here, and here the guard (ctx.guard, server/auth/guard.py) is applied at fixed
points. Interactions do not import storage's resource tables themselves (an import-linter contract in
pyproject.toml); writes go through the write path (versions.py)."""
from __future__ import annotations

from dataclasses import replace

from ..fhir.interactions import Interaction
from ..search.registry import ResourceDefinition
from ..storage import history as _history
from ..storage import include as _include
from ..storage import resources as _resources
from ..storage import search as _search
from ..storage.history import HistoryQuery
from ..storage.resources import Version
from ..storage.search import CompartmentCriterion, Match, SearchPlan, SearchResult
from .context import RequestContext

__all__ = ["CompartmentCriterion", "HistoryQuery", "Match", "SearchPlan", "SearchResult", "Version",
           "read", "read_version", "lock", "search", "search_page", "history", "included", "revincluded",
           "compartment_page"]


def read(ctx: RequestContext, conn, definition: ResourceDefinition, id: str,
         interaction: Interaction = Interaction.READ) -> Version | None:
    """The current version (possibly a deletion), or None; 404 outside the token's compartment, 403
    outside its granular scopes."""
    return _checked(ctx, conn, interaction, definition, _resources.read_current(conn, definition.type, id))


def read_version(ctx: RequestContext, conn, definition: ResourceDefinition, id: str, version_id: int,
                 interaction: Interaction = Interaction.VREAD) -> Version | None:
    """One version from history, checked like read."""
    return _checked(ctx, conn, interaction, definition,
                    _resources.read_version(conn, definition.type, id, version_id))


def lock(ctx: RequestContext, conn, definition: ResourceDefinition, id: str, interaction: Interaction) -> Version | None:
    """The current version, row-locked for an update, patch or delete in conn's transaction, once the
    guard lets the interaction replace it."""
    return _checked(ctx, conn, interaction, definition, _resources.lock_current(conn, definition.type, id))


def _checked(ctx: RequestContext, conn, interaction: Interaction, definition: ResourceDefinition,
             version: Version | None) -> Version | None:
    if version is not None:
        ctx.guard.check_stored(conn, interaction, definition, version)
    return version


def _scoped(ctx: RequestContext, plan: SearchPlan, interaction: Interaction) -> SearchPlan:
    registry = ctx.services.registry
    scope = ctx.guard.search_scope(interaction, [registry.get(t) for t in plan.resource_types])
    plan.compartment_patient = scope.patients
    plan.criteria += scope.criteria
    return plan


def search_page(ctx: RequestContext, conn, plan: SearchPlan,
                interaction: Interaction = Interaction.SEARCH_TYPE) -> SearchResult:
    """One page of a search, narrowed to what the token may see."""
    return _search.search_page(conn, _scoped(ctx, plan, interaction))


def search(ctx: RequestContext, conn, plan: SearchPlan, interaction: Interaction) -> list[Match]:
    """The matches (up to plan.count + 1) of a conditional interaction's criteria, narrowed by the
    guard for that interaction."""
    matches, _ = _search.search(conn, _scoped(ctx, plan, interaction))
    return matches


def history(ctx: RequestContext, conn, interaction: Interaction, query: HistoryQuery) -> tuple[list, int]:
    """Versions newest first, of the types and patients the guard allows (query.resource_types: wanted)."""
    types, patients = ctx.guard.history_scope(interaction, query.resource_types)
    return _history.history(conn, replace(query, resource_types=types, compartment_patient=patients))


def included(ctx: RequestContext, conn, sources: list[int], source_type: str, param: str,
             target_type: str | None) -> list[Match]:
    """_include targets the token may read."""
    found = _include.included(conn, sources, source_type, param, target_type, _visible(ctx))
    return [m for m in found if ctx.guard.granted(ctx.services.registry.get(m.resource_type), m.content)]


def revincluded(ctx: RequestContext, conn, targets: list[tuple[str, str]], source_type: str, param: str,
                target_type: str | None) -> list[Match]:
    """_revinclude sources the token may read."""
    found = _include.revincluded(conn, targets, source_type, param, target_type, _visible(ctx))
    return [m for m in found if ctx.guard.granted(ctx.services.registry.get(m.resource_type), m.content)]


def _visible(ctx: RequestContext) -> _include.Visible:
    return ctx.guard.visible(ctx.services.registry.types)


def compartment_page(ctx: RequestContext, conn, patient_id: str, plan: SearchPlan) -> SearchResult:
    """Patient/$everything: the patient's compartment, of the types the guard lets the token read there
    (plan.resource_types: those wanted); 404 when the token does not reach the patient."""
    plan.resource_types = ctx.guard.compartment_types(conn, patient_id, plan.resource_types)
    plan.compartment_patient = patient_id
    return _search.search_page(conn, plan)
