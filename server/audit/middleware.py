"""WSGI middleware: every FHIR request (and every token request and CDS Hooks call) gets an Access in
its environ, which the app fills (policy, interaction, resources, patients); once the response's status is
known it goes to the audit trail, unless the request's writes stored their AuditEvents already.
Denials and authentication failures are recorded here too: they never reach an interaction."""

from __future__ import annotations

from ..interactions.audit import Access, AuditSink

ACCESS = "fhir.access"  # the environ key of the request's Access
REQUEST_ID = "fhir.request_id"  # set by http/access_log.py, which runs outside this middleware
PUBLIC = ("/fhir/metadata", "/fhir/.well-known/", "/fhir/openapi.json")
_BY_SHAPE = {  # (method, path segments after /fhir) -> restful-interaction
    ("GET", 0): "search-system",
    ("POST", 0): "batch",
    ("GET", 1): "search-type",
    ("POST", 1): "create",
    ("PUT", 1): "update",
    ("PATCH", 1): "patch",
    ("DELETE", 1): "delete",
    ("GET", 2): "read",
    ("PUT", 2): "update",
    ("PATCH", 2): "patch",
    ("DELETE", 2): "delete",
    ("GET", 4): "vread",
}


def interaction_of(method: str, path: str) -> tuple[str, str | None, str | None]:
    """(interaction, resource type, operation) of a FHIR request path, for requests that fail before
    an interaction names itself."""
    parts = [p for p in path.removeprefix("/fhir").split("/") if p]
    operation = next((p for p in parts if p.startswith("$")), None)
    resource_type = parts[0] if parts and parts[0][:1].isupper() else None
    if operation:
        return "operation", resource_type, operation
    if parts and parts[-1] == "_history":
        return (
            {1: "history-system", 2: "history-type", 3: "history-instance"}.get(len(parts), "operation"),
            resource_type,
            None,
        )
    if parts and parts[-1] == "_search":
        return "search-type", resource_type, None
    if len(parts) == 3 and parts[0] == "Patient":
        return "search-type", parts[2], None  # compartment search
    return _BY_SHAPE.get((method if method != "HEAD" else "GET", len(parts)), "operation"), resource_type, None


class AuditMiddleware:
    def __init__(self, app, trail: AuditSink):
        self.app, self.trail = app, trail

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        audited = (
            path.startswith("/fhir")
            and not path.startswith(PUBLIC)
            or path == "/auth/token"
            or path.startswith("/cds-services/")
            and environ.get("REQUEST_METHOD") == "POST"
        )
        if not audited:
            return self.app(environ, start_response)
        access = Access(
            address=environ.get("REMOTE_ADDR"),
            request_id=environ.get(REQUEST_ID, "-"),
            method=environ.get("REQUEST_METHOD"),
            path=path,
            query=environ.get("QUERY_STRING") or None,
        )
        environ[ACCESS] = access
        status: list[int] = []

        def start(code: str, headers: list, exc_info=None):
            status[:] = [int(code.split(" ", 1)[0])]
            return start_response(code, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            if not access.written:
                access.outcome = status[0] if status else 500
                if path == "/auth/token":
                    access.interaction = "login"
                elif path.startswith("/cds-services/"):  # CDS Hooks 2.0: a service call is an operation
                    access.interaction, access.subtype = "operation", path.lstrip("/")
                elif access.interaction is None or access.outcome >= 400:
                    inferred, resource_type, operation = interaction_of(access.method or "GET", path)
                    access.interaction = access.interaction or inferred
                    access.resource_type = access.resource_type or resource_type
                    access.subtype = access.subtype or operation
                self.trail.append(access)
