"""SMART scopes v1 and v2 (scopes-and-launch-context.html) and the access policy built from them."""

from __future__ import annotations

import pytest

from server.auth.policy import AccessPolicy
from server.auth.scopes import parse_scope, parse_scopes
from server.fhir.outcomes import Forbidden


@pytest.mark.parametrize(
    "text, permissions",
    [
        ("system/Patient.read", "rs"),
        ("system/*.write", "cud"),
        ("system/*.*", "cruds"),
        ("system/*.cruds", "cruds"),
        ("patient/MedicationRequest.rs", "rs"),
        ("user/Appointment.cud", "cud"),
    ],
)
def test_v1_and_v2_permissions(text, permissions):
    assert parse_scope(text).permissions == frozenset(permissions)


@pytest.mark.parametrize(
    "text",
    [
        "openid",
        "fhirUser",
        "launch/patient",
        "offline_access",
        "system/*.x",
        "system/Patient.sr",
        "system/patient.read",
        "admin/*.*",
    ],
)
def test_non_resource_or_malformed_scopes_grant_nothing(text):
    assert parse_scope(text) is None


def test_v2_granular_scope_keeps_its_query():
    scope = parse_scope(
        "patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
    )
    assert scope.resource_type == "Condition"
    assert scope.query.startswith("category=")


def test_policy_requires_the_interactions_permission():
    policy = AccessPolicy(tuple(parse_scopes("system/Patient.rs system/MedicationRequest.c")))
    policy.require("read", "Patient")
    policy.require("create", "MedicationRequest")
    with pytest.raises(Forbidden):
        policy.require("update", "Patient")
    with pytest.raises(Forbidden):
        policy.require("read", "Condition")


def test_patient_scope_confines_to_the_launch_patient():
    policy = AccessPolicy(tuple(parse_scopes("patient/*.rs")), patient="7")
    assert policy.compartment_patient("read", "Condition") == "7"
    assert AccessPolicy(tuple(parse_scopes("system/*.rs"))).compartment_patient("read", "Condition") is None


def test_patient_scope_without_patient_context_is_refused():
    with pytest.raises(Forbidden):
        AccessPolicy(tuple(parse_scopes("patient/*.rs"))).compartment_patient("search-type", "Patient")
