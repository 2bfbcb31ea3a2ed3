"""_summary and _elements (R4 search.html#summary, #elements): a subset of each resource, marked
with the SUBSETTED tag as the spec requires."""

from __future__ import annotations

import orjson

from .models import mandatory_elements, summary_elements

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
_ALWAYS = frozenset({"resourceType", "id", "meta"})


def _kept(resource_type: str, summary: str | None, elements: tuple[str, ...]) -> frozenset[str] | None:
    if elements:
        return _ALWAYS | mandatory_elements(resource_type) | frozenset(elements)
    if summary == "true":
        return _ALWAYS | summary_elements(resource_type)
    if summary == "text":
        return _ALWAYS | {"text"} | mandatory_elements(resource_type)
    return None


def subset(content: str, resource_type: str, summary: str | None, elements: tuple[str, ...]) -> str:
    """The resource JSON reduced as asked, or unchanged (_summary=false, or no subsetting asked)."""
    if summary in (None, "false", "count") and not elements:
        return content
    resource = orjson.loads(content)
    if summary == "data" and not elements:
        resource.pop("text", None)
    else:
        kept = _kept(resource_type, summary, elements)
        assert kept is not None  # the search parser accepts only the _summary values _kept knows
        resource = {key: value for key, value in resource.items() if key in kept}
    meta = resource.setdefault("meta", {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    return orjson.dumps(resource).decode()
