"""The guard: the one place that decides what a request may see or change. Built from the token's
AccessPolicy; every interaction and operation asks it whether the type is allowed, whether one stored or
new resource is within reach (patient compartment and granular scopes), and what a search or history
must be narrowed to. Interactions reach stored versions only through interactions/repository.py, which
asks it at fixed points."""

from __future__ import annotations

from dataclasses import dataclass

from ..fhir.interactions import Interaction
from ..fhir.outcomes import Forbidden, MethodNotAllowed, NotFound
from ..search.registry import Registry, ResourceDefinition
from ..storage.include import Visible
from ..storage.patient_filter import AssignedPatients, PatientFilter, is_assigned
from .policy import AccessPolicy

# A stored resource outside the token's reach reads as unknown (404), so that its existence does not leak;
# a write the client could have seen is refused as such (403).
_HIDDEN = frozenset(
    {Interaction.READ, Interaction.VREAD, Interaction.PATCH, Interaction.DELETE, Interaction.HISTORY_INSTANCE}
)
_OWN_RECORD_READS = frozenset({Interaction.READ, Interaction.VREAD, Interaction.HISTORY_INSTANCE})
# Interactions that cannot check a granular (v2 query) scope against the resource: they need a scope without one.
_UNGRANULAR = frozenset(
    {Interaction.DELETE, Interaction.HISTORY_INSTANCE, Interaction.HISTORY_TYPE, Interaction.HISTORY_SYSTEM}
)


@dataclass(frozen=True)
class SearchScope:
    """What a search must AND in: the patients it is filtered to (None: none) and granular criteria."""

    patients: PatientFilter
    criteria: list


