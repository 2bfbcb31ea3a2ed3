"""FhirError hierarchy: each error knows its HTTP status and OperationOutcome issue code.

Only the HTTP edge renders them (http/errors.py); everything below raises.
R4 operationoutcome.html; issue codes from http://hl7.org/fhir/issue-type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    diagnostics: str
    code: str = "invalid"
    severity: str = "error"
    # R4 operationoutcome.html: expression is FHIRPath into the submitted content; an HTTP parameter
    # is named in location as "http." + its name
    expression: tuple[str, ...] = ()
    details: str | None = None  # the constraint key of a failed invariant (ele-1, us-core-6)
    location: tuple[str, ...] = ()

    def as_json(self) -> dict:
        issue: dict[str, object] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.details:
            issue["details"] = {"text": self.details}
        if self.location:
            issue["location"] = list(self.location)
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


def operation_outcome(issues: list[Issue] | tuple[Issue, ...]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_json() for issue in issues]}


class FhirError(Exception):
    status = 500
    code = "exception"

    def __init__(
        self,
        diagnostics: str,
        *,
        expression: str | None = None,
        location: str | None = None,
        issues: list[Issue] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(diagnostics)
        self.issues = issues or [
            Issue(
                diagnostics,
                self.code,
                expression=(expression,) if expression else (),
                location=(location,) if location else (),
            )
        ]
        self.headers = headers or {}

    def outcome(self) -> dict:
        return operation_outcome(self.issues)


class BadRequest(FhirError):
    status, code = 400, "invalid"


class Unauthorized(FhirError):
    status, code = 401, "login"


class Forbidden(FhirError):
    status, code = 403, "forbidden"


class NotFound(FhirError):
    status, code = 404, "not-found"


class MethodNotAllowed(FhirError):
    status, code = 405, "not-supported"


class NotAcceptable(FhirError):
    status, code = 406, "not-supported"


class Conflict(FhirError):
    status, code = 409, "conflict"


class Gone(FhirError):
    status, code = 410, "deleted"


class PreconditionFailed(FhirError):
    status, code = 412, "conflict"


class PayloadTooLarge(FhirError):
    status, code = 413, "too-costly"


class UnsupportedMediaType(FhirError):
    status, code = 415, "not-supported"


class Unprocessable(FhirError):
    status, code = 422, "processing"


class ServiceUnavailable(FhirError):
    status, code = 503, "transient"
