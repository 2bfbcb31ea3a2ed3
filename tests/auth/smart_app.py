"""A SMART app as tests drive it: registered with the server, walking the authorize -> login ->
(picker) -> consent pages by posting their HTML forms, exchanging the code with a PKCE verifier."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from server.auth.clients import register_client
from server.auth.launch import create_launch
from server.auth.users import create_user

REDIRECT_PATH = "/app/callback"


class Form(HTMLParser):
    """The first form of a page (or the first with a field named `containing`): its action and the
    fields a browser would submit by default."""

    def __init__(self, html: str, containing: str | None = None):
        super().__init__()
        self.action, self.fields, self.buttons, self.radios = None, [], [], []
        self._done = False
        self.feed(html)
        if containing is not None and containing not in self.names() | {n for n, _ in self.radios}:
            rest = html.split("</form>", 1)
            if len(rest) < 2 or "<form" not in rest[1]:
                raise AssertionError(f"no form with a field {containing!r}")
            self.__init__(rest[1], containing)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._done:
            return
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and self.action is not None:
            kind = attrs.get("type", "text")
            if kind == "radio":
                self.radios.append((attrs.get("name"), attrs.get("value")))
            elif kind != "checkbox" or "checked" in attrs:
                self.fields.append((attrs.get("name"), attrs.get("value", "")))
        elif tag == "button" and self.action is not None:
            self.buttons.append((attrs.get("name"), attrs.get("value")))

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self._done = True

    def names(self) -> set[str]:
        return {name for name, _ in self.fields}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Authorization:
    """Where one authorization ended: the redirect's query, and the verifier to exchange its code."""

    query: dict
    verifier: str
    state: str

    @property
    def code(self) -> str:
        return self.query["code"][0]


@dataclass
class SmartApp:
    server: object  # the LiveServer
    client_id: str
    client_secret: str | None = None
    private_key: object = None
    redirect_uri: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def root(self) -> str:
        return self.server.root_url

    @property
    def token_url(self) -> str:
        return f"{self.root}/auth/token"

    def authorize_params(self, scope: str, **overrides) -> tuple[dict, str]:
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": uuid.uuid4().hex,
            "aud": self.server.base_url,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}, verifier

    def start(self, scope: str, method: str = "GET", **overrides) -> tuple[requests.Response, dict, str]:
        params, verifier = self.authorize_params(scope, **overrides)
        url = f"{self.root}/auth/authorize"
        response = (
            self.session.get(url, params=params, allow_redirects=False)
            if method == "GET"
            else self.session.post(url, data=params, allow_redirects=False)
        )
        return response, params, verifier

    def submit(
        self, page: requests.Response, values: dict, button: str | None = None, containing: str | None = None
    ) -> requests.Response:
        form = Form(page.text, containing)
        data = [(name, value) for name, value in form.fields if name not in values]
        data += list(values.items())
        if button is not None:
            name, value = next((n, v) for n, v in form.buttons if v == button)
            data.append((name, value))
        return self.session.post(urljoin(page.url, form.action), data=data, allow_redirects=False)

    def authorize(
        self,
        scope: str,
        username: str,
        password: str,
        patient: str | None = None,
        keep: list[str] | None = None,
        decision: str = "allow",
        **overrides,
    ) -> Authorization:
        """Walk the pages as a user would and return where the browser was sent back to."""
        page, params, verifier = self.start(scope, **overrides)
        assert page.status_code == 200, (page.status_code, page.headers.get("Location"), page.text[:300])
        assert {"username", "password"} <= Form(page.text).names()
        page = self.submit(page, {"username": username, "password": password})
        if patient is not None:
            assert page.status_code == 200 and "patient_id" in Form(page.text, "patient_id").names(), page.text[:300]
            page = self.submit(page, {"patient_id": patient}, containing="patient_id")
        assert page.status_code == 200, page.text[:500]
        form = Form(page.text)
        if keep is not None:
            page_fields = [(n, v) for n, v in form.fields if n != "scope"] + [("scope", s) for s in keep]
            name, value = next((n, v) for n, v in form.buttons if v == decision)
            redirect = self.session.post(
                urljoin(page.url, form.action), data=page_fields + [(name, value)], allow_redirects=False
            )
        else:
            redirect = self.submit(page, {}, button=decision)
        assert redirect.status_code == 302, redirect.text[:300]
        location = redirect.headers["Location"]
        assert location.startswith(self.redirect_uri), location
        return Authorization(parse_qs(urlparse(location).query), verifier, params["state"])

    def exchange(self, authorization: Authorization, verifier: str | None = "same", **extra) -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": authorization.code,
            "redirect_uri": self.redirect_uri,
            **extra,
        }
        verifier = authorization.verifier if verifier == "same" else verifier
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.token_request(data)

    def token_request(self, data: dict) -> requests.Response:
        auth = None
        if self.client_secret:
            auth = (self.client_id, self.client_secret)
        elif self.private_key is not None:
            data = {**data, **self.assertion()}
        else:
            data = {**data, "client_id": self.client_id}
        return requests.post(self.token_url, data=data, auth=auth)

    def refresh(self, refresh_token: str, scope: str | None = None) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope is not None:
            data["scope"] = scope
        return self.token_request(data)

    def assertion(self, jti: str | None = None, lifetime: int = 240, **claims) -> dict:
        alg = "ES384" if isinstance(self.private_key, ECKey) else "RS384"
        now = int(time.time())
        payload = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "exp": now + lifetime,
            "jti": jti or uuid.uuid4().hex,
            **claims,
        }
        token = jwt.encode(
            {"alg": alg, "kid": self.private_key.kid, "typ": "JWT"}, payload, self.private_key, algorithms=[alg]
        )
        return {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": token,
        }


