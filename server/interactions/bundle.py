"""batch and transaction (R4 http.html#transaction, bundle.html#transaction).

A transaction is all-or-nothing in one database transaction: entries are checked and validated
first, then deletes, creates, updates/patches and reads run in that order on one connection, with
every fullUrl (urn:uuid or absolute) rewritten to the id it received. A batch runs each entry in
its own transaction and reports each entry's own outcome.

Every entry has its own AuditEvent with its own outcome: a stored version's is stored with it (the
write listener); the others' (reads, failures, refusals, writes that stored nothing, and every entry
of a transaction that failed) are recorded here."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import UTC, datetime
from http import HTTPStatus

import orjson

from ..fhir.outcomes import BadRequest, Conflict, FhirError, Issue, operation_outcome
from ..storage.database import DatabaseUnavailable, TransactionConflict
from ..storage.pipeline import pipelined
from ..storage.resources import lock_resources
from . import audit, write_path
from .audit import Access
from .bulk_create import CreateFailed, NewResource, create_many_in
from .bundle_entries import (
    PROCESSING_ORDER,
    Entry,
    parse_entry,
    prepare,
    resolve_identity,
    run,
    unresolved_placeholders,
    written,
)
from .context import RequestContext
from .references import has_conditional_references, reference_slots
from .versions import instant, new_id

log = logging.getLogger(__name__)
MAX_ENTRIES = 10_000
CONFLICT_ATTEMPTS = 4
WRITES = frozenset({"PUT", "PATCH", "DELETE"})
_RESOURCE_ROOT = re.compile(r"^[A-Z][A-Za-z]+(?=$|[.\[])")  # the type a validation path starts at


class EntryFailed(FhirError):
    """A transaction entry's error, with the entry named; keeps the entry's own status."""

    def __init__(self, entry_index: int, description: str, error: FhirError):
        super().__init__(
            f"Transaction failed at {description}: {error}",
            issues=[
                Issue(
                    f"Transaction failed at {description}; nothing was stored",
                    error.code,
                    expression=(f"Bundle.entry[{entry_index}]",),
                ),
                *in_entry(entry_index, error.issues),
            ],
            headers=error.headers,
        )
        self.status, self.code = error.status, error.code
        self.entry_index, self.reason = entry_index, str(error)


def in_entry(entry_index: int, issues) -> list[Issue]:
    """Issues about an entry's resource, their expressions rooted in the Bundle that was sent
    (`Patient.gender` -> `Bundle.entry[1].resource.gender`), where the client finds them."""
    root = f"Bundle.entry[{entry_index}].resource"
    return [
        dataclasses.replace(
            issue,
            expression=tuple(
                _RESOURCE_ROOT.sub(root, path, count=1) if not path.startswith("Bundle.") else path
                for path in issue.expression
            ),
        )
        for issue in issues
    ]


def _raw_entries(bundle, kind: str) -> list:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BadRequest("POST to the base URL takes a Bundle of type batch or transaction")
    if bundle.get("type") != kind:
        raise BadRequest(f"Bundle.type must be {kind}", expression="Bundle.type")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise BadRequest(f"Bundle.entry must be a list of at most {MAX_ENTRIES} entries", expression="Bundle.entry")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):  # R4 json.html: null is never a value; an entry is an object
            raise BadRequest(
                f"Bundle.entry[{index}] must be an object, found {orjson.dumps(entry).decode()[:32]}",
                expression=f"Bundle.entry[{index}]",
            )
    return entries


def process(ctx: RequestContext, bundle, minimal: bool = False) -> bytes:
    """POST [base] with a batch or transaction Bundle."""
    kind = bundle.get("type") if isinstance(bundle, dict) else None
    if kind == "transaction":
        pristine = orjson.dumps(bundle)  # a transaction rewrites its entries as it goes
        return _retrying_conflicts(lambda last: transaction(ctx, orjson.loads(pristine), minimal, last))
    return batch(ctx, bundle, minimal)


def _retrying_conflicts(run):
    """Two transactions that write the same resources in opposite orders deadlock; PostgreSQL
    aborts one. That one wrote nothing, so it runs again (on a fresh copy of the Bundle).
    `run(last)`: last is True on the final attempt."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            return run(attempt == CONFLICT_ATTEMPTS - 1)
        except TransactionConflict as conflict:
            if attempt == CONFLICT_ATTEMPTS - 1:
                raise _conflict(conflict) from None
    raise AssertionError("unreachable: the last attempt returns or raises")


def _conflict(conflict: TransactionConflict) -> Conflict:
    return Conflict(f"Conflicted with concurrent writes and was not applied; send it again ({conflict})")


def transaction(ctx: RequestContext, bundle, minimal: bool = False, last: bool = True) -> bytes:
    """All entries or none; each entry's AuditEvent has the transaction's outcome (`last`: a conflict
    is not retried, so it is the outcome)."""
    raws = _raw_entries(bundle, "transaction")
    accesses = [_parsed_access(ctx, index, raw) for index, raw in enumerate(raws)]
    try:
        response, entries = _transaction(ctx, raws, accesses, minimal)
    except FhirError as error:
        _failed(ctx, accesses, error.status, error)
        raise
    except TransactionConflict as conflict:
        if last:
            _failed(ctx, accesses, 409, _conflict(conflict))
        raise
    except DatabaseUnavailable:
        _failed(ctx, accesses, 503, None)
        raise
    for entry in entries:
        _audited(ctx, entry)
    audit.parts_recorded(ctx)
    return response


