// Acceptance: certbound's fetch (createPopFetch) with a PoP token from the emulator calls a real
// Express 5 and a real Fastify 5 server over mutual TLS, each protected by this package's
// middleware; the same token with another certificate is refused. Plus plain node:https and curl.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IssuedCertificate } from "@certbound/core/credential-kit";
import { createPopFetch } from "@certbound/http-undici";
import { requireAccessToken } from "@certbound/resource-server/express";
import { accessTokenPlugin } from "@certbound/resource-server/fastify";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeAuthenticator, type TokenValidationError } from "../src/index";
import { AUDIENCE, type MtlsServer, popToken, SCOPE, startMtlsServer, useBed, validatorFor } from "./testbed";

const bed = useBed();
const rejected: TokenValidationError[] = [];

interface Api {
  name: string;
  origin: string;
  close(): Promise<void>;
}

async function startExpress(): Promise<Api> {
  const app = express();
  app.get(
    "/whoami",
    requireAccessToken({ validator: validatorFor(bed), onRejected: (e) => rejected.push(e) }),
    (req, res) => {
      res.json({
        aud: req.accessToken?.claims.aud,
        type: req.accessToken?.tokenType,
        x5t: req.accessToken?.certificateThumbprint,
      });
    },
  );
  const server: MtlsServer = await startMtlsServer(bed, app);
  return { name: "express", origin: server.origin, close: server.close };
}

async function startFastify(): Promise<Api> {
  const app: FastifyInstance = Fastify({
    https: {
      cert: bed.serverCert.certificatePem,
      key: bed.serverCert.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    logger: false,
  });
  await app.register(accessTokenPlugin, {
    validator: validatorFor(bed),
    onRejected: (e) => rejected.push(e),
  });
  app.get("/whoami", async (request) => ({
    aud: request.accessToken?.claims.aud,
    type: request.accessToken?.tokenType,
    x5t: request.accessToken?.certificateThumbprint,
  }));
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { name: "fastify", origin: `https://127.0.0.1:${port}`, close: () => app.close() };
}

async function startNode(): Promise<Api> {
  const authenticate = createNodeAuthenticator({
    validator: validatorFor(bed),
    onRejected: (e) => rejected.push(e),
  });
  const server = await startMtlsServer(bed, async (req, res) => {
    const token = await authenticate(req, res);
    if (!token) return;
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({ aud: token.claims.aud, type: token.tokenType, x5t: token.certificateThumbprint }),
    );
  });
  return { name: "node:https", origin: server.origin, close: server.close };
}

const apis: Api[] = [];
beforeAll(async () => {
  apis.push(await startExpress(), await startFastify(), await startNode());
});
afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
});

/** undici's fetch presenting `cert` (or none) with `token`, on the bed's transport pools. */
async function callWith(origin: string, token: string, cert: IssuedCertificate | undefined) {
  const response = await fetch(`${origin}/whoami`, {
    headers: { authorization: `Bearer ${token}` },
    dispatcher: bed.transport.dispatcherFor(cert, { ca: bed.ca.certificatePem }),
  });
  return {
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    body: await response.json(),
  };
}

describe.each(["express", "fastify", "node:https"])("a %s API protected by the middleware", (name) => {
  const api = () => apis.find((a) => a.name === name) as Api;

  it("accepts certbound's fetch: a PoP token with its binding certificate, claims on the request", async () => {
    const popFetch = createPopFetch({
      credential: bed.app,
      scopes: [SCOPE],
      transport: bed.transport,
      ca: bed.ca.certificatePem,
    });
    const response = await popFetch(`${api().origin}/whoami`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ aud: AUDIENCE, type: "mtls_pop", x5t: bed.appCert.x5tS256 });
  });

  it("refuses the same token presented with another certificate, or with none", async () => {
    const { accessToken } = await popToken(bed);
    rejected.length = 0;
    const other = await callWith(api().origin, accessToken, bed.otherCert);
    expect(other.status).toBe(401);
    expect(other.challenge).toBe(
      'Bearer error="invalid_token", error_description="The token is bound to another certificate than the one presented on this connection."',
    );
    expect(other.body).toMatchObject({ error: "invalid_token" });
    expect(JSON.stringify(other.body)).not.toContain(accessToken.split(".")[2]);
    const none = await callWith(api().origin, accessToken, undefined);
    expect(none.status).toBe(401);
    expect(rejected.map((e) => e.code)).toEqual(["certificate_mismatch", "certificate_required"]);
  });

  it("answers a request without a token with 401 and a bare Bearer challenge", async () => {
    const response = await fetch(`${api().origin}/whoami`, {
      dispatcher: bed.transport.dispatcherFor(bed.appCert, { ca: bed.ca.certificatePem }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    await response.body?.cancel();
  });
});

describe("curl", () => {
  it("calls the Express API with --cert/--key and the token; another certificate is refused", async () => {
    const { accessToken } = await popToken(bed);
    const dir = mkdtempSync(join(tmpdir(), "certbound-curl-"));
    try {
      const file = (name: string, text: string) => {
        const path = join(dir, name);
        writeFileSync(path, text, { mode: 0o600 });
        return path;
      };
      const cacert = file("ca.pem", bed.ca.certificatePem);
      // The token in a header file, not on the command line where `ps` would show it.
      const header = file("auth.txt", `Authorization: Bearer ${accessToken}\n`);
      const curl = (cert: IssuedCertificate) =>
        new Promise<{ status: string; headers: string }>((resolve, reject) => {
          const certPath = file(`${cert.x5tS256}.crt`, cert.certificatePem);
          const keyPath = file(`${cert.x5tS256}.key`, cert.keyPem);
          execFile(
            "curl",
            [
              "-sS",
              "--cert",
              certPath,
              "--key",
              keyPath,
              "--cacert",
              cacert,
              "-H",
              `@${header}`,
              "-D",
              "-",
              "-o",
              "/dev/null",
              "-w",
              "%{http_code}",
              `${(apis[0] as Api).origin}/whoami`,
            ],
            { timeout: 20_000 },
            (error, stdout) =>
              error ? reject(error) : resolve({ status: stdout.slice(-3), headers: stdout.slice(0, -3) }),
          );
        });
      expect((await curl(bed.appCert)).status).toBe("200");
      const refused = await curl(bed.otherCert);
      expect(refused.status).toBe("401");
      expect(refused.headers.toLowerCase()).toContain('www-authenticate: bearer error="invalid_token"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
