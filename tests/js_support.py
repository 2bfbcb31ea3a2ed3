"""The Node packages the JavaScript client tests use (tests/js/package.json): installed with `npm ci` by
.ci/run, or here on first use when missing; a machine without npm fails these tests loudly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"


def node_modules() -> Path:
    """tests/js/node_modules, installed from package-lock.json when absent."""
    modules = JS_DIR / "node_modules"
    if (
        not (modules / "fhirclient").is_dir()
        or not (modules / "fhir-kit-client").is_dir()
        or not (modules / "axe-core").is_dir()
    ):
        npm = shutil.which("npm")
        if npm is None:
            raise AssertionError("npm is needed for the JavaScript client tests (tests/js); install Node.js 20")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=600)
    return modules


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise AssertionError("node is needed for the JavaScript client tests (tests/js); install Node.js 20")
    return found
