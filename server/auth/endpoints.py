"""Where the authorization server lives, and what it tells apps about itself
(conformance.html: .well-known/smart-configuration; OpenID Connect Discovery)."""

from __future__ import annotations

from dataclasses import dataclass

CAPABILITIES = (
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-banner",
    "context-style",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
)
SCOPES_SUPPORTED = (
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "launch/patient",
    "launch/encounter",
    "offline_access",
    "online_access",
    "patient/*.read",
    "patient/*.rs",
    "patient/*.cruds",
    "user/*.read",
    "user/*.rs",
    "user/*.cruds",
    "user/*.*",
    "patient/*.*",
    "system/*.read",
    "system/*.rs",
    "system/*.cruds",
    "system/*.*",
)
ASSERTION_ALGORITHMS = ("RS384", "ES384")


@dataclass(frozen=True)
class AuthEndpoints:
    """Absolute URLs of the authorization server, derived from the FHIR base URL (the issuer)."""

    base_url: str

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/fhir") + "/auth"

    @property
    def authorize(self) -> str:
        return f"{self.root}/authorize"

    @property
    def token(self) -> str:
        return f"{self.root}/token"

    @property
    def introspect(self) -> str:
        return f"{self.root}/introspect"

    @property
    def revoke(self) -> str:
        return f"{self.root}/revoke"

    @property
    def jwks(self) -> str:
        return f"{self.root}/jwks.json"

    @property
    def launch(self) -> str:
        return f"{self.root}/launch"

    @property
    def smart_style(self) -> str:
        return f"{self.root}/smart-style.json"


def smart_configuration(endpoints: AuthEndpoints) -> dict:
    return {
        "issuer": endpoints.base_url,
        "jwks_uri": endpoints.jwks,
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        "introspection_endpoint": endpoints.introspect,
        "revocation_endpoint": endpoints.revoke,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "scopes_supported": list(SCOPES_SUPPORTED),
        "code_challenge_methods_supported": ["S256"],
        "capabilities": list(CAPABILITIES),
    }


def openid_configuration(endpoints: AuthEndpoints) -> dict:
    return {
        "issuer": endpoints.base_url,
        "jwks_uri": endpoints.jwks,
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "fhirUser", "profile"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
    }


def oauth_uris_extension(endpoints: AuthEndpoints) -> dict:
    """The CapabilityStatement's rest.security extension older SMART clients discover endpoints from."""
    return {
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [
            {"url": name, "valueUri": url}
            for name, url in (
                ("authorize", endpoints.authorize),
                ("token", endpoints.token),
                ("introspect", endpoints.introspect),
                ("revoke", endpoints.revoke),
            )
        ],
    }
