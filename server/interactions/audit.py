"""Auditing an access, for the AuditEvent trail (server/audit/). The API for interactions and
operations:

    audit.record(ctx, Interaction.OPERATION, entities=[("Patient", "7")], patients=["7"], subtype="$everything")

Within an HTTP request (ctx.access is the request's Access) this only notes what was touched; the
HTTP edge writes one AuditEvent when the response's status is known (a write's AuditEvent is stored
in the write's own transaction instead, by the write listener). Outside a request (a CLI command),
or with `outcome` given (an HTTP status, or 0 for success), the AuditEvent is recorded at once.
Reads are appended in batches by a background writer, so they never pay a transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ..fhir.interactions import Interaction


@dataclass
class Access:
    """Who did what, when, with which outcome, from where: one AuditEvent's worth."""

    interaction: str | None = None  # restful-interaction code (read, search-type, ...), or "operation"
    subtype: str | None = None  # the operation's name ($everything), when interaction is "operation"
    resource_type: str | None = None
    entities: list[tuple[str, str]] = field(default_factory=list)  # (type, id) of the resources touched
    patients: set[str] = field(default_factory=set)  # ids of the patients whose data it concerned
    outcome: int | None = None  # HTTP status
    description: str | None = None  # why it failed
    policy: object = None  # the AccessPolicy (client_id, fhirUser, subject), None without a valid token
    client_id: str | None = None  # the client_id a token request claimed (authenticated only if it succeeded)
    address: str | None = None  # the client's network address
    request_id: str = "-"
    method: str | None = None
    path: str | None = None
    query: str | None = None
    recorded: datetime = field(default_factory=lambda: datetime.now(UTC))
    counts: dict[str, int] = field(default_factory=dict)  # resources per type an operator's command handled
    written: bool = False  # its AuditEvents are recorded already: with its writes, or one per Bundle entry

    def saw(self, resource_type: str, id: str, patient_id: str | None) -> None:
        self.entities.append((resource_type, id))
        if patient_id is not None:
            self.patients.add(patient_id)


class AuditSink(Protocol):
    def append(self, access: Access) -> None: ...

    def flush(self) -> int:
        """Store what is buffered now (a command line process, before it closes its database)."""
        ...


def saw(ctx, versions: Iterable, entities: bool = True) -> None:
    """Note stored versions or search matches (anything with resource_type, id, patient_id) as
    returned by this request; `entities=False`: only their patients (a search lists the patients)."""
    access = ctx.access
    if access is None:
        return
    for version in versions:
        if entities:
            access.entities.append((version.resource_type, version.id))
        if version.patient_id is not None:
            access.patients.add(version.patient_id)


def record(
    ctx,
    interaction: Interaction,
    entities: Iterable[tuple[str, str]] = (),
    patients: Iterable[str] = (),
    outcome: int | None = None,
    subtype: str | None = None,
    query: str | None = None,
    description: str | None = None,
    counts: dict[str, int] | None = None,
) -> None:
    """Audit an access: see the module docstring."""
    access = ctx.access
    if access is not None and outcome is None:
        access.interaction = access.interaction or interaction
        access.subtype = access.subtype or subtype
        access.entities.extend(entities)
        access.patients.update(patients)
        return
    sink = ctx.services.audit
    if sink is None:
        return
    sink.append(
        Access(
            interaction,
            subtype,
            None,
            list(entities),
            set(patients),
            0 if outcome is None else outcome,
            policy=ctx.guard.policy,
            request_id=ctx.request_id,
            query=query,
            address=access.address if access else None,
            description=description,
            counts=dict(counts or {}),
        )
    )


def part(
    ctx,
    interaction: str | None,
    resource_type: str | None = None,
    entities: Iterable[tuple[str, str]] = (),
    method: str | None = None,
    path: str | None = None,
    query: str | None = None,
) -> Access:
    """The Access of one part of the request (a batch or transaction entry), recorded on its own by
    `close`: every entry has its AuditEvent with its own outcome, failed and refused ones included."""
    request = ctx.access
    return Access(
        interaction,
        None,
        resource_type,
        list(entities),
        policy=ctx.guard.policy,
        address=request.address if request else None,
        request_id=ctx.request_id,
        method=method,
        path=path,
        query=query,
    )


def close(ctx, access: Access, status: int, description: str | None = None) -> None:
    """Record a part's AuditEvent with its outcome (an HTTP status; 0 for success)."""
    sink = ctx.services.audit
    if sink is None:
        return
    access.outcome, access.description = status, description
    sink.append(access)


def parts_recorded(ctx) -> None:
    """The request's parts recorded their AuditEvents: the request needs none of its own."""
    if ctx.access is not None:
        ctx.access.written = True
