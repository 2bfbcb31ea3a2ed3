"""Writing a new version: the server owns id, meta.versionId and meta.lastUpdated (R4 resource.html#Meta)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import PreconditionFailed
from ..search.extract import index_rows, patient_compartment
from ..search.registry import ResourceDefinition
from ..storage.resources import Version, write_version
from .context import RequestContext


def new_id() -> str:
    return str(uuid.uuid4())


def instant(moment: datetime) -> str:
    """FHIR instant, UTC: 2026-11-27T19:20:01.123456Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_if_match(current: Version | None, if_match: str | None) -> None:
    """R4 http.html#concurrency: a stale If-Match version -> 412."""
    if if_match is None:
        return
    if current is None or current.deleted or str(current.version_id) != if_match:
        found = "none" if current is None or current.deleted else current.version_id
        raise PreconditionFailed(f"If-Match version {if_match} does not match the current version ({found})")


def store_version(ctx: RequestContext, conn, definition: ResourceDefinition, interaction: Interaction, resource: dict,
                  id: str, version_id: int, method: str) -> Version:
    last_updated = datetime.now(timezone.utc)
    meta = {**resource.get("meta", {}), "versionId": str(version_id), "lastUpdated": instant(last_updated)}
    resource = {**resource, "id": id, "meta": meta}
    patient_id = patient_compartment(definition, resource, ctx.base_url)
    ctx.guard.check_new(conn, interaction, definition, patient_id, resource)
    content = orjson.dumps(resource)
    seq = write_version(conn, resource_type=definition.type, id=id, version_id=version_id,
                        last_updated=last_updated, content=content, patient_id=patient_id, method=method,
                        index_rows=index_rows(definition, resource, ctx.base_url), replaces=version_id > 1)
    return Version(definition.type, id, version_id, last_updated, False, content.decode(), method, seq, patient_id)