def _failed(ctx: RequestContext, accesses: list[Access], status: int, error: FhirError | None) -> None:
    """A failed transaction stored nothing: every entry's AuditEvent is a failure, the failing one's with its reason."""
    failing = error.entry_index if isinstance(error, EntryFailed) else None
    reason = error.reason if isinstance(error, EntryFailed) else str(error) if error else "The database is unavailable"
    for index, access in enumerate(accesses):
        if index == failing:
            audit.close(ctx, access, status, reason)
        else:
            audit.close(ctx, access, status, f"Not applied: the transaction failed ({reason})")
    if accesses:
        audit.parts_recorded(ctx)


def _transaction(ctx: RequestContext, raws: list, accesses: list[Access], minimal: bool) -> tuple[bytes, list[Entry]]:
    entries = []
    for index, raw in enumerate(raws):
        try:
            entry = parse_entry(ctx, index, raw)
            entry.access = accesses[index]
            prepare(_of(ctx, entry), entry)
        except FhirError as error:
            raise EntryFailed(index, _described(index, raw), error) from None
        entries.append(entry)
    _no_duplicate_targets(entries)
    ordered = sorted(entries, key=lambda e: (PROCESSING_ORDER[e.method], e.index))
    with write_path.transaction(ctx) as conn:
        lock_resources(conn, [(e.resource_type, e.id) for e in entries if e.id and e.method in WRITES])
        with pipelined(conn):
            for entry in (e for e in ordered if e.method == "DELETE"):
                _guarded(entry, lambda e=entry: run(_of(ctx, e), conn, e))
        mapping = {}
        for entry in ordered:
            if entry.method != "DELETE":
                identity = _guarded(entry, lambda e=entry: resolve_identity(_of(ctx, e), conn, e, new_id))
                if identity and entry.full_url:
                    mapping[entry.full_url] = identity
        ctx = dataclasses.replace(
            ctx,
            pending_targets=frozenset(
                (e.resource_type, e.location_id) for e in entries if e.method in ("POST", "PUT") and e.location_id
            ),
        )
        for entry in entries:
            _rewrite(entry, mapping)
            _guarded(entry, lambda e=entry: unresolved_placeholders(e))
        creates: list[Entry] = []  # plain creates go in together, through the bulk path
        for entry in (e for e in ordered if e.method != "DELETE"):
            if entry.method == "POST" and entry.matched is None and not has_conditional_references(entry.body):
                creates.append(entry)
                continue
            _create_together(ctx, conn, creates)  # a conditional reference may name one of them
            with pipelined(conn):
                _guarded(entry, lambda e=entry: run(_of(ctx, e), conn, e))
        _create_together(ctx, conn, creates)
    return _response(ctx, "transaction-response", entries, minimal), entries


def _of(ctx: RequestContext, entry: Entry) -> RequestContext:
    """The entry's context: what it reads is noted in its own Access."""
    return dataclasses.replace(ctx, access=entry.access)


def _entry_access(ctx: RequestContext, entry: Entry) -> Access:
    path, _, query = entry.url.partition("?")
    named = [(entry.resource_type, entry.id)] if entry.id else []
    return audit.part(ctx, entry.interaction, entry.resource_type, named, entry.method, path, query or None)


def _parsed_access(ctx: RequestContext, index: int, raw) -> Access:
    try:
        return _entry_access(ctx, parse_entry(ctx, index, raw))
    except FhirError:
        return _raw_access(ctx, "transaction", raw)


def _raw_access(ctx: RequestContext, kind: str, raw) -> Access:
    """An entry's Access before (or without) its request parsing as an interaction: named as the Bundle's."""
    request = raw.get("request") if isinstance(raw, dict) else None
    method = request.get("method") if isinstance(request, dict) else None
    url = request.get("url") if isinstance(request, dict) else None
    path, _, query = url.partition("?") if isinstance(url, str) else ("", "", "")
    return audit.part(ctx, kind, None, (), method if isinstance(method, str) else None, path or None, query or None)


def _audited(ctx: RequestContext, entry: Entry) -> None:
    """A successful entry's AuditEvent, unless the write listener stored it with the entry's version."""
    if not entry.stored and entry.access is not None:
        audit.close(ctx, entry.access, int(entry.response["status"][:3]))


def _new_resource(entry: Entry) -> NewResource:
    assert entry.location_id is not None  # resolve_identity gives each POST its id
    return NewResource(entry.prepared_definition, entry.body, entry.location_id)


