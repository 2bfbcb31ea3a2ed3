// fhir-kit-client as its README shows it: a transaction, a batch and a system search, all of which
// the library sends to the base URL with a trailing slash (`[base]/`). Prints one JSON object.
import { Client } from "fhir-kit-client";

const [baseUrl, token, mrn] = process.argv.slice(2);
const client = new Client({ baseUrl, customHeaders: { Authorization: `Bearer ${token}` } });
const patient = {
  resourceType: "Patient", identifier: [{ system: "http://hospital.example/mrn", value: mrn }],
  name: [{ family: "Kit", given: ["Fhir"] }], gender: "female", birthDate: "1975-05-05",
};
const transaction = await client.transaction({ body: {
  resourceType: "Bundle", type: "transaction",
  entry: [{ fullUrl: "urn:uuid:6a1f3c2e-5b4d-4e8f-9a0b-1c2d3e4f5a6b", resource: patient,
            request: { method: "POST", url: "Patient" } }],
} });
const batch = await client.batch({ body: {
  resourceType: "Bundle", type: "batch",
  entry: [{ request: { method: "GET", url: `Patient?identifier=http://hospital.example/mrn|${mrn}` } }],
} });
const found = await client.systemSearch({ searchParams: { _type: "Patient", identifier: mrn } });
console.log(JSON.stringify({
  transaction: transaction.type, created: transaction.entry[0].response.status,
  batch: batch.type, batchTotal: batch.entry[0].resource.total,
  systemSearchTotal: found.total, requestedUrl: client.httpClient.expandUrl("/"),
}));
