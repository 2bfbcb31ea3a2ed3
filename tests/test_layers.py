"""The layer direction of DESIGN.md, kept honest by import-linter's contracts in pyproject.toml."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_each_layer_imports_only_those_below_it_and_only_models_imports_fhir_resources():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


def test_the_readme_layer_picture_is_the_import_linter_contract():
    """README's Layout shows `server/  http/ -> ... -> fhir/`: the layers contract, top to bottom (below cli)."""
    layers = next(c["layers"] for c in CONTRACTS if c["type"] == "layers")
    picture = re.search(r"^server/\s+(.+)$", (ROOT / "README.md").read_text(), re.MULTILINE).group(1)
    drawn = [part.strip().rstrip("/") for part in picture.split("->")]
    assert drawn == [layer.removeprefix("server.") for layer in layers if layer != "server.cli"]
