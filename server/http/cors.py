"""CORS for browser apps (SMART App Launch 2.x, app-launch.html: servers that support browser apps enable
CORS): the FHIR API, the token, introspection and revocation endpoints, the .well-known documents and the JWKS.
Preflights are answered here, before any token check; tokens, not cookies, carry authority, so no
credentials mode is offered. A WSGI middleware, as the access log is: no Flask hooks on the request path."""

from __future__ import annotations

ANY_ORIGIN = "*"
# The paths browser apps call cross-origin; the login, picker and consent pages are top-level navigations.
CORS_PATHS = (
    "/fhir",
    "/auth/token",
    "/auth/introspect",
    "/auth/revoke",
    "/auth/jwks.json",
    "/auth/smart-style.json",
    "/auth/launch",
    "/cds-services",
)
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = (
    "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, "
    "If-Modified-Since, X-Request-ID"
)
EXPOSED_HEADERS = (
    "ETag, Location, Content-Location, Last-Modified, WWW-Authenticate, Retry-After, X-Progress, X-Request-ID"
)
MAX_AGE_SECONDS = "600"


def is_cors_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in CORS_PATHS)


class Cors:
    """Answers CORS preflights on CORS_PATHS and adds the CORS headers to their responses."""

    def __init__(self, app, origins: tuple[str, ...] = (ANY_ORIGIN,)):
        self.app = app
        self.any_origin = ANY_ORIGIN in origins
        self.origins = frozenset(origins)

    def allowed_origin(self, origin: str) -> str | None:
        """The Access-Control-Allow-Origin value for this Origin, or None when it is not allowed."""
        if self.any_origin:
            return ANY_ORIGIN
        return origin if origin in self.origins else None

    def __call__(self, environ: dict, start_response):
        if not is_cors_path(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        if not origin and not self.any_origin:
            return self.app(environ, start_response)
        allowed = self.allowed_origin(origin or "")
        headers = [] if self.any_origin else [("Vary", "Origin")]
        if allowed is not None:
            headers.append(("Access-Control-Allow-Origin", allowed))
        if environ.get("REQUEST_METHOD") == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            return self._preflight(start_response, headers, allowed is not None)

        def start_with_cors(status: str, response_headers: list, exc_info=None):
            response_headers[:] = [(k, v) for k, v in response_headers if not k.lower().startswith("access-control-")]
            response_headers.extend(headers)
            if allowed is not None:
                response_headers.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
            return start_response(status, response_headers, exc_info)

        return self.app(environ, start_with_cors)

    @staticmethod
    def _preflight(start_response, headers: list, allowed: bool):
        """Fetch standard, CORS-preflight fetch: no credentials are checked; a refused origin gets no grant."""
        if allowed:
            headers += [
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
                ("Access-Control-Max-Age", MAX_AGE_SECONDS),
            ]
        start_response("204 No Content" if allowed else "403 Forbidden", headers + [("Content-Length", "0")])
        return [b""]
