"""`fhir-server export` (CONTRACT.md): the same job from the command line, files in --out, progress on
stderr, the manifest as one JSON object on stdout."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import orjson

from tests.factories import group, medication_request, patient
from tests.test_cli import one_json_object, run_cli


def test_cli_export_of_a_group_writes_the_members_files_and_prints_the_manifest(database_url, client, tmp_path, since):
    members = [client.create(patient(f"cli-{i}")) for i in range(2)]
    outsider = client.create(patient("cli-out"))
    for person in members + [outsider]:
        client.create(medication_request(person["id"]))
    roster = client.create(group([m["id"] for m in members], identifier="cli"))
    result = run_cli(
        "export",
        "--type",
        "Patient,MedicationRequest",
        "--since",
        since,
        "--group",
        roster["id"],
        "--out",
        str(tmp_path / "out"),
        env={"DATABASE_URL": database_url},
    )
    manifest = one_json_object(result)
    assert "export" in result.stderr  # the progress bar
    assert {(o["type"], o["count"]) for o in manifest["output"]} == {("Patient", 2), ("MedicationRequest", 2)}
    patients = Path(urlparse(next(o["url"] for o in manifest["output"] if o["type"] == "Patient")).path)
    assert patients.parent == tmp_path / "out"
    assert {orjson.loads(line)["id"] for line in patients.read_bytes().splitlines()} == {m["id"] for m in members}
    assert manifest["transactionTime"].endswith("Z")


def test_cli_export_of_an_unknown_type_fails_with_a_message(database_url, tmp_path):
    result = run_cli("export", "--type", "Nope", "--out", str(tmp_path), env={"DATABASE_URL": database_url})
    assert result.returncode != 0 and "Nope" in result.stderr
