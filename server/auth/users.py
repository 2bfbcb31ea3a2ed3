"""Users who log in at the authorization server: each is a FHIR Practitioner or Patient (fhirUser)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..storage.auth_store import load_user, update_password_hash, upsert_user
from ..storage.database import Database
from .passwords import hash_password, needs_rehash, verify_password

_FHIR_USER = re.compile(r"^(Practitioner|Patient|PractitionerRole|RelatedPerson|Person)/[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True)
class User:
    username: str
    fhir_user: str

    @property
    def patient_id(self) -> str | None:
        """The user's own patient, when the user is a Patient."""
        kind, _, id = self.fhir_user.partition("/")
        return id if kind == "Patient" else None


def create_user(database: Database, username: str, password: str, fhir_user: str) -> User:
    """Create the user, or replace the password and fhirUser of an existing one."""
    if not _FHIR_USER.match(fhir_user):
        raise ValueError(f"fhirUser must be a reference like Practitioner/ID or Patient/ID, not {fhir_user!r}")
    if not username or not password:
        raise ValueError("username and password must not be empty")
    with database.connection() as conn:
        upsert_user(conn, username, hash_password(password), fhir_user)
    return User(username, fhir_user)


def authenticate_user(database: Database, username: str, password: str) -> User | None:
    with database.connection() as conn:
        found = load_user(conn, username)
    if not verify_password(found[0] if found else None, password):
        return None
    assert found is not None  # verify_password refuses a missing user
    if needs_rehash(found[0]):
        with database.connection() as conn:
            update_password_hash(conn, username, hash_password(password))
    return User(username, found[1])
