// A small app run in its own `node` process by process-lifetime.test.ts: an Express API protected
// by the middleware, called through createPopFetch with a PoP token from the emulator (which runs
// in the test process). It closes what it opened and then simply returns: if anything this package
// or the fetch created (a JWKS timer, a keep-alive socket) held the event loop, the process would
// not exit and the test would fail.
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createPopFetch, createUndiciTransport } from "@certbound/http-undici";
import { createTokenValidator } from "@certbound/resource-server";
import { requireAccessToken } from "@certbound/resource-server/express";
import express from "express";

const env = JSON.parse(process.env.CERTBOUND_APP_CONFIG ?? "{}") as Record<string, string>;
const need = (name: string): string =>
  env[name] ??
  (() => {
    throw new Error(`missing ${name}`);
  })();

const validator = createTokenValidator({
  tenants: [need("tenantId")],
  audiences: [need("audience")],
  authorityHost: need("authorityHost"),
  ca: need("emulatorCa"),
});
const api = express();
api.get("/whoami", requireAccessToken({ validator }), (req, res) => {
  res.json({ type: req.accessToken?.tokenType, x5t: req.accessToken?.certificateThumbprint });
});
const server = createServer(
  { cert: need("serverCert"), key: need("serverKey"), requestCert: true, rejectUnauthorized: false },
  api,
);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

const transport = createUndiciTransport();
const app = createConfidentialClient({
  clientId: need("clientId"),
  authority: `${need("authorityHost")}/${need("tenantId")}`,
  authorityHost: need("authorityHost"),
  mtlsAuthorityHost: need("mtlsAuthorityHost"),
  ca: need("emulatorCa"),
  certificate: { certificatePem: need("clientCert"), privateKeyPem: need("clientKey") },
  transport,
  env: {},
});
const popFetch = createPopFetch({
  credential: app,
  scopes: [`${need("audience")}/.default`],
  transport,
  ca: need("apiCa"),
});
const response = await popFetch(`https://127.0.0.1:${(server.address() as AddressInfo).port}/whoami`);
process.stdout.write(`${JSON.stringify({ status: response.status, body: await response.json() })}\n`);

await popFetch.close();
app.close();
await transport.close();
server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));
// No process.exit(): the process must end on its own.
