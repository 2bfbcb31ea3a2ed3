"""What an interaction needs to know about its request, passed explicitly (no flask.g below http/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..auth.guard import Guard
from ..auth.policy import AccessPolicy
from ..auth.scopes import parse_scopes
from ..search.registry import Registry
from ..storage.database import Database
from ..validation import Validator
from .audit import Access, AuditSink


@dataclass(frozen=True)
class Services:
    """Built once per process by create_app."""

    database: Database
    registry: Registry
    validator: Validator
    base_url: str
    default_page_size: int = 20
    max_page_size: int = 1000
    allow_dangling_references: bool = False
    allow_cascade_delete: bool = False
    allow_multiple_delete: bool = False
    practitioner_access: str = "all"  # FHIR_PRACTITIONER_ACCESS, for the guard
    cors: bool = True  # FHIR_CORS_ORIGINS allows some origin (the CapabilityStatement says so)
    write_listeners: list = field(default_factory=list)  # write_path.WriteListener: told of every write
    audit: AuditSink | None = None  # where accesses are recorded (server/audit/); None when auditing is off


@dataclass(frozen=True)
class RequestContext:
    services: Services
    guard: Guard  # the one place that decides access (server/auth/guard.py)
    request_id: str = "-"
    # (type, id) a transaction is writing: references to them resolve once it commits
    pending_targets: frozenset = frozenset()
    strict: bool = False  # Prefer: handling=strict (an unknown meta.profile is an error)
    access: Access | None = None  # what this request touched, for its AuditEvent (interactions/audit.py)

    @property
    def base_url(self) -> str:
        return self.services.base_url


OPERATOR_SCOPES = "system/*.cruds system/AuditEvent.rs"


def operator_context(services: Services, request_id: str) -> RequestContext:
    """The context of an operator's command (import, reindex): full access, no token."""
    policy = AccessPolicy(tuple(parse_scopes(OPERATOR_SCOPES)), subject="operator")
    return RequestContext(services, Guard(policy, services.base_url), request_id)
