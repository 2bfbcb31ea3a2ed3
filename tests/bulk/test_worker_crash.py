"""Jobs survive their worker: a worker killed mid-way (SIGKILL, files half written) loses its lease,
another worker claims the job, restarts it and publishes a manifest of complete files only."""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest
from psycopg import sql

from server import build_exports, build_services
from server.bulk.worker import ExportWorker
from server.storage.database import Database
from server.storage.migrate import apply_migrations
from tests.bulk.flow import download, kick_off, poll
from tests.conftest import FhirClient, LiveServer, _with_database
from tests.factories import patient

# The dying worker: claims the job, commits its first file, then hangs until it is killed.
DYING_WORKER = textwrap.dedent("""
    import sys, threading
    from server.config import Settings
    from server import build_exports, build_services
    from server.bulk import files
    from server.bulk.worker import ExportWorker
    from server.storage.database import Database
    import dataclasses
    from pathlib import Path
    settings = dataclasses.replace(Settings.from_env(env={}), database_url=sys.argv[1], export_dir=Path(sys.argv[2]),
                                   export_lease_seconds=2)
    commit = files._LocalWriter.commit
    def commit_then_hang(self):
        size = commit(self)
        print("committed", flush=True)
        threading.Event().wait()
    files._LocalWriter.commit = commit_then_hang
    database = Database(settings.database_url, 2)
    database.open()
    ExportWorker(build_services(settings, database), build_exports(settings), name="doomed").run_once()
""")


@pytest.fixture
def own_queue(server_url, settings):
    """A database of its own, so that no other test server's worker takes the job."""
    name = f"fhir_crash_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(server_url, name)
    apply_migrations(url, settings.migrations_dir)
    yield dataclasses.replace(
        settings, database_url=url, export_workers=0, export_file_resources=5, export_lease_seconds=2
    )
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_worker_killed_mid_way_leaves_the_job_to_another_that_finishes_it(own_queue, export_dir):
    server = LiveServer(own_queue)
    try:
        with FhirClient(server.base_url, server.token("system/*.cruds")) as payer:
            ids = {payer.create(patient(f"crash-{i}"))["id"] for i in range(23)}
            kick = kick_off(payer, f"{server.base_url}/$export", params={"_type": "Patient"})
            status_url = kick.headers["Content-Location"]
            job_id = status_url.rpartition("/")[2]
            dying = subprocess.Popen(
                [sys.executable, "-c", DYING_WORKER, own_queue.database_url, str(export_dir)],
                stdout=subprocess.PIPE,
                text=True,
                cwd=os.getcwd(),
            )
            try:
                assert dying.stdout.readline().strip() == "committed"
                assert payer.get(status_url).status_code == 202  # running, one file written
                assert (export_dir / job_id / "1" / "Patient-1.ndjson").is_file()
            finally:
                dying.send_signal(signal.SIGKILL)
                dying.wait()
            database = Database(own_queue.database_url, 2)
            database.open()
            worker = ExportWorker(build_services(own_queue, database), build_exports(own_queue), name="survivor")
            try:
                deadline = time.monotonic() + 20
                while (status := worker.run_once()) is None and time.monotonic() < deadline:
                    time.sleep(0.3)  # the dead worker's lease runs out after 2 s
                assert status == "completed"
            finally:
                database.close()
            done = poll(payer, status_url)
            manifest = done.json()
            assert [o["count"] for o in manifest["output"]] == [5, 5, 5, 5, 3]
            assert all(f"/bulkfiles/{job_id}/" in o["url"] for o in manifest["output"])
            assert {r["id"] for r in download(payer, manifest)["Patient"]} == ids
            assert not (export_dir / job_id / "1").exists()  # the dead attempt's files are gone
            assert sorted(p.name for p in (export_dir / job_id / "2").iterdir()) == [
                f"Patient-{i}.ndjson" for i in range(1, 6)
            ]
    finally:
        server.stop()


def test_a_worker_whose_process_closed_its_database_stops_quietly(own_queue, caplog):
    """A process that closes its pool without stopping its workers (a script, a test) ends them: the worker
    stops at its next poll instead of logging the closed pool's error every poll for the rest of the process."""
    database = Database(own_queue.database_url, 2)
    database.open()
    exports = build_exports(own_queue)
    worker = ExportWorker(build_services(own_queue, database), exports).start()
    database.close()
    exports.wake.set()
    assert worker.thread is not None
    worker.thread.join(5)
    assert not worker.thread.is_alive()
    assert [r for r in caplog.records if r.getMessage() == "export worker error"] == []
