"""The knowledge files: every rule sourced, every code well formed, every class member a known ingredient."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server.clinical.knowledge import KnowledgeError, load, verhoeff_valid

DIR = Path(__file__).resolve().parents[2] / "resources" / "clinical"


def _doc(name):
    return json.loads((DIR / name).read_text(encoding="utf-8"))


def test_knowledge_loads_with_at_least_thirty_interaction_rules():
    knowledge = load(DIR)
    assert len(knowledge.family("interaction")) >= 30
    assert {r.family for r in knowledge.rules.values()} == {
        "interaction",
        "duplicate",
        "contraindication",
        "age",
        "dose",
        "follow-up",
    }


def test_every_rule_has_severity_mechanism_effect_management_and_a_source_url():
    rules = _doc("rules.json")
    items = [
        r
        for family in ("interactions", "duplicates", "contraindications", "age_warnings", "dose_limits")
        for r in rules[family]
    ] + [rules["follow_up"]]
    assert len({r["id"] for r in items}) == len(items)
    for rule in items:
        assert rule["severity"] in ("contraindicated", "major", "moderate", "monitoring"), rule["id"]
        for key in ("mechanism", "effect", "management"):
            assert len(rule[key]) > 5, (rule["id"], key)
        assert rule["source"]["label"] and re.match(r"https?://[a-z0-9.-]+\.[a-z]{2,}/", rule["source"]["url"]), rule[
            "id"
        ]


def test_every_code_is_well_formed():
    drugs = _doc("drugs.json")
    codes = [i["rxcui"] for i in drugs["ingredients"]]
    codes += [p["rxcui"] for i in drugs["ingredients"] for p in i.get("precise", [])]
    codes += [d["rxcui"] for i in drugs["ingredients"] for d in i.get("clinical_drugs", [])]
    codes += [d["rxcui"] for d in drugs["combinations"]]
    assert all(re.fullmatch(r"[1-9][0-9]{0,8}", c) for c in codes)
    assert len(codes) == len(set(codes)), "an RxCUI appears twice"
    for rule in _doc("rules.json")["contraindications"]:
        for code in rule["conditions"].get("icd10cm", []):
            assert re.fullmatch(r"[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", code), code
        for code in rule["conditions"].get("snomed", []):
            assert verhoeff_valid(code) and code[-3:-1] in ("00", "10"), code


def test_every_class_member_and_rule_drug_exists_with_its_name():
    names = {i["rxcui"]: i["name"] for i in _doc("drugs.json")["ingredients"]}
    classes = _doc("classes.json")["classes"]
    for cls in classes:
        for member in cls["members"]:
            assert names.get(member["rxcui"]) == member["name"], (cls["id"], member)
    ids = {c["id"] for c in classes}
    rules = _doc("rules.json")
    for rule in rules["interactions"]:
        for side in (rule["a"], rule["b"]):
            assert set(side.get("classes", [])) <= ids, rule["id"]
            assert all(names.get(d["rxcui"]) == d["name"] for d in side.get("drugs", [])), rule["id"]


def test_the_required_classes_hold_the_drugs_atc_alone_would_miss():
    knowledge = load(DIR)
    named = {c: {knowledge.name(i) for i in members} for c, members in knowledge.classes.items()}
    assert {"selegiline", "linezolid", "methylene blue"} <= named["maoi"]
    assert "clonazepam" in named["benzodiazepine"]
    assert set(knowledge.duplicate_classes) >= {
        "ssri",
        "snri",
        "tca",
        "maoi",
        "antipsychotic",
        "benzodiazepine",
        "stimulant",
        "mood_stabilizer",
    }


def test_a_precise_ingredient_and_branded_drug_map_to_their_ingredient():
    knowledge = load(DIR)
    assert knowledge.ingredients_of("142442") == ("7258",)  # naproxen sodium (PIN) -> naproxen
    assert knowledge.ingredients_of("849728") == ("7258",)  # Aleve 220 MG tablet (SBD)
    assert knowledge.ingredients_of("312941") == ("36437",)  # sertraline 50 MG (SCD)
    assert set(knowledge.ingredients_of("351266")) == {"1819", "7242"}  # buprenorphine / naloxone


def test_a_rule_naming_an_unknown_class_stops_the_load(tmp_path):
    for name in ("drugs.json", "classes.json"):
        (tmp_path / name).write_text((DIR / name).read_text())
    rules = _doc("rules.json")
    rules["interactions"][0]["b"] = {"classes": ["no-such-class"]}
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    with pytest.raises(KnowledgeError, match="no-such-class"):
        load(tmp_path)


def test_a_rule_without_a_source_stops_the_load(tmp_path):
    for name in ("drugs.json", "classes.json"):
        (tmp_path / name).write_text((DIR / name).read_text())
    rules = _doc("rules.json")
    rules["contraindications"][0]["source"] = {"label": "trust me"}
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    with pytest.raises(KnowledgeError, match="source"):
        load(tmp_path)
