"""The access policy: what a token's scopes and launch context grant, as pure scope arithmetic (SMART App
Launch 2.x). The guard (guard.py) is built on it and is what interactions ask; nothing else decides access."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import Forbidden
from ..storage.patient_filter import AssignedPatients, PatientFilter
from .granular import resource_matches, union_criteria
from .scopes import ResourceScope, parse_scopes


@dataclass(frozen=True)
class AccessPolicy:
    scopes: tuple[ResourceScope, ...]
    patient: str | None = None  # launch context: patient/ scopes are confined to this compartment
    fhir_user: str | None = None
    subject: str | None = None
    client_id: str | None = None
    practitioner_access: str = "all"  # FHIR_PRACTITIONER_ACCESS: all | assigned (their patients only)

    @classmethod
    def from_claims(cls, claims: dict, practitioner_access: str = "all") -> AccessPolicy:
        return cls(
            _scopes(claims.get("scope", "")),
            claims.get("patient"),
            claims.get("fhirUser"),
            claims.get("sub"),
            claims.get("client_id"),
            practitioner_access,
        )

    def _granting(self, permission: str | None, resource_type: str) -> list[ResourceScope]:
        return [s for s in self.scopes if s.covers(permission, resource_type)]

    def allows(self, interaction: Interaction, resource_type: str) -> bool:
        return bool(self._granting(Interaction(interaction).permission, resource_type))

    def require(self, interaction: Interaction, resource_type: str) -> None:
        if not self.allows(interaction, resource_type):
            raise Forbidden(f"The granted scopes do not allow {interaction} on {resource_type}")

    def compartment_patient(self, interaction: Interaction, resource_type: str) -> PatientFilter:
        """The patient(s) this interaction is confined to, or None when a user/ or system/ scope grants it
        unconfined. A patient/ scope confines to the launch patient; a user/ scope held by a Patient user
        confines to that user's own record; a Practitioner's user/ scopes reach every patient, or with
        practitioner_access "assigned" only the patients whose generalPractitioner they are."""
        granting = self._granting(Interaction(interaction).permission, resource_type)
        confined = [self._confinement(scope) for scope in granting]
        if granting and None in confined:
            return None
        if not confined:
            if self.patient is None:
                raise Forbidden("patient/ scopes need a patient in the launch context")
            return self.patient
        return self.patient if self.patient in confined else confined[0]

    def _confinement(self, scope: ResourceScope) -> PatientFilter:
        if scope.context == "patient":
            if self.patient is None:
                raise Forbidden("patient/ scopes need a patient in the launch context")
            return self.patient
        if scope.context == "user" and self.fhir_user and self.fhir_user.startswith("Patient/"):
            return self.fhir_user.removeprefix("Patient/")
        if (
            scope.context == "user"
            and self.practitioner_access == "assigned"
            and self.fhir_user
            and self.fhir_user.startswith("Practitioner/")
        ):
            return AssignedPatients(self.fhir_user.removeprefix("Practitioner/"))
        return None

    def granular_queries(self, interaction: Interaction, resource_type: str) -> list[str] | None:
        """The v2 scope queries that limit this interaction, or None when some granting scope has none."""
        granting = self._granting(Interaction(interaction).permission, resource_type)
        if not granting or any(scope.query is None for scope in granting):
            return None
        return sorted({scope.query for scope in granting if scope.query is not None})

    def granular_criteria(self, interaction: Interaction, definition, base_url: str) -> list:
        """Search criteria to AND into a search of `definition`'s type (empty when unrestricted)."""
        queries = self.granular_queries(interaction, definition.type)
        return [] if queries is None else union_criteria(definition, queries, base_url)

    def search_criteria(
        self, definitions: list, base_url: str, interaction: Interaction = Interaction.SEARCH_TYPE
    ) -> list:
        """Criteria a search over these types must AND in for granular scopes."""
        restricted = [d for d in definitions if self.granular_queries(interaction, d.type) is not None]
        if restricted and len(definitions) > 1:
            raise Forbidden("Types granted with granular scopes must be searched one type at a time")
        return self.granular_criteria(interaction, restricted[0], base_url) if restricted else []

    def require_granular(self, interaction: Interaction, definition, resource: dict, base_url: str, conn=None) -> None:
        """A single resource read or written must fall within a granular scope's query; `conn`: the
        resource is the stored current version, so a query with a chain may be answered by a search."""
        queries = self.granular_queries(interaction, definition.type)
        if queries is None:
            return
        if isinstance(resource, (str, bytes)):
            resource = orjson.loads(resource)
        if not resource_matches(definition, resource, queries, base_url, conn):
            raise Forbidden(f"The granted scopes do not cover this {definition.type} (granular scope)")

    def require_ungranular(self, interaction: Interaction, resource_type: str) -> None:
        """Interactions that cannot check a granular query (history, delete) need an unrestricted scope."""
        if self.granular_queries(interaction, resource_type) is not None:
            raise Forbidden(f"{interaction} on {resource_type} needs a scope without a search restriction")


@lru_cache(maxsize=1024)
def _scopes(scope_string: str) -> tuple:
    """Parsed once per distinct scope string: every request of a token asks again."""
    return tuple(parse_scopes(scope_string))
