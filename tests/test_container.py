"""The container image's steps, run outside a container (Docker is not available to the tests): the Dockerfile's
install step builds and installs the project into a fresh virtualenv, and its CMD, with the image's environment,
serves the API, as its HEALTHCHECK command confirms. The Dockerfile's shape is checked too: several stages, a
slim base, a non-root user, no build tools in the final image, a HEALTHCHECK on /healthz; and compose.yaml runs a
real PostgreSQL with a named volume and DATABASE_URL, the server waiting for it to be healthy."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import yaml

from tests.server_process import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), grouped by stage."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    grouped: list[list[str]] = []
    for line in lines:
        if line.startswith("FROM "):
            grouped.append([])
        grouped[-1].append(line)
    return grouped


def instruction(stage: list[str], keyword: str) -> list[str]:
    return [line[len(keyword) + 1 :] for line in stage if line.startswith(keyword + " ")]


def exec_form(text: str) -> list[str]:
    import json

    return json.loads(text)


def test_the_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck():
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert all("slim" in stage[0] for stage in stages())
    assert instruction(final, "USER") and instruction(final, "USER")[-1] not in ("root", "0")
    healthcheck = " ".join(instruction(final, "HEALTHCHECK"))
    assert "/healthz" in healthcheck
    final_runs = " ".join(instruction(final, "RUN"))
    assert not re.search(r"\b(gcc|build-essential|apt-get install|pip install)\b", final_runs), final_runs
    assert any("pip install" in run for run in instruction(build, "RUN"))
    assert any("--from=" in copy for copy in instruction(final, "COPY"))


def test_compose_runs_the_server_on_a_real_postgresql_it_waits_for():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    db, server = compose["services"]["db"], compose["services"]["fhir"]
    assert db["image"].startswith("postgres:")
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume: the data survives the container
    assert "healthcheck" in db
    assert server["depends_on"]["db"]["condition"] == "service_healthy"
    user, password, name = (db["environment"][k] for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"))
    assert server["environment"]["DATABASE_URL"] == f"postgresql://{user}:{password}@db:5432/{name}"


def test_the_images_install_and_start_steps_serve_the_api(tmp_path, database_url):
    """The build stage's RUN with its paths moved under tmp_path; the dependencies come from this test run's own
    environment (a .pth file) instead of being downloaded again: the project itself is built and installed."""
    build, final = stages()[0], stages()[-1]
    venv, app = tmp_path / "venv", ROOT
    install = next(run for run in instruction(build, "RUN") if "pip install" in run)
    install = install.replace("/opt/fhir", str(venv)).replace("/app", str(app))
    install = install.replace("pip install", "pip install --no-deps -q")
    install = install.replace("python -m venv", f"{shlex.quote(sys.executable)} -m venv --without-pip", 1)
    install = install.replace(f"{venv}/bin/pip", f"{shlex.quote(sys.executable)} -m pip --python {venv}/bin/python")
    site = sysconfig.get_paths()["purelib"]  # this test run's own dependencies
    first, _, rest = install.partition("&&")
    subprocess.run(first, shell=True, check=True, timeout=120)
    venv_site = next((venv / "lib").glob("python3*/site-packages"))
    (venv_site / "test-dependencies.pth").write_text(f"{site}\n")
    result = subprocess.run(rest, shell=True, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FHIR_")}
    for assignment in instruction(final, "ENV"):
        for key, value in re.findall(r"(\w+)=(\S+)", assignment):
            env[key] = value.replace("$PATH", env.get("PATH", "")).replace("/opt/fhir", str(venv))
    env.update(DATABASE_URL=database_url, FHIR_BASE_URL=f"http://127.0.0.1:{port}/fhir", FHIR_DATA_DIR=str(tmp_path))
    command = exec_form(instruction(final, "CMD")[-1])
    command = [str(venv / "bin" / command[0]), *[str(port) if arg == "8080" else arg for arg in command[1:]]]
    command[command.index("0.0.0.0")] = "127.0.0.1"
    assert command[0].endswith("fhir-server") and Path(command[0]).exists()
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        health = exec_form(instruction(final, "HEALTHCHECK")[-1].split("CMD", 1)[1].strip())
        health = [str(venv / "bin" / "python") if health[0] == "python" else health[0], *health[1:]]
        health = [arg.replace("8080", str(port)) for arg in health]
        deadline = time.monotonic() + 30
        while True:
            if subprocess.run(health, env=env, capture_output=True, timeout=10).returncode == 0:
                break
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.3)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(30) == 0
