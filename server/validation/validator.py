"""validate(): every check a resource passes before it is stored; all issues are reported at once."""
from __future__ import annotations

from pathlib import Path

from ..fhir.outcomes import BadRequest, Unprocessable
from .bindings import binding_issues, load_bindings
from .json_rules import id_issues, json_rule_issues
from .structure import structure_issues


class Validator:
    def __init__(self, profiles_dir: Path):
        self.bindings = load_bindings(profiles_dir / "required-bindings.json")

    def validate(self, resource_type: str, resource) -> None:
        """Raise BadRequest for a body that is not a resource of this type, Unprocessable for an invalid one."""
        if not isinstance(resource, dict):
            raise BadRequest("The body must be a JSON object holding a FHIR resource")
        if resource.get("resourceType") != resource_type:
            raise BadRequest(f"resourceType must be '{resource_type}', found {resource.get('resourceType')!r}")
        issues = json_rule_issues(resource, resource_type) + id_issues(resource, resource_type)
        if not issues:  # the models' messages on empty or null values only repeat the ones above
            issues = (structure_issues(resource_type, resource)
                      + binding_issues(self.bindings.get(resource_type, []), resource_type, resource))
        if issues:
            raise Unprocessable(f"{resource_type} failed validation", issues=issues)
