"""Many creates at once on the caller's transaction (the POST entries of a transaction Bundle):
the same checks as write.create_in, committed together through the write path (which writes
many versions with COPY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..fhir.interactions import Interaction
from ..fhir.outcomes import FhirError
from ..search.registry import ResourceDefinition
from . import write_path
from .context import RequestContext
from .repository import Version


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
    now = datetime.now(UTC)
    prepared = []
    for index, item in enumerate(items):
        version = write_path.prepare(
            ctx.services, item.definition, item.resource, item.id, 1, Interaction.CREATE, "POST", now
        )
        try:
            ctx.guard.check_new(
                conn, Interaction.CREATE, item.definition, version.patient_id, write_path.resource_of(version)
            )
        except FhirError as error:
            raise CreateFailed(index, error) from None
        prepared.append(version)
    try:
        return write_path.commit(ctx, conn, prepared)
    except write_path.UnresolvedReferences as error:
        raise CreateFailed(error.index, error) from None
