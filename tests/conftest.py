"""Test session: its own database (created and dropped), migrations applied, a real HTTP server.

DATABASE_URL set (CI): a fresh database on that PostgreSQL server. Unset: the embedded PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from psycopg import sql
from werkzeug.serving import make_server

from server import create_app
from server.config import Settings
from server.storage.migrate import apply_migrations


def _with_database(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="session")
def server_url():
    """A PostgreSQL server URL: DATABASE_URL's server, or an embedded one for this session."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    from server.storage.embedded import start_embedded, stop_embedded

    data_dir = Path(tempfile.mkdtemp(prefix="fhirt-", dir="/tmp"))
    server, url = start_embedded(data_dir, cleanup="delete")
    yield url
    stop_embedded(server)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_url):
    name = f"fhir_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(server_url, name)
    apply_migrations(url, Settings.from_env(env={}).migrations_dir)
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def fresh_database_url(server_url):
    """An empty database (no migrations) on the session's PostgreSQL server, dropped afterwards."""
    name = f"fhir_fresh_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class LiveServer:
    def __init__(self, settings: Settings):
        self.httpd = make_server("127.0.0.1", 0, lambda environ, start: self.app(environ, start), threaded=True)
        self.settings = dataclasses.replace(
            settings, port=self.httpd.server_port, base_url=f"http://127.0.0.1:{self.httpd.server_port}/fhir"
        )
        self.app = create_app(self.settings)
        self.base_url = self.settings.base_url
        self.root_url = self.base_url.removesuffix("/fhir")
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def tokens(self):
        return self.app.extensions["fhir.tokens"]

    def token(self, scope: str = "system/*.cruds", **claims) -> str:
        return self.tokens.mint(scope, 3600, subject="test", client_id="tests", **claims)["access_token"]

    def stop(self):
        self.httpd.shutdown()
        for worker in self.app.extensions["fhir.export_workers"]:
            worker.stop()
        self.app.extensions["fhir.services"].database.close()


@pytest.fixture(scope="session")
def export_dir():
    directory = Path(tempfile.mkdtemp(prefix="fhirx-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(database_url, export_dir) -> Settings:
    return dataclasses.replace(
        Settings.from_env(env={}), database_url=database_url, max_body_bytes=4 * 1024 * 1024, export_dir=export_dir
    )


@pytest.fixture(scope="session")
def live_server(settings):
    server = LiveServer(settings)
    yield server
    server.stop()


class FhirClient(requests.Session):
    """requests against the live server's base URL, with a Bearer token."""

    def __init__(self, base_url: str, token: str | None):
        super().__init__()
        self.base_url = base_url
        self.headers["Accept"] = "application/fhir+json"
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        if not url.startswith("http"):
            url = f"{self.base_url}/{url.lstrip('/')}"
        return super().request(method, url, *args, **kwargs)

    def create(self, resource: dict, **kwargs) -> dict:
        response = self.post(resource["resourceType"], json=resource, **kwargs)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def client(live_server) -> FhirClient:
    """A client with full system access (system/*.cruds)."""
    with FhirClient(live_server.base_url, live_server.token("system/*.cruds")) as session:
        yield session


@pytest.fixture
def client_with(live_server):
    """Factory: a client whose token carries the given scope and claims."""
    sessions = []

    def make(scope: str | None, **claims) -> FhirClient:
        session = FhirClient(live_server.base_url, live_server.token(scope, **claims) if scope else None)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def unique() -> str:
    """A value no other test uses, for identifiers that searches must find alone."""
    return uuid.uuid4().hex
