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
    """Also: stored versions are reached only through interactions/repository.py (the guard) and the write path."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


def test_the_readme_layer_picture_is_the_import_linter_contract():
    """README's Layout shows `server/  http/ -> ... -> fhir/`: the layers contract, top to bottom (below cli)."""
    layers = next(c["layers"] for c in CONTRACTS if c["type"] == "layers")
    picture = re.search(r"^server/\s+(.+)$", (ROOT / "README.md").read_text(), re.MULTILINE).group(1)
    drawn = [part.strip().rstrip("/") for part in picture.split("->")]
    assert drawn == [layer.removeprefix("server.") for layer in layers if layer != "server.cli"]


def test_the_write_path_contract_names_every_module_that_could_store_around_it():
    """A new module must be in the contract's source list, or it could import storage's writes unnoticed."""
    contract = next(c for c in CONTRACTS if c["name"].startswith("Only the write path module"))
    modules = {f"server.{p.stem}" for p in (ROOT / "server").iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    modules |= {f"server.{p.name}" for p in (ROOT / "server").iterdir() if (p / "__init__.py").exists()}
    modules -= {"server.storage"}
    modules |= {
        f"server.storage.{p.stem if p.suffix == '.py' else p.name}"
        for p in (ROOT / "server/storage").iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.stem != "__init__"
    }
    uncovered = modules - set(contract["source_modules"]) - set(contract["forbidden_modules"])
    assert not uncovered, f"add to the write path contract's source_modules: {sorted(uncovered)}"


def test_access_is_decided_only_by_the_guard():
    """The request context carries the guard but decides nothing itself (no ctx.definition), and no
    module outside server/auth/ asks the token's policy directly."""
    from server.interactions.context import RequestContext

    assert [n for n, v in vars(RequestContext).items() if callable(v) and not n.startswith("_")] == []
    asking = re.compile(r"\.policy\.(require|allows|compartment_patient|granular|search_criteria)|ctx\.definition\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "server").rglob("*.py")
        if "auth" not in path.relative_to(ROOT).parts and asking.search(path.read_text())
    ]
    assert offenders == []
