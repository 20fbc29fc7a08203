// @azure/msal-node 7.2.3 ManagedIdentityApplication and @azure/identity 4.14.1
// ManagedIdentityCredential against every managed-identity source of the emulator. Each runs in
// its own process with exactly the variables the real platform sets (what
// emu.managedIdentityEnvironment(source) returns) and NODE_EXTRA_CA_CERTS.
import type { Emulator, ManagedIdentityInfo, ManagedIdentitySourceName } from "@certbound/emulator";
import { startEmulator } from "@certbound/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { scratch } from "./support/fixture";
import { type CaseResult, killClients, runClient } from "./support/run-client";
import { verifyWithDiscovery } from "./support/verify-token";

// msal-node reads an Azure Arc key file only at this path (ManagedIdentitySources/AzureArc.ts).
const ARC_AGENT_FOLDER = "/var/opt/azcmagent/tokens";

let emu: Emulator;
let uami: ManagedIdentityInfo;
let files: ReturnType<typeof scratch>;
let trustFile: string;

beforeAll(async () => {
  emu = await startEmulator();
  uami = emu.registerManagedIdentity();
  files = scratch();
  // The Service Fabric certificate too: msal-node and @azure/identity do not pin
  // IDENTITY_SERVER_THUMBPRINT; they trust the endpoint through the system trust like any server.
  trustFile = files.write("trust.pem", `${emu.caCertificatePem}${emu.serviceFabricCertificatePem}`);
});
afterEach(killClients);
afterAll(async () => {
  killClients();
  await emu?.close();
  files?.cleanup();
});

type Selector = "system" | "clientId" | "objectId" | "resourceId";

const msalIdentity = (selector: Selector, who: ManagedIdentityInfo) =>
  ({
    system: undefined,
    clientId: { userAssignedClientId: who.clientId },
    objectId: { userAssignedObjectId: who.objectId },
    resourceId: { userAssignedResourceId: who.resourceId },
  })[selector];
const identityOptions = (selector: Selector, who: ManagedIdentityInfo) =>
  ({
    system: {},
    clientId: { clientId: who.clientId },
    objectId: { objectId: who.objectId },
    resourceId: { resourceId: who.resourceId },
  })[selector];

/** Runs the same selectors through msal-node and @azure/identity, each in one child process. */
async function bothClients(source: ManagedIdentitySourceName, selectors: Selector[], target = emu) {
  const env = { NODE_EXTRA_CA_CERTS: trustFile, ...target.managedIdentityEnvironment(source) };
  const resource = target.resourceUrl;
  const [msal, identity] = await Promise.all([
    runClient("msal-managed-identity", {
      input: {
        cases: selectors.map((s) => ({ label: s, identity: msalIdentity(s, uami), resource })),
      },
      env,
    }),
    runClient("identity-managed-identity", {
      input: {
        cases: selectors.map((s) => ({
          label: s,
          options: identityOptions(s, uami),
          scope: `${resource}/.default`,
        })),
      },
      env,
    }),
  ]);
  expect(msal.ok, msal.stderr).toBe(true);
  expect(identity.ok, identity.stderr).toBe(true);
  return { msal: msal.results ?? [], identity: identity.results ?? [] };
}

/** Each case got a token that the emulator's JWKS verifies, issued to the identity it asked for. */
async function expectTokensFor(results: CaseResult[], target = emu) {
  for (const r of results) {
    expect(r.ok, `${r.label}: ${JSON.stringify(r.error)}`).toBe(true);
    const claims = await verifyWithDiscovery(target, r.accessToken as string, target.resourceUrl);
    const expected = r.label === "system" ? target.systemAssignedIdentity : uami;
    expect(claims, r.label).toMatchObject({
      appid: expected.clientId,
      oid: expected.objectId,
      tid: target.tenantId,
    });
  }
}

const recorded = (endpoint: Parameters<Emulator["injectFault"]>[0]) =>
  emu.stats().recent.filter((q) => q.endpoint === endpoint);

