// Which token host the client uses for every combination of `azureRegion`, MSAL_FORCE_REGION,
// MSAL_DISABLE_REGION and REGION_NAME. Follows MSAL.NET
// tests/Microsoft.Identity.Test.Unit/PublicApiTests/ClientCredentialWithRegionTests.cs (each row names
// its test) and src/client/Microsoft.Identity.Client/AppConfig/ConfidentialClientApplicationBuilder.cs
// ValidateAndUpdateRegion + Instance/Region/RegionManager.cs.

import {
  type CertboundErrorCode,
  type HttpRequest,
  type HttpTransport,
  isCertboundError,
} from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createConfidentialClient } from "../src/index";
import { resolveRegionSetting } from "../src/region-setting";

const TENANT = "8d6c2f5e-0000-4000-8000-00000000c0de";
const SCOPE = "https://vault.azure.net/.default";
const IMDS = "http://169.254.169.254";
const ca = createCertificateAuthority({ commonName: "region test CA" });
let cert: ReturnType<typeof ca.issue>;
beforeAll(() => {
  cert = ca.issue({ commonName: "region-app", keyType: "rsa" });
});

// Token requests get a token; IMDS' compute metadata answers 404 (not on an Azure VM).
function scripted(): HttpTransport & { urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    async send(request: HttpRequest) {
      urls.push(request.url);
      if (request.url.startsWith(IMDS)) return { status: 404, headers: {}, body: "{}" };
      const pop = new URLSearchParams(String(request.body)).get("token_type") === "mtls_pop";
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          access_token: "t",
          token_type: pop ? "mtls_pop" : "Bearer",
          expires_in: 3600,
        }),
      };
    },
  };
}

const GLOBAL = { bearer: "login.microsoftonline.com", pop: "mtlsauth.microsoft.com" };
const regional = (region: string) => ({
  bearer: `${region}.login.microsoft.com`,
  pop: `${region}.mtlsauth.microsoft.com`,
});

type Row = [
  name: string,
  azureRegion: string | undefined,
  env: Record<string, string>,
  hosts: { bearer: string; pop: string },
  asksImds: boolean,
];

const ROWS: Row[] = [
  // MtlsPop_WithoutRegion_UsesGlobalMtlsEndpoint
  ["nothing configured", undefined, {}, GLOBAL, false],
  // SuccessfulResponseFromEnvironmentVariableAsync: REGION_NAME alone does not turn regions on.
  ["only REGION_NAME", undefined, { REGION_NAME: "eastus" }, GLOBAL, false],
  // MsalForceRegionIsSet_RegionIsUsed
  [
    "MSAL_FORCE_REGION, no azureRegion",
    undefined,
    { MSAL_FORCE_REGION: "centralus" },
    regional("centralus"),
    false,
  ],
  // MsalForceRegionIsSet_WithRegionIsSet_WithRegionWins
  [
    "azureRegion and MSAL_FORCE_REGION",
    "centralus",
    { MSAL_FORCE_REGION: "someOtherRegion" },
    regional("centralus"),
    false,
  ],
  // MsalForceRegionIsSet_WithRegionIsSetToOptOut_NoRegionIsUsed
  [
    "DisableMsalForceRegion and MSAL_FORCE_REGION",
    "DisableMsalForceRegion",
    { MSAL_FORCE_REGION: "centralus" },
    GLOBAL,
    false,
  ],
  [
    "DisableMsalForceRegion in lower case",
    "disablemsalforceregion",
    { MSAL_FORCE_REGION: "centralus" },
    GLOBAL,
    false,
  ],
  // The keyword alone is never a host name (it used to become disablemsalforceregion.mtlsauth...).
  ["DisableMsalForceRegion alone", "DisableMsalForceRegion", {}, GLOBAL, false],
  [
    "MSAL_FORCE_REGION=DisableMsalForceRegion",
    undefined,
    { MSAL_FORCE_REGION: "DisableMsalForceRegion" },
    GLOBAL,
    false,
  ],
  // MsalDisableRegionEnvVariable_API
  ["MSAL_DISABLE_REGION and azureRegion", "centralus", { MSAL_DISABLE_REGION: "1" }, GLOBAL, false],
  // MsalDisableRegionEnvVariable_OtherEnv
  [
    "MSAL_DISABLE_REGION and MSAL_FORCE_REGION",
    undefined,
    { MSAL_DISABLE_REGION: "1", MSAL_FORCE_REGION: "someregion" },
    GLOBAL,
    false,
  ],
  // MsalDisableRegionEnvVariable_ApiAndOtherEnv
  [
    "MSAL_DISABLE_REGION, MSAL_FORCE_REGION and azureRegion",
    "centralus",
    { MSAL_DISABLE_REGION: "1", MSAL_FORCE_REGION: "someregion" },
    GLOBAL,
    false,
  ],
  [
    "MSAL_DISABLE_REGION and auto-detection",
    "TryAutoDetect",
    { MSAL_DISABLE_REGION: "true", REGION_NAME: "eastus" },
    GLOBAL,
    false,
  ],
  // Auto-detection ignores MSAL_FORCE_REGION (RegionManager reads only REGION_NAME and IMDS).
  [
    "auto with MSAL_FORCE_REGION and REGION_NAME",
    "auto",
    { MSAL_FORCE_REGION: "centralus", REGION_NAME: "westeurope" },
    regional("westeurope"),
    false,
  ],
  [
    "TryAutoDetect with MSAL_FORCE_REGION, no REGION_NAME",
    "TryAutoDetect",
    { MSAL_FORCE_REGION: "centralus" },
    GLOBAL,
    true,
  ],
  // RegionInEnvVariableIsProperlyTransformedAsync
  [
    "TryAutoDetect with REGION_NAME 'West US 2'",
    "TryAutoDetect",
    { REGION_NAME: "West US 2" },
    regional("westus2"),
    false,
  ],
  ["tryautodetect in lower case", "tryautodetect", { REGION_NAME: "eastus" }, regional("eastus"), false],
  // MSAL_FORCE_REGION=TryAutoDetect becomes the app's AzureRegion in MSAL.NET: auto-detection.
  [
    "MSAL_FORCE_REGION=TryAutoDetect",
    undefined,
    { MSAL_FORCE_REGION: "TryAutoDetect", REGION_NAME: "eastus" },
    regional("eastus"),
    false,
  ],
  // ForceRegionEnvVariableWithInvalidFormatFallsBackToGlobalAsync
  ["an invalid MSAL_FORCE_REGION", undefined, { MSAL_FORCE_REGION: "fake.com/x" }, GLOBAL, false],
  // WithAzureRegionWithInvalidFormatFallsBackToGlobalAsync
  ["azureRegion 'fake.com/x'", "fake.com/x", {}, GLOBAL, false],
  ["azureRegion 'fake.com?x'", "fake.com?x", {}, GLOBAL, false],
  ["azureRegion 'fake.com#x'", "fake.com#x", {}, GLOBAL, false],
  ["azureRegion 'east@us'", "east@us", {}, GLOBAL, false],
  ["azureRegion 'east.us'", "east.us", {}, GLOBAL, false],
  ["azureRegion 'east us'", "east us", {}, GLOBAL, false],
  ["azureRegion with a trailing newline", "eastus\n", {}, GLOBAL, false],
  // WithAzureRegionWithValidFormatRoutesRegionallyAsync; host names are lower case.
  ["azureRegion 'WestUS3'", "WestUS3", {}, regional("westus3"), false],
];

