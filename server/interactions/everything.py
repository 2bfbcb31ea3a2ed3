"""Patient/{id}/$everything (R4 patient-operation-everything.html): the patient's compartment as a
searchset, with _since, _type and _count, keyset-paged like a search."""
from __future__ import annotations

from ..fhir.bundles import Bundle, BundleEntry
from ..fhir.outcomes import BadRequest, Gone, NotFound
from ..fhir.references import require_valid_id
from ..search.query import parse_count, parse_cursor, parse_since
from ..storage.index.date import DateCriterion, DateValue
from ..storage.search import SearchPlan, search_page
from ..storage.resources import read_current
from .context import RequestContext
from .links import page_url, resource_url
from .versions import in_patient_scope

_PARAMS = ("_since", "_type", "_count", "_cursor")


def patient_everything(ctx: RequestContext, id: str, pairs: list[tuple[str, str]]) -> Bundle:
    """Only the types the token may read without a granular (v2 query) restriction; a patient/
    token only its own patient (SMART scopes)."""
    ctx.definition("Patient", "read")
    require_valid_id("Patient", id)
    if not in_patient_scope(ctx, ctx.policy.compartment_patient("read", "Patient"), id):
        raise NotFound(f"Patient/{id} is not known")
    query = _query(ctx, id, pairs)
    with ctx.services.database.connection() as conn:
        patient = read_current(conn, "Patient", id)
        if patient is None:
            raise NotFound(f"Patient/{id} is not known")
        if patient.deleted:
            raise Gone(f"Patient/{id} was deleted")
        result = search_page(conn, query)
    page = result.matches
    path = f"/Patient/{id}/$everything"
    kept = [(k, v) for k, v in pairs if k in _PARAMS and k != "_cursor"]
    links = {"self": page_url(ctx.base_url, path, list(pairs))}
    if page and result.more:
        links["next"] = page_url(ctx.base_url, path, kept + [("_cursor", str(page[-1].seq))])
    entries = [BundleEntry(resource_url(ctx.base_url, m.resource_type, m.id), m.content, "match") for m in page]
    return Bundle("searchset", entries, links, result.total)


def _readable_types(ctx: RequestContext, patient_id: str) -> tuple[str, ...]:
    types = []
    for resource_type in ctx.services.registry.types:
        if ctx.policy.allows("read", resource_type) and ctx.policy.granular_queries("read", resource_type) is None \
                and in_patient_scope(ctx, ctx.policy.compartment_patient("read", resource_type), patient_id):
            types.append(resource_type)
    return tuple(types)


def _query(ctx: RequestContext, patient_id: str, pairs) -> SearchPlan:
    """The compartment as a search of the readable types confined to the patient, in seq order."""
    plan = SearchPlan(_readable_types(ctx, patient_id), compartment_patient=patient_id,
                      count=ctx.services.default_page_size)
    for name, value in pairs:
        if name == "_since":
            since = parse_since(value)
            plan.criteria.append(DateCriterion("_lastUpdated", (DateValue("ge", since, since),)))
        elif name == "_type":
            wanted = [t.strip() for t in value.split(",") if t.strip()]
            unknown = [t for t in wanted if t not in ctx.services.registry.definitions]
            if unknown:
                raise BadRequest(f"_type names types this server does not hold: {', '.join(unknown)}",
                                 location="http._type")
            plan.resource_types = tuple(t for t in plan.resource_types if t in wanted)
        elif name == "_count":
            plan.count = parse_count(value, ctx.services.max_page_size)
        elif name == "_cursor":
            plan.cursor = ("after", (), parse_cursor(value))
        elif name not in ("_format", "_pretty"):
            raise BadRequest(f"Parameter '{name}' is not supported by $everything", location=f"http.{name}")
    return plan
