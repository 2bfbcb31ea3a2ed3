"""One entry of a batch or transaction Bundle (R4 bundle.html#transaction, http.html#trules): its
request parsed into an interaction, and that interaction run on the caller's connection."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, Gone, NotFound, Unprocessable
from ..fhir.references import is_valid_id
from ..search.registry import ResourceDefinition
from . import repository
from .audit import Access
from .conditional import (
    conditional_delete_in,
    conditional_update_in,
    create_in_if_none_exist,
    several_matches,
    target_of_conditional_update,
)
from .context import RequestContext
from .matching import matching_ids
from .patch import FHIRPATH_PATCH, JSON_PATCH, patch_in
from .references import reference_slots
from .repository import Version
from .search import search_type
from .versions import instant
from .write import create_in, delete_in, prepare_create, prepare_update, update_in

# R4 http.html#trules: deletes, then creates, then updates and patches, then reads
PROCESSING_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
_INTERACTIONS = {
    ("GET", 1): Interaction.SEARCH_TYPE,
    ("GET", 2): Interaction.READ,
    ("GET", 4): Interaction.VREAD,
    ("POST", 1): Interaction.CREATE,
    ("PUT", 1): Interaction.UPDATE,
    ("PUT", 2): Interaction.UPDATE,
    ("DELETE", 1): Interaction.DELETE,
    ("DELETE", 2): Interaction.DELETE,
    ("PATCH", 1): Interaction.PATCH,
    ("PATCH", 2): Interaction.PATCH,
}


@dataclass
class Entry:
    index: int
    full_url: str | None
    method: str
    url: str
    interaction: Interaction
    resource_type: str
    id: str | None = None
    version_id: str | None = None
    query: str = ""
    resource: object = None
    if_none_exist: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    definition: ResourceDefinition | None = None
    matched: Version | None = None  # conditional create that found its resource
    response: dict = field(default_factory=dict)
    resource_json: str | None = None
    location_id: str | None = None
    stored: bool = False  # it stored a version (whose AuditEvent the write listener stored with it)
    access: Access | None = None  # its own AuditEvent's worth (bundle.py)

    @property
    def conditional(self) -> bool:
        return self.id is None and bool(self.query) and self.method in ("PUT", "DELETE", "PATCH")

    @property
    def body(self) -> dict:
        """The resource of a POST, PUT or PATCH (parse_entry refuses those without one)."""
        assert isinstance(self.resource, dict)
        return self.resource

    @property
    def prepared_definition(self) -> ResourceDefinition:
        """The type's definition, set by prepare before anything else handles the entry."""
        assert self.definition is not None
        return self.definition

    def describe(self) -> str:
        return f"entry {self.index}" + (f" ({self.full_url})" if self.full_url else "") + f": {self.method} {self.url}"


def _etag_value(value):
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[2:].strip('"') if value.startswith("W/") else value.strip('"')


def parse_entry(ctx: RequestContext, index: int, raw) -> Entry:
    """The entry's request as an interaction; 400 when it is not one this server offers."""
    request = raw.get("request") if isinstance(raw, dict) else None
    if (
        not isinstance(request, dict)
        or not isinstance(request.get("method"), str)
        or not isinstance(request.get("url"), str)
    ):
        raise BadRequest(f"Bundle.entry[{index}] needs request.method and request.url")
    method, url = request["method"].upper(), request["url"]
    relative = url[len(ctx.base_url) + 1 :] if url.startswith(ctx.base_url + "/") else url
    path, _, query = relative.partition("?")
    parts = path.strip("/").split("/")
    interaction = _INTERACTIONS.get(("GET" if method == "HEAD" else method, len(parts)))
    if (
        interaction is None
        or (len(parts) == 4 and parts[2] != "_history")
        or (len(parts) == 1 and method in ("PUT", "DELETE", "PATCH") and not query)
    ):
        raise BadRequest(f"Bundle.entry[{index}]: {method} {url} is not an interaction this server offers")
    entry = Entry(
        index,
        raw.get("fullUrl"),
        method,
        url,
        interaction,
        parts[0],
        parts[1] if len(parts) > 1 else None,
        parts[3] if len(parts) == 4 else None,
        query,
        raw.get("resource"),
        request.get("ifNoneExist"),
        _etag_value(request.get("ifMatch")),
        _etag_value(request.get("ifNoneMatch")),
    )
    if entry.id is not None and not is_valid_id(entry.id):
        raise BadRequest(f"Bundle.entry[{index}]: '{entry.id}' is not a valid id")
    if method in ("POST", "PUT", "PATCH") and not isinstance(entry.resource, dict):
        raise BadRequest(f"Bundle.entry[{index}]: {method} needs a resource")
    return entry


def prepare(ctx: RequestContext, entry: Entry) -> None:
    """Access (the guard) and validation, before any database work."""
    if entry.method == "POST":
        entry.definition, entry.resource = prepare_create(ctx, entry.resource_type, entry.resource)
    elif entry.method == "PUT" and not entry.conditional:
        assert entry.id is not None  # only a conditional PUT has none
        entry.definition = prepare_update(ctx, entry.resource_type, entry.id, entry.resource)
    else:
        entry.definition = ctx.guard.definition(ctx.services.registry, entry.resource_type, entry.interaction)
        if entry.method == "PUT":
            ctx.services.validator.validate(entry.resource_type, entry.resource, strict=ctx.strict)


