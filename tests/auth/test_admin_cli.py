"""`fhir-server client create`, `user create` and `launch create` (CONTRACT.md): one JSON object on
stdout; what they register works at the token endpoint."""

from __future__ import annotations

import json
import uuid

import requests

from tests.auth.smart_app import SmartApp
from tests.factories import patient
from tests.test_cli import one_json_object, run_cli


def test_client_user_and_launch_create_register_what_a_launch_needs(
    live_server, database_url, client, unique, tmp_path
):
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    redirect = f"{live_server.root_url}/app/cli-{uuid.uuid4().hex[:6]}"
    confidential = one_json_object(
        run_cli(
            "client",
            "create",
            "--name",
            "cli app",
            "--redirect-uri",
            redirect,
            "--scope",
            "patient/*.rs",
            "--confidential",
            env=env,
        )
    )
    assert confidential["client_id"] and confidential["client_secret"]
    public = one_json_object(
        run_cli(
            "client",
            "create",
            "--name",
            "pub",
            "--redirect-uri",
            redirect,
            "--scope",
            "patient/*.rs",
            "--public",
            env=env,
        )
    )
    assert public["client_secret"] is None
    record = client.create(patient(unique))
    user = one_json_object(
        run_cli(
            "user",
            "create",
            "--username",
            f"cli-{unique[:8]}",
            "--password",
            "s3cret-pw",
            "--fhir-user",
            f"Patient/{record['id']}",
            env=env,
        )
    )
    assert user["fhir_user"] == f"Patient/{record['id']}"
    launch = one_json_object(run_cli("launch", "create", "--patient", record["id"], env=env))
    assert launch["launch"]
    app = SmartApp(live_server, confidential["client_id"], confidential["client_secret"], redirect_uri=redirect)
    authorization = app.authorize("launch patient/*.rs", f"cli-{unique[:8]}", "s3cret-pw", launch=launch["launch"])
    assert app.exchange(authorization).json()["patient"] == record["id"]


def test_client_create_with_jwks_file_uses_private_key_jwt(live_server, database_url, tmp_path):
    from joserfc.jwk import ECKey, KeySet

    key = ECKey.generate_key("P-384", parameters={"alg": "ES384"}, auto_kid=True)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(KeySet([key]).as_dict(private=False)))
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    registered = one_json_object(
        run_cli(
            "client",
            "create",
            "--name",
            "backend",
            "--scope",
            "system/*.rs",
            "--confidential",
            "--jwks-file",
            str(jwks_file),
            env=env,
        )
    )
    assert registered["client_secret"] is None
    app = SmartApp(live_server, registered["client_id"], private_key=key)
    response = requests.post(
        app.token_url, data={"grant_type": "client_credentials", "scope": "system/*.rs", **app.assertion()}
    )
    assert response.status_code == 200, response.text


def test_user_create_refuses_a_bad_fhir_user(database_url):
    result = run_cli(
        "user",
        "create",
        "--username",
        "x",
        "--password",
        "y",
        "--fhir-user",
        "Nobody",
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode != 0


def test_user_create_with_name_creates_the_practitioner_it_names(live_server, database_url, client, unique):
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    practitioner_id = f"dr-{unique[:12]}"
    args = (
        "user",
        "create",
        "--username",
        f"dr-{unique[:8]}",
        "--password",
        "s3cret-pw",
        "--fhir-user",
        f"Practitioner/{practitioner_id}",
        "--name",
        "Ada King Lovelace",
    )
    created = one_json_object(run_cli(*args, env=env))
    assert created["practitioner"] == {"id": practitioner_id, "version": 1, "created": True}
    stored = client.get(f"Practitioner/{practitioner_id}").json()
    assert stored["name"][0]["family"] == "Lovelace" and stored["name"][0]["given"] == ["Ada", "King"]
    again = one_json_object(run_cli(*args, env=env))
    assert again["practitioner"]["version"] == 2 and again["practitioner"]["created"] is False
    refused = run_cli(
        "user",
        "create",
        "--username",
        "p",
        "--password",
        "y",
        "--fhir-user",
        "Patient/1",
        "--name",
        "Jane Doe",
        env=env,
    )
    assert refused.returncode != 0
