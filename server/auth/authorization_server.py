"""The SMART authorization server (authlib, in process): grants, client authentication, token
generation through the one TokenService, introspection (RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from ..fhir.outcomes import Unauthorized
from ..storage.auth_tokens import insert_refresh_token, load_refresh_token
from ..storage.database import Database
from .clients import ClientRegistry
from .endpoints import AuthEndpoints
from .grants import (
    USER_AUTH_METHODS,
    BackendServicesGrant,
    PrivateKeyJwt,
    RefreshToken,
    S256CodeChallenge,
    SmartAuthorizationCodeGrant,
    SmartRefreshTokenGrant,
)
from .launch import GrantContext
from .passwords import new_secret, secret_hash
from .revocation import RevocationList
from .tokens import TokenService

ACCESS_TOKEN_LIFETIME = 3600
BACKEND_TOKEN_LIFETIME = 300  # backend-services.html recommends five minutes
OFFLINE_REFRESH_LIFETIME = 30 * 24 * 3600
ONLINE_REFRESH_LIFETIME = 8 * 3600  # no user sessions here: online_access lasts a working day
REFRESH_LIFETIMES = {"offline_access": OFFLINE_REFRESH_LIFETIME, "online_access": ONLINE_REFRESH_LIFETIME}


class SmartAuthorizationServer(AuthorizationServer):
    def __init__(self, database: Database, tokens: TokenService, revocations: RevocationList, endpoints: AuthEndpoints):
        super().__init__()
        self.database, self.tokens, self.revocations, self.endpoints = database, tokens, revocations, endpoints
        self.clients = ClientRegistry(database)
        self.register_token_generator("default", self._generate_token)
        self.register_grant(SmartAuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(SmartRefreshTokenGrant)
        self.register_grant(BackendServicesGrant)
        self.register_client_auth_method(
            PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(endpoints.token, self.clients, database, tokens.leeway)
        )
        self.register_endpoint(SmartIntrospectionEndpoint)
        self.register_endpoint(SmartRevocationEndpoint)

    def query_client(self, client_id):
        return self.clients.get(client_id)

    def create_oauth2_request(self, request):
        """A request rebuilt by the authorization flow as is; otherwise the current Flask request."""
        return request if isinstance(request, OAuth2Request) else super().create_oauth2_request(request)

    def validate_requested_scope(self, scope):
        pass  # each client's registration decides (OAuthClient.get_allowed_scope)

    def _generate_token(
        self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True
    ) -> dict:
        context: GrantContext = user or GrantContext()
        scope = scope or ""
        lifetime = BACKEND_TOKEN_LIFETIME if grant_type == "client_credentials" else ACCESS_TOKEN_LIFETIME
        token = self.tokens.mint(
            scope,
            lifetime,
            subject=context.username or client.client_id,
            client_id=client.client_id,
            patient=context.patient,
            fhir_user=context.fhir_user,
            grant=context.grant_id,
        )
        token.update(context.response_parameters())
        scopes = set(scope.split())
        if include_refresh_token and scopes & {"offline_access", "online_access"}:
            token["refresh_token"] = new_secret()
        if "openid" in scopes and scopes & {"fhirUser", "profile"} and context.fhir_user:
            token["id_token"] = self.tokens.mint_id_token(
                client.client_id, context.username or context.fhir_user, context.fhir_user, lifetime, context.nonce
            )
        return token

    def save_token(self, token, request):
        """Only refresh tokens are kept (hashed); access tokens are self-contained JWTs."""
        if "refresh_token" not in token:
            return
        context: GrantContext = request.user
        replaced = request.refresh_token  # a rotation: the successor keeps the scope and expiry of its family
        scope = replaced.row.scope if replaced else token["scope"]
        lifetime = OFFLINE_REFRESH_LIFETIME if "offline_access" in scope.split() else ONLINE_REFRESH_LIFETIME
        with self.database.connection() as conn:
            insert_refresh_token(
                conn,
                secret_hash(token["refresh_token"]),
                context.grant_id,
                request.client.client_id,
                scope,
                context.as_json(),
                lifetime,
                replaced.row.expires_at if replaced else None,
            )

    def revoke_grant(self, grant_id: str) -> None:
        """Ends a grant: its refresh tokens, and every access token issued under it."""
        self.revocations.revoke_grant(grant_id, time.time() + ACCESS_TOKEN_LIFETIME + self.tokens.leeway)

    def find_token(self, token_string: str, hint: str | None):
        """An issued token (access or refresh) for introspection or revocation, or None."""
        if token_string.count(".") == 2 and hint != "refresh_token":
            try:
                return IssuedAccessToken(self.tokens.verify(token_string))
            except Unauthorized:
                return None
        with self.database.connection() as conn:
            row = load_refresh_token(conn, secret_hash(token_string))
        return IssuedRefreshToken(row, secret_hash(token_string)) if row else None


class IssuedAccessToken:
    def __init__(self, claims: dict):
        self.claims = claims

    def check_client(self, client):
        return client.client_id == self.claims.get("client_id")

    def is_expired(self):
        return False  # TokenService.verify refused it otherwise

    def is_revoked(self):
        return False

    def introspection(self) -> dict:
        keys = ("scope", "client_id", "exp", "iat", "sub", "iss", "aud", "patient", "fhirUser")
        return {"active": True, "token_type": "Bearer", **{k: self.claims[k] for k in keys if k in self.claims}}

    def revoke(self, server: SmartAuthorizationServer) -> None:
        server.revocations.revoke_access_token(self.claims["jti"], self.claims["exp"] + server.tokens.leeway)


class IssuedRefreshToken(RefreshToken):
    def is_expired(self):
        return self.row.expires_at < time.time()

    def is_revoked(self):
        return not self.row.active

    def introspection(self) -> dict:
        context = GrantContext.from_json(self.row.context)
        payload = {
            "active": True,
            "scope": self.row.scope,
            "client_id": self.row.client_id,
            "exp": int(self.row.expires_at),
            "iat": int(self.row.issued_at),
        }
        optional = {"sub": context.username, "patient": context.patient, "fhirUser": context.fhir_user}
        return payload | {k: v for k, v in optional.items() if v}

    def revoke(self, server: SmartAuthorizationServer) -> None:
        server.revoke_grant(self.row.grant_id)


class SmartIntrospectionEndpoint(IntrospectionEndpoint):
    """RFC 7662 for confidential clients (resource servers and apps); anything unknown is inactive."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def query_token(self, token_string, token_type_hint):
        return self.server.find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return True

    def introspect_token(self, token):
        payload = token.introspection()
        payload["iss"] = self.server.tokens.issuer
        return payload


class SmartRevocationEndpoint(RevocationEndpoint):
    """RFC 7009: a client revokes its own tokens; unknown tokens are answered 200 all the same."""

    CLIENT_AUTH_METHODS = USER_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return self.server.find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        token.revoke(self.server)
