"""No PHI in logs: the real server's whole output, after creating, searching, updating, failing to validate and
deleting Patients with distinctive names, MRNs and birth dates, holds none of them."""

from __future__ import annotations

import uuid

import requests

from tests import factories
from tests.server_process import start_server, token_for


def test_the_servers_logs_hold_no_names_mrns_or_birth_dates(database_url):
    server = start_server(database_url, workers=1, threads=2, env={"FHIR_LOG_LEVEL": "DEBUG"})
    try:
        auth = {"Authorization": f"Bearer {token_for(server)}"}
        base = server.base_url
        secrets_written = []
        for n in range(3):
            mrn, family, given = f"MRN{uuid.uuid4().hex[:10]}", f"Qx{uuid.uuid4().hex[:8]}", f"Zy{uuid.uuid4().hex[:6]}"
            birth = f"19{30 + n}-0{n + 2}-1{n + 1}"
            secrets_written += [mrn, family, given, birth]
            patient = factories.patient(mrn=mrn, family=family, birthDate=birth)
            patient["name"][0]["given"] = [given]
            created = requests.post(f"{base}/Patient", json=patient, headers=auth, timeout=15)
            assert created.status_code == 201, created.text
            id = created.json()["id"]
            for params in (
                {"family": family},
                {"identifier": f"{factories.MRN}|{mrn}"},
                {"birthdate": birth},
                {"name": given, "_format": "json"},
                {"family": family, "unknown-param": mrn},
            ):
                assert requests.get(f"{base}/Patient", params=params, headers=auth, timeout=15).status_code == 200
            conditional = requests.post(
                f"{base}/Patient",
                json=patient,
                timeout=15,
                headers={**auth, "If-None-Exist": f"identifier={factories.MRN}|{mrn}"},
            )
            assert conditional.status_code == 200
            invalid = {**patient, "id": id, "birthDate": f"{birth}T99", "gender": family}
            rejected = requests.put(f"{base}/Patient/{id}", json=invalid, headers=auth, timeout=15)
            assert rejected.status_code in (400, 422)
            assert requests.put(
                f"{base}/Patient",
                params={"identifier": f"{factories.MRN}|{mrn}"},
                json=patient,
                headers=auth,
                timeout=15,
            ).status_code in (400, 200)
            assert (
                requests.get(
                    f"{base}/Patient", params={"birthdate": f"not-a-date-{mrn}"}, headers=auth, timeout=15
                ).status_code
                == 400
            )
            assert requests.delete(f"{base}/Patient/{id}", headers=auth, timeout=15).status_code in (200, 204)
    finally:
        server.terminate()
        output = server.output()
        server.kill_everything()
    assert '"request"' in output and "/fhir/Patient" in output  # the access log was written: the scan means something
    leaked = [secret for secret in secrets_written if secret in output]
    assert leaked == [], f"PHI in the logs: {leaked}"
