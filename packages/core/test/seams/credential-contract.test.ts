// The credential contract in core: a plain object with getToken plugs into the token manager, and
// claims challenges are decoded the way MSAL.NET does.
import {
  type Credential,
  type GetTokenOptions,
  isCredential,
  ResourceCaller,
  type TokenResult,
} from "@certbound/core";
import {
  createCertificateAuthority,
  createTokenManager,
  decodeClaimsChallenge,
} from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";

const cert = createCertificateAuthority().issue({ commonName: "bound" });
const CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1733011200"}}}';

function countingCredential(tokenType: "Bearer" | "mtls_pop" = "Bearer") {
  const calls: Array<{ scopes: readonly string[]; options: GetTokenOptions | undefined }> = [];
  const credential: Credential = {
    async getToken(scopes, options) {
      calls.push({ scopes, options });
      return {
        accessToken: `token-${calls.length}`,
        tokenType,
        expiresOn: new Date(Date.now() + 3600_000),
        scopes,
        bindingCertificate: tokenType === "mtls_pop" ? cert : undefined,
        metadata: {
          tokenSource: "identity_provider",
          correlationId: "c",
          durationMs: 0,
          tokenEndpoint: "https://t",
        },
      } satisfies TokenResult;
    },
  };
  return { credential, calls };
}

describe("createTokenManager({ fetcher: credential })", () => {
  it("asks the credential on a miss, with the request's token type, claims and correlation id, and caches its answer", async () => {
    const { credential, calls } = countingCredential("mtls_pop");
    const manager = createTokenManager({ fetcher: credential });
    const request = {
      clientId: "c",
      authority: "a",
      scopes: ["api://x/.default"],
      tokenType: "mtls_pop" as const,
    };
    const first = await manager.acquireToken({ ...request, x5tS256: cert.x5tS256, correlationId: "corr-1" });
    const hit = await manager.acquireToken({ ...request, x5tS256: cert.x5tS256 });
    expect(first.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
    expect(first.metadata.tokenEndpoint).toBe("https://t");
    expect(hit.metadata.tokenSource).toBe("cache");
    await manager.acquireToken({ ...request, x5tS256: cert.x5tS256, claims: CLAIMS });
    expect(calls).toHaveLength(2);
    expect(calls[0]?.options).toMatchObject({ mtlsProofOfPossession: true, correlationId: "corr-1" });
    expect(calls[1]?.options).toMatchObject({ mtlsProofOfPossession: true, claims: CLAIMS });
    manager.close();
  });

  it("still refuses a source that is none of function, acquire() or getToken()", () => {
    expect(() => createTokenManager({ fetcher: { getToken: "no" } as never })).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining("getToken") }),
    );
  });

  it("isCredential checks for a getToken function", () => {
    expect(isCredential(countingCredential().credential)).toBe(true);
    expect(isCredential({ acquireTokenForClient() {} })).toBe(false);
    expect(isCredential(null)).toBe(false);
  });
});

// Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/WwwAuthenticateParametersTests.cs
// CreateRawParameters_ClaimsAndErrorReturned and WwwAuthenticateParameters.cs GetJsonFragment:
// base64 claims are decoded, anything else is taken as sent.
describe("decodeClaimsChallenge", () => {
  it("decodes base64 claims", () => {
    expect(decodeClaimsChallenge(Buffer.from(CLAIMS).toString("base64"))).toBe(CLAIMS);
  });
  it("takes JSON sent as is", () => {
    expect(decodeClaimsChallenge(CLAIMS)).toBe(CLAIMS);
  });
  it.each([
    ["text that is no JSON", "some_claims"],
    ["base64 of text that is no JSON", Buffer.from("not json").toString("base64")],
    ["base64 of a JSON array", Buffer.from("[1]").toString("base64")],
    ["an empty value", ""],
    ["a value over 16 KiB", `{"a":"${"x".repeat(17_000)}"}`],
  ])("refuses %s", (_name, value) => {
    expect(decodeClaimsChallenge(value)).toBeUndefined();
  });
});

describe("ResourceCaller.call(credential, ...) before any I/O", () => {
  const transport = {
    sent: 0,
    async send() {
      this.sent++;
      return { status: 200, headers: {}, body: "" };
    },
  };
  it.each([
    ["no scopes", { scopes: [] }],
    ["scopes that are not strings", { scopes: [7] as never }],
    ["a non-boolean mtlsProofOfPossession", { scopes: ["s"], mtlsProofOfPossession: "yes" as never }],
  ])("refuses %s with invalid_options", async (_name, init) => {
    const { credential, calls } = countingCredential("mtls_pop");
    await expect(
      new ResourceCaller({ transport }).call(credential, "https://r/", init),
    ).rejects.toMatchObject({
      code: "invalid_options",
    });
    expect(calls).toHaveLength(0);
    expect(transport.sent).toBe(0);
  });

  it("refuses a Bearer answer without an access token instead of sending `Bearer undefined`", async () => {
    const broken: Credential = { getToken: async () => ({}) as TokenResult };
    await expect(
      new ResourceCaller({ transport }).call(broken, "https://r/", {
        scopes: ["s"],
        mtlsProofOfPossession: false,
      }),
    ).rejects.toMatchObject({ code: "invalid_token_response" });
    expect(transport.sent).toBe(0);
  });

  it("runs the PoP checklist on the credential's answer: a Bearer answer to a PoP call is refused", async () => {
    const { credential } = countingCredential("Bearer");
    await expect(
      new ResourceCaller({ transport }).call(credential, "https://r/", { scopes: ["s"] }),
    ).rejects.toMatchObject({ code: "pop_validation_failed" });
    expect(transport.sent).toBe(0);
  });
});
