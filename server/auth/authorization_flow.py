"""The authorization code flow as the user's browser walks it (app-launch.html#obtain-authorization-code):
authorize -> login -> (patient picker) -> consent -> redirect back with a code. Between the steps the
request waits in the database under an unguessable id carried by the forms (no cookies needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from ..fhir.outcomes import FhirError
from ..storage import auth_store
from .authorization_server import ACCESS_TOKEN_LIFETIME, REFRESH_LIFETIMES, SmartAuthorizationServer
from .consent_text import access_lasts, describe_scopes
from .launch import GrantContext, redeem_launch
from .passwords import new_secret, secret_hash
from .scopes import has_context
from .users import User, authenticate_user

REQUEST_LIFETIME_SECONDS = 600
START_AGAIN = "Go back to the app and open it again; it will start a new sign-in."
EXPIRED = {"message": "This sign-in has expired or was already used.", "next_step": START_AGAIN}


class Patients(Protocol):
    """The patients a user may see (interactions.launch_context.PatientDirectory: the read access decision)."""

    def get(self, username: str, fhir_user: str, patient_id: str): ...

    def search(self, username: str, fhir_user: str, name: str = "", birth_date: str = "", mrn_value: str = ""): ...

    def user_name(self, fhir_user: str) -> str | None: ...


@dataclass(frozen=True)
class Page:
    """An HTML page to show: login, picker, consent or error."""

    kind: str
    status: int = 200
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Redirect:
    location: str


class StoredAuthorizationRequest(OAuth2Request):
    """An authorization request rebuilt from its parameters, for authlib's grant to validate."""

    def __init__(self, uri: str, params: dict):
        super().__init__("POST", uri, headers={})
        self.payload = BasicOAuth2Payload(params)

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return self.payload.data


def _error_redirect(redirect_uri: str, error: str, description: str, state: str | None) -> Redirect:
    params = [("error", error), ("error_description", description)] + ([("state", state)] if state else [])
    return Redirect(add_params_to_uri(redirect_uri, params))


def needs_patient(scope: str) -> bool:
    """A patient/ scope or launch/patient needs a patient in context (scopes-and-launch-context.html)."""
    return "launch/patient" in scope.split() or has_context(scope, "patient")


