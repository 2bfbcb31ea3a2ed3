"""Which definitions a resource is checked against, and the check: the base R4 definition of its type
always, the profiles it claims in meta.profile (R4 resource.html#Meta.profile) and those the server
requires for its type (FHIR_REQUIRED_PROFILES)."""

from __future__ import annotations

from pathlib import Path

import orjson

from ..fhir.outcomes import Issue
from .definitions import Definition, load_definitions
from .terminology import Terminology
from .walker import R4, Walk


class Profiles:
    """Everything read from profiles/ once at start: compiled definitions, expanded value sets, and the
    OperationDefinitions of this server's own operations and SearchParameters of its own search parameters
    (both served read-only, never enforced)."""

    def __init__(self, profiles_dir: Path, base_bindings: frozenset = frozenset()):
        self.definitions: dict[str, Definition] = load_definitions(profiles_dir / "StructureDefinition")
        self.base = {d.type: d for d in self.definitions.values() if d.url == R4 + d.type}
        self.terminology = Terminology(profiles_dir)
        target_types = profiles_dir / "target-types.json"
        self.target_types = orjson.loads(target_types.read_bytes()) if target_types.exists() else {}
        self.base_bindings = base_bindings
        self.operations: dict[str, dict] = _by_id(profiles_dir / "OperationDefinition")
        self.search_parameters: dict[str, dict] = _by_id(profiles_dir / "SearchParameter")

    def resolve(self, name: str) -> Definition | None:
        """A profile by canonical url (a `|version` suffix is ignored) or by id (`us-core-patient`)."""
        url = name.split("|")[0]
        found = self.definitions.get(url)
        if found is None and "/" not in url:
            found = next((d for d in self.definitions.values() if d.id == url), None)
        return found

    def profiles_of(self, resource_type: str) -> list[Definition]:
        """The profiles (constraints on the type, not the base) shipped for a resource type."""
        return [
            d
            for d in self.definitions.values()
            if d.type == resource_type and d.kind == "resource" and d.url != R4 + resource_type
        ]

    def check(
        self, resource_type: str, resource: dict, required: tuple[str, ...] = (), strict: bool = False
    ) -> list[Issue]:
        walk = Walk(resource, self.base, self.definitions, self.terminology, self.target_types, self.base_bindings)
        base = self.base.get(resource_type)
        if base is not None:
            walk.node(resource, base.root, resource_type, resource_type, False, base)
        for definition in self._applicable(walk, resource_type, resource, required, strict):
            walk.node(resource, definition.root, resource_type, resource_type, True, definition)
        return walk.issues

    def _applicable(
        self, walk: Walk, resource_type: str, resource: dict, required: tuple[str, ...], strict: bool
    ) -> list[Definition]:
        claimed = (resource.get("meta") or {}).get("profile") or []
        chosen: dict[str, Definition] = {}
        for index, url in enumerate(claimed):
            definition = self.resolve(url) if isinstance(url, str) and "/" in url else None
            where = f"{resource_type}.meta.profile[{index}]"
            if definition is None:
                walk.issues.append(
                    Issue(
                        f"Profile {url} is not known to this server; it was not checked",
                        "not-supported",
                        "error" if strict else "warning",
                        (where,),
                    )
                )
            elif definition.type != resource_type:
                walk.issues.append(
                    Issue(
                        f"Profile {url} constrains {definition.type}, not {resource_type}",
                        "invalid",
                        expression=(where,),
                    )
                )
            elif definition.url != R4 + resource_type:
                chosen[definition.url] = definition
        for name in required:
            definition = self.resolve(name)
            if definition is not None and definition.type != resource_type:
                walk.issues.append(
                    Issue(
                        f"Profile {name} constrains {definition.type}, not {resource_type}",
                        "invalid",
                        expression=(resource_type,),
                    )
                )
            elif definition is not None and definition.url != R4 + resource_type:
                chosen[definition.url] = definition
        return list(chosen.values())


def _by_id(directory: Path) -> dict[str, dict]:
    """The JSON resources of a folder, by file name (each file is named for its resource's id)."""
    return {path.stem: orjson.loads(path.read_bytes()) for path in sorted(directory.glob("*.json"))}
