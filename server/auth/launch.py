"""Launch context (scopes-and-launch-context.html): what an EHR launch or the user's choices attach
to a grant, and what the token response returns with the access token."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from ..storage.auth_store import consume_launch, insert_launch
from ..storage.database import Database
from .passwords import new_secret, secret_hash

LAUNCH_LIFETIME_SECONDS = 600


@dataclass(frozen=True)
class GrantContext:
    """The user and launch context a grant carries from the authorization to every token issued from it."""

    username: str | None = None
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None
    need_patient_banner: bool | None = None
    smart_style_url: str | None = None
    nonce: str | None = None
    grant_id: str | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}

    @classmethod
    def from_json(cls, data: dict, grant_id: str | None = None) -> GrantContext:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        context = cls(**known)
        return replace(context, grant_id=grant_id) if grant_id else context

    def response_parameters(self) -> dict:
        """The launch context parameters of the token response (app-launch.html#response-5)."""
        params = {
            "patient": self.patient,
            "encounter": self.encounter,
            "need_patient_banner": self.need_patient_banner,
            "smart_style_url": self.smart_style_url,
        }
        return {k: v for k, v in params.items() if v is not None}


def create_launch(
    database: Database, patient: str | None, encounter: str | None = None, user: str | None = None
) -> str:
    """An opaque, single-use launch id for an EHR launch of an app (app-launch.html#launch-app-ehr-launch)."""
    launch = new_secret()
    context = {k: v for k, v in {"patient": patient, "encounter": encounter, "user": user}.items() if v}
    with database.connection() as conn:
        insert_launch(conn, secret_hash(launch), context, LAUNCH_LIFETIME_SECONDS)
    return launch


def redeem_launch(database: Database, launch: str) -> dict | None:
    """The launch's context, once: a second use (or an expired launch) gets None."""
    with database.connection() as conn:
        return consume_launch(conn, secret_hash(launch))
