"""Where an operation's parameters came from, so that an error about one points at it (R4
operationoutcome.html): a query parameter is named in issue.location as http.<name>; a parameter of a
POSTed Parameters body by its FHIRPath in that body, Parameters.parameter[i], in issue.expression.
Below the edge, errors name a parameter as http.<name>; the edge moves it into the body when it came
from there."""

from __future__ import annotations

import dataclasses

from flask import request

from ..fhir.outcomes import Issue

BODY_PARAMETERS = "fhir.body_parameters"  # environ key: parameter name -> its index in the POSTed body


def from_body(body):
    """Note where each named parameter of a Parameters body sits (of several with one name, the last: the
    one an operation reads); return the body. Any other body is left alone."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        places: dict[str, int] = {}
        parameters = body.get("parameter")
        for index, parameter in enumerate(parameters if isinstance(parameters, list) else []):
            if isinstance(parameter, dict) and isinstance(parameter.get("name"), str):
                places[parameter["name"]] = index
        request.environ[BODY_PARAMETERS] = places
    return body


def pointed(issues: list[Issue]) -> list[Issue]:
    """The issues, with http.<name> of a parameter that came in the body replaced by its place there."""
    places = request.environ.get(BODY_PARAMETERS) if request else None
    if not places:
        return issues
    return [_pointed(issue, places) for issue in issues]


def _pointed(issue: Issue, places: dict[str, int]) -> Issue:
    named = [location for location in issue.location if location.removeprefix("http.") in places]
    if not named:
        return issue
    moved = tuple(f"Parameters.parameter[{places[location.removeprefix('http.')]}]" for location in named)
    return dataclasses.replace(
        issue,
        location=tuple(location for location in issue.location if location not in named),
        expression=moved + tuple(e for e in issue.expression if e not in moved),
    )
