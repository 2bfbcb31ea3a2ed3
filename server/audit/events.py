"""An Access as an AuditEvent in the shapes of IHE Basic Audit Log Patterns (BALP 1.1: Read, Query,
Create, Update, Delete, with their Patient variants; profiles.ihe.net/ITI/BALP): type `rest`, subtype
the restful-interaction, the client (Source Role ID) and this server (Destination Role ID) as
agents with their network addresses, the user as requestor, and as entities the resources, the
patients concerned, the query and the X-Request-ID."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import orjson

from ..interactions.audit import Access
from ..interactions.write_path import instant
from ..storage.audit_events import encoded, key_set
from .rows import own_rows, shape_rows

if TYPE_CHECKING:
    from ..auth.policy import AccessPolicy

DCM = "http://dicom.nema.org/resources/ontology/DCM"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
BALP_ENTITY_TYPE = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
# type and subtype carry no display: each display would be one more (trigram-indexed) :text row per event
REST = {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"}
LOGIN = ({"system": DCM, "code": "110114"}, {"system": DCM, "code": "110122"})  # User Authentication, Login
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
# R4 valueset-audit-event-action: C create, R read/view, U update, D delete, E execute
ACTION = {"create": "C", "read": "R", "vread": "R", "update": "U", "patch": "U", "delete": "D", "history-instance": "R"}
# BALP profile per interaction (the Patient variant when a patient is concerned)
PROFILE = {
    "create": "Create",
    "read": "Read",
    "vread": "Read",
    "update": "Update",
    "patch": "Update",
    "delete": "Delete",
    "search-type": "Query",
    "search-system": "Query",
    "history-type": "Query",
    "history-system": "Query",
    "history-instance": "Query",
}
QUERIES = frozenset({"search-type", "search-system", "history-type", "history-system", "history-instance"})
SOURCE_TYPE = [
    {
        "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
        "code": "4",
        "display": "Application Server",
    }
]
MAX_ENTITIES = 1000  # an import batch lists its resources up to this many


def outcome_code(status: int) -> str:
    """R4 valueset-audit-event-outcome: 0 success, 4 minor failure (the request was refused), 8 serious."""
    return "0" if status < 400 else "4" if status < 500 else "8"


def _coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


# entity types and roles, shared by every event (like EventShape's fields: never to be changed)
SYSTEM_OBJECT = _coding(ENTITY_TYPE, "2", "System Object")
PERSON = _coding(ENTITY_TYPE, "1", "Person")
QUERY_ROLE = _coding(OBJECT_ROLE, "24", "Query")
DOMAIN_RESOURCE_ROLE = _coding(OBJECT_ROLE, "4", "Domain Resource")
PATIENT_ROLE = _coding(OBJECT_ROLE, "1", "Patient")
JOB_ROLE = _coding(OBJECT_ROLE, "20", "Job")
REQUEST_ID_TYPE = {"system": BALP_ENTITY_TYPE, "code": "XrequestId"}


def _agents_of(
    authenticated: bool,
    client_id: str | None,
    fhir_user: str | None,
    subject: str | None,
    claimed: str | None,
    refused: bool,
    address: str | None,
    base_url: str,
    writes: bool,
) -> list[dict]:
    client = {
        "type": {"coding": [_coding(DCM, "110153", "Source Role ID")]},
        "requestor": False,
        "who": {"display": "unauthenticated client"},
    }
    if authenticated and client_id:
        client["who"] = {"identifier": {"system": f"{base_url}/auth/clients", "value": client_id}}
    elif authenticated:
        client["who"] = {"display": "fhir-server command line"}
    elif claimed:
        # a token request: the client it claimed to be (BALP: the client as who.identifier); a refused one
        # says that the claim was not authenticated. Its secret or assertion is never recorded.
        who: dict = {"identifier": {"system": f"{base_url}/auth/clients", "value": claimed}}
        if refused:
            who["display"] = "claimed client_id, not authenticated"
        client["who"] = who
    if address:
        client["network"] = {"address": address, "type": "2"}
    server = {
        "type": {"coding": [_coding(DCM, "110152", "Destination Role ID")]},
        "requestor": False,
        "who": {"display": "fhir-server"},
        "network": {"address": base_url, "type": "5"},
    }
    agents = [client, server]
    if authenticated and (fhir_user or subject):
        role = (
            _coding(PARTICIPATION, "AUT", "author (originator)")
            if writes
            else _coding(PARTICIPATION, "IRCP", "information recipient")
        )
        user: dict = {"type": {"coding": [role]}, "requestor": True}
        user["who"] = {"reference": fhir_user} if fhir_user else {"display": subject}
        if subject:
            user["altId"] = subject
        agents.append(user)
    return agents


def _entities(access: Access, interaction: str) -> list[dict]:
    entities: list[dict] = []
    if interaction in QUERIES and access.path is not None:
        # BALP Query: the request as received, base64 (AuditEvent.entity.query)
        request = f"{access.method or 'GET'} {access.path}" + (f"?{access.query}" if access.query else "")
        entities.append(
            {
                "type": SYSTEM_OBJECT,
                "role": QUERY_ROLE,
                "query": base64.b64encode(request.encode()).decode(),
            }
        )
    if interaction not in QUERIES:
        for resource_type, id in dict.fromkeys(access.entities[:MAX_ENTITIES]):
            entities.append(
                {
                    "what": {"reference": f"{resource_type}/{id}"},
                    "type": SYSTEM_OBJECT,
                    "role": DOMAIN_RESOURCE_ROLE,
                }
            )
    for patient in sorted(access.patients)[:MAX_ENTITIES]:
        entities.append(
            {
                "what": {"reference": f"Patient/{patient}"},
                "type": PERSON,
                "role": PATIENT_ROLE,
            }
        )
    if access.counts:
        # an operator's command (reindex): the run as a Job, with how many resources of each type it handled
        entities.append(
            {
                "type": SYSTEM_OBJECT,
                "role": JOB_ROLE,
                "name": access.subtype or interaction,
                "detail": [{"type": t, "valueString": str(n)} for t, n in sorted(access.counts.items())],
            }
        )
    if access.request_id and access.request_id != "-":
        entities.append(
            {
                "what": {"identifier": {"value": access.request_id}},
                "type": REQUEST_ID_TYPE,
            }
        )
    return entities


def audit_event(access: Access, base_url: str, recorded: datetime | None = None) -> dict:
    """The AuditEvent (R4 auditevent.html) of one access."""
    return _event(event_shape(access, base_url), access, recorded)


# id, lastUpdated, meta.profile, recorded, entity (the rest of meta as write_path.prepare sets it for a first version)
OWN_MEMBERS = b'{"resourceType":"AuditEvent","id":%b,"meta":{"versionId":"1","lastUpdated":"%b"%b},"recorded":"%b"%b}'


def rendered_event(access: Access, base_url: str, id: str) -> tuple[bytes, dict] | None:
    """The AuditEvent of one access as stored: the JSON of its own members, id and meta as write_path.prepare makes
    them, and its index rows as storage keeps them, with the members it shares with the other events of its shape
    (serialized once for them all), which storage keeps once and reads back with it (storage/audit_events.Shape);
    tests/audit keeps the whole equal to what prepare makes of audit_event's. None when its rows need the generic
    extraction."""
    shape = event_shape(access, base_url)
    entities = _entities(access, access.interaction or "operation")
    own = own_rows(entities)
    if shape.keys is None or own is None:
        return None
    stamp = instant(access.recorded).encode()
    entity = b',"entity":' + orjson.dumps(entities) if entities else b""
    content = OWN_MEMBERS % (orjson.dumps(id), stamp, shape.profile, stamp, entity)
    return content, encoded(shape.keys, own, access.recorded, shape.members)


def _event(shape: EventShape, access: Access, recorded: datetime | None = None) -> dict:
    event = {"resourceType": "AuditEvent", **shape.fields, "recorded": instant(recorded or access.recorded)}
    entities = _entities(access, access.interaction or "operation")
    if entities:
        event["entity"] = entities
    return event


@dataclass(frozen=True)
class EventShape:
    """What the events of one client, user, address, interaction and outcome share: every element but
    recorded and entity (shared, never to be changed), and the search keys of their index rows (audit/rows.py,
    storage/audit_events.key_set), computed once for all those events."""

    fields: dict
    keys: frozenset[str] | None  # the search keys of the fields' index rows (None: needs the generic extraction)
    members: str  # the fields but meta as the end of a JSON object: `,"type":...}`
    profile: bytes  # meta.profile as a JSON member after a comma, or nothing


def event_shape(access: Access, base_url: str) -> EventShape:
    policy = cast("AccessPolicy | None", access.policy)  # Access.policy is typed object (interactions/audit.py)
    claimed = None if policy is not None else access.client_id
    return _shape_of(
        access.interaction or "operation",
        access.subtype,
        access.outcome or 0,
        access.description,
        bool(access.patients),
        policy is not None,
        policy.client_id if policy is not None else None,
        policy.fhir_user if policy is not None else None,
        policy.subject if policy is not None else None,
        claimed,
        access.address,
        base_url,
    )


@lru_cache(maxsize=4096)
def _shape_of(
    interaction: str,
    operation: str | None,
    status: int,
    description: str | None,
    patients: bool,
    authenticated: bool,
    client_id: str | None,
    fhir_user: str | None,
    subject: str | None,
    claimed: str | None,
    address: str | None,
    base_url: str,
) -> EventShape:
    if interaction == "login":
        event_type, subtype = LOGIN
    else:
        event_type = REST
        subtype = {
            "system": INTERACTION_SYSTEM,
            "code": interaction
            if interaction in ACTION
            or interaction in QUERIES
            or interaction in ("batch", "transaction", "capabilities")
            else "operation",
        }
    subtypes = [subtype]
    if operation:
        subtypes.append({"system": f"{base_url}/OperationDefinition", "code": operation})
    writes = ACTION.get(interaction) in ("C", "U", "D")
    refused = bool(claimed) and status >= 400
    fields = {
        "type": event_type,
        "subtype": subtypes,
        "action": ACTION.get(interaction, "E"),
        "outcome": outcome_code(status),
        "agent": _agents_of(authenticated, client_id, fhir_user, subject, claimed, refused, address, base_url, writes),
        "source": {"site": base_url, "observer": {"display": "fhir-server"}, "type": SOURCE_TYPE},
    }
    if status >= 400 or description:
        fields["outcomeDesc"] = description or f"HTTP {status}"
    profile = b""
    if interaction in PROFILE:
        profiles = [BALP + ("Patient" if patients else "") + PROFILE[interaction]]
        fields["meta"] = {"profile": profiles}
        profile = b',"profile":' + orjson.dumps(profiles)
    rows = shape_rows(fields)
    members = "," + orjson.dumps({name: value for name, value in fields.items() if name != "meta"}).decode()[1:]
    return EventShape(fields, None if rows is None else key_set(rows), members, profile)