def _create_together(ctx: RequestContext, conn, creates: list[Entry]) -> None:
    if not creates:
        return
    items = [_new_resource(entry) for entry in creates]
    try:
        versions = create_many_in(ctx, conn, items)
    except CreateFailed as failed:
        entry = creates[failed.index]
        raise EntryFailed(entry.index, entry.describe(), failed.error) from None
    for entry, version in zip(creates, versions, strict=False):
        written(ctx, entry, version, 201)  # stored: the write listener stored its AuditEvent
    creates.clear()


def batch(ctx: RequestContext, bundle, minimal: bool = False) -> bytes:
    """Each entry alone: its own transaction, its own status or OperationOutcome (http.html#transaction)."""
    results: list[Entry | tuple[int, FhirError]] = []
    parsed = []
    for index, raw in enumerate(_raw_entries(bundle, "batch")):
        try:
            parsed.append(parse_entry(ctx, index, raw))
        except FhirError as error:
            results.append((index, error))
            audit.close(ctx, _raw_access(ctx, "batch", raw), error.status, str(error))
    for entry in sorted(parsed, key=lambda e: (PROCESSING_ORDER[e.method], e.index)):
        entry.access = _entry_access(ctx, entry)
        failure = _alone(_of(ctx, entry), entry)
        if failure is None:
            results.append(entry)
            _audited(ctx, entry)
        else:
            results.append((entry.index, failure))
            audit.close(ctx, entry.access, failure.status, str(failure))
    if results:
        audit.parts_recorded(ctx)
    results.sort(key=lambda r: r[0] if isinstance(r, tuple) else r.index)
    return _response(ctx, "batch-response", results, minimal)


def _alone(ctx: RequestContext, entry: Entry) -> FhirError | None:
    """Run a batch entry in its own transaction; its error, or None."""
    try:
        prepare(ctx, entry)
        unresolved_placeholders(entry)
        with write_path.transaction(ctx) as conn:
            run(ctx, conn, entry)
        return None
    except FhirError as error:
        return error
    except TransactionConflict as conflict:
        return _conflict(conflict)
    except DatabaseUnavailable:  # no later entry would fare better: the whole batch is a 503
        assert entry.access is not None
        audit.close(ctx, entry.access, 503, "The database is unavailable")
        raise
    except Exception:  # one broken entry must not hide the others' outcomes
        log.exception("batch entry failed", extra={"entry": entry.index, "request_id": ctx.request_id})
        return FhirError("Internal error processing this entry")


def _described(index: int, raw) -> str:
    request = raw.get("request", {}) if isinstance(raw, dict) else {}
    full_url = f" ({raw['fullUrl']})" if isinstance(raw, dict) and isinstance(raw.get("fullUrl"), str) else ""
    what = f": {request.get('method')} {request.get('url')}" if isinstance(request, dict) else ""
    return f"entry {index}{full_url}{what}"


def _guarded(entry: Entry, action):
    try:
        return action()
    except FhirError as error:
        raise EntryFailed(entry.index, entry.describe(), error) from None


def _no_duplicate_targets(entries: list[Entry]) -> None:
    """R4 http.html#transaction: no two entries may write the same resource."""
    seen: dict[str, int] = {}
    for entry in entries:
        if entry.method in ("PUT", "DELETE", "PATCH") and entry.id:
            key = f"{entry.resource_type}/{entry.id}"
            if key in seen:
                raise BadRequest(
                    f"Entries {seen[key]} and {entry.index} both change {key}",
                    expression=f"Bundle.entry[{entry.index}]",
                )
            seen[key] = entry.index


def _rewrite(entry: Entry, mapping: dict[str, str]) -> None:
    """fullUrl references -> Type/id, in the resource and in the request's search criteria."""
    if isinstance(entry.resource, dict):
        for holder, _ in reference_slots(entry.resource, entry.resource_type):
            target = mapping.get(holder["reference"])
            if target:
                holder["reference"] = target
    for placeholder, target in mapping.items():
        if entry.query and placeholder in entry.query:
            entry.query = entry.query.replace(placeholder, target)
        if entry.if_none_exist and placeholder in entry.if_none_exist:
            entry.if_none_exist = entry.if_none_exist.replace(placeholder, target)


def _response(ctx: RequestContext, kind: str, results, minimal: bool) -> bytes:
    """The response Bundle, entries in the request's order; stored JSON embedded as-is."""
    entries = []
    for result in results:
        if isinstance(result, tuple):
            index, error = result
            entries.append(
                {
                    "response": {
                        "status": f"{error.status} {HTTPStatus(error.status).phrase}",
                        "outcome": operation_outcome(in_entry(index, error.issues)),
                    }
                }
            )
            continue
        entry: dict = {}
        if result.location_id and result.method != "DELETE":
            entry["fullUrl"] = f"{ctx.base_url}/{result.resource_type}/{result.location_id}"
        if result.resource_json is not None and not (minimal and result.method != "GET"):
            entry["resource"] = orjson.Fragment(result.resource_json)
        entry["response"] = result.response
        entries.append(entry)
    bundle: dict[str, object] = {
        "resourceType": "Bundle",
        "type": kind,
        "timestamp": instant(datetime.now(UTC)),
    }
    if entries:
        bundle["entry"] = entries
    return orjson.dumps(bundle)
