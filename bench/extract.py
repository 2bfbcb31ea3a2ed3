"""Micro-benchmark of index row extraction (search.extract.index_rows + patient_compartment), the
part of a create that turns a resource into search index rows: CPU µs per resource, by type.

    .venv/bin/python bench/extract.py [--seconds 1] [--rounds 5]
    .venv/bin/python bench/extract.py --compare DIR    # DIR: another checkout, alternating rounds

CPU time of this process (not wall time), so other load on the machine disturbs it less. `--compare`
runs one round of each tree in turn (fresh processes) and prints both medians; make DIR with e.g.
`mkdir DIR && git archive <commit> server resources tests | tar -x -C DIR`."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_URL = "http://localhost:8080/fhir"


def _measure(tree: Path, seconds: float) -> dict[str, float]:
    """One round in this process for the checkout `tree`: µs of CPU per resource, by sample."""
    sys.path[:0] = [str(tree), str(HERE)]
    from payload import patient

    from server.interactions.capabilities import IMPLEMENTED_INTERACTIONS
    from server.search.extract import index_rows, patient_compartment
    from server.search.registry import Registry
    from tests.synthetic import records

    registry = Registry.load(tree / "resources", IMPLEMENTED_INTERACTIONS)
    samples: dict[str, list[dict]] = {"Patient (bench payload)": [patient(f"MRN-{i:06d}") for i in range(50)]}
    for resource in records(600):
        samples.setdefault(resource["resourceType"], []).append(resource)
    result = {}
    for label, resources in samples.items():
        definition = registry.get(resources[0]["resourceType"])
        done, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            for resource in resources:
                index_rows(definition, resource, BASE_URL)
                patient_compartment(definition, resource, BASE_URL)
            done += len(resources)
        result[label] = (time.process_time() - start) / done * 1e6
    return result


def _round(tree: Path, seconds: float) -> dict[str, float]:
    command = [sys.executable, __file__, "--one-round", str(tree), "--seconds", str(seconds)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per resource type and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", type=Path, help="another checkout, measured in alternating rounds")
    parser.add_argument("--one-round", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_round:
        print(json.dumps(_measure(args.one_round.resolve(), args.seconds)))
        return
    trees = {"this tree": HERE.parent} | ({f"{args.compare}": args.compare.resolve()} if args.compare else {})
    rounds: dict[str, list[dict]] = {name: [] for name in trees}
    for number in range(args.rounds):
        for name, tree in trees.items():
            rounds[name].append(_round(tree, args.seconds))
        print(f"round {number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    labels = list(rounds["this tree"][0])
    print("| resource | " + " | ".join(f"{name}: CPU µs per resource (median)" for name in trees) + " |")
    print("|---|" + "---|" * len(trees))
    for label in labels:
        medians = [statistics.median(r[label] for r in rounds[name]) for name in trees]
        print(f"| {label} | " + " | ".join(f"{m:.1f}" for m in medians) + " |")


if __name__ == "__main__":
    main()
