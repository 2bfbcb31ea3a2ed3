"""The OAuth grants, as authlib grant classes with SMART's rules where authlib's defaults are looser
(DESIGN.md, known gaps): PKCE S256 for every client, single-use codes consumed in one statement,
refresh scopes compared as SMART scopes, system/ scopes only for backend services."""

from __future__ import annotations

import time

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc import jwt
from joserfc.errors import JoseError

from ..storage.auth_tokens import (
    CodeRow,
    RefreshRow,
    consume_code,
    insert_code,
    load_refresh_token,
    record_assertion_jti,
    rotate_refresh_token,
    used_code_grant,
)
from .endpoints import ASSERTION_ALGORITHMS
from .launch import GrantContext
from .passwords import new_secret, secret_hash
from .scopes import is_narrowing, parse_scope

CODE_LIFETIME_SECONDS = 60
MAX_ASSERTION_LIFETIME_SECONDS = 300  # backend-services.html: exp no more than five minutes ahead
USER_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]


class S256CodeChallenge(CodeChallenge):
    """RFC 7636 with SMART's rules (app-launch.html#considerations-for-pkce-support): a challenge on
    every authorization request, S256 only (never plain, never defaulted), a verifier on every exchange."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing code_verifier")
        super().validate_code_verifier(grant, result)


class AuthorizationCode:
    """A consumed code, as authlib's grant reads it."""

    def __init__(self, row: CodeRow):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope


class SmartAuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = USER_AUTH_METHODS

    def save_authorization_code(self, code, request) -> None:
        data = request.payload.data
        context: GrantContext = request.user
        row = CodeRow(
            request.client.client_id,
            data["redirect_uri"],
            request.scope or "",
            context.as_json(),
            data["code_challenge"],
            data["code_challenge_method"],
            new_secret(),
        )
        with self.server.database.connection() as conn:
            insert_code(conn, secret_hash(code), row, CODE_LIFETIME_SECONDS)

    def query_authorization_code(self, code, client):
        """Consumes the code in the same statement that finds it (RFC 6749 4.1.2: used once). A replay
        revokes what the first exchange issued."""
        code_hash = secret_hash(code)
        with self.server.database.connection() as conn:
            row = consume_code(conn, code_hash, client.client_id)
            replayed_grant = None if row else used_code_grant(conn, code_hash)
        if replayed_grant:
            self.server.revoke_grant(replayed_grant)
        return AuthorizationCode(row) if row else None

    def delete_authorization_code(self, authorization_code):
        pass  # consumed when queried

    def authenticate_user(self, authorization_code):
        return GrantContext.from_json(authorization_code.row.context, grant_id=authorization_code.row.grant_id)


class RefreshToken:
    def __init__(self, row: RefreshRow, token_hash: str | None = None):
        self.row, self.token_hash = row, token_hash

    def check_client(self, client):
        return client.client_id == self.row.client_id

    def get_scope(self):
        return self.row.scope


class SmartRefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh keeps the launch context; the new access token carries the same grant id, so revoking
    the refresh token also ends it. A public client's refresh token is rotated on every use and the reuse
    of a rotated one revokes the whole grant (RFC 9700 4.14.2); a confidential client's is not rotated."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = False

    def _validate_request_client(self):
        form, headers = self.request.payload.data, self.request.headers
        if form.get("client_id") or form.get("client_assertion") or headers.get("Authorization"):
            return super()._validate_request_client()
        # app-launch.html#refresh-access-token: a public app sends only grant_type, refresh_token and scope;
        # the refresh token names its client, which must be public (others authenticate)
        presented = form.get("refresh_token")
        with self.server.database.connection() as conn:
            row = load_refresh_token(conn, secret_hash(presented)) if presented else None
        client = self.server.query_client(row.client_id) if row else None
        if client is None or not client.is_public:
            raise InvalidClientError(description="Client authentication is required for this refresh token")
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(f"The client is not authorized to use 'grant_type={self.GRANT_TYPE}'")
        return client

    def authenticate_refresh_token(self, refresh_token):
        token_hash = secret_hash(refresh_token)
        with self.server.database.connection() as conn:
            row = load_refresh_token(conn, token_hash)
        if row is not None and row.rotated:
            self.server.revoke_grant(row.grant_id)  # a rotated token used again: stolen, or a replay
            return None
        return RefreshToken(row, token_hash) if row and row.active else None

    def _validate_token_scope(self, token):
        """A narrower scope is fine, a wider one is not (compared as SMART scopes, not strings)."""
        scope = self.request.payload.scope
        if scope and not is_narrowing(scope, token.get_scope()):
            raise InvalidScopeError("The requested scope is wider than the one originally granted")

    def authenticate_user(self, refresh_token):
        return GrantContext.from_json(refresh_token.row.context, grant_id=refresh_token.row.grant_id)

    def issue_token(self, user, refresh_token):
        token = self.generate_token(
            user=user, scope=self.request.payload.scope or refresh_token.get_scope(), include_refresh_token=False
        )
        if self.request.client.is_public:
            with self.server.database.connection() as conn:
                rotated = rotate_refresh_token(conn, refresh_token.token_hash)
            if not rotated:  # a parallel use of the same token won the rotation
                self.server.revoke_grant(refresh_token.row.grant_id)
                raise InvalidGrantError("The refresh token was already used")
            # RFC 6749 section 6: the new refresh token has the scope of the one it replaces
            token["refresh_token"] = new_secret()
        return token

    def revoke_old_credential(self, refresh_token):
        pass  # rotated in issue_token (public clients); a confidential client's token stays


class BackendServicesGrant(grants.ClientCredentialsGrant):
    """SMART Backend Services (backend-services.html): client_credentials with a signed assertion."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt"]

    def validate_token_request(self):
        super().validate_token_request()
        requested = self.request.payload.scope
        if not requested:
            raise InvalidScopeError("Backend services must ask for system/ scopes")
        granted = [
            text
            for text in requested.split()
            if (scope := parse_scope(text)) is not None
            and scope.context == "system"
            and self.request.client.allows_scope(text)
        ]
        if not granted:
            raise InvalidScopeError("None of the requested scopes is registered for this client")
        self.request.scope = " ".join(granted)

    def create_token_response(self):
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class PrivateKeyJwt(JWTBearerClientAssertion):
    """private_key_jwt client authentication (client-confidential-asymmetric.html, RFC 7523)."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, token_url: str, clients, database, leeway: int = 30):
        super().__init__(validate_jti=True, leeway=leeway)
        self._token_url, self.clients, self.database = token_url, clients, database

    def get_audiences(self):
        return [self._token_url]

    def resolve_client_public_key(self, client):
        if client.row.auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(description="The client has no registered public keys")
        try:
            return self.clients.public_keys(client)
        except (OSError, ValueError, JoseError):
            raise InvalidClientError(description="The client's JWKS could not be read") from None

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGORITHMS))
        except (JoseError, ValueError):
            raise InvalidClientError(description="The client assertion signature does not verify") from None
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims):
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp > time.time() + MAX_ASSERTION_LIFETIME_SECONDS + self.leeway:
            raise InvalidClientError(description="The client assertion exp must be at most five minutes ahead")
        super().verify_claims(claims)

    def validate_jti(self, claims, jti):
        with self.database.connection() as conn:
            return record_assertion_jti(conn, str(claims["sub"]), str(jti), float(claims["exp"]) + self.leeway)
