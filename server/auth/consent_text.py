"""What an app asks for, in the words a clinician or patient reads on the consent page, each beside its
raw scope (scopes-and-launch-context.html). Resource types a page does not name are shown by type."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .scopes import parse_scope

# FHIR types in plain words (R4 resource definitions).
TYPE_WORDS = {
    "*": "health records (medications, diagnoses, appointments and personal details)",
    "Patient": "personal details (name, birth date, contact details)",
    "MedicationRequest": "prescriptions",
    "MedicationStatement": "medication lists",
    "Condition": "diagnoses",
    "Appointment": "appointments",
    "Practitioner": "clinician details",
    "PractitionerRole": "clinicians' roles",
    "Group": "patient groups",
    "AuditEvent": "access logs",
}
VERBS = (("r", "read"), ("s", "search"), ("c", "add to"), ("u", "change"), ("d", "delete"))
CONTEXT_WORDS = {
    "openid": "Confirm who you are",
    "fhirUser": "Know who you are (your user record)",
    "profile": "Know who you are (your user record)",
    "launch": "Open with the patient and visit chosen in your EHR",
    "launch/patient": "Know which patient you chose",
    "launch/encounter": "Know which visit you are in",
}


@dataclass(frozen=True)
class ScopeText:
    scope: str
    text: str


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" + ("s" if days != 1 else "")
    hours = seconds // 3600
    return f"{hours} hour" + ("s" if hours != 1 else "")


def _until(seconds: int) -> str:
    return time.strftime("%d %B %Y", time.gmtime(time.time() + seconds)).lstrip("0")


def describe(text: str, user_is_patient: bool, refresh_lifetimes: dict[str, int]) -> str:
    """One scope in plain words: `patient/MedicationRequest.rs` -> "Read and search this patient's prescriptions"."""
    if text in refresh_lifetimes:
        lifetime = refresh_lifetimes[text]
        if text == "offline_access":
            return f"Keep access for {_duration(lifetime)} (until {_until(lifetime)}) without asking again"
        return f"Keep access for {_duration(lifetime)} while you work, without asking again"
    if text in CONTEXT_WORDS:
        return CONTEXT_WORDS[text]
    scope = parse_scope(text)
    if scope is None:
        return "Other access this server does not describe"
    verbs = [word for letter, word in VERBS if letter in scope.permissions]
    verb = (", ".join(verbs[:-1]) + " and " + verbs[-1]) if len(verbs) > 1 else verbs[0]
    what = TYPE_WORDS.get(scope.resource_type, f"{scope.resource_type} records")
    if scope.context == "system":
        sentence = f"{verb.capitalize()} {what} of every patient"
    elif user_is_patient:
        sentence = f"{verb.capitalize()} your {what}"
    elif scope.context == "patient":
        sentence = f"{verb.capitalize()} this patient's {what}"
    else:
        sentence = f"{verb.capitalize()} {what} of the patients you may see"
    return sentence + (f", only those where {scope.query}" if scope.query else "")


def describe_scopes(scopes: list[str], user_is_patient: bool, refresh_lifetimes: dict[str, int]) -> list[ScopeText]:
    return [ScopeText(text, describe(text, user_is_patient, refresh_lifetimes)) for text in scopes]


def access_lasts(scopes: list[str], access_lifetime: int, refresh_lifetimes: dict[str, int]) -> str:
    """How long the app keeps access once allowed (the longest of the access and refresh token lifetimes)."""
    kept = [refresh_lifetimes[s] for s in scopes if s in refresh_lifetimes]
    if not kept:
        return f"The app has access for {_duration(access_lifetime)}; after that it must ask you again."
    lifetime = max(kept)
    until = f", until {_until(lifetime)}" if lifetime >= 86400 else ""
    return (
        f"The app keeps access for {_duration(lifetime)}{until}, without asking again, unless you or an "
        "administrator revoke it."
    )
