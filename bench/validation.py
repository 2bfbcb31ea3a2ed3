#!/usr/bin/env python
"""Profile validation cost: each published US Core example validated as it is (claiming its US Core
profile) and without its meta.profile (the base R4 checks only: structure, JSON rules, required
bindings, every R4 invariant), in alternating rounds (base, profile, base, ...) so that the machine's
drifts hit both alike; medians per resource and the ratio profile / base (target: at most 1.5).
Also the start-up cost of the validator (definitions compiled, FHIRPath compiled, value sets loaded).

    .venv/bin/python bench/validation.py [--rounds 7] [--iterations 200]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.validation import Validator  # noqa: E402

EXAMPLES = ROOT / "tests" / "validation" / "examples"
TARGET = 1.5


def without_profile(resource: dict) -> dict:
    plain = copy.deepcopy(resource)
    plain.pop("meta", None)
    return plain


def per_call(validator: Validator, resource: dict, iterations: int) -> float:
    """Microseconds per validate() call over `iterations` calls."""
    resource_type = resource["resourceType"]
    start = time.perf_counter()
    for _ in range(iterations):
        validator.validate(resource_type, resource)
    return (time.perf_counter() - start) / iterations * 1e6


def startup_seconds() -> float:
    """A fresh interpreter importing the validator and building it from profiles/ (what create_app pays)."""
    code = (
        "import time; t = time.perf_counter(); from server.validation import Validator; from pathlib import Path;"
        f" Validator(Path({str(ROOT / 'profiles')!r})); print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(result.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args(argv)
    validator = Validator(ROOT / "profiles")
    examples = {p.stem: json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))}
    samples = {name: {"base": [], "profile": []} for name in examples}
    for round_number in range(args.rounds):
        for name, resource in examples.items():
            samples[name]["base"].append(per_call(validator, without_profile(resource), args.iterations))
            samples[name]["profile"].append(per_call(validator, resource, args.iterations))
        print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    print("| resource | base R4 (µs) | with its US Core profile (µs) | ratio | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    worst = 0.0
    for name, found in samples.items():
        base, profile = statistics.median(found["base"]), statistics.median(found["profile"])
        worst = max(worst, profile / base)
        print(
            f"| {name} | {base:.0f} | {profile:.0f} | {profile / base:.2f} | "
            f"{'PASS' if profile / base <= TARGET else 'FAIL'} (<= {TARGET}) |"
        )
    startup = startup_seconds()
    print(
        f"| validator start-up (fresh interpreter) | | | {startup:.2f} s |"
        f" {'PASS' if startup < 3 else 'FAIL'} (< 3 s) |"
    )
    return 0 if worst <= TARGET and startup < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
