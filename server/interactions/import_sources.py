"""What `fhir-server import` reads: NDJSON files (one resource per line, R4 nd-json.html) and JSON
files holding one resource or a Bundle (transaction, batch, collection...) whose fullUrls are
rewritten to the ids the resources will keep (R4 bundle.html#references)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from .references import reference_slots
from .versions import new_id

NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".ndj")


@dataclass
class Record:
    file: str
    line: int | None  # NDJSON line, 1-based
    entry: int | None  # Bundle.entry index
    raw: bytes | dict | None
    error: str | None = None

    def where(self) -> dict:
        place: dict[str, str | int] = {"file": self.file}
        if self.line is not None:
            place["line"] = self.line
        if self.entry is not None:
            place["entry"] = self.entry
        return place


def read_records(path: Path) -> Iterator[tuple[Record, int]]:
    """(record, bytes of the file consumed so far) for every resource in the file."""
    if path.suffix.lower() in NDJSON_SUFFIXES:
        yield from _ndjson(path)
    else:
        yield from _json_file(path)


def _ndjson(path: Path) -> Iterator[tuple[Record, int]]:
    consumed = 0
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            consumed += len(line)
            if line.strip():
                yield Record(str(path), number, None, line), consumed


def _json_file(path: Path) -> Iterator[tuple[Record, int]]:
    data = path.read_bytes()
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        yield Record(str(path), None, None, None, f"The file is not JSON: {error}"), len(data)
        return
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        yield Record(str(path), None, None, document), len(data)
        return
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        yield Record(str(path), None, None, None, "Bundle.entry is not a list"), len(data)
        return
    records = list(_bundle_records(str(path), entries))
    for index, record in enumerate(records, start=1):
        yield record, len(data) * index // len(records)


def _entry_id(entry: dict, resource: dict) -> str:
    request = entry.get("request")
    if not isinstance(request, dict):
        request = {}
    url = str(request.get("url", "")).partition("?")[0].strip("/").split("/")
    if request.get("method") == "PUT" and len(url) == 2:
        return url[1]
    return resource.get("id") or new_id()


def _bundle_records(file: str, entries: list) -> Iterator[Record]:
    """Entries' resources with the ids they keep, references to fullUrls rewritten to Type/id."""
    mapping, kept = {}, []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        method = (entry.get("request") or {}).get("method") if isinstance(entry, dict) else None
        if method in ("DELETE", "GET", "HEAD", "PATCH") or not isinstance(resource, dict):
            kept.append(
                Record(
                    file,
                    None,
                    index,
                    None,
                    f"Entry {index} has no resource to import"
                    + (f" ({method} entries are not imported)" if method else ""),
                )
            )
            continue
        resource = {**resource, "id": _entry_id(entry, resource)}
        if isinstance(entry.get("fullUrl"), str) and isinstance(resource.get("resourceType"), str):
            mapping[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
        kept.append(Record(file, None, index, resource))
    for record in kept:
        if isinstance(record.raw, dict):
            for holder, _ in reference_slots(record.raw, "Resource"):
                if holder["reference"] in mapping:
                    holder["reference"] = mapping[holder["reference"]]
        yield record
