"""Shared by the tests that run the real `fhir-server` command in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

FHIR_SERVER = Path(sys.executable).parent / "fhir-server"
START_TIMEOUT = 30
STOP_TIMEOUT = 30  # CONTRACT.md: serve stops cleanly within 30 s of SIGTERM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`fhir-server serve` in its own session (so teardown can always reach its workers)."""

    def __init__(self, database_url: str, env: dict | None = None, workers: int = 2, threads: int = 2):
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/fhir"
        self.env = {**os.environ, "DATABASE_URL": database_url, "FHIR_BASE_URL": self.base_url, **(env or {})}
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.stdout = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [
                str(FHIR_SERVER),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            env=self.env,
            stdout=self.stdout,
            stderr=self.stderr,
            start_new_session=True,
        )

    def output(self) -> str:
        self.stdout.seek(0)
        self.stderr.seek(0)
        return f"--- stdout ---\n{self.stdout.read()}\n--- stderr ---\n{self.stderr.read()}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"fhir-server serve exited with {self.process.returncode} before it was ready\n{self.output()}"
                )
            try:
                response = requests.get(f"{self.root_url}/readyz", timeout=2)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except requests.RequestException as error:
                last = repr(error)
            time.sleep(0.2)
        pytest.fail(f"fhir-server serve not ready within {START_TIMEOUT} s (last /readyz: {last})\n{self.output()}")

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM; the exit code, or None if it did not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_everything(self) -> None:
        """Last resort in teardown: the server's whole process group (only processes this test started)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)
        self.stdout.close()
        self.stderr.close()


def start_server(database_url: str, **options) -> ServerProcess:
    server = ServerProcess(database_url, **options)
    try:
        server.wait_ready()
    except BaseException:
        server.terminate(10)
        server.kill_everything()
        raise
    return server


def mint_token(server: ServerProcess, scope: str) -> str:
    """`fhir-server token` with the server's environment: exit 0, exactly one JSON object on stdout."""
    result = subprocess.run(
        [str(FHIR_SERVER), "token", "--scope", scope],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    body = json.loads(result.stdout)  # the whole of stdout: one JSON document
    assert isinstance(body, dict), result.stdout
    assert body["token_type"] == "Bearer" and body["scope"] == scope, body
    return body["access_token"]


def token_for(server: ServerProcess, scope: str = "system/*.cruds") -> str:
    """A token as `fhir-server token` mints it (the server's own key, from its database), minted in this process:
    for tests about something else than the CLI, without a second process start."""
    from server.auth.keys import ensure_signing_keys
    from server.auth.tokens import TokenService
    from server.storage.database import Database

    database = Database(server.env["DATABASE_URL"], pool_size=1)
    database.open()
    try:
        service = TokenService(ensure_signing_keys(database), server.base_url, server.base_url)
    finally:
        database.close()
    return service.mint(scope, 3600, subject="test", client_id="tests")["access_token"]
