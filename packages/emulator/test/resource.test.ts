import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { formPost, jwtPayload, send } from "./helpers";

let emu: Emulator;
let signingKey: KeyObject;
let now = Date.now();
let app: IssuedCertificate;
let other: IssuedCertificate;
const APP = "resource-test-app";

beforeAll(async () => {
  signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  emu = await startEmulator({ signingKey, now: () => now });
  app = createCertificateAuthority().issue({ commonName: "app" });
  other = createCertificateAuthority().issue({ commonName: "other" });
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
});
afterAll(async () => {
  await emu?.close();
});

async function popToken(target: Emulator, scope = `${target.resourceUrl}/.default`): Promise<string> {
  const r = await send(
    `${target.mtlsAuthorityHost}/${target.tenantId}/oauth2/v2.0/token`,
    formPost(
      { client_id: APP, grant_type: "client_credentials", scope, token_type: "mtls_pop" },
      { ca: target.caCertificatePem, cert: app.certificatePem, key: app.keyPem },
    ),
  );
  expect(r.status, r.body).toBe(200);
  return String(r.json.access_token);
}

async function bearerToken(target: Emulator): Promise<string> {
  const r = await send(
    `${target.imdsEndpoint}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${target.resourceUrl}`,
    { headers: { Metadata: "true" } },
  );
  return String(r.json.access_token);
}

const call = (
  token: string | undefined,
  identity: IssuedCertificate | null = app,
  target = emu,
  scheme = "Bearer",
) =>
  send(`${target.resourceUrl}/some/path?x=1`, {
    method: "POST",
    headers: token ? { authorization: `${scheme} ${token}` } : {},
    ca: target.caCertificatePem,
    ...(identity ? { cert: identity.certificatePem, key: identity.keyPem } : {}),
  });

const expectRejected = (r: Awaited<ReturnType<typeof send>>, reason: string) => {
  expect(r.status, r.body).toBe(401);
  expect(r.headers["www-authenticate"]).toBe(`Bearer error="invalid_token", error_description="${reason}"`);
  expect(r.json).toMatchObject({ error: "invalid_token", error_description: reason });
};

describe("protected resource", () => {
  it("accepts a PoP token with the certificate it is bound to and echoes who called", async () => {
    const token = await popToken(emu);
    const r = await call(token);
    expect(r.status, r.body).toBe(200);
    expect(r.json).toMatchObject({
      subject: jwtPayload(token).sub,
      tokenType: "mtls_pop",
      clientCertificateX5tS256: app.x5tS256,
      audience: emu.resourceUrl,
      method: "POST",
      path: "/some/path",
    });
    expect((await call(token, app, emu, "mtls_pop")).status).toBe(200);
  });

  it("rejects a PoP token presented with another certificate", async () => {
    expectRejected(await call(await popToken(emu), other), "certificate_mismatch");
  });

  it("requires a client certificate and a token", async () => {
    const token = await popToken(emu);
    expectRejected(await call(token, null), "client_certificate_required");
    expectRejected(await call(undefined), "missing_token");
    expectRejected(await call(token, app, emu, "Basic"), "missing_token");
  });

  it("rejects tampered tokens and tokens of another emulator", async () => {
    const token = await popToken(emu);
    const [h, , s] = token.split(".") as [string, string, string];
    const payload = { ...jwtPayload(token), aud: "https://elsewhere" };
    expectRejected(
      await call(`${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`),
      "bad_signature",
    );
    expectRejected(await call("garbage"), "bad_signature");
    const second = await startEmulator({
      signingKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
    });
    try {
      second.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      expectRejected(await call(await popToken(second, `${emu.resourceUrl}/.default`)), "bad_signature");
    } finally {
      await second.close();
    }
  });

  it("rejects expired tokens (emulator clock)", async () => {
    const token = await popToken(emu);
    now += 3600_000 + 10_000;
    try {
      expectRejected(await call(token), "expired");
    } finally {
      now = Date.now();
    }
  });

  it("rejects tokens for another audience", async () => {
    expectRejected(await call(await popToken(emu, "api://another/.default")), "wrong_audience");
  });

  it("accepts Bearer tokens by default and refuses them when configured PoP-only", async () => {
    const bearer = await bearerToken(emu);
    const ok = await call(bearer);
    expect(ok.status, ok.body).toBe(200);
    expect(ok.json.tokenType).toBe("Bearer");

    const strict = await startEmulator({ signingKey, resourceAcceptsBearer: false });
    try {
      strict.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      expectRejected(await call(await bearerToken(strict), app, strict), "bearer_not_accepted");
      expect((await call(await popToken(strict), app, strict)).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it("accepts the configured audiences", async () => {
    const custom = await startEmulator({
      signingKey,
      resourceAudiences: ["api://my-api", "https://api.example/"],
    });
    try {
      custom.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      expect((await call(await popToken(custom, "api://my-api/.default"), app, custom)).status).toBe(200);
      expect((await call(await popToken(custom, "https://api.example/.default"), app, custom)).status).toBe(
        200,
      );
      expectRejected(await call(await popToken(custom), app, custom), "wrong_audience");
    } finally {
      await custom.close();
    }
  });
});
