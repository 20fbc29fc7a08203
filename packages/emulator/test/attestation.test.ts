// The emulator's attestation mode (issue 13 item 14): issuecredential without an attestation token
// answers as IMDS does today for unattested keys, and tokens come from the emulated attestation
// service. Hand-built requests only; credential-msi runs the same flow end to end in its own tests.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTESTATION_TOKEN_LIFETIME_SECONDS } from "../src/attestation";
import { parseCliArgs } from "../src/cli-options";
import { type Emulator, startEmulator } from "../src/index";
import { buildCsr, send } from "./helpers";

const META = { Metadata: "true" };
let now = Date.now();
let strict: Emulator;
let lenient: Emulator;
let keys: { privateKey: KeyObject; publicKey: KeyObject };

beforeAll(async () => {
  keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  [strict, lenient] = await Promise.all([
    startEmulator({ requireAttestation: true, now: () => now }),
    startEmulator({ now: () => now }),
  ]);
});
afterAll(async () => {
  await Promise.all([strict?.close(), lenient?.close()]);
});

const metadata = async (emu: Emulator) =>
  (
    await send(`${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`, {
      headers: META,
    })
  ).json;

const csrFor = async (emu: Emulator, pair = keys) =>
  buildCsr({
    ...pair,
    tenantId: emu.tenantId,
    clientId: emu.systemAssignedIdentity.clientId,
    cuIdJson: JSON.stringify((await metadata(emu)).cuId),
    hashParameters: "absent",
  }).toString("base64");

const attest = (emu: Emulator, body: unknown, method = "POST") =>
  send(
    `${emu.attestationEndpoint}/attest`,
    method === "POST" ? { method, body: JSON.stringify(body) } : { method },
  );

const tokenFor = async (emu: Emulator, publicKey: KeyObject) => {
  const r = await attest(emu, {
    publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  });
  expect(r.status, r.body).toBe(200);
  return r.json.token as string;
};

const issue = (emu: Emulator, body: Record<string, unknown>) =>
  send(`${emu.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0`, {
    method: "POST",
    headers: { ...META, "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(body),
  });

describe("emulator attestation", () => {
  it("getplatformmetadata names the emulated attestation service", async () => {
    expect((await metadata(strict)).attestationEndpoint).toBe(strict.attestationEndpoint);
    expect(strict.attestationEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attestation$/);
  });

  it("requireAttestation: no token is 400 invalid_request 'Attestation Token is missing / empty'", async () => {
    for (const body of [{}, { attestation_token: "" }, { attestation_token: "  " }]) {
      const r = await issue(strict, { csr: await csrFor(strict), ...body });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        error: "invalid_request",
        error_description: "Attestation Token is missing / empty",
      });
      expect(r.headers.server).toMatch(/IMDS/);
    }
  });

  it("a token from the attestation service for the CSR's key gets the certificate", async () => {
    strict.resetStats();
    const token = await tokenFor(strict, keys.publicKey);
    const r = await issue(strict, { csr: await csrFor(strict), attestation_token: token });
    expect(r.status, r.body).toBe(200);
    expect(r.json.client_id).toBe(strict.systemAssignedIdentity.clientId);
    expect(strict.stats().requests.attestation).toBe(1);
    // The token is a credential: the recorded request does not keep it.
    const recorded = strict.stats().recent.find((q) => q.endpoint === "issueCredential");
    expect(JSON.stringify(recorded)).not.toContain(token);
  });

  it("refuses a token for another key, a tampered token, another service's token and an expired one", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const csr = await csrFor(strict);
    const token = await tokenFor(strict, keys.publicKey);
    const [h, p, s] = token.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, exp: (payload.exp as number) + 3600 })).toString("base64url")}.${s}`;
    const cases: Array<[string, string, RegExp]> = [
      ["another key", await tokenFor(strict, other.publicKey), /different key/],
      ["a tampered payload", forged, /signature does not verify/],
      ["another service", await tokenFor(lenient, keys.publicKey), /signature does not verify/],
      ["not a JWT", "not-a-jwt", /not a JWT/],
    ];
    for (const [name, attestationToken, reason] of cases) {
      const r = await issue(strict, { csr, attestation_token: attestationToken });
      expect(r.status, name).toBe(400);
      expect(r.json.error_description, name).toMatch(reason);
    }
    now += (ATTESTATION_TOKEN_LIFETIME_SECONDS + 1) * 1000;
    try {
      const r = await issue(strict, { csr, attestation_token: token });
      expect(r.status).toBe(400);
      expect(r.json.error_description).toMatch(/expired/);
    } finally {
      now = Date.now();
    }
  });

  it("without requireAttestation a CSR alone is enough, but a forged token is never ignored", async () => {
    const csr = await csrFor(lenient);
    expect((await issue(lenient, { csr })).status).toBe(200);
    const forged = await tokenFor(strict, keys.publicKey);
    const r = await issue(lenient, { csr, attestation_token: forged });
    expect(r.status).toBe(400);
    expect(r.json.error_description).toMatch(/Attestation Token is invalid/);
    expect(
      (await issue(lenient, { csr, attestation_token: await tokenFor(lenient, keys.publicKey) })).status,
    ).toBe(200);
  });

  it("the attestation service takes only POST {publicKey: base64 SPKI DER}", async () => {
    expect((await attest(strict, {}, "GET")).status).toBe(405);
    for (const body of [{}, { publicKey: "!!" }, { publicKey: Buffer.from("nope").toString("base64") }]) {
      const r = await attest(strict, body);
      expect(r.status).toBe(400);
    }
  });

  it("is an option and a CLI flag", async () => {
    expect(parseCliArgs(["--require-attestation"]).emulator.requireAttestation).toBe(true);
    expect(parseCliArgs([]).emulator.requireAttestation).toBeUndefined();
    await expect(startEmulator({ requireAttestation: "yes" as never })).rejects.toMatchObject({
      code: "invalid_options",
    });
  });
});
