"""Access tokens: JWTs signed with the server's key (joserfc), checked on every FHIR request."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from ..fhir.outcomes import Unauthorized

ALGORITHM = "RS256"
_CACHE_SIZE = 4096


def generate_signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)


class TokenService:
    """Mints and verifies access tokens for one issuer and audience (the FHIR base URL)."""

    def __init__(self, private_jwks: list[dict], issuer: str, audience: str, leeway: int = 30, revocations=None):
        self.keys = KeySet([RSAKey.import_key(jwk) for jwk in private_jwks])
        self.signing_key = self.keys.keys[0]
        self.issuer, self.audience, self.leeway = issuer, audience, leeway
        self._claims_registry = jwt.JWTClaimsRegistry(
            leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )
        self._verified: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()
        self.revocations = revocations  # a RevocationList, or None where nothing can be revoked (CLI)

    def public_jwks(self) -> dict:
        return {"keys": [key.as_dict(private=False) for key in self.keys.keys]}

    def mint(
        self,
        scope: str,
        lifetime: int,
        *,
        subject: str,
        client_id: str,
        patient: str | None = None,
        fhir_user: str | None = None,
        grant: str | None = None,
    ) -> dict:
        """An access token; `grant` names the refresh token family it was issued from (revoked together)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "client_id": client_id,
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        if patient:
            claims["patient"] = patient
        if fhir_user:
            claims["fhirUser"] = fhir_user
        if grant:
            claims["grant"] = grant
        token = jwt.encode({"alg": ALGORITHM, "kid": self.signing_key.kid, "typ": "JWT"}, claims, self.signing_key)
        response = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
        if patient:
            response["patient"] = patient
        return response

    def mint_id_token(
        self, client_id: str, subject: str, fhir_user: str, lifetime: int, nonce: str | None = None
    ) -> str:
        """An OpenID Connect id_token for the app (app-launch.html#scopes-for-requesting-identity-data)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": subject,
            "fhirUser": fhir_user,
            "iat": now,
            "exp": now + lifetime,
        }
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode({"alg": ALGORITHM, "kid": self.signing_key.kid, "typ": "JWT"}, claims, self.signing_key)

    def verify(self, token: str) -> dict:
        """The token's claims, or Unauthorized. Verified tokens are cached; expiry is rechecked each time."""
        with self._lock:
            claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            with self._lock:
                self._verified[token] = claims
                if len(self._verified) > _CACHE_SIZE:
                    self._verified.popitem(last=False)
        if claims["exp"] + self.leeway < time.time():
            raise Unauthorized("The access token has expired", headers=_challenge("invalid_token", "expired"))
        if self.revocations is not None and self.revocations.is_revoked(claims):
            raise Unauthorized("The access token has been revoked", headers=_challenge("invalid_token", "revoked"))
        return claims

    def _decode(self, token: str) -> dict:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=[ALGORITHM])
            self._claims_registry.validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise Unauthorized(
                f"Invalid access token: {error}", headers=_challenge("invalid_token", "invalid")
            ) from None
        return decoded.claims


def _challenge(error: str, description: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer realm="fhir", error="{error}", error_description="{description}"'}


def bearer_challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="fhir"'}
