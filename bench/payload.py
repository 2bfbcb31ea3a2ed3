"""The benchmark payload: one realistic adult psychiatric-outpatient Patient, about 1.5 KB of
compact JSON, with no extensions and no references (so it stores without any other resource).

`patient(mrn)` gives the same shape with a distinct MRN; `PATIENT` is the default instance."""

from __future__ import annotations

import orjson

MRN_SYSTEM = "https://hospital.example.org/fhir/sid/mrn"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def patient(mrn: str = "MRN-00482917") -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}],
                    "text": "MRN",
                },
                "system": MRN_SYSTEM,
                "value": mrn,
                "assigner": {"display": "Riverside Behavioral Health Center"},
            },
            {"use": "official", "system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
        ],
        "active": True,
        "name": [
            {"use": "official", "family": "Whitaker", "given": ["Eleanor", "Marie"], "prefix": ["Ms."]},
            {"use": "nickname", "given": ["Ellie"]},
        ],
        "telecom": [
            {"system": "phone", "value": "+1 555 201 3344", "use": "mobile"},
            {"system": "phone", "value": "+1 555 201 9870", "use": "home"},
            {"system": "email", "value": "eleanor.whitaker@example.com", "use": "home"},
        ],
        "gender": "female",
        "birthDate": "1986-09-23",
        "address": [
            {
                "use": "home",
                "type": "both",
                "line": ["1427 Juniper Street", "Apt 3B"],
                "city": "Springfield",
                "state": "MO",
                "postalCode": "65804",
                "country": "US",
            },
        ],
        "maritalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M", "display": "Married"}
            ]
        },
        "contact": [
            {
                "relationship": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                                "code": "C",
                                "display": "Emergency Contact",
                            }
                        ]
                    }
                ],
                "name": {"use": "official", "family": "Whitaker", "given": ["Daniel"]},
                "telecom": [{"system": "phone", "value": "+1 555 201 7781", "use": "mobile"}],
                "gender": "male",
            },
        ],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "en-US", "display": "English (United States)"}],
                    "text": "English",
                },
                "preferred": True,
            },
        ],
    }


PATIENT = patient()
PATIENT_JSON = orjson.dumps(PATIENT)

if __name__ == "__main__":
    print(len(PATIENT_JSON), "bytes")
    print(orjson.dumps(PATIENT, option=orjson.OPT_INDENT_2).decode())
