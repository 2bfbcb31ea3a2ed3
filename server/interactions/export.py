"""What a Bulk Data export reads (hl7.org/fhir/uv/bulkdata export.html): per resource type, a search
plan under the same access policy as a search (types, patient confinement, granular scopes), with
_since, _typeFilter (ORed per type), and the patients of a Patient- or Group-level export."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, Forbidden, Issue
from ..search.query import SearchParser, parse_since
from ..storage.index.date import DateCriterion, DateValue
from .context import RequestContext
from .read import read
from .repository import AnyOfCriterion, PatientsCriterion, SearchPlan

LEVELS = ("system", "patient", "group")


@dataclass(frozen=True)
class ExportRequest:
    """The kick-off's parameters, as stored with the job."""

    level: str  # system | patient | group
    group_id: str | None = None
    types: tuple[str, ...] | None = None  # _type
    since: str | None = None  # _since, an instant
    type_filters: tuple[tuple[str, str], ...] = ()  # _typeFilter: (type, query)
    patients: tuple[str, ...] | None = None  # patient (POST): Patient ids
    lenient: bool = False  # Prefer: handling=lenient: unsupported filters become error-file entries

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ExportRequest:
        return cls(
            data["level"],
            data.get("group_id"),
            tuple(data["types"]) if data.get("types") else None,
            data.get("since"),
            tuple(tuple(f) for f in data.get("type_filters", ())),
            tuple(data["patients"]) if data.get("patients") is not None else None,
            data.get("lenient", False),
        )


@dataclass
class ExportPlan:
    """What one job reads: a plan per type, and the problems a lenient request let through."""

    plans: list[SearchPlan]
    issues: list[Issue]
    patients: tuple[str, ...] | None = None  # a Patient- or Group-level export's patients, when it names them


def _exportable(ctx: RequestContext, resource_type: str) -> bool:
    return bool(ctx.guard.population_types(Interaction.SEARCH_TYPE, (resource_type,)))


def _candidate_types(ctx: RequestContext, level: str) -> tuple[str, ...]:
    registry = ctx.services.registry
    types = [t for t in registry.types if registry.definitions[t].supports("search-type")]
    if level == "system":
        return tuple(types)
    return tuple(t for t in types if t == "Patient" or registry.definitions[t].patient_compartment_params())


def _types(ctx: RequestContext, request: ExportRequest, issues: list[Issue]) -> list[str]:
    candidates = _candidate_types(ctx, request.level)
    if request.types is None:
        return [t for t in candidates if _exportable(ctx, t)]
    chosen = []
    for resource_type in request.types:
        if resource_type not in candidates:
            problem = (
                f"Resource type '{resource_type}' is not supported"
                if ctx.services.registry.get(resource_type) is None
                else f"{resource_type} is not in the patient compartment"
            )
            if not request.lenient:
                raise BadRequest(f"_type: {problem}", location="http._type")
            issues.append(Issue(f"_type: {problem}; it was skipped", "not-supported", "warning", ("_type",)))
        elif not _exportable(ctx, resource_type):
            raise Forbidden(f"The granted scopes do not allow exporting {resource_type}")
        else:
            chosen.append(resource_type)
    return list(dict.fromkeys(chosen))


def _type_filter(ctx: RequestContext, resource_type: str, query: str) -> tuple:
    """One _typeFilter's criteria (AND-ed), parsed by the search engine; result parameters are refused."""
    parser = SearchParser(ctx.services.registry.definitions[resource_type], ctx.base_url, 1, 1, ctx.services.registry)
    parsed = parser.parse(parse_qsl(query, keep_blank_values=True), strict=True)
    if parsed.includes or parsed.plan.sort or parsed.summary or parsed.elements or parsed.plan.cursor:
        raise BadRequest(
            f"_typeFilter '{resource_type}?{query}' may hold search criteria only", location="http._typeFilter"
        )
    return tuple(parsed.plan.criteria)


def _filters(ctx: RequestContext, request: ExportRequest, types: list[str], issues: list[Issue]) -> dict[str, list]:
    found: dict[str, list] = {}
    for resource_type, query in request.type_filters:
        try:
            if ctx.services.registry.get(resource_type) is None:
                raise BadRequest(f"Resource type '{resource_type}' is not supported")
            criteria = _type_filter(ctx, resource_type, query)
        except BadRequest as error:
            message = f"_typeFilter '{resource_type}?{query}': {error}"
            if not request.lenient:
                raise BadRequest(message, location="http._typeFilter") from None
            issues.append(Issue(f"{message}; it was not applied", "not-supported", "warning", ("_typeFilter",)))
            continue
        found.setdefault(resource_type, []).append(criteria)
    return found


def group_members(ctx: RequestContext, group_id: str) -> tuple[str, ...]:
    """The Patient ids of Group.member.entity, read through the access policy like any read."""
    content = read(ctx, "Group", group_id).content
    assert content is not None  # read answers 410 for a deletion, the one version without content
    group = orjson.loads(content)
    members = []
    for member in group.get("member", ()):
        reference = member.get("entity", {}).get("reference", "")
        resource_type, _, id = reference.removeprefix(ctx.base_url + "/").rpartition("/")
        if resource_type.rpartition("/")[2] == "Patient" and id:
            members.append(id.partition("/_history")[0])
    return tuple(dict.fromkeys(members))


def _patients(ctx: RequestContext, request: ExportRequest) -> tuple[str, ...] | None:
    if request.level == "system":
        return None
    patients = request.patients
    if request.level == "group":
        assert request.group_id is not None  # a group-level request always names its Group
        members = group_members(ctx, request.group_id)
        patients = members if patients is None else tuple(p for p in patients if p in set(members))
    return patients


def export_plan(ctx: RequestContext, request: ExportRequest) -> ExportPlan:
    """The search plans of an export, checked like a search would be; raises on what cannot run."""
    ctx.guard.require_population_scope()
    issues: list[Issue] = []
    types = _types(ctx, request, issues)
    filters = _filters(ctx, request, types, issues)
    since = parse_since(request.since) if request.since else None
    patients = _patients(ctx, request)
    plans = []
    for resource_type in types:
        ctx.guard.search_scope(Interaction.SEARCH_TYPE, [ctx.services.registry.definitions[resource_type]])  # 403s now
        plan = SearchPlan((resource_type,), total="none")
        if since is not None:
            plan.criteria.append(DateCriterion("_lastUpdated", (DateValue("ge", since, since),)))
        if resource_type in filters:
            plan.criteria.append(AnyOfCriterion(tuple(filters[resource_type])))
        if request.level != "system":
            plan.criteria.append(PatientsCriterion(patients))
        plans.append(plan)
    return ExportPlan(plans, issues, patients)