describe("IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST)", () => {
  it("system-assigned, and user-assigned by client id, object id and resource id", async () => {
    emu.resetStats();
    const all: Selector[] = ["system", "clientId", "objectId", "resourceId"];
    const { msal, identity } = await bothClients("imds", all);
    // "DefaultToImds": no variable names a source, so IMDS it is (at AZURE_POD_IDENTITY_AUTHORITY_HOST).
    expect(msal.map((r) => r.source)).toEqual(Array(4).fill("DefaultToImds"));
    await expectTokensFor(msal);
    await expectTokensFor(identity);
    // IMDS v1 spellings: client_id, object_id, msi_res_id.
    const queries = recorded("imdsToken").map((q) => q.query);
    expect(queries.every((q) => q["api-version"] === "2018-02-01")).toBe(true);
    expect(queries.filter((q) => q.client_id === uami.clientId)).toHaveLength(2);
    expect(queries.filter((q) => q.object_id === uami.objectId)).toHaveLength(2);
    expect(queries.filter((q) => q.msi_res_id === uami.resourceId)).toHaveLength(2);
  });
});

describe("App Service (IDENTITY_ENDPOINT, IDENTITY_HEADER)", () => {
  it("system-assigned, and user-assigned by client id, object id and resource id", async () => {
    const { msal, identity } = await bothClients("appService", [
      "system",
      "clientId",
      "objectId",
      "resourceId",
    ]);
    expect(msal[0]?.source).toBe("AppService");
    await expectTokensFor(msal);
    await expectTokensFor(identity);
  });
});

describe("Service Fabric (IDENTITY_ENDPOINT, IDENTITY_HEADER, IDENTITY_SERVER_THUMBPRINT)", () => {
  it("system-assigned, with api-version 2019-07-01-preview", async () => {
    emu.resetStats();
    const { msal, identity } = await bothClients("serviceFabric", ["system"]);
    expect(msal[0]?.source).toBe("ServiceFabric");
    await expectTokensFor(msal);
    await expectTokensFor(identity);
    expect(recorded("serviceFabric").map((q) => q.query["api-version"])).toEqual([
      "2019-07-01-preview",
      "2019-07-01-preview",
    ]);
  });

  it("@azure/identity refuses a user-assigned identity before any request, as against the real service", async () => {
    // Service Fabric picks the identity from the cluster's configuration, not the request.
    emu.resetStats();
    const outcome = await runClient("identity-managed-identity", {
      input: {
        cases: [
          { label: "clientId", options: { clientId: uami.clientId }, scope: `${emu.resourceUrl}/.default` },
        ],
      },
      env: { NODE_EXTRA_CA_CERTS: trustFile, ...emu.managedIdentityEnvironment("serviceFabric") },
    });
    expect(outcome.results?.[0]?.error?.name).toBe("CredentialUnavailableError");
    expect(emu.stats().requests.serviceFabric).toBe(0);
  });
});

describe("Cloud Shell (MSI_ENDPOINT)", () => {
  it("system-assigned", async () => {
    const { msal, identity } = await bothClients("cloudShell", ["system"]);
    expect(msal[0]?.source).toBe("CloudShell");
    await expectTokensFor(msal);
    await expectTokensFor(identity);
  });

  it("both refuse a user-assigned identity before any request: Cloud Shell has none", async () => {
    emu.resetStats();
    const env = { NODE_EXTRA_CA_CERTS: trustFile, ...emu.managedIdentityEnvironment("cloudShell") };
    const [msal, identity] = await Promise.all([
      runClient("msal-managed-identity", {
        input: {
          cases: [{ label: "clientId", identity: msalIdentity("clientId", uami), resource: emu.resourceUrl }],
        },
        env,
      }),
      runClient("identity-managed-identity", {
        input: {
          cases: [
            { label: "clientId", options: { clientId: uami.clientId }, scope: `${emu.resourceUrl}/.default` },
          ],
        },
        env,
      }),
    ]);
    expect(msal.results?.[0]?.error?.errorCode).toBe("unable_to_create_cloud_shell");
    expect(identity.results?.[0]?.error?.name).toBe("CredentialUnavailableError");
    expect(emu.stats().requests.cloudShell).toBe(0);
  });
});

