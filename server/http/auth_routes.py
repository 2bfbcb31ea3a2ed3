"""The authorization server's HTTP endpoints (SMART App Launch 2.x): authorize, the login, patient
picker and consent pages (plain HTML forms, no JavaScript), token, introspect, revoke, EHR launch."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson
from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from ..audit.middleware import ACCESS
from ..auth.authorization_flow import AuthorizationFlow, Page, Redirect
from ..auth.authorization_server import SmartAuthorizationServer
from ..auth.endpoints import AuthEndpoints
from ..auth.launch import create_launch
from ..auth.ratelimit import RateLimiter
from ..auth.revocation import RevocationList
from ..auth.tokens import TokenService
from ..fhir.outcomes import BadRequest
from ..interactions.launch_context import PatientDirectory
from ..storage.database import Database
from .security import bearer_guard

auth = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates", static_folder="static")
# The pages load nothing but their own stylesheet, run no script and are never framed.
PAGE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
SEX_WORDS = {"male": "Male", "female": "Female", "other": "Other", "unknown": "Sex unknown"}
MAX_CLIENT_ID = 200  # a claimed client_id is recorded up to this length
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@auth.app_template_filter("fhir_date")
def fhir_date(value: str | None) -> str:
    """A FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) as people write it: 2 April 1980."""
    parts = (value or "").split("-")
    if not value or not all(part.isdigit() for part in parts):
        return "date not recorded"
    if len(parts) == 1:
        return parts[0]
    month = MONTHS[int(parts[1]) - 1] if 1 <= int(parts[1]) <= 12 else parts[1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


@auth.app_template_filter("sex")
def sex(value: str | None) -> str:
    return SEX_WORDS.get(value or "", "Sex not recorded")


# Per worker process (see README): attempts per window before 429.
LOGIN_LIMIT, LOGIN_IP_LIMIT, LOGIN_WINDOW = 10, 300, 300
TOKEN_LIMIT, TOKEN_WINDOW = 60, 60


@dataclass(frozen=True)
class AuthServices:
    server: SmartAuthorizationServer
    flow: AuthorizationFlow
    login_limiter: RateLimiter
    login_ip_limiter: RateLimiter
    token_limiter: RateLimiter


def register_smart(app: Flask, database: Database, base_url: str) -> None:
    """Wire the authorization server into the app; tokens it issues are checked for revocation."""
    tokens: TokenService = app.extensions["fhir.tokens"]
    revocations = RevocationList(database)
    tokens.revocations = revocations
    server = SmartAuthorizationServer(database, tokens, revocations, AuthEndpoints(base_url))
    patients = PatientDirectory(app.extensions["fhir.services"])
    app.extensions["fhir.auth"] = AuthServices(
        server,
        AuthorizationFlow(server, patients),
        RateLimiter(LOGIN_LIMIT, LOGIN_WINDOW),
        RateLimiter(LOGIN_IP_LIMIT, LOGIN_WINDOW),
        RateLimiter(TOKEN_LIMIT, TOKEN_WINDOW),
    )
    app.extensions["fhir.auth"].flow.housekeeping()  # once per worker start
    app.register_blueprint(auth)


def _services() -> AuthServices:
    return current_app.extensions["fhir.auth"]


def _render(outcome: Page | Redirect) -> WerkzeugResponse:
    if isinstance(outcome, Redirect):
        return redirect(outcome.location, code=302)
    data = {k: v for k, v in outcome.data.items() if k != "request"}
    html = render_template(f"auth/{outcome.kind}.html", request_id=outcome.data.get("request"), **data)
    return Response(
        html,
        status=outcome.status,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": PAGE_POLICY,
            "Referrer-Policy": "no-referrer",
        },
    )


def _too_many(retry_after: int, html: bool) -> WerkzeugResponse:
    headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
    if html:
        page = Page(
            "error",
            429,
            {
                "message": "Too many sign-in attempts.",
                "next_step": f"Wait {retry_after} seconds, then go back and try again.",
            },
        )
        response = _render(page)
        response.headers.update(headers)
        return response
    response = jsonify(error="temporarily_unavailable", error_description="Too many requests; retry later")
    response.status_code = 429
    response.headers.update(headers)
    return response


@auth.route("/authorize", methods=["GET", "POST"])
def authorize():
    """authorization endpoint (GET, and POST for authorize-post)"""
    return _render(_services().flow.begin(request.values.to_dict(flat=False)))


@auth.post("/login")
def login():
    services, username = _services(), request.form.get("username", "")
    for limiter, key in (
        (services.login_limiter, f"{request.remote_addr}|{username}"),
        (services.login_ip_limiter, request.remote_addr or "-"),
    ):
        retry_after = limiter.hit(key)
        if retry_after:
            return _too_many(retry_after, html=True)
    return _render(services.flow.login(request.form.get("request", ""), username, request.form.get("password", "")))


@auth.post("/patient")
def choose_patient():
    patient = request.form.get("patient_id", "").strip() or request.form.get("patient", "")
    return _render(_services().flow.choose_patient(request.form.get("request", ""), patient))


@auth.post("/patient-search")
def search_patients():
    criteria = {name: request.form.get(name, "")[:200] for name in ("q", "birthdate", "mrn")}
    return _render(_services().flow.search_patients(request.form.get("request", ""), criteria))


@auth.post("/consent")
def consent():
    allow = request.form.get("decision") == "allow"
    return _render(_services().flow.decide(request.form.get("request", ""), allow, request.form.getlist("scope")))


def _client_key() -> str:
    client = _claimed_client_id()
    return f"client:{client}" if client else f"ip:{request.remote_addr}"


def _claimed_client_id() -> str | None:
    """The client_id a token request claims, before it is authenticated: HTTP Basic's user name, the form's
    client_id, or a client assertion's sub (RFC 7523 section 3: sub is the client_id); never a secret."""
    basic = request.authorization
    claimed = (basic.username if basic and basic.username else None) or request.form.get("client_id")
    if not claimed:
        claimed = _assertion_subject(request.form.get("client_assertion"))
    return claimed[:MAX_CLIENT_ID] if claimed else None