class AuthorizationFlow:
    def __init__(self, server: SmartAuthorizationServer, patients: Patients):
        self.server, self.patients = server, patients
        self.database = server.database
        self.endpoints = server.endpoints

    def begin(self, values: dict[str, list[str]]) -> Page | Redirect:
        """GET or POST /authorize: validate, then ask the user to log in."""
        repeated = [name for name, items in values.items() if len(items) > 1]
        params = {name: items[0] for name, items in values.items()}
        client = self.server.query_client(params.get("client_id"))
        if client is None:
            return Page(
                "error",
                400,
                {
                    "message": "This app is not registered with this server.",
                    "next_step": "Tell the app's developer: the client_id it sent is unknown here.",
                },
            )
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or not client.check_redirect_uri(redirect_uri):
            return Page(
                "error",
                400,
                {
                    "message": f"{client.row.name} asked to return to an address it has not "
                    "registered, so this sign-in was stopped.",
                    "next_step": "Tell the app's developer: the redirect_uri must be one "
                    "registered for the app, exactly.",
                },
            )
        state = params.get("state")
        if repeated:
            return _error_redirect(redirect_uri, "invalid_request", f"Repeated parameter {repeated[0]}", state)
        request = StoredAuthorizationRequest(self.endpoints.authorize, params)
        try:
            self.server.get_consent_grant(request)
        except OAuth2Error as error:
            return _error_redirect(redirect_uri, error.error, error.description or error.error, state)
        if params.get("aud") != self.endpoints.base_url:  # app-launch.html: aud must be this FHIR server
            return _error_redirect(redirect_uri, "invalid_request", "aud must equal the FHIR base URL", state)
        context: dict = {"need_patient_banner": True, "smart_style_url": self.endpoints.smart_style}
        if params.get("launch"):
            launch = redeem_launch(self.database, params["launch"])
            if launch is None:
                return _error_redirect(redirect_uri, "invalid_request", "Unknown, expired or used launch", state)
            context.update(
                launch=launch,
                need_patient_banner=False,
                patient=launch.get("patient"),
                encounter=launch.get("encounter"),
            )
        params["scope"] = request.scope or ""
        request_id = new_secret()
        with self.database.connection() as conn:
            auth_store.insert_request(
                conn,
                secret_hash(request_id),
                client.client_id,
                params,
                {k: v for k, v in context.items() if v is not None},
                REQUEST_LIFETIME_SECONDS,
            )
        return Page("login", 200, {"request": request_id, "client_name": client.row.name})

    def login(self, request_id: str, username: str, password: str) -> Page:
        loaded = self._load(request_id)
        if loaded is None:
            return Page("error", 400, EXPIRED)
        params, context = loaded
        user = authenticate_user(self.database, username, password)
        login_again = {"request": request_id, "client_name": self._client_name(params)}
        if user is None:
            return Page("login", 401, login_again | {"error": "Wrong username or password."})
        launch_user = context.get("launch", {}).get("user")
        if launch_user and launch_user not in (user.username, user.fhir_user):
            return Page("login", 403, login_again | {"error": "This launch is for another user."})
        # a sign-in replaces any earlier one on this request, and the patient chosen under it
        update = {
            "username": user.username,
            "fhir_user": user.fhir_user,
            "patient": context.get("launch", {}).get("patient"),
        }
        if not update["patient"] and user.patient_id and needs_patient(params["scope"]):
            update["patient"] = user.patient_id  # a Patient user's own record, no picker
        if update["patient"] and self.patients.get(user.username, user.fhir_user, update["patient"]) is None:
            # the launch context passes the same access decision as a read of that Patient by this user
            return Page(
                "error",
                403,
                {
                    "message": "You may not open this patient's record, so the app cannot either.",
                    "next_step": "Open the app from the record of a patient in your care, or "
                    "ask your administrator for access.",
                },
            )
        with self.database.connection() as conn:
            auth_store.merge_request_context(conn, secret_hash(request_id), update)
        return self._next_page(request_id, params, context | update)

    def choose_patient(self, request_id: str, patient_id: str) -> Page:
        loaded = self._signed_in(request_id)
        if loaded is None:
            return Page("error", 400, EXPIRED)
        params, context = loaded
        user = User(context["username"], context["fhir_user"])
        if user.patient_id is not None or context.get("patient"):
            return Page(
                "error", 403, {"message": "The patient for this sign-in is already set.", "next_step": START_AGAIN}
            )
        if not patient_id or self.patients.get(user.username, user.fhir_user, patient_id) is None:
            return self._picker(request_id, params, context, {}, "No patient you may see has that record id.", 404)
        with self.database.connection() as conn:
            auth_store.merge_request_context(conn, secret_hash(request_id), {"patient": patient_id})
        return self._next_page(request_id, params, context | {"patient": patient_id})

    def search_patients(self, request_id: str, criteria: dict[str, str]) -> Page:
        """The picker's search form: patients this user may see, by name, birth date and MRN."""
        loaded = self._signed_in(request_id)
        if loaded is None:
            return Page("error", 400, EXPIRED)
        params, context = loaded
        if context.get("patient") or User(context["username"], context["fhir_user"]).patient_id is not None:
            return self._next_page(request_id, params, context)
        return self._picker(request_id, params, context, criteria)

    def decide(self, request_id: str, allow: bool, checked: list[str]) -> Page | Redirect:
        """The consent decision: a code for the scopes the user kept, or access_denied."""
        with self.database.connection() as conn:
            loaded = auth_store.consume_request(conn, secret_hash(request_id))
        if loaded is None or "username" not in loaded[1]:
            return Page("error", 400, EXPIRED)
        params, context = loaded
        if not allow:
            return _error_redirect(
                params["redirect_uri"], "access_denied", "The user denied access", params.get("state")
            )
        params["scope"] = " ".join(scope for scope in params["scope"].split() if scope in set(checked))
        if needs_patient(params["scope"]) and not context.get("patient"):
            return _error_redirect(
                params["redirect_uri"], "invalid_request", "No patient was chosen", params.get("state")
            )
        grant_context = GrantContext.from_json(context | {"nonce": params.get("nonce")})
        request = StoredAuthorizationRequest(self.endpoints.authorize, params)
        grant = self.server.get_authorization_grant(request)
        response = self.server.create_authorization_response(request=request, grant_user=grant_context, grant=grant)
        location = response.headers.get("Location")
        if location is None:
            return Page("error", 400, {"message": "The app's request is no longer valid.", "next_step": START_AGAIN})
        return Redirect(location)

    def _load(self, request_id: str) -> tuple[dict, dict] | None:
        if not request_id:
            return None
        with self.database.connection() as conn:
            return auth_store.load_request(conn, secret_hash(request_id))

    def _signed_in(self, request_id: str) -> tuple[dict, dict] | None:
        loaded = self._load(request_id)
        return loaded if loaded is not None and "username" in loaded[1] else None

    def _client_name(self, params: dict) -> str:
        client = self.server.query_client(params.get("client_id"))
        return client.row.name if client else "An app"

    def housekeeping(self) -> None:
        """Drop expired codes, launches, pending requests, revocations and assertion ids."""
        with self.database.connection() as conn:
            auth_store.delete_expired(conn)

    def _next_page(self, request_id: str, params: dict, context: dict) -> Page:
        if needs_patient(params["scope"]) and not context.get("patient"):
            return self._picker(request_id, params, context, {})
        scopes = params["scope"].split()
        patient = None
        if context.get("patient"):
            patient = self.patients.get(context["username"], context["fhir_user"], context["patient"])
        user_is_patient = User(context["username"], context["fhir_user"]).patient_id == context.get("patient")
        return Page(
            "consent",
            200,
            {
                "request": request_id,
                "client_name": self._client_name(params),
                "username": context["username"],
                "user_name": self.patients.user_name(context["fhir_user"]),
                "patient": patient,
                "scopes": describe_scopes(scopes, user_is_patient, REFRESH_LIFETIMES),
                "lasts": access_lasts(scopes, ACCESS_TOKEN_LIFETIME, REFRESH_LIFETIMES),
            },
        )

    def _picker(
        self,
        request_id: str,
        params: dict,
        context: dict,
        criteria: dict[str, str],
        error: str | None = None,
        status: int = 200,
    ) -> Page:
        try:
            patients = self.patients.search(
                context["username"],
                context["fhir_user"],
                criteria.get("q", ""),
                criteria.get("birthdate", ""),
                criteria.get("mrn", ""),
            )
        except FhirError as bad:
            patients, error, status = [], f"Could not search: {bad.issues[0].diagnostics}", 400
        return Page(
            "picker",
            status,
            {
                "request": request_id,
                "patients": patients,
                "error": error,
                "criteria": criteria,
                "client_name": self._client_name(params),
                "username": context["username"],
            },
        )
