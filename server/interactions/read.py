"""read and vread (R4 http.html#read, http.html#vread)."""

from __future__ import annotations

from ..fhir.interactions import Interaction
from ..fhir.outcomes import Gone, NotFound
from ..fhir.references import require_valid_id
from . import repository
from .context import RequestContext
from .repository import Version


def read(ctx: RequestContext, resource_type: str, id: str) -> Version:
    """The current version; 410 once deleted (http.html#read)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.READ)
    require_valid_id(resource_type, id)
    with ctx.services.database.connection() as conn:
        version = repository.read(ctx, conn, definition, id)
    if version is None:
        raise NotFound(f"{resource_type}/{id} is not known")
    if version.deleted:
        raise Gone(f"{resource_type}/{id} was deleted", headers={"ETag": f'W/"{version.version_id}"'})
    return version


def vread(ctx: RequestContext, resource_type: str, id: str, version_id: str) -> Version:
    """One version from history; a deletion version answers 410 (http.html#vread)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.VREAD)
    require_valid_id(resource_type, id)
    version = None
    if version_id.isdigit() and len(version_id) < 10:
        with ctx.services.database.connection() as conn:
            version = repository.read_version(ctx, conn, definition, id, int(version_id))
    if version is None:
        raise NotFound(f"{resource_type}/{id}/_history/{version_id} is not known")
    if version.deleted:
        raise Gone(f"{resource_type}/{id} version {version_id} is a deletion")
    return version
