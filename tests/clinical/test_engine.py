"""The rule engine on real RxNorm codes in IN, PIN, SCD and SBD forms; each clean case gives no alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.clinical.engine import ICD10CM, SNOMED, Condition, check
from server.clinical.knowledge import RXNORM, load
from server.clinical.medications import medication

KNOWLEDGE = load(Path(__file__).resolve().parents[2] / "resources" / "clinical")


def med(code, id=None, system=RXNORM, mg=None, unit="mg", per_day=1, resource_type="MedicationRequest"):
    resource = {
        "resourceType": resource_type,
        "id": id or f"m{code}",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
    }
    if mg is not None:
        resource["dosageInstruction"] = [
            {
                "doseAndRate": [{"doseQuantity": {"value": mg, "unit": unit}}],
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
            }
        ]
    return medication(KNOWLEDGE, resource)


def rules(alerts):
    return sorted(a.rule.id for a in alerts)


@pytest.mark.parametrize(
    "draft,current,rule",
    [
        ("36437", "8123", "maoi-ssri"),  # sertraline IN + phenelzine IN
        ("312941", "312347", "maoi-ssri"),  # sertraline 50 MG SCD + phenelzine 15 MG SCD
        ("311347", "310385", "maoi-ssri"),  # linezolid 600 MG SCD + fluoxetine 20 MG SCD
        ("865206", "884385", "maoi-sympathomimetic"),  # selegiline patch + dextroamphetamine
        ("313447", "8702", "tranylcypromine-procarbazine"),
        ("6448", "142442", "lithium-nsaid"),  # lithium IN + naproxen sodium PIN
        ("6448", "849728", "lithium-nsaid"),  # lithium + Aleve (SBD)
        ("6448", "310798", "lithium-thiazide"),  # hydrochlorothiazide 25 MG SCD
        ("197536", "309309", "clozapine-cyp1a2-inhibitor"),  # clozapine 25 MG + ciprofloxacin 500 MG
        ("1099870", "282401", "valproate-lamotrigine"),  # divalproex DR + lamotrigine 25 MG
        ("197527", "1049621", "benzodiazepine-opioid"),  # clonazepam 0.5 MG + oxycodone 5 MG
        ("314286", "9947", "ziprasidone-qt"),  # ziprasidone 20 MG + sotalol
        ("903891", "596205", "fluvoxamine-ramelteon"),
        ("312941", "855332", "serotonergic-warfarin"),
    ],
)
def test_interaction_rules_fire_in_either_order(draft, current, rule):
    assert rule in rules(check(KNOWLEDGE, [med(draft)], [med(current)], [], 40))
    assert rule in rules(check(KNOWLEDGE, [med(current)], [med(draft)], [], 40))


def test_clean_pairs_give_no_alert():
    assert (
        check(KNOWLEDGE, [med("312941")], [med("314111"), med("29046")], [], 40) == []
    )  # sertraline, mirtazapine, lisinopril
    assert check(KNOWLEDGE, [med("6448")], [med("197900")], [], 40) == []  # lithium + lorazepam


def test_contraindicated_interaction_summary_names_both_drugs():
    alert = next(a for a in check(KNOWLEDGE, [med("312941")], [med("312347")], [], 40) if a.rule.id == "maoi-ssri")
    assert alert.rule.severity == "contraindicated"
    assert "Sertraline" in alert.summary and "phenelzine" in alert.summary and len(alert.summary) < 140


def test_duplicate_therapy_within_a_class_including_clonazepam_and_lorazepam():
    assert rules(check(KNOWLEDGE, [med("197527")], [med("197901")], [], 40)) == ["duplicate-benzodiazepine"]
    assert rules(check(KNOWLEDGE, [med("312078")], [med("312830")], [], 40)) == ["duplicate-antipsychotic"]
    assert check(KNOWLEDGE, [med("312078")], [med("197901")], [], 40) == []  # olanzapine + lorazepam


def test_resigning_the_same_order_is_not_a_duplicate_of_itself():
    assert check(KNOWLEDGE, [med("312941", id="7")], [med("312941", id="7")], [], 40) == []


def test_drug_condition_contraindications_by_icd10cm_and_snomed():
    seizure = [Condition(ICD10CM, "G40.909")]
    bulimia = [Condition(SNOMED, "78004001")]
    assert rules(check(KNOWLEDGE, [med("993541")], [], seizure, 40)) == ["bupropion-seizure-disorder"]
    assert rules(check(KNOWLEDGE, [med("42347")], [], bulimia, 40)) == ["bupropion-eating-disorder"]
    assert rules(check(KNOWLEDGE, [med("1099681")], [], [Condition(ICD10CM, "K70.30")], 40)) == [
        "valproate-hepatic-disease"
    ]
    assert rules(check(KNOWLEDGE, [med("1099870")], [], [Condition(SNOMED, "77386006")], 40)) == ["valproate-pregnancy"]
    assert check(KNOWLEDGE, [med("993541")], [], [Condition(ICD10CM, "F32.9")], 40) == []  # depression only
    assert check(KNOWLEDGE, [med("312941")], [], seizure, 40) == []  # sertraline with epilepsy


def test_antidepressants_under_25_get_the_monitoring_warning():
    assert rules(check(KNOWLEDGE, [med("312941")], [], [], 19)) == ["antidepressant-under-25"]
    assert check(KNOWLEDGE, [med("312941")], [], [], 25) == []
    assert check(KNOWLEDGE, [med("312078")], [], [], 19) == []  # olanzapine is not an antidepressant


def test_citalopram_daily_dose_limits_on_signing_only():
    over = med("309314", mg=60)
    assert rules(check(KNOWLEDGE, [over], [], [], 40, signing=True)) == ["citalopram-max-daily-dose"]
    assert check(KNOWLEDGE, [over], [], [], 40, signing=False) == []
    assert check(KNOWLEDGE, [med("309314", mg=40)], [], [], 40, signing=True) == []
    assert rules(check(KNOWLEDGE, [med("200371", mg=1, unit="tablet", per_day=2)], [], [], 70, signing=True)) == [
        "citalopram-max-daily-dose"
    ]  # 2 x 20 mg above 60
    with_cimetidine = check(KNOWLEDGE, [med("200371", mg=30)], [med("2541")], [], 40, signing=True)
    assert "citalopram-max-daily-dose" in rules(with_cimetidine)


def test_medications_outside_rxnorm_or_unknown_codes_are_not_checked():
    assert not med("12345", system="http://example.org/local").checked
    assert not med("999999999").checked
    assert check(KNOWLEDGE, [med("12345", system="http://example.org/local")], [med("312347")], [], 40) == []


def test_a_review_checks_every_pair_among_current_medications():
    found = check(KNOWLEDGE, [med("312941"), med("312347"), med("197527")], [], [], 40)
    assert rules(found) == ["maoi-ssri"]
