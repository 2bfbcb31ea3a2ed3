"""CDS clients calling with a signed JWT (cds-hooks.hl7.org/2.0/#trusting-cds-clients): the JWT's iss must be
a registered CDS client, signed by a key of that client's JWKS with an asymmetric algorithm, aud the exact
service URL, exp/iat/jti present, each jti used once."""

from __future__ import annotations

import time

import orjson
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from ..fhir.outcomes import Unauthorized
from ..storage.auth_tokens import record_assertion_jti
from ..storage.cds import cds_client_id, insert_cds_client
from ..storage.database import Database
from .clients import ClientRegistry

ALGORITHMS = ("ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS384")  # never none or HMAC
MAX_LIFETIME_SECONDS = 300


def register_cds_client(database: Database, client_id: str, issuer: str) -> None:
    with database.connection() as conn:
        insert_cds_client(conn, issuer, client_id)


def verify_cds_jwt(database: Database, clients: ClientRegistry, token: str, audience: str, leeway: int = 30) -> str:
    """The registered client_id of a CDS client JWT, or Unauthorized."""
    try:
        unverified = orjson.loads(jws.extract_compact(token.encode()).payload)
    except (JoseError, ValueError):
        raise _refused("The Bearer token is neither an access token nor a CDS client JWT") from None
    issuer = unverified.get("iss") if isinstance(unverified, dict) else None
    with database.connection() as conn:
        client_id = cds_client_id(conn, issuer) if isinstance(issuer, str) else None
    client = clients.get(client_id) if client_id else None
    if client is None or client.row.auth_method != "private_key_jwt":
        raise _refused("The JWT's iss is not a registered CDS client")
    assert isinstance(issuer, str) and client_id is not None  # a client was found only by a string iss
    try:
        decoded = jwt.decode(token, clients.public_keys(client), algorithms=list(ALGORITHMS))
        JWTClaimsRegistry(
            leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError, OSError) as error:
        raise _refused(f"The CDS client JWT does not verify: {error.__class__.__name__}") from None
    claims = decoded.claims
    if claims["exp"] > time.time() + MAX_LIFETIME_SECONDS + leeway:
        raise _refused("The CDS client JWT must expire within five minutes")
    with database.connection() as conn:
        if not record_assertion_jti(conn, client_id, str(claims["jti"]), float(claims["exp"]) + leeway):
            raise _refused("The CDS client JWT's jti was already used")
    return client_id


def _refused(message: str) -> Unauthorized:
    return Unauthorized(message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
