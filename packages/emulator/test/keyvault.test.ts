// The Key Vault secrets surface on the resource server, from a plain HTTPS client: the challenge a
// Key Vault SDK starts from, its JSON shapes, and RFC 8705's binding check. @certbound/azure's
// tests drive it with the real SecretClient.

import { generateKeyPairSync } from "node:crypto";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { formPost, send } from "./helpers";

let emu: Emulator;
let now = Date.now();
let app: IssuedCertificate;
let other: IssuedCertificate;
const APP = "keyvault-test-app";
const VAULT = "https://vault.azure.net";

beforeAll(async () => {
  emu = await startEmulator({
    signingKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
    now: () => now,
  });
  const ca = createCertificateAuthority();
  app = ca.issue({ commonName: "app", keyType: "rsa" });
  other = ca.issue({ commonName: "other" });
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
});
afterAll(async () => {
  await emu?.close();
});

async function popToken(scope = `${VAULT}/.default`): Promise<string> {
  const r = await send(
    `${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`,
    formPost(
      { client_id: APP, grant_type: "client_credentials", scope, token_type: "mtls_pop" },
      { ca: emu.caCertificatePem, cert: app.certificatePem, key: app.keyPem },
    ),
  );
  expect(r.status, r.body).toBe(200);
  return String(r.json.access_token);
}

const get = (path: string, token?: string, identity: IssuedCertificate | null = app, method = "GET") =>
  send(`${emu.resourceUrl}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ca: emu.caCertificatePem,
    ...(identity ? { cert: identity.certificatePem, key: identity.keyPem } : {}),
  });

const expectInvalidToken = (r: Awaited<ReturnType<typeof send>>, reason: string) => {
  expect(r.status, r.body).toBe(401);
  expect(r.headers["www-authenticate"]).toBe(`Bearer error="invalid_token", error_description="${reason}"`);
  expect(r.json).toMatchObject({
    error: { code: "Unauthorized", message: expect.stringContaining(`${reason}: `) },
  });
};

describe("Key Vault secrets surface", () => {
  it("answers a request without a token with Key Vault's challenge (tenant and resource), certificate or not", async () => {
    for (const identity of [app, null]) {
      const r = await get("/secrets/any/?api-version=2025-07-01", undefined, identity);
      expect(r.status).toBe(401);
      expect(r.headers["www-authenticate"]).toBe(
        `Bearer authorization="https://login.microsoftonline.com/${emu.tenantId}", resource="${VAULT}"`,
      );
      expect(r.json).toEqual({
        error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." },
      });
    }
  });

  it("returns the latest version, or the one named, in Key Vault's secret bundle", async () => {
    const first = emu.setKeyVaultSecret({ name: "Db-Password", value: "one", contentType: "text/plain" });
    const second = emu.setKeyVaultSecret({ name: "db-password", value: "two" });
    expect(first.id).toBe(`${emu.resourceUrl}/secrets/Db-Password/${first.version}`);
    expect(first.version).toMatch(/^[0-9a-f]{32}$/);
    const token = await popToken();

    const latest = await get("/secrets/db-password/?api-version=7.5", token);
    expect(latest.status, latest.body).toBe(200);
    expect(latest.json).toEqual({
      value: "two",
      id: `${emu.resourceUrl}/secrets/db-password/${second.version}`,
      attributes: {
        enabled: true,
        created: Math.floor(now / 1000),
        updated: Math.floor(now / 1000),
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: 90,
      },
      tags: {},
    });
    const named = await get(`/secrets/DB-PASSWORD/${first.version}?api-version=7.5`, token);
    expect(named.json).toMatchObject({ value: "one", contentType: "text/plain" });
    expect((await get("/secrets/db-password?api-version=7.5", token)).json).toMatchObject({ value: "two" });
  });

  it("answers 404 SecretNotFound for an unknown name or version, without echoing hostile text", async () => {
    const token = await popToken();
    const unknown = await get("/secrets/nope/?api-version=7.5", token);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: "SecretNotFound" } });
    emu.setKeyVaultSecret({ name: "known", value: "x" });
    expect((await get(`/secrets/known/${"0".repeat(32)}?api-version=7.5`, token)).status).toBe(404);
    const hostile = await get("/secrets/a%0d%0aSet-Cookie:%20x/?api-version=7.5", token);
    expect(hostile.status).toBe(404);
    expect(hostile.body).not.toMatch(/[\r\n]/);
    expect((await get("/secrets/%E0%A4%A/?api-version=7.5", token)).status).toBe(404);
  });

  it("refuses a PoP token without its certificate, or with another one: certificate_mismatch", async () => {
    emu.setKeyVaultSecret({ name: "bound", value: "x" });
    const token = await popToken();
    const missing = await get("/secrets/bound/?api-version=7.5", token, null);
    expectInvalidToken(missing, "certificate_mismatch");
    expect(missing.json.error).toMatchObject({
      message: expect.stringContaining("no TLS client certificate"),
    });
    const another = await get("/secrets/bound/?api-version=7.5", token, other);
    expectInvalidToken(another, "certificate_mismatch");
    expect(another.json.error).toMatchObject({ message: expect.stringContaining("another certificate") });
  });

  it("refuses a token for another audience, an expired one and a forged one", async () => {
    expectInvalidToken(
      await get("/secrets/x/?api-version=7.5", await popToken(`${emu.resourceUrl}/.default`)),
      "wrong_audience",
    );
    const token = await popToken();
    expectInvalidToken(
      await get("/secrets/x/?api-version=7.5", `${token.slice(0, -4)}AAAA`),
      "bad_signature",
    );
    const saved = now;
    now += 2 * 86400_000;
    try {
      expectInvalidToken(await get("/secrets/x/?api-version=7.5", token), "expired");
    } finally {
      now = saved;
    }
  });

  it("serves GET only; a /secrets path without api-version stays the generic resource's", async () => {
    const token = await popToken();
    expect((await get("/secrets/x/?api-version=7.5", token, app, "DELETE")).status).toBe(405);
    const generic = await get("/secrets/x", token);
    // The generic resource checks the audience against its own URL, and says so in its own shape.
    expect(generic.status).toBe(401);
    expect(generic.json).toMatchObject({ error: "invalid_token", error_description: "wrong_audience" });
  });

  it("refuses bad secret names when storing", () => {
    expect(() => emu.setKeyVaultSecret({ name: "has space", value: "x" })).toThrow(/1-127 letters/);
    expect(() => emu.setKeyVaultSecret({ name: "a".repeat(128), value: "x" })).toThrow(/1-127 letters/);
    expect(() => emu.setKeyVaultSecret({ name: "ok", value: 1 as unknown as string })).toThrow(/string/);
  });
});