def _assertion_subject(assertion: str | None) -> str | None:
    """The sub (else iss) of a JWT, read without verifying it: what the client says it is."""
    parts = assertion.split(".") if isinstance(assertion, str) else []
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    subject = claims.get("sub") or claims.get("iss")
    return subject if isinstance(subject, str) else None


@auth.post("/token")
def token():
    """token endpoint: authorization_code, refresh_token, client_credentials"""
    access = request.environ.get(ACCESS)
    if access is not None:  # who asked, for the request's AuditEvent
        access.client_id = _claimed_client_id()
    retry_after = _services().token_limiter.hit(_client_key())
    if retry_after:
        return _too_many(retry_after, html=False)
    return _services().server.create_token_response()


@auth.post("/introspect")
def introspect():
    """RFC 7662 token introspection"""
    return _services().server.create_endpoint_response("introspection")


@auth.post("/revoke")
def revoke():
    """RFC 7009 token revocation"""
    return _services().server.create_endpoint_response("revocation")


@auth.post("/launch")
def launch():
    """An EHR (a client with a system/ scope) creates an opaque, single-use launch id for an app."""
    bearer_guard("Creating a launch").require_system_scope("Creating a launch")
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    body = body if isinstance(body, dict) else {}
    if not body.get("patient"):
        raise BadRequest("A launch needs a patient")
    launch_id = create_launch(_services().server.database, body.get("patient"), body.get("encounter"), body.get("user"))
    return jsonify(launch=launch_id), 201


@auth.get("/smart-style.json")
def smart_style():
    """The style hints smart_style_url points at (app-launch.html#styling)."""
    return jsonify(
        {
            "color_background": "#ffffff",
            "color_error": "#aa0000",
            "color_highlight": "#2a6ebb",
            "color_modal_backdrop": "",
            "color_success": "#2e7d32",
            "color_text": "#222222",
            "dim_border_radius": "4px",
            "dim_font_size": "16px",
            "dim_spacing_size": "16px",
            "font_family_body": "system-ui, sans-serif",
            "font_family_heading": "system-ui, sans-serif",
        }
    )
