"""The authorization code flow as the user's browser walks it (app-launch.html#obtain-authorization-code):
authorize -> login -> (patient picker) -> consent -> redirect back with a code. Between the steps the
request waits in the database under an unguessable id carried by the forms (no cookies needed)."""
from __future__ import annotations

from dataclasses import dataclass, field

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from ..storage import auth_store
from .authorization_server import SmartAuthorizationServer
from .launch import GrantContext, redeem_launch
from .passwords import new_secret, secret_hash
from .scopes import has_context
from .users import User, authenticate_user

REQUEST_LIFETIME_SECONDS = 600


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
    def __init__(self, server: SmartAuthorizationServer):
        self.server = server
        self.database = server.database
        self.endpoints = server.endpoints

    def begin(self, values: dict[str, list[str]]) -> Page | Redirect:
        """GET or POST /authorize: validate, then ask the user to log in."""
        repeated = [name for name, items in values.items() if len(items) > 1]
        params = {name: items[0] for name, items in values.items()}
        client = self.server.query_client(params.get("client_id"))
        if client is None:
            return Page("error", 400, {"message": "Unknown client_id."})
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or not client.check_redirect_uri(redirect_uri):
            return Page("error", 400, {"message": "redirect_uri is missing or not registered for this app."})
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
            context.update(launch=launch, need_patient_banner=False, patient=launch.get("patient"),
                           encounter=launch.get("encounter"))
        params["scope"] = request.scope or ""
        request_id = new_secret()
        with self.database.connection() as conn:
            auth_store.insert_request(conn, secret_hash(request_id), client.client_id, params,
                                      {k: v for k, v in context.items() if v is not None}, REQUEST_LIFETIME_SECONDS)
        return Page("login", 200, {"request": request_id, "client_name": client.row.name})

    def login(self, request_id: str, username: str, password: str) -> Page:
        loaded = self._load(request_id)
        if loaded is None:
            return Page("error", 400, {"message": "This authorization request has expired; start again from the app."})
        params, context = loaded
        user = authenticate_user(self.database, username, password)
        login_again = {"request": request_id, "client_name": params.get("client_id")}
        if user is None:
            return Page("login", 401, login_again | {"error": "Wrong username or password."})
        launch_user = context.get("launch", {}).get("user")
        if launch_user and launch_user not in (user.username, user.fhir_user):
            return Page("login", 403, login_again | {"error": "This launch is for another user."})
        # a sign-in replaces any earlier one on this request, and the patient chosen under it
        update = {"username": user.username, "fhir_user": user.fhir_user,
                  "patient": context.get("launch", {}).get("patient")}
        if not update["patient"] and user.patient_id and needs_patient(params["scope"]):
            update["patient"] = user.patient_id  # a Patient user's own record, no picker
        with self.database.connection() as conn:
            auth_store.merge_request_context(conn, secret_hash(request_id), update)
        return self._next_page(request_id, params, context | update)

    def choose_patient(self, request_id: str, patient_id: str) -> Page:
        loaded = self._load(request_id)
        if loaded is None or "username" not in loaded[1]:
            return Page("error", 400, {"message": "This authorization request has expired; start again from the app."})
        params, context = loaded
        user = User(context["username"], context["fhir_user"])
        if user.patient_id is not None or context.get("patient"):
            return Page("error", 403, {"message": "The patient for this authorization is already set."})
        with self.database.connection() as conn:
            exists = auth_store.patient_exists(conn, patient_id)
            if exists:
                auth_store.merge_request_context(conn, secret_hash(request_id), {"patient": patient_id})
        if not exists:
            return self._picker(request_id, "No such patient.")
        return self._next_page(request_id, params, context | {"patient": patient_id})

    def decide(self, request_id: str, allow: bool, checked: list[str]) -> Page | Redirect:
        """The consent decision: a code for the scopes the user kept, or access_denied."""
        with self.database.connection() as conn:
            loaded = auth_store.consume_request(conn, secret_hash(request_id))
        if loaded is None or "username" not in loaded[1]:
            return Page("error", 400, {"message": "This authorization request has expired; start again from the app."})
        params, context = loaded
        if not allow:
            return _error_redirect(params["redirect_uri"], "access_denied", "The user denied access", params.get("state"))
        params["scope"] = " ".join(scope for scope in params["scope"].split() if scope in set(checked))
        if needs_patient(params["scope"]) and not context.get("patient"):
            return _error_redirect(params["redirect_uri"], "invalid_request", "No patient was chosen",
                                   params.get("state"))
        grant_context = GrantContext.from_json(context | {"nonce": params.get("nonce")})
        request = StoredAuthorizationRequest(self.endpoints.authorize, params)
        grant = self.server.get_authorization_grant(request)
        response = self.server.create_authorization_response(request=request, grant_user=grant_context, grant=grant)
        location = response.headers.get("Location")
        if location is None:
            return Page("error", 400, {"message": "The authorization request is no longer valid."})
        return Redirect(location)

    def _load(self, request_id: str) -> tuple[dict, dict] | None:
        if not request_id:
            return None
        with self.database.connection() as conn:
            return auth_store.load_request(conn, secret_hash(request_id))

    def housekeeping(self) -> None:
        """Drop expired codes, launches, pending requests, revocations and assertion ids."""
        with self.database.connection() as conn:
            auth_store.delete_expired(conn)

    def _next_page(self, request_id: str, params: dict, context: dict) -> Page:
        if needs_patient(params["scope"]) and not context.get("patient"):
            return self._picker(request_id)
        client = self.server.query_client(params["client_id"])
        return Page("consent", 200, {"request": request_id, "client_name": client.row.name,
                                     "scopes": params["scope"].split(), "patient": context.get("patient"),
                                     "user": context.get("fhir_user")})

    def _picker(self, request_id: str, error: str | None = None) -> Page:
        with self.database.connection() as conn:
            patients = auth_store.list_patients(conn)
        return Page("picker", 404 if error else 200, {"request": request_id, "patients": patients, "error": error})