class Guard:
    """What one request may see and do."""

    def __init__(self, policy: AccessPolicy, base_url: str):
        self.policy, self.base_url = policy, base_url

    @classmethod
    def from_claims(cls, claims: dict, base_url: str, practitioner_access: str = "all") -> Guard:
        return cls(AccessPolicy.from_claims(claims, practitioner_access), base_url)

    # -- type allowed

    def allows(self, interaction: Interaction, resource_type: str) -> bool:
        return self.policy.allows(interaction, resource_type)

    def require(self, interaction: Interaction, resource_type: str) -> None:
        """403 unless some scope grants the interaction on the type."""
        self.policy.require(interaction, resource_type)

    def definition(self, registry: Registry, resource_type: str, interaction: Interaction) -> ResourceDefinition:
        """The type's definition, once the type exists (404), supports the interaction (405) and some scope
        grants the interaction on it (403): every interaction and operation starts here."""
        definition = registry.get(resource_type)
        if definition is None:
            raise NotFound(f"Resource type '{resource_type}' is not supported")
        if not definition.supports(interaction):
            raise MethodNotAllowed(f"{interaction} is not supported on {resource_type}")
        self.require(interaction, resource_type)
        return definition

    def allowed_types(self, interaction: Interaction, types) -> tuple[str, ...]:
        return tuple(t for t in types if self.policy.allows(interaction, t))

    def require_system_scope(self, purpose: str) -> None:
        """Server-level actions (an EHR creating a launch) need a system/ scope."""
        if not any(scope.context == "system" for scope in self.policy.scopes):
            raise Forbidden(f"{purpose} needs a system/ scope (an EHR's token)")

    def population_types(self, interaction: Interaction, types) -> tuple[str, ...]:
        """Bulk Data export reads many patients at once: the types a system/ or user/ scope grants
        (export.html#authorization: patient/ scopes never start an export)."""
        permission = interaction.permission
        return tuple(
            t
            for t in types
            if any(s.context in ("system", "user") and s.covers(permission, t) for s in self.policy.scopes)
        )

    def require_population_scope(self) -> None:
        if not any(scope.context in ("system", "user") for scope in self.policy.scopes):
            raise Forbidden("Bulk Data export needs system/ or user/ scopes; patient/ scopes cannot start an export")

    # -- one resource

    def check_stored(self, conn, interaction: Interaction, definition: ResourceDefinition, version) -> None:
        """A stored version (live or a deletion) the interaction reads or replaces: in the token's patient
        compartment (the user's own record, e.g. a Practitioner's, is read outside any), and, when live,
        within its granular scopes."""
        if not self._own_record(interaction, definition.type, version.id):
            self._check_compartment(conn, interaction, definition.type, version.patient_id)
        if interaction in _UNGRANULAR:
            self.policy.require_ungranular(interaction, definition.type)
        elif not version.deleted:  # all but vread see the current version, which a search can check
            self.policy.require_granular(
                interaction,
                definition,
                version.content,
                self.base_url,
                conn if interaction is not Interaction.VREAD else None,
            )

    def _own_record(self, interaction: Interaction, resource_type: str, id: str) -> bool:
        """The token's fhirUser resource, read: a Practitioner limited to their assigned patients (or any user
        whose record is in no patient compartment) still reads their own record (SMART fhirUser)."""
        return interaction in _OWN_RECORD_READS and self.policy.fhir_user == f"{resource_type}/{id}"

    def check_new(
        self, conn, interaction: Interaction, definition: ResourceDefinition, patient_id: str | None, resource: dict
    ) -> None:
        """A version about to be written (create, update, patch): its compartment and content are in reach."""
        self._check_compartment(conn, interaction, definition.type, patient_id, hide=False)
        self.policy.require_granular(interaction, definition, resource, self.base_url)

    def referable(
        self, conn, interaction: Interaction, resource_type: str, live: dict[tuple[str, str], str | None]
    ) -> set[tuple[str, str]]:
        """Of live targets ((type, id) -> patient compartment) of a new resource's references, those it may
        refer to: outside every patient compartment, or in one the write reaches. Another patient's resource
        is as good as missing, so that the answer does not reveal whether it exists (R4 security.html)."""
        patients = self._reference_reach(interaction, resource_type)
        return {
            key for key, patient_id in live.items() if patient_id is None or self._reaches(conn, patients, patient_id)
        }

    def _reference_reach(self, interaction: Interaction, resource_type: str) -> PatientFilter:
        """The compartment of a write (an import's or $validate's: of a read) of the type."""
        for asked in (interaction, Interaction.READ):
            if asked.permission and self.policy.allows(asked, resource_type):
                return self.policy.compartment_patient(asked, resource_type)
        return self.policy.patient

    def granted(self, definition: ResourceDefinition, content) -> bool:
        """Whether a resource found by a search's _include may be shown (granular scopes of its type)."""
        try:
            self.policy.require_granular(Interaction.READ, definition, content, self.base_url)
        except Forbidden:
            return False
        return True

    def _check_compartment(
        self, conn, interaction: Interaction, resource_type: str, patient_id: str | None, hide: bool | None = None
    ) -> None:
        """patient/ scopes (and user/ scopes of a Patient, or of a Practitioner limited to their assigned
        patients) reach only those patients' compartments."""
        if not self._reaches(conn, self.policy.compartment_patient(interaction, resource_type), patient_id):
            if interaction in _HIDDEN if hide is None else hide:
                raise NotFound(f"{resource_type} is not in the patient's compartment")
            raise Forbidden(f"The granted scopes do not reach this {resource_type}'s patient")

    @staticmethod
    def _reaches(conn, patients: PatientFilter, patient_id: str | None) -> bool:
        if patients is None:
            return True
        if patient_id is None:
            return False
        if isinstance(patients, AssignedPatients):
            return is_assigned(conn, patients.practitioner_id, patient_id)
        return patient_id == patients

    # -- many resources

    def search_scope(self, interaction: Interaction, definitions: list[ResourceDefinition]) -> SearchScope:
        """The filter and criteria a search over these types must AND in."""
        patients = {self.policy.compartment_patient(interaction, d.type) for d in definitions}
        if len(patients) > 1:
            raise Forbidden("These types are granted with different patient restrictions; search them one at a time")
        return SearchScope(patients.pop(), self.policy.search_criteria(definitions, self.base_url, interaction))

    def population_scope(self, interaction: Interaction, types: tuple[str, ...]) -> PatientFilter:
        """A population query over these types ($follow-up-gaps, $pdc): each granted without a granular
        restriction (it cannot apply one); the patients the token reaches (None: all)."""
        for resource_type in types:
            self.require(interaction, resource_type)
            self.policy.require_ungranular(interaction, resource_type)
        return self.policy.compartment_patient(interaction, types[0])

    def history_scope(
        self, interaction: Interaction, types: tuple[str, ...], id: str | None = None
    ) -> tuple[tuple[str, ...], PatientFilter]:
        """(types, patients) a history may show (`id`: an instance's). history-system keeps to the types the token
        may search without a granular restriction, and with mixed patient/ and system/ grants to the unconfined
        ones; the user's own record's history is shown outside any patient compartment, as its read is."""
        if interaction != Interaction.HISTORY_SYSTEM:
            for resource_type in types:
                self.policy.require_ungranular(interaction, resource_type)
            if id is not None and self._own_record(interaction, types[0], id):
                return types, None
            return types, self.policy.compartment_patient(interaction, types[0])
        types = tuple(
            t
            for t in types
            if self.policy.allows(interaction, t) and self.policy.granular_queries(interaction, t) is None
        )
        if not types:
            raise Forbidden("The granted scopes allow no resource type's history")
        patients = {self.policy.compartment_patient(interaction, t) for t in types}
        if len(patients) > 1:
            return tuple(t for t in types if self.policy.compartment_patient(interaction, t) is None), None
        return types, patients.pop()

    def visible(self, types) -> Visible:
        """What _include and _revinclude may add: the readable types, each with its patient filter."""
        return Visible(
            {
                t: self.policy.compartment_patient(Interaction.READ, t)
                for t in types
                if self.policy.allows(Interaction.READ, t)
            }
        )

    def compartment_types(self, conn, patient_id: str, types) -> tuple[str, ...]:
        """Patient/$everything: 404 unless the token reaches the patient; then the types it may read there
        without a granular restriction (a granular query cannot be applied to a whole compartment)."""
        self.require(Interaction.READ, "Patient")
        if not self._reaches(conn, self.policy.compartment_patient(Interaction.READ, "Patient"), patient_id):
            raise NotFound(f"Patient/{patient_id} is not known")
        return tuple(
            t
            for t in types
            if self.policy.allows(Interaction.READ, t)
            and self.policy.granular_queries(Interaction.READ, t) is None
            and self._reaches(conn, self.policy.compartment_patient(Interaction.READ, t), patient_id)
        )
