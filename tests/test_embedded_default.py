"""The embedded default (CONTRACT.md): with DATABASE_URL unset, `fhir-server serve` starts an embedded PostgreSQL
under $FHIR_DATA_DIR and stops it with the server; CLI commands work while serve runs; data survives a restart.

Runs the same whether or not DATABASE_URL is set for the test session: it is removed from the server's env.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest
import requests

from tests import factories
from tests.server_process import FHIR_SERVER, START_TIMEOUT, STOP_TIMEOUT, free_port


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Processes whose command line names the data dir (the embedded postmaster: postgres -D DATA_DIR/pg ...)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(str(data_dir) in part for part in cmdline) and process.pid != os.getpid():
            found.append(process)
    return found


class Embedded:
    """One data dir, and the `fhir-server` commands run on it without DATABASE_URL."""

    def __init__(self):
        # short: the embedded server's unix socket lives under the data dir
        self.data_dir = Path(tempfile.mkdtemp(prefix="fhe-", dir="/tmp"))
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/fhir"
        self.env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        self.env.update(FHIR_DATA_DIR=str(self.data_dir), FHIR_BASE_URL=self.base_url)
        self.servers: list[tuple[subprocess.Popen, object]] = []

    def cli(self, *args: str) -> dict:
        result = subprocess.run(
            [str(FHIR_SERVER), *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        body = json.loads(result.stdout)  # the whole of stdout: one JSON document, logs on stderr
        assert isinstance(body, dict), result.stdout
        return body

    def serve(self) -> subprocess.Popen:
        log = tempfile.TemporaryFile(mode="w+")
        process = subprocess.Popen(
            [
                str(FHIR_SERVER),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "2",
                "--threads",
                "2",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.servers.append((process, log))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode} before it was ready\n{self.output(log)}")
            try:
                if requests.get(f"{self.root_url}/readyz", timeout=2).status_code == 200:
                    return process
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"serve not ready within {START_TIMEOUT} s\n{self.output(log)}")

    @staticmethod
    def output(log) -> str:
        log.seek(0)
        return log.read()

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM: the server exits 0 within 30 s and its embedded PostgreSQL is gone with it."""
        log = dict(self.servers)[process]
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running {STOP_TIMEOUT} s after SIGTERM\n{self.output(log)}")
        assert code == 0, f"serve exit code {code}\n{self.output(log)}"
        left = [(p.pid, p.info["cmdline"]) for p in postgres_processes(self.data_dir)]
        assert left == [], f"postgres still running for {self.data_dir} after serve stopped: {left}"

    def cleanup(self) -> None:
        for process, log in self.servers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(process.pid, signal.SIGKILL)  # the group this test started
                    except ProcessLookupError:
                        pass
                    process.wait(10)
            log.close()
        for leftover in postgres_processes(self.data_dir):  # only the server this test started, by its pid
            leftover.terminate()
            try:
                leftover.wait(10)
            except psutil.TimeoutExpired:
                leftover.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture
def embedded():
    embedded = Embedded()
    try:
        yield embedded
    finally:
        embedded.cleanup()


def test_serve_without_database_url_keeps_data_in_the_embedded_database_across_restarts(embedded):
    assert postgres_processes(embedded.data_dir) == []
    first = embedded.serve()
    assert (embedded.data_dir / "pg" / "PG_VERSION").is_file(), "no PostgreSQL data under $FHIR_DATA_DIR"
    assert postgres_processes(embedded.data_dir), "no postgres process for the data dir while serve runs"

    # a CLI command while serve runs: joins the running embedded server and leaves it running
    minted = embedded.cli("token", "--scope", "system/*.cruds")
    assert minted["token_type"] == "Bearer" and minted["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {minted['access_token']}", "Accept": "application/fhir+json"}
    assert requests.get(f"{embedded.root_url}/readyz", timeout=5).status_code == 200

    mrn = uuid.uuid4().hex
    created = requests.post(
        f"{embedded.base_url}/Patient",
        json=factories.patient(mrn=mrn, family="Okafor"),
        headers={**headers, "Content-Type": "application/fhir+json"},
        timeout=15,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]

    embedded.stop(first)

    # a CLI command on the stopped data dir: starts the embedded server for itself, and stops it again
    assert embedded.cli("migrate") == {"applied": []}  # serve applied them at its start
    assert postgres_processes(embedded.data_dir) == []

    second = embedded.serve()
    # same data dir: same signing key, so the first token still works; same rows
    read = requests.get(f"{embedded.base_url}/Patient/{patient_id}", headers=headers, timeout=15)
    assert read.status_code == 200, read.text
    assert read.json()["id"] == patient_id
    assert read.json()["meta"]["versionId"] == "1"
    assert read.json()["name"][0]["family"] == "Okafor"
    found = requests.get(
        f"{embedded.base_url}/Patient", params={"identifier": f"{factories.MRN}|{mrn}"}, headers=headers, timeout=15
    )
    assert found.status_code == 200, found.text
    assert [entry["resource"]["id"] for entry in found.json().get("entry", [])] == [patient_id]

    embedded.stop(second)
