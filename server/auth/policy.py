"""The access policy: what one request may see and do. Built from the token, consulted by every
interaction; nothing else decides access."""
from __future__ import annotations

from dataclasses import dataclass

from ..fhir.outcomes import Forbidden
from .scopes import ResourceScope, parse_scopes

# The SMART v2 permission each FHIR interaction needs.
PERMISSION = {
    "read": "r", "vread": "r", "history-instance": "r",
    "search-type": "s", "history-type": "s", "history-system": "s",
    "create": "c", "update": "u", "patch": "u", "delete": "d",
}


@dataclass(frozen=True)
class AccessPolicy:
    scopes: tuple[ResourceScope, ...]
    patient: str | None = None  # launch context: patient/ scopes are confined to this compartment
    fhir_user: str | None = None
    subject: str | None = None
    client_id: str | None = None

    @classmethod
    def from_claims(cls, claims: dict) -> "AccessPolicy":
        return cls(tuple(parse_scopes(claims.get("scope", ""))), claims.get("patient"), claims.get("fhirUser"),
                   claims.get("sub"), claims.get("client_id"))

    def _granting(self, permission: str, resource_type: str) -> list[ResourceScope]:
        return [s for s in self.scopes if s.covers(permission, resource_type)]

    def allows(self, interaction: str, resource_type: str) -> bool:
        return bool(self._granting(PERMISSION[interaction], resource_type))

    def require(self, interaction: str, resource_type: str) -> None:
        if not self.allows(interaction, resource_type):
            raise Forbidden(f"The granted scopes do not allow {interaction} on {resource_type}")

    def compartment_patient(self, interaction: str, resource_type: str) -> str | None:
        """The patient this interaction is confined to, or None when a user/ or system/ scope grants it."""
        granting = self._granting(PERMISSION[interaction], resource_type)
        if any(scope.context != "patient" for scope in granting):
            return None
        if self.patient is None:
            raise Forbidden("patient/ scopes need a patient in the launch context")
        return self.patient