def new_app(
    live_server,
    scope: str,
    public: bool = True,
    key: str | None = None,
    jwks_url: str | None = None,
    redirect: bool = True,
) -> SmartApp:
    """Register an app with the server (as `fhir-server client create` does)."""
    database = live_server.app.extensions["fhir.services"].database
    redirect_uri = f"{live_server.root_url}{REDIRECT_PATH}/{uuid.uuid4().hex[:8]}"
    private_key, jwks = None, None
    if key == "RS384":
        private_key = RSAKey.generate_key(2048, parameters={"alg": "RS384"}, auto_kid=True)
    elif key == "ES384":
        private_key = ECKey.generate_key("P-384", parameters={"alg": "ES384"}, auto_kid=True)
    if private_key is not None and jwks_url is None:
        jwks = KeySet([private_key]).as_dict(private=False)
    registered = register_client(
        database,
        name=f"app {uuid.uuid4().hex[:6]}",
        redirect_uris=[redirect_uri] if redirect else [],
        scope=scope,
        public=public,
        jwks=jwks,
        jwks_url=jwks_url,
    )
    return SmartApp(live_server, registered["client_id"], registered["client_secret"], private_key, redirect_uri)


def new_user(live_server, fhir_user: str) -> tuple[str, str]:
    database = live_server.app.extensions["fhir.services"].database
    username, password = f"user-{uuid.uuid4().hex[:10]}", secrets.token_urlsafe(12)
    create_user(database, username, password, fhir_user)
    return username, password


def new_launch(live_server, patient: str, encounter: str | None = None, user: str | None = None) -> str:
    return create_launch(live_server.app.extensions["fhir.services"].database, patient, encounter, user)


def verify_with_jwks(live_server, token: str, audience: str | None = None) -> dict:
    """Claims of a token verified the way a third party would: against the published JWKS."""
    jwks_uri = requests.get(f"{live_server.base_url}/.well-known/smart-configuration").json()["jwks_uri"]
    keys = KeySet.import_key_set(requests.get(jwks_uri).json())
    claims = jwt.decode(token, keys, algorithms=["RS256"]).claims
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live_server.base_url},
        aud={"essential": True, "value": audience or live_server.base_url},
        exp={"essential": True},
    )
    registry.validate(claims)
    return claims
