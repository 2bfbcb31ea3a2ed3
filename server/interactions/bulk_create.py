"""Many creates at once on the caller's transaction (the POST entries of a transaction Bundle):
the same checks as write.create_in, written by the bulk path (one statement per table)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import FhirError, Unprocessable
from ..search.extract import index_rows, patient_compartment
from ..search.registry import ResourceDefinition
from ..storage.bulk import BulkVersion, encode_index_rows, write_versions
from ..storage.references import lock_live_targets
from .repository import Version
from .context import RequestContext
from .references import local_targets, unresolved_reference_issues
from .versions import instant


@dataclass
class NewResource:
    definition: ResourceDefinition
    resource: dict
    id: str


class CreateFailed(Exception):
    """Which of the new resources failed, and why (the caller names the entry)."""

    def __init__(self, index: int, error: FhirError):
        super().__init__(str(error))
        self.index, self.error = index, error


def create_many_in(ctx: RequestContext, conn, items: list[NewResource]) -> list[Version]:
    now = datetime.now(timezone.utc)
    stamp = instant(now)
    stamped, targets = [], []
    for index, item in enumerate(items):
        resource = {**item.resource, "id": item.id,
                    "meta": {**item.resource.get("meta", {}), "versionId": "1", "lastUpdated": stamp}}
        patient_id = patient_compartment(item.definition, resource, ctx.base_url)
        try:
            ctx.guard.check_new(conn, Interaction.CREATE, item.definition, patient_id, resource)
        except FhirError as error:
            raise CreateFailed(index, error) from None
        stamped.append((resource, patient_id))
        targets.append(local_targets(ctx, resource))
    _check_references(ctx, conn, items, [resource for resource, _ in stamped], targets)
    versions, written = [], []
    for item, (resource, patient_id) in zip(items, stamped):
        content = orjson.dumps(resource)
        rows = encode_index_rows(item.definition.type, item.id, patient_id,
                                 index_rows(item.definition, resource, ctx.base_url))
        written.append(BulkVersion(item.definition.type, item.id, 1, stamp, content, patient_id, rows))
        versions.append(Version(item.definition.type, item.id, 1, now, False, content.decode(), "POST", None, patient_id))
    write_versions(conn, written, replaced=False, method="POST")
    return versions


def _check_references(ctx: RequestContext, conn, items: list[NewResource], resources: list[dict],
                      targets: list[dict]) -> None:
    if ctx.services.allow_dangling_references:
        return
    known = set(ctx.pending_targets) | {(item.definition.type, item.id) for item in items}
    wanted = {target for found in targets for target in found} - known
    live = lock_live_targets(conn, list(wanted))
    for index, found in enumerate(targets):
        missing = sorted(set(found) - live - known)
        if missing:
            issues = unresolved_reference_issues(resources[index], found, missing)
            raise CreateFailed(index, Unprocessable(
                f"{items[index].definition.type} refers to resources that do not exist", issues=issues))
