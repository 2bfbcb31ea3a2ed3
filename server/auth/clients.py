"""Registered client apps (authlib ClientMixin): public (PKCE only), confidential with a secret
(client_secret_basic/post), or confidential with a JWKS (private_key_jwt, client-confidential-asymmetric)."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.request
from typing import cast

from authlib.oauth2.rfc6749 import ClientMixin
from joserfc.jwk import KeySet, KeySetSerialization

from ..storage.auth_store import ClientRow, insert_client, load_client
from ..storage.database import Database
from .passwords import new_secret, secret_hash, secret_matches
from .scopes import has_context, scope_covered

# Launch-context and identity scopes any app with a redirect URI may ask for
# (scopes-and-launch-context.html); resource scopes must be within the registration.
CONTEXT_SCOPES = frozenset(
    {"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter", "offline_access", "online_access"}
)
JWKS_URL_CACHE_SECONDS = 300
_SECRET_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(ClientMixin):
    def __init__(self, row: ClientRow):
        self.row = row
        self.client_id = row.client_id

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None  # SMART: the app always sends redirect_uri

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris  # exact match, RFC 6749 3.1.2.3

    def check_client_secret(self, client_secret):
        return secret_matches(client_secret, self.row.secret_hash)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.row.auth_method == "client_secret_basic":
            return method in _SECRET_METHODS
        return method == self.row.auth_method

    def check_response_type(self, response_type):
        return response_type == "code" and bool(self.row.redirect_uris)

    def check_grant_type(self, grant_type):
        if grant_type in ("authorization_code", "refresh_token"):
            return bool(self.row.redirect_uris)
        if grant_type == "client_credentials":  # backend-services.html: asymmetric client auth only
            return self.row.auth_method == "private_key_jwt" and has_context(self.row.scope, "system")
        return False

    def get_allowed_scope(self, scope):
        """The requested scopes this client may have; others are dropped (the server may grant less)."""
        if not scope:
            return ""
        return " ".join(text for text in scope.split() if self.allows_scope(text))

    def allows_scope(self, text: str) -> bool:
        if text in CONTEXT_SCOPES:
            return bool(self.row.redirect_uris)
        return scope_covered(text, self.row.scope)

    @property
    def is_public(self) -> bool:
        return self.row.auth_method == "none"


class ClientRegistry:
    """Looks clients up, and fetches the keys of those registered with a JWKS URL (cached)."""

    def __init__(self, database: Database):
        self.database = database
        self._jwks: dict[str, tuple[float, KeySetSerialization]] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str | None) -> OAuthClient | None:
        if not client_id:
            return None
        with self.database.connection() as conn:
            row = load_client(conn, client_id)
        return OAuthClient(row) if row else None

    def public_keys(self, client: OAuthClient) -> KeySet:
        if client.row.jwks is not None:
            return KeySet.import_key_set(cast(KeySetSerialization, client.row.jwks))  # a stored JWKS document
        url = client.row.jwks_url
        assert url is not None  # a client without a JWKS has a JWKS URL
        with self._lock:
            cached = self._jwks.get(url)
        if cached is None or cached[0] < time.monotonic():
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 a registered https/http URL
                jwks = json.loads(response.read(1_000_000))
            cached = (time.monotonic() + JWKS_URL_CACHE_SECONDS, jwks)
            with self._lock:
                self._jwks[url] = cached
        return KeySet.import_key_set(cached[1])


def register_client(
    database: Database,
    *,
    name: str,
    redirect_uris: list[str],
    scope: str,
    public: bool,
    jwks: dict | None = None,
    jwks_url: str | None = None,
) -> dict:
    """Register an app; the secret (confidential, no JWKS) is returned once and stored hashed."""
    if jwks is not None:
        # refuse a malformed key set now rather than at first use
        KeySet.import_key_set(cast(KeySetSerialization, jwks))
    client_id = secrets.token_urlsafe(16)
    secret = None
    if public:
        method = "none"
    elif jwks is not None or jwks_url:
        method = "private_key_jwt"
    else:
        method, secret = "client_secret_basic", new_secret()
    row = ClientRow(
        client_id, name, tuple(redirect_uris), scope, method, secret_hash(secret) if secret else None, jwks, jwks_url
    )
    with database.connection() as conn:
        insert_client(conn, row)
    return {"client_id": client_id, "client_secret": secret, "token_endpoint_auth_method": method}