describe("region settings as MSAL.NET has them", () => {
  it.each(ROWS)("%s", async (_name, azureRegion, env, hosts, asksImds) => {
    const transport = scripted();
    const app = createConfidentialClient({
      clientId: "app-id-1",
      authority: `https://login.microsoftonline.com/${TENANT}`,
      certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
      transport,
      clock: createTestClock({ now: Date.now() }),
      azureRegion,
      env,
      imdsEndpoint: IMDS,
    });
    await app.acquireTokenForClient({ scopes: [SCOPE] });
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    const tokenHosts = transport.urls.filter((u) => !u.startsWith(IMDS)).map((u) => new URL(u).host);
    expect(tokenHosts).toEqual([hosts.bearer, hosts.pop]);
    // Detection runs once per client, and only when asked for.
    expect(transport.urls.filter((u) => u.startsWith(IMDS))).toHaveLength(asksImds ? 1 : 0);
  });

  // WithAzureRegionThrowsOnNullArg
  it("refuses an empty azureRegion with invalid_options", () => {
    let caught: unknown;
    try {
      createConfidentialClient({
        clientId: "app-id-1",
        authority: `https://login.microsoftonline.com/${TENANT}`,
        certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
        transport: scripted(),
        azureRegion: "",
        env: {},
      });
    } catch (error) {
      caught = error;
    }
    expect(isCertboundError(caught) && (caught.code as CertboundErrorCode)).toBe("invalid_options");
    expect((caught as Error).message).toMatch(/leave it out for the global endpoints/);
  });

  it("decides once, at creation: a later change of the environment changes nothing", async () => {
    const env: Record<string, string | undefined> = { MSAL_FORCE_REGION: "centralus" };
    const transport = scripted();
    const app = createConfidentialClient({
      clientId: "app-id-1",
      authority: `https://login.microsoftonline.com/${TENANT}`,
      certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
      transport,
      env,
    });
    env.MSAL_FORCE_REGION = "westus";
    env.MSAL_DISABLE_REGION = "1";
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(new URL(transport.urls[0] as string).host).toBe("centralus.mtlsauth.microsoft.com");
  });

  it("resolveRegionSetting says where a region came from", () => {
    expect(resolveRegionSetting(undefined, { MSAL_FORCE_REGION: "EastUS" })).toEqual({
      mode: "fixed",
      region: "eastus",
      source: "MSAL_FORCE_REGION",
    });
    expect(resolveRegionSetting("eastus", {})).toEqual({ mode: "fixed", region: "eastus", source: "option" });
    expect(resolveRegionSetting("auto", { MSAL_FORCE_REGION: "eastus" })).toEqual({ mode: "auto" });
    expect(resolveRegionSetting("eastus", { MSAL_DISABLE_REGION: "1" })).toEqual({
      mode: "global",
      reason: "MSAL_DISABLE_REGION",
    });
    // An empty variable is no setting, as in MSAL.NET (string.IsNullOrEmpty).
    expect(resolveRegionSetting(undefined, { MSAL_DISABLE_REGION: "", MSAL_FORCE_REGION: "" })).toEqual({
      mode: "global",
      reason: "not configured",
    });
  });
});
