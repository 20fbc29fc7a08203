import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { formPost, jwtPayload, send } from "./helpers";

let emu: Emulator;
const RESOURCE = "https://management.example";

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.close();
});

const expectToken = (r: Awaited<ReturnType<typeof send>>, clientId = emu.systemAssignedIdentity.clientId) => {
  expect(r.status, r.body).toBe(200);
  expect(r.json).toMatchObject({ token_type: "Bearer", resource: RESOURCE, client_id: clientId });
  expect(jwtPayload(r.json.access_token)).toMatchObject({
    aud: RESOURCE,
    appid: clientId,
    tid: emu.tenantId,
  });
};

describe("App Service", () => {
  it("issues a token with the identity header and epoch-seconds expires_on", async () => {
    const env = emu.managedIdentityEnvironment("appService");
    expect(Object.keys(env).sort()).toEqual(["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]);
    const url = `${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${RESOURCE}`;
    const r = await send(url, { headers: { "X-IDENTITY-HEADER": env.IDENTITY_HEADER as string } });
    expectToken(r);
    expect(r.json.expires_on).toMatch(/^\d{10}$/);
    expect(r.json.expires_in).toBeUndefined();

    const noSecret = await send(url);
    expect(noSecret.status).toBe(401);
    expect(noSecret.json).toMatchObject({ statusCode: 401, message: expect.any(String) });
    expect((await send(url, { headers: { "X-IDENTITY-HEADER": "wrong" } })).status).toBe(401);
    const oldVersion = url.replace("2019-08-01", "2017-09-01");
    expect(
      (await send(oldVersion, { headers: { "X-IDENTITY-HEADER": env.IDENTITY_HEADER as string } })).status,
    ).toBe(400);
  });

  it("addresses user-assigned identities by client_id, object_id and mi_res_id", async () => {
    const env = emu.managedIdentityEnvironment("appService");
    const uami = emu.registerManagedIdentity();
    const headers = { "X-IDENTITY-HEADER": env.IDENTITY_HEADER as string };
    for (const q of [
      `client_id=${uami.clientId}`,
      `object_id=${uami.objectId}`,
      `mi_res_id=${uami.resourceId}`,
    ]) {
      expectToken(
        await send(`${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${RESOURCE}&${q}`, { headers }),
        uami.clientId,
      );
    }
    const msiResId = await send(
      `${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${RESOURCE}&msi_res_id=${uami.resourceId}`,
      {
        headers,
      },
    );
    expect(msiResId.status).toBe(400);
  });
});

describe("Service Fabric", () => {
  it("serves HTTPS with a self-signed certificate pinned by SHA-1 thumbprint and checks the secret", async () => {
    const env = emu.managedIdentityEnvironment("serviceFabric");
    expect(env.IDENTITY_SERVER_THUMBPRINT).toMatch(/^[0-9A-F]{40}$/);
    const url = `${env.IDENTITY_ENDPOINT}?api-version=2020-05-01&resource=${RESOURCE}`;
    const pin = env.IDENTITY_SERVER_THUMBPRINT as string;
    const r = await send(url, { headers: { secret: env.IDENTITY_HEADER as string }, pinSha1: pin });
    expectToken(r);
    expect(typeof r.json.expires_on).toBe("number");
    // Not trusted through the emulator CA: the pin is the only way in.
    await expect(
      send(url, { headers: { secret: env.IDENTITY_HEADER as string }, ca: emu.caCertificatePem }),
    ).rejects.toThrow();
    await expect(
      send(url, { headers: { secret: env.IDENTITY_HEADER as string }, pinSha1: "00".repeat(20) }),
    ).rejects.toThrow(/pin/);
    const noSecret = await send(url, { pinSha1: pin });
    expect(noSecret.status).toBe(401);
    expect(noSecret.json).toMatchObject({ error: { code: "SecretHeaderNotFound" } });
    const uami = emu.registerManagedIdentity();
    expectToken(
      await send(`${url}&principalId=${uami.clientId}`, {
        headers: { secret: env.IDENTITY_HEADER as string },
        pinSha1: pin,
      }),
      uami.clientId,
    );
    expect(emu.stats().handshakes.serviceFabric).toBeGreaterThan(0);
  });
});

describe("Service Fabric api-version", () => {
  // Follows msal-node ManagedIdentitySources/ServiceFabric.ts (2019-07-01-preview) and MSAL.NET
  // ManagedIdentity/ServiceFabricManagedIdentitySource.cs (2020-05-01).
  it("accepts 2019-07-01-preview (msal-node, MSAL Java, Azure.Identity for .NET) and 2020-05-01", async () => {
    const env = emu.managedIdentityEnvironment("serviceFabric");
    const ask = (version: string) =>
      send(`${env.IDENTITY_ENDPOINT}?api-version=${version}&resource=${RESOURCE}`, {
        headers: { secret: env.IDENTITY_HEADER as string },
        pinSha1: env.IDENTITY_SERVER_THUMBPRINT as string,
      });
    expectToken(await ask("2019-07-01-preview"));
    expectToken(await ask("2020-05-01"));
    const other = await ask("2019-08-01");
    expect(other.status).toBe(400);
    expect(other.json).toMatchObject({ error: { code: "InvalidApiVersion" } });
    expect((other.json.error as { message: string }).message).toContain("2019-07-01-preview, 2020-05-01");
  });
});

/** Runs the Azure Arc challenge: the 401 names a key file, whose contents go back as Basic. */
async function arcExchange(target: Emulator, query: string) {
  const url = `${target.managedIdentityEnvironment("azureArc").IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=${RESOURCE}${query}`;
  const challenge = await send(url, { headers: { Metadata: "true" } });
  if (challenge.status !== 401) return challenge;
  const realm = /^Basic realm=(.+)$/.exec(challenge.headers["www-authenticate"] ?? "")?.[1] as string;
  const key = readFileSync(realm, "utf8");
  return send(url, { headers: { Metadata: "true", Authorization: `Basic ${key}` } });
}

describe("Azure Arc with a user-assigned identity", () => {
  it("answers for the identity in client_id, object_id or msi_res_id and echoes it, like a current agent", async () => {
    const uami = emu.registerManagedIdentity();
    const byClientId = await arcExchange(emu, `&client_id=${uami.clientId}`);
    expectToken(byClientId, uami.clientId);
    const byObjectId = await arcExchange(emu, `&object_id=${uami.objectId}`);
    expectToken(byObjectId, uami.clientId);
    expect(byObjectId.json.object_id).toBe(uami.objectId);
    const byResourceId = await arcExchange(emu, `&msi_res_id=${encodeURIComponent(uami.resourceId)}`);
    expectToken(byResourceId, uami.clientId);
    expect(byResourceId.json.msi_res_id).toBe(uami.resourceId);
    // The system identity's answer echoes no selector.
    const system = await arcExchange(emu, "");
    expectToken(system);
    expect(system.json).not.toHaveProperty("object_id");
    expect(system.json).not.toHaveProperty("msi_res_id");
    // Unknown identities and other sources' spellings are refused before any challenge.
    expect((await arcExchange(emu, "&client_id=unknown")).status).toBe(400);
    expect((await arcExchange(emu, `&mi_res_id=${encodeURIComponent(uami.resourceId)}`)).status).toBe(400);
  });

  it("ignores the identity and answers for the system identity as a legacy agent (option)", async () => {
    const legacy = await startEmulator({ azureArcAgent: "legacy", arcTokenFolder: "temporary" });
    try {
      const uami = legacy.registerManagedIdentity();
      for (const query of [`&client_id=${uami.clientId}`, `&object_id=${uami.objectId}`]) {
        const r = await arcExchange(legacy, query);
        expect(r.status, r.body).toBe(200);
        // The only sign of it: the echoed client_id is the system identity's.
        expect(r.json.client_id).toBe(legacy.systemAssignedIdentity.clientId);
        expect(r.json).not.toHaveProperty("object_id");
        expect(jwtPayload(r.json.access_token).appid).toBe(legacy.systemAssignedIdentity.clientId);
      }
    } finally {
      await legacy.close();
    }
    await expect(startEmulator({ azureArcAgent: "old" as "legacy" })).rejects.toMatchObject({
      code: "invalid_options",
    });
  });
});

describe("Azure Arc", () => {
  it("challenges with a key file and accepts its contents once", async () => {
    const env = emu.managedIdentityEnvironment("azureArc");
    expect(Object.keys(env).sort()).toEqual(["IDENTITY_ENDPOINT", "IMDS_ENDPOINT"]);
    const url = `${env.IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=${RESOURCE}`;
    const challenge = await send(url, { headers: { Metadata: "true" } });
    expect(challenge.status).toBe(401);
    const realm = /^Basic realm=(.+)$/.exec(challenge.headers["www-authenticate"] ?? "")?.[1] as string;
    expect(dirname(realm)).toBe(emu.arcTokenFolder);
    expect(realm.endsWith(".key")).toBe(true);
    expect(statSync(realm).size).toBeLessThan(4096);
    const key = readFileSync(realm, "utf8");

    const r = await send(url, { headers: { Metadata: "true", Authorization: `Basic ${key}` } });
    expectToken(r);
    expect(r.json.expires_in).toBe("3600");
    expect(existsSync(realm)).toBe(false);
    const replay = await send(url, { headers: { Metadata: "true", Authorization: `Basic ${key}` } });
    expect(replay.status).toBe(401);
    expect(replay.headers["www-authenticate"]).toBeUndefined();

    expect((await send(url)).status).toBe(400);
    expect((await send(`${url}&client_id=x`, { headers: { Metadata: "true" } })).status).toBe(400);
    expect((await send(`${url}&principalid=x`, { headers: { Metadata: "true" } })).status).toBe(400);
    expect(
      (await send(url.replace("2020-06-01", "2019-08-15"), { headers: { Metadata: "true" } })).status,
    ).toBe(400);
    const recorded = emu.stats().recent.filter((q) => q.endpoint === "azureArc");
    expect(recorded.some((q) => q.headers.authorization === "<redacted>")).toBe(true);
    expect(JSON.stringify(recorded)).not.toContain(key);
  });
});

describe("Cloud Shell", () => {
  it("takes a POST form with resource and the Metadata header", async () => {
    const env = emu.managedIdentityEnvironment("cloudShell");
    expect(Object.keys(env)).toEqual(["MSI_ENDPOINT"]);
    const r = await send(
      env.MSI_ENDPOINT as string,
      formPost({ resource: RESOURCE }, { headers: { Metadata: "true" } }),
    );
    expectToken(r);
    expect((await send(env.MSI_ENDPOINT as string, formPost({ resource: RESOURCE }))).status).toBe(400);
    expect(
      (await send(`${env.MSI_ENDPOINT}?resource=${RESOURCE}`, { headers: { Metadata: "true" } })).status,
    ).toBe(405);
    const uami = await send(
      env.MSI_ENDPOINT as string,
      formPost({ resource: RESOURCE, client_id: "x" }, { headers: { Metadata: "true" } }),
    );
    expect(uami.status).toBe(400);
  });
});

describe("Machine Learning", () => {
  it("checks the secret header and api-version 2017-09-01", async () => {
    const env = emu.managedIdentityEnvironment("machineLearning");
    expect(env.MSI_SECRET).toEqual(expect.any(String));
    const url = `${env.MSI_ENDPOINT}?api-version=2017-09-01&resource=${RESOURCE}`;
    const headers = { secret: env.MSI_SECRET as string, Metadata: "true" };
    const r = await send(url, { headers });
    expectToken(r);
    expect(r.json.expires_on).toMatch(/^\d{10}$/);
    expect((await send(url, { headers: { Metadata: "true" } })).status).toBe(401);
    const uami = emu.registerManagedIdentity();
    expectToken(await send(`${url}&clientid=${uami.clientId}`, { headers }), uami.clientId);
    expectToken(await send(`${url}&clientid=${env.DEFAULT_IDENTITY_CLIENT_ID}`, { headers }));
    expect((await send(`${url}&client_id=${uami.clientId}`, { headers })).status).toBe(400);
  });
});

describe("environments", () => {
  it("points IMDS clients at the emulator and refuses unknown sources", () => {
    expect(emu.managedIdentityEnvironment("imds")).toEqual({
      AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.imdsEndpoint,
    });
    expect(() => emu.managedIdentityEnvironment("nope" as never)).toThrow(/Unknown managed-identity source/);
  });

  it("refuses scopes passed as resources on every source", async () => {
    const env = emu.managedIdentityEnvironment("appService");
    const r = await send(`${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${RESOURCE}/.default`, {
      headers: { "X-IDENTITY-HEADER": env.IDENTITY_HEADER as string },
    });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/scope/);
  });
});
