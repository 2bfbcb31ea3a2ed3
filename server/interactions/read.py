"""read and vread (R4 http.html#read, http.html#vread)."""
from __future__ import annotations

from ..fhir.outcomes import Gone, NotFound
from ..fhir.references import require_valid_id
from ..storage.resources import Version, read_current, read_version
from .context import RequestContext
from .versions import check_compartment


def read(ctx: RequestContext, resource_type: str, id: str) -> Version:
    """The current version; 410 once deleted (http.html#read)."""
    definition = ctx.definition(resource_type, "read")
    require_valid_id(resource_type, id)
    with ctx.services.database.connection() as conn:
        version = read_current(conn, resource_type, id)
        if version is not None:
            check_compartment(ctx, "read", resource_type, version.patient_id, hide=True, conn=conn)
        if version is not None and not version.deleted:
            ctx.policy.require_granular("read", definition, version.content, ctx.base_url, conn=conn)
    if version is None:
        raise NotFound(f"{resource_type}/{id} is not known")
    if version.deleted:
        raise Gone(f"{resource_type}/{id} was deleted", headers={"ETag": f'W/"{version.version_id}"'})
    return version


def vread(ctx: RequestContext, resource_type: str, id: str, version_id: str) -> Version:
    """One version from history; a deletion version answers 410 (http.html#vread)."""
    definition = ctx.definition(resource_type, "vread")
    require_valid_id(resource_type, id)
    version = None
    if version_id.isdigit() and len(version_id) < 10:
        with ctx.services.database.connection() as conn:
            version = read_version(conn, resource_type, id, int(version_id))
            if version is not None:
                check_compartment(ctx, "vread", resource_type, version.patient_id, hide=True, conn=conn)
    if version is None:
        raise NotFound(f"{resource_type}/{id}/_history/{version_id} is not known")
    if version.deleted:
        raise Gone(f"{resource_type}/{id} version {version_id} is a deletion")
    ctx.policy.require_granular("vread", definition, version.content, ctx.base_url)
    return version
