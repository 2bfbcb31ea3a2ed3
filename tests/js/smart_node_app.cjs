// A SMART app on the SMART JavaScript client's Node adapter (fhirclient 2.x), written as its docs show:
// /launch calls authorize(), /callback calls ready(), then the app reads the patient, their
// MedicationRequests and the user, refreshes its token (client.refresh(), a public client: no client_id
// is sent) and reads again. Prints {"port": N} once listening; /callback answers one JSON object.
const http = require("http");
const smart = require("fhirclient");

const iss = process.argv[2];
const session = {}; // one user: the session express-session would keep

async function callback(req, res) {
  const client = await smart(req, res).ready();
  const patient = await client.patient.read();
  const medications = await client.request(`MedicationRequest?patient=${client.patient.id}`, { flat: true });
  const user = await client.user.read();
  const firstRefreshToken = client.state.tokenResponse.refresh_token;
  const firstAccessToken = client.state.tokenResponse.access_token;
  await client.refresh();
  const again = await client.patient.read();
  return {
    patient: patient.id, medications: medications.map((m) => m.id), user: `${user.resourceType}/${user.id}`,
    userName: user.name && user.name[0] && user.name[0].family, scope: client.state.tokenResponse.scope,
    refreshTokenRotated: client.state.tokenResponse.refresh_token !== firstRefreshToken,
    accessTokenRenewed: client.state.tokenResponse.access_token !== firstAccessToken, patientAfterRefresh: again.id,
  };
}

const server = http.createServer(async (req, res) => {
  req.session = session;
  const url = new URL(req.url, `http://${req.headers.host}`);
  try {
    if (url.pathname === "/launch") {
      await smart(req, res).authorize({ clientId: url.searchParams.get("client_id"), iss,
                                        scope: url.searchParams.get("scope"), redirectUri: "/callback" });
      return;
    }
    if (url.pathname === "/callback") {
      const body = JSON.stringify(await callback(req, res));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
      return;
    }
    res.writeHead(404);
    res.end();
  } catch (error) {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(error && error.stack || error) }));
  }
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