def unresolved_placeholders(entry: Entry) -> None:
    """urn:uuid references left after rewriting point at nothing in the Bundle (bundle.html#references)."""
    if entry.method not in ("POST", "PUT") or not isinstance(entry.resource, dict):
        return
    for holder, expression in reference_slots(entry.resource, entry.resource_type):
        if holder["reference"].startswith("urn:uuid:"):
            raise Unprocessable(
                f"Reference {holder['reference']} is not the fullUrl of a resource created in this transaction",
                expression=expression,
            )


def resolve_identity(ctx: RequestContext, conn, entry: Entry, new_id) -> str | None:
    """The `Type/id` the entry's fullUrl stands for, matching conditional creates and updates now."""
    if entry.method == "POST":
        if entry.if_none_exist:
            ids = matching_ids(ctx, conn, entry.prepared_definition, entry.if_none_exist, Interaction.CREATE)
            if len(ids) == 1:
                entry.matched = repository.read(ctx, conn, entry.prepared_definition, ids[0], Interaction.CREATE)
                entry.location_id = ids[0]
            elif len(ids) > 1:
                raise several_matches(entry.if_none_exist)
        entry.location_id = entry.location_id or new_id()
    elif entry.method == "PUT":
        if entry.conditional:
            entry.location_id = target_of_conditional_update(
                ctx, conn, entry.prepared_definition, entry.query, entry.body
            )
        else:
            entry.location_id = entry.id
    elif entry.method == "PATCH" and entry.id:
        entry.location_id = entry.id
    return f"{entry.resource_type}/{entry.location_id}" if entry.location_id else None


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def written(ctx: RequestContext, entry: Entry, version: Version, status: int, stored: bool = True) -> None:
    entry.stored = stored
    entry.response = {
        "status": _status(status),
        "location": f"{version.resource_type}/{version.id}/_history/{version.version_id}",
        "etag": f'W/"{version.version_id}"',
        "lastModified": instant(version.last_updated),
    }
    entry.resource_json = version.content
    entry.location_id = version.id


def _patch_body(entry: Entry):
    """A JSON Patch travels in a Binary (bundle.html#patch); a FHIRPath Patch is the Parameters itself."""
    resource = entry.body
    if resource.get("resourceType") != "Binary":
        return resource, FHIRPATH_PATCH
    try:
        return orjson.loads(base64.b64decode(resource.get("data", ""), validate=True)), JSON_PATCH
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise BadRequest(f"Bundle.entry[{entry.index}]: the Binary does not hold a JSON Patch") from None


def run(ctx: RequestContext, conn, entry: Entry, cascade: bool = False) -> None:
    """Perform the entry's interaction on conn; fill entry.response (and resource_json)."""
    definition, method = entry.prepared_definition, entry.method
    if method == "POST":
        if entry.matched is not None:
            return written(ctx, entry, entry.matched, 200, stored=False)
        if entry.if_none_exist and entry.location_id is None:  # batch: matched here, in its own transaction
            outcome = create_in_if_none_exist(ctx, conn, definition, entry.body, entry.if_none_exist)
            return written(ctx, entry, outcome.version, outcome.status, stored=outcome.status == 201)
        return written(ctx, entry, create_in(ctx, conn, definition, entry.body, entry.location_id), 201)
    if method == "PUT":
        if entry.conditional:
            outcome = conditional_update_in(
                ctx, conn, definition, entry.query, entry.body, entry.if_match, entry.location_id
            )
            return written(ctx, entry, outcome.version, outcome.status)
        assert entry.id is not None  # only a conditional PUT has none
        version, created = update_in(ctx, conn, definition, entry.id, entry.body, entry.if_match)
        return written(ctx, entry, version, 201 if created else 200)
    if method == "PATCH":
        body, kind = _patch_body(entry)
        target = entry.id
        if target is None:
            ids = matching_ids(ctx, conn, definition, entry.query, Interaction.PATCH)
            if not ids:
                raise NotFound(f"No {entry.resource_type} matches '{entry.query}'")
            if len(ids) > 1:
                raise several_matches(entry.query)
            target = ids[0]
        return written(ctx, entry, patch_in(ctx, conn, definition, target, body, kind, entry.if_match), 200)
    if method == "DELETE":
        if entry.conditional:
            entry.stored = bool(conditional_delete_in(ctx, conn, definition, entry.query, cascade))
        else:
            assert entry.id is not None  # only a conditional DELETE has none
            entry.stored = delete_in(ctx, conn, entry.resource_type, entry.id, entry.if_match, cascade) is not None
        entry.response = {"status": _status(204)}
        return None
    return _read(ctx, conn, entry)


def _read(ctx: RequestContext, conn, entry: Entry) -> None:
    if entry.interaction == Interaction.SEARCH_TYPE:
        bundle = search_type(ctx, entry.resource_type, parse_qsl(entry.query, keep_blank_values=True), conn=conn)
        entry.response = {"status": _status(200)}
        entry.resource_json = bundle.to_bytes().decode()
        return
    assert entry.id is not None  # a read or vread names its resource
    if entry.version_id is not None:
        version = (
            repository.read_version(ctx, conn, entry.prepared_definition, entry.id, int(entry.version_id))
            if entry.version_id.isdigit() and len(entry.version_id) < 10
            else None
        )
    else:
        version = repository.read(ctx, conn, entry.prepared_definition, entry.id)
    if version is None:
        raise NotFound(f"{entry.resource_type}/{entry.id} is not known")
    if version.deleted:
        raise Gone(f"{entry.resource_type}/{entry.id} was deleted")
    if entry.if_none_match == str(version.version_id):
        entry.response = {"status": _status(304), "etag": f'W/"{version.version_id}"'}
        return
    written(ctx, entry, version, 200, stored=False)
    entry.response.pop("location")
    if entry.method == "HEAD":
        entry.resource_json = None
