// The managed identity client as a Credential: getToken(scopes, options) next to the MSAL-shaped
// acquireToken({ resource }), and its lifecycle (async close, Symbol.asyncDispose).
import { type Credential, type HttpRequest, MtlsPopTokenAcquirer } from "@certbound/core";
import { describe, expect, it } from "vitest";
import { fakeImds } from "./helpers/fake-imds";
import { pathOf, queryOf } from "./helpers/fake-transport";
import { testClient } from "./helpers/test-client";

const TOKEN_PATH = /\/oauth2\/v2\.0\/token$/;

describe("getToken (the Credential method)", () => {
  // Follows MSAL.NET src/client/Microsoft.Identity.Client/ApiConfig/
  // AcquireTokenForManagedIdentityParameterBuilder.cs WithResource: a scope becomes its resource by
  // removing "/.default" (ScopeHelper.RemoveDefaultSuffixIfPresent).
  it("maps its one scope to the resource as MSAL does, sharing acquireToken's cache", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    const bearer = await msi.getToken(["https://vault.azure.net/.default"]);
    expect(bearer.tokenType).toBe("Bearer");
    expect(queryOf(imds.transport.requests[0] as HttpRequest).resource).toBe("https://vault.azure.net");
    const same = await msi.acquireToken({ resource: "https://vault.azure.net" });
    expect(same.metadata.tokenSource).toBe("cache");
    expect(same.accessToken).toBe(bearer.accessToken);
    expect(imds.transport.requests).toHaveLength(1);
  });

  it("asks for PoP with mtlsProofOfPossession and passes claims, forceRefresh and correlationId on", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    const first = await msi.getToken(["https://vault.azure.net/.default"], { mtlsProofOfPossession: true });
    expect(first.tokenType).toBe("mtls_pop");
    const cached = await msi.getToken(["https://vault.azure.net/.default"], { mtlsProofOfPossession: true });
    expect(cached.metadata.tokenSource).toBe("cache");
    const tokenRequests = () => imds.transport.requests.filter((r) => TOKEN_PATH.test(pathOf(r)));
    expect(tokenRequests()).toHaveLength(1);

    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1733011200"}}}';
    const refreshed = await msi.getToken(["https://vault.azure.net/.default"], {
      mtlsProofOfPossession: true,
      forceRefresh: true,
      claims,
      correlationId: "7d3e1f00-0000-4000-8000-000000000001",
    });
    expect(refreshed.metadata).toMatchObject({
      tokenSource: "identity_provider",
      correlationId: "7d3e1f00-0000-4000-8000-000000000001",
    });
    const last = tokenRequests().at(-1);
    expect(tokenRequests()).toHaveLength(2);
    expect(new URLSearchParams(String(last?.body)).get("claims")).toBe(claims);
  });

  it("takes exactly one scope: none or two fail with invalid_options before any request", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    for (const scopes of [[], ["https://a/.default", "https://b/.default"], "https://a/.default"]) {
      await expect(msi.getToken(scopes as never)).rejects.toMatchObject({
        code: "invalid_options",
        message: expect.stringContaining("exactly one resource"),
      });
    }
    expect(imds.transport.requests).toHaveLength(0);
  });

  it("refuses a misspelt getToken option before any request", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    await expect(
      msi.getToken(["https://vault.azure.net/.default"], { forceRefesh: true } as never),
    ).rejects.toMatchObject({ code: "invalid_options", message: expect.stringContaining("`forceRefresh`") });
    expect(imds.transport.requests).toHaveLength(0);
  });

  it("is a Credential: MtlsPopTokenAcquirer takes it as it is", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    const credential: Credential = msi;
    const result = await new MtlsPopTokenAcquirer(credential).acquireToken(
      "https://vault.azure.net/.default",
    );
    expect(result.bindingCertificate?.privateKey.type).toBe("private");
  });
});

describe("close() is async and the client is AsyncDisposable", () => {
  it("close() returns a promise and is idempotent; later calls fail with aborted", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    await expect(msi.close()).resolves.toBeUndefined();
    await expect(msi.close()).resolves.toBeUndefined();
    await expect(msi.getToken(["https://r/.default"])).rejects.toMatchObject({ code: "aborted" });
    expect(imds.transport.requests).toHaveLength(0);
  });

  it("`await using` closes the client when the block ends", async () => {
    const imds = fakeImds();
    let escaped: ReturnType<typeof testClient>["msi"] | undefined;
    {
      await using msi = testClient(imds.transport).msi;
      escaped = msi;
      expect((await msi.getToken(["https://r/.default"])).tokenType).toBe("Bearer");
    }
    await expect(escaped.getToken(["https://r/.default"])).rejects.toMatchObject({ code: "aborted" });
  });
});