describe("Machine Learning (MSI_ENDPOINT, MSI_SECRET)", () => {
  it("system-assigned (DEFAULT_IDENTITY_CLIENT_ID), and user-assigned by client id", async () => {
    emu.resetStats();
    const { msal, identity } = await bothClients("machineLearning", ["system", "clientId"]);
    expect(msal[0]?.source).toBe("MachineLearning");
    await expectTokensFor(msal);
    await expectTokensFor(identity);
    expect(recorded("machineLearning").every((q) => q.query["api-version"] === "2017-09-01")).toBe(true);
  });

  it("both refuse object and resource ids before any request: api-version 2017-09-01 takes only clientid", async () => {
    emu.resetStats();
    const env = { NODE_EXTRA_CA_CERTS: trustFile, ...emu.managedIdentityEnvironment("machineLearning") };
    const selectors: Selector[] = ["objectId", "resourceId"];
    const [msal, identity] = await Promise.all([
      runClient("msal-managed-identity", {
        input: {
          cases: selectors.map((s) => ({
            label: s,
            identity: msalIdentity(s, uami),
            resource: emu.resourceUrl,
          })),
        },
        env,
      }),
      runClient("identity-managed-identity", {
        input: {
          cases: selectors.map((s) => ({
            label: s,
            options: identityOptions(s, uami),
            scope: `${emu.resourceUrl}/.default`,
          })),
        },
        env,
      }),
    ]);
    for (const r of [...(msal.results ?? []), ...(identity.results ?? [])]) {
      expect(r.ok, r.label).toBe(false);
      expect(r.error?.message).toMatch(/only client id is supported/i);
    }
    expect(emu.stats().requests.machineLearning).toBe(0);
  });
});

describe("Azure Arc (IDENTITY_ENDPOINT, IMDS_ENDPOINT)", () => {
  // msal-node reads the challenge file only in the agent's folder, which needs root to write.
  // Not an emulator difference: the same clients fail the same way on a machine whose agent folder
  // they cannot reach. CI runs as root.
  const reason = `the Azure Arc key file folder ${ARC_AGENT_FOLDER} is not writable by this user`;
  const agentFolder = () => emu.arcTokenFolder === ARC_AGENT_FOLDER;

  it("system-assigned, and user-assigned by client id, object id and resource id (a current agent)", async (ctx) => {
    if (!agentFolder()) ctx.skip(reason);
    emu.resetStats();
    const { msal, identity } = await bothClients("azureArc", [
      "system",
      "clientId",
      "objectId",
      "resourceId",
    ]);
    expect(msal[0]?.source).toBe("AzureArc");
    await expectTokensFor(msal);
    await expectTokensFor(identity);
    // The challenge round: a 401, then the key file's contents; the files are gone afterwards.
    expect(emu.stats().requests.azureArc).toBe(16);
  });

  it("a legacy agent ignores the user-assigned identity; both clients notice and refuse its token", async (ctx) => {
    const legacy = await startEmulator({ azureArcAgent: "legacy" });
    try {
      if (legacy.arcTokenFolder !== ARC_AGENT_FOLDER) ctx.skip(reason);
      const { msal, identity } = await bothClients("azureArc", ["system", "clientId"], legacy);
      await expectTokensFor(msal.slice(0, 1), legacy);
      await expectTokensFor(identity.slice(0, 1), legacy);
      // msal-node fails closed when the echoed client_id is not the one asked for.
      expect(msal[1]?.error?.errorCode).toBe("user_assigned_managed_identity_not_confirmed");
      expect(identity[1]?.ok).toBe(false);
      expect(identity[1]?.error?.message).toMatch(/user.assigned/i);
    } finally {
      await legacy.close();
    }
  });
});
