"""Patient/{id}/$everything (R4 patient-operation-everything.html): the patient's compartment as a
searchset, with _since, _type and _count, keyset-paged like a search."""

from __future__ import annotations

from ..fhir.bundles import Bundle, BundleEntry
from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, Gone, NotFound
from ..fhir.references import require_valid_id
from ..search.query import parse_count, parse_cursor, parse_since
from ..storage.index.date import DateCriterion, DateValue
from . import repository
from .context import RequestContext
from .links import page_url, resource_url
from .repository import SearchPlan

_PARAMS = ("_since", "_type", "_count", "_cursor")


def patient_everything(ctx: RequestContext, id: str, pairs: list[tuple[str, str]]) -> Bundle:
    """Only the types the token may read without a granular (v2 query) restriction; a patient/
    token only its own patient (SMART scopes)."""
    definition = ctx.guard.definition(ctx.services.registry, "Patient", Interaction.READ)
    require_valid_id("Patient", id)
    query = _query(ctx, pairs)
    with ctx.services.database.connection() as conn:
        patient = repository.read(ctx, conn, definition, id)
        if patient is None:
            raise NotFound(f"Patient/{id} is not known")
        if patient.deleted:
            raise Gone(f"Patient/{id} was deleted")
        result = repository.compartment_page(ctx, conn, id, query)
    page = result.matches
    path = f"/Patient/{id}/$everything"
    kept = [(k, v) for k, v in pairs if k in _PARAMS and k != "_cursor"]
    links = {"self": page_url(ctx.base_url, path, list(pairs))}
    if page and result.more:
        links["next"] = page_url(ctx.base_url, path, kept + [("_cursor", str(page[-1].seq))])
    entries = [BundleEntry(resource_url(ctx.base_url, m.resource_type, m.id), m.content, "match") for m in page]
    return Bundle("searchset", entries, links, result.total)


def _query(ctx: RequestContext, pairs) -> SearchPlan:
    """The compartment as a search of the wanted types (the repository keeps the readable ones), in seq order."""
    plan = SearchPlan(ctx.services.registry.types, count=ctx.services.default_page_size)
    for name, value in pairs:
        if name == "_since":
            since = parse_since(value)
            plan.criteria.append(DateCriterion("_lastUpdated", (DateValue("ge", since, since),)))
        elif name == "_type":
            wanted = [t.strip() for t in value.split(",") if t.strip()]
            unknown = [t for t in wanted if t not in ctx.services.registry.definitions]
            if unknown:
                raise BadRequest(
                    f"_type names types this server does not hold: {', '.join(unknown)}", location="http._type"
                )
            plan.resource_types = tuple(t for t in plan.resource_types if t in wanted)
        elif name == "_count":
            plan.count = parse_count(value, ctx.services.max_page_size)
        elif name == "_cursor":
            plan.cursor = ("after", (), parse_cursor(value))
        elif name not in ("_format", "_pretty"):
            raise BadRequest(f"Parameter '{name}' is not supported by $everything", location=f"http.{name}")
    return plan
