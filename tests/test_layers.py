"""The layer direction of DESIGN.md, kept honest by import-linter's contracts in pyproject.toml."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_each_layer_imports_only_those_below_it_and_only_models_imports_fhir_resources():
    """Also: stored versions are reached only through interactions/repository.py (the guard) and the write path."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


def test_the_write_path_contract_names_every_module_that_could_store_around_it():
    """A new module must be in the contract's source list, or it could import storage's writes unnoticed."""
    import tomllib
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    contract = next(c for c in contracts if c["name"].startswith("Only the write path module"))
    modules = {f"server.{p.stem}" for p in (ROOT / "server").iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    modules |= {f"server.{p.name}" for p in (ROOT / "server").iterdir() if (p / "__init__.py").exists()}
    modules -= {"server.storage"}
    modules |= {f"server.storage.{p.stem if p.suffix == '.py' else p.name}" for p in (ROOT / "server/storage").iterdir()
                if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.stem != "__init__"}
    uncovered = modules - set(contract["source_modules"]) - set(contract["forbidden_modules"])
    assert not uncovered, f"add to the write path contract's source_modules: {sorted(uncovered)}"
