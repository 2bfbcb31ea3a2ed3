"""The patients a signed-in user may put in a launch's context (scopes-and-launch-context.html#launch-context):
the same decision as a read of the Patient by that user (user/ scopes are limited by what the user may see,
FHIR_PRACTITIONER_ACCESS included), so the picker cannot reach a patient a read would hide. The picker's
list is a Patient search under that policy, through the search engine."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ..auth.guard import Guard
from ..auth.policy import AccessPolicy
from ..auth.scopes import parse_scopes
from ..fhir.outcomes import FhirError
from .context import RequestContext, Services
from .read import read
from .search import search_type

PICKER_PAGE_SIZE = 20
_MRN_TYPE = ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR")


@dataclass(frozen=True)
class PatientSummary:
    """What a clinician needs to recognise a patient: name, birth date, sex and MRN."""

    id: str
    name: str
    birth_date: str | None
    gender: str | None
    mrn: str | None

    @classmethod
    def of(cls, patient: dict) -> PatientSummary:
        return cls(patient["id"], display_name(patient), patient.get("birthDate"), patient.get("gender"), mrn(patient))


def display_name(patient: dict) -> str:
    """The official (else first) name as 'Family, Given Given'; its text when it has no parts."""
    names = patient.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(name.get("given") or [])
    if name.get("family"):
        return f"{name['family']}, {given}" if given else name["family"]
    return name.get("text") or given or "(no name recorded)"


def mrn(patient: dict) -> str | None:
    """The medical record number: the identifier typed MR (v2-0203), else one whose system names an MRN."""
    identifiers = patient.get("identifier") or []
    for identifier in identifiers:
        codings = (identifier.get("type") or {}).get("coding") or []
        if any((c.get("system"), c.get("code")) == _MRN_TYPE for c in codings):
            return identifier.get("value")
    return next((i.get("value") for i in identifiers if "mrn" in (i.get("system") or "").lower()), None)


class PatientDirectory:
    """Patients as one signed-in user may see them (the launch context's access decision)."""

    def __init__(self, services: Services):
        self.services = services

    def _ctx(self, username: str, fhir_user: str) -> RequestContext:
        policy = AccessPolicy(
            tuple(parse_scopes("user/Patient.rs")),
            fhir_user=fhir_user,
            subject=username,
            practitioner_access=self.services.practitioner_access,
        )
        return RequestContext(self.services, Guard(policy, self.services.base_url))

    def get(self, username: str, fhir_user: str, patient_id: str) -> PatientSummary | None:
        """The patient, when this user may read it; None when a read would answer 403, 404 or 410."""
        try:
            version = read(self._ctx(username, fhir_user), "Patient", patient_id)
        except FhirError:
            return None
        assert version.content is not None  # read answers 410 for a deletion, the one version without content
        return PatientSummary.of(orjson.loads(version.content))

    def user_name(self, fhir_user: str) -> str | None:
        """The signed-in user's own name from their Practitioner or Patient record, to greet them by it."""
        kind, _, id = fhir_user.partition("/")
        if kind not in self.services.registry.types:
            return None
        ctx = RequestContext(
            self.services, Guard(AccessPolicy(tuple(parse_scopes(f"system/{kind}.r"))), self.services.base_url)
        )
        try:
            content = read(ctx, kind, id).content
            assert content is not None  # read answers 410 for a deletion, the one version without content
            return display_name(orjson.loads(content))
        except FhirError:
            return None

    def search(
        self, username: str, fhir_user: str, name: str = "", birth_date: str = "", mrn_value: str = ""
    ) -> list[PatientSummary]:
        """Patients this user may see matching all the given criteria (R4 Patient search parameters)."""
        pairs = [("_count", str(PICKER_PAGE_SIZE)), ("_sort", "family,given")]
        pairs += [
            (param, value.strip())
            for param, value in (("name", name), ("birthdate", birth_date), ("identifier", mrn_value))
            if value.strip()
        ]
        bundle = orjson.loads(search_type(self._ctx(username, fhir_user), "Patient", pairs).to_bytes())
        return [
            PatientSummary.of(entry["resource"])
            for entry in bundle.get("entry", [])
            if entry.get("search", {}).get("mode") == "match"
        ]
