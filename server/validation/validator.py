"""validate(): every check a resource passes before it is stored; all issues are reported at once."""

from __future__ import annotations

from pathlib import Path

from ..fhir.outcomes import BadRequest, Issue, Unprocessable
from .bindings import binding_issues, load_bindings
from .json_rules import id_issues, json_rule_issues
from .profiles import Profiles
from .structure import structure_issues

SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


class Validator:
    def __init__(self, profiles_dir: Path, required_profiles: tuple[tuple[str, str], ...] = (), strict: bool = False):
        self.bindings = load_bindings(profiles_dir / "required-bindings.json")
        base_bindings = frozenset(
            (f"{t}.{'.'.join(b.path)}", b.value_set.split("|")[0])
            for t, bindings in self.bindings.items()
            for b in bindings
        )
        self.profiles = Profiles(profiles_dir, base_bindings)
        self.strict = strict  # FHIR_VALIDATION=strict: an unknown profile is an error
        self.required: dict[str, tuple[str, ...]] = {}
        for resource_type, name in required_profiles:
            definition = self.profiles.resolve(name)
            if definition is None or definition.type != resource_type:
                raise ValueError(f"FHIR_REQUIRED_PROFILES: {name!r} is not a known profile of {resource_type}")
            self.required[resource_type] = self.required.get(resource_type, ()) + (definition.url,)

    def validate(
        self, resource_type: str, resource, strict: bool = False, profiles: tuple[str, ...] = ()
    ) -> list[Issue]:
        """Raise BadRequest for a body that is not a resource of this type, Unprocessable for an invalid one;
        return the warnings of a valid one. `profiles`: more profiles to check against ($validate)."""
        if not isinstance(resource, dict):
            raise BadRequest("The body must be a JSON object holding a FHIR resource")
        if resource.get("resourceType") != resource_type:
            raise BadRequest(f"resourceType must be '{resource_type}', found {resource.get('resourceType')!r}")
        issues = json_rule_issues(resource, resource_type) + id_issues(resource, resource_type)
        if not issues:  # the models' messages on empty or null values only repeat the ones above
            issues = structure_issues(resource_type, resource) + binding_issues(
                self.bindings.get(resource_type, []), resource_type, resource
            )
            if not issues:  # the walk relies on the shapes the models checked
                issues = self.profiles.check(
                    resource_type, resource, self.required.get(resource_type, ()) + profiles, strict or self.strict
                )
        issues.sort(key=lambda issue: SEVERITY_ORDER.get(issue.severity, 9))  # errors first; stable otherwise
        if any(issue.severity in ("error", "fatal") for issue in issues):
            raise Unprocessable(f"{resource_type} failed validation", issues=issues)
        return issues
