import { isCertboundError } from "@certbound/core";
import { describe, expect, it } from "vitest";
import { bearerTokenEndpoint, isValidRegionName, mtlsTokenEndpoint, parseAuthority } from "../src/index";

const T = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (isCertboundError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a CertboundError");
};

describe("mtlsTokenEndpoint: the mTLS host mapping of protocol.md section 2", () => {
  it.each([
    ["login.microsoftonline.com", undefined, `https://mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.microsoftonline.com", "westus3", `https://westus3.mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.windows.net", undefined, `https://mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.windows.net", "eastus", `https://eastus.mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.microsoft.com", undefined, `https://mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.microsoft.com", "westeurope", `https://westeurope.mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.microsoftonline.us", undefined, `https://mtlsauth.microsoftonline.us/${T}/oauth2/v2.0/token`],
    [
      "login.microsoftonline.us",
      "usgovvirginia",
      `https://usgovvirginia.mtlsauth.microsoftonline.us/${T}/oauth2/v2.0/token`,
    ],
    [
      "login.partner.microsoftonline.cn",
      undefined,
      `https://mtlsauth.partner.microsoftonline.cn/${T}/oauth2/v2.0/token`,
    ],
    [
      "login.partner.microsoftonline.cn",
      "chinanorth3",
      `https://chinanorth3.mtlsauth.partner.microsoftonline.cn/${T}/oauth2/v2.0/token`,
    ],
    // The generic rule: leading "login." -> "mtlsauth.", region prefixed.
    [
      "login.contoso-cloud.example",
      undefined,
      `https://mtlsauth.contoso-cloud.example/${T}/oauth2/v2.0/token`,
    ],
    [
      "login.contoso-cloud.example",
      "region1",
      `https://region1.mtlsauth.contoso-cloud.example/${T}/oauth2/v2.0/token`,
    ],
    ["LOGIN.MicrosoftOnline.COM", undefined, `https://mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`],
  ])("%s with region %s -> %s", (host, region, expected) => {
    expect(mtlsTokenEndpoint({ authority: `https://${host}/${T}`, region })).toBe(expected);
  });

  it("keeps a port and lower-cases the region", () => {
    expect(mtlsTokenEndpoint({ authority: `https://login.example.net:8443/${T}`, region: "WestUS3" })).toBe(
      `https://westus3.mtlsauth.example.net:8443/${T}/oauth2/v2.0/token`,
    );
  });

  it.each(["west us", "west-us", "", "westus3.evil.com", "../x"])(
    "ignores the invalid region %j (global host)",
    (region) => {
      expect(mtlsTokenEndpoint({ authority: `https://login.microsoftonline.com/${T}`, region })).toBe(
        `https://mtlsauth.microsoft.com/${T}/oauth2/v2.0/token`,
      );
    },
  );

  it.each([
    ["login.usgovcloudapi.net", "login.microsoftonline.us"],
    ["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
  ])("rejects %s and names %s instead", (host, instead) => {
    const error = codeOf(() => mtlsTokenEndpoint({ authority: `https://${host}/${T}`, region: "westus3" }));
    expect(error.code).toBe("mtls_pop_not_supported_for_environment");
    expect(error.message).toContain(`https://${instead}/${T}`);
  });

  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/PublicApiTests/MtlsPopTests.cs
  // NonLoginHosts_ThrowsMsalClientException_Async (mtlsauth.microsoft.com, sts.windows.net,
  // graph.microsoft.com) and the host check of Instance/Discovery/RegionAndMtlsDiscoveryProvider.cs.
  it.each([
    "127.0.0.1:8443",
    "localhost",
    "adfs.contoso.com",
    "mtlsauth.microsoft.com",
    "sts.windows.net",
    "STS.Windows.NET",
    "graph.microsoft.com",
    "xlogin.example.com",
  ])("rejects %s, which does not start with login., with or without a region", (host) => {
    for (const region of [undefined, "eastus"]) {
      const error = codeOf(() => mtlsTokenEndpoint({ authority: `https://${host}/${T}`, region }));
      expect(error.code).toBe("mtls_pop_not_supported_for_environment");
      expect(error.message).toContain("mtlsAuthorityHost");
      expect(error.message).toContain(`https://login.microsoftonline.com/${T}`);
    }
  });
});

describe("bearerTokenEndpoint with a region: the preferred network of each cloud", () => {
  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/PublicApiTests/ClientCredentialWithRegionTests.cs
  // PublicAndSovereignCloud_UsesPreferredNetwork_AndNoDiscovery_Async (its rows, region eastus).
  it.each([
    ["login.partner.microsoftonline.cn", "login.partner.microsoftonline.cn"],
    ["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
    ["login.microsoftonline.us", "login.microsoftonline.us"],
    ["login.usgovcloudapi.net", "login.microsoftonline.us"],
    ["login-us.microsoftonline.com", "login-us.microsoftonline.com"],
    ["login.sovcloud-identity.fr", "login.sovcloud-identity.fr"],
    ["login.sovcloud-identity.de", "login.sovcloud-identity.de"],
    ["login.sovcloud-identity.sg", "login.sovcloud-identity.sg"],
    ["login.windows.net", "login.microsoft.com"],
    ["login.microsoft.com", "login.microsoft.com"],
    ["sts.windows.net", "login.microsoft.com"],
    ["login.microsoftonline.com", "login.microsoft.com"],
  ])("%s -> eastus.%s", (input, expected) => {
    expect(bearerTokenEndpoint({ authority: `https://${input}/${T}`, region: "eastus" })).toBe(
      `https://eastus.${expected}/${T}/oauth2/v2.0/token`,
    );
  });

  it("keeps the legacy host without a region", () => {
    expect(bearerTokenEndpoint({ authority: `https://login.usgovcloudapi.net/${T}` })).toBe(
      `https://login.usgovcloudapi.net/${T}/oauth2/v2.0/token`,
    );
  });
});

describe("bearerTokenEndpoint", () => {
  it.each([
    ["login.microsoftonline.com", undefined, `https://login.microsoftonline.com/${T}/oauth2/v2.0/token`],
    ["login.microsoftonline.com", "westus3", `https://westus3.login.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.windows.net", "westus3", `https://westus3.login.microsoft.com/${T}/oauth2/v2.0/token`],
    // sts.windows.net is refused for PoP but stays a public-cloud alias for Bearer.
    ["sts.windows.net", undefined, `https://sts.windows.net/${T}/oauth2/v2.0/token`],
    ["sts.windows.net", "westus3", `https://westus3.login.microsoft.com/${T}/oauth2/v2.0/token`],
    ["login.microsoftonline.us", undefined, `https://login.microsoftonline.us/${T}/oauth2/v2.0/token`],
    [
      "login.microsoftonline.us",
      "usgovvirginia",
      `https://usgovvirginia.login.microsoftonline.us/${T}/oauth2/v2.0/token`,
    ],
    ["login.microsoftonline.com", "not valid", `https://login.microsoftonline.com/${T}/oauth2/v2.0/token`],
    ["127.0.0.1:8443", "westus3", `https://127.0.0.1:8443/${T}/oauth2/v2.0/token`],
  ])("%s with region %s -> %s", (host, region, expected) => {
    expect(bearerTokenEndpoint({ authority: `https://${host}/${T}`, region })).toBe(expected);
  });
});

describe("parseAuthority", () => {
  it.each(["common", "organizations", "consumers", "Common", ""])(
    "refuses /%s as missing_tenanted_authority",
    (tenant) => {
      const error = codeOf(() => parseAuthority(`https://login.microsoftonline.com/${tenant}`));
      expect(error.code).toBe("missing_tenanted_authority");
      expect(error.message).toContain("@certbound/credential-cert");
    },
  );

  it("accepts a trailing slash or /v2.0 and a domain tenant", () => {
    expect(parseAuthority("https://Login.MicrosoftOnline.com/contoso.onmicrosoft.com/").canonical).toBe(
      "https://login.microsoftonline.com/contoso.onmicrosoft.com",
    );
    expect(parseAuthority(`https://login.microsoftonline.com/${T}/v2.0`).tenant).toBe(T);
  });

  it.each([
    "http://login.microsoftonline.com/x",
    "login.microsoftonline.com/x",
    `https://login.microsoftonline.com/${T}/oauth2/v2.0/token`,
    `https://login.microsoftonline.com/${T}?x=1`,
    "https://login.microsoftonline.com/te%20nant",
  ])("refuses %s as invalid_options", (authority) => {
    expect(codeOf(() => parseAuthority(authority)).code).toBe("invalid_options");
  });
});

describe("isValidRegionName", () => {
  it("accepts letters and digits only", () => {
    expect(["westus3", "EASTUS", "a1"].map(isValidRegionName)).toEqual([true, true, true]);
    expect(["", "west us", "west-us", "westus.", "wëst", undefined, 3].map(isValidRegionName)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
