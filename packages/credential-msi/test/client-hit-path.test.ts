// The cache-hit fast path of acquireToken: validation, the binding certificate's remaining validity
// and the separation of results from the cache must hold on every call, not only on the first.

import { EXPIRY_BUFFER_MS } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";
import { fakeImds } from "./helpers/fake-imds";
import { testClient } from "./helpers/test-client";

const ISSUE = "/metadata/identity/issuecredential";

describe("managed identity cache hits", () => {
  it("return frozen scopes no caller can use to change the cache", async () => {
    const { msi } = testClient(fakeImds().transport);
    for (const mtlsProofOfPossession of [false, true]) {
      const request = { resource: "https://vault.azure.net", mtlsProofOfPossession };
      const first = await msi.acquireToken(request);
      expect(Object.isFrozen(first.scopes)).toBe(true);
      expect(() => (first.scopes as string[]).push("https://evil")).toThrow(TypeError);
      const hit = await msi.acquireToken(request);
      expect(hit.metadata.tokenSource).toBe("cache");
      expect(hit.scopes).toEqual([
        mtlsProofOfPossession ? "https://vault.azure.net/.default" : "https://vault.azure.net",
      ]);
    }
  });

  it("reject invalid requests (as rejections, not throws) after hits for the same resource", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    const resource = "https://vault.azure.net";
    await msi.acquireToken({ resource });
    const sent = imds.transport.requests.length;
    for (const bad of [
      null,
      { resource: "" },
      { resource: "https://a https://b" },
      { resource, mtlsProofOfPossession: "yes" },
      { resource, forceRefresh: 1 },
      { resource, claims: "" },
      { resource, correlationId: "" },
      { resource, signal: {} },
    ]) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = msi.acquireToken(bad as never);
      }).not.toThrow();
      await expect(promise).rejects.toMatchObject({ code: "invalid_options" });
      // The resource remembered from the last good call is still served.
      expect((await msi.acquireToken({ resource })).metadata.tokenSource).toBe("cache");
    }
    expect(imds.transport.requests.length).toBe(sent);
  });

  // The token manager looks a token up by the resource exactly as the app passed it (a scope
  // alias) and normalises it only on a miss: an invalid string must never be remembered, and two
  // spellings of one resource must share one token.
  it("look tokens up by the resource as given: invalid strings fail every time, spellings of one resource share a token", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    const countTokens = () =>
      imds.transport.requests.filter((r) => String(r.url).includes("/metadata/identity/oauth2/token")).length;
    for (let i = 0; i < 3; i++) {
      for (const bad of [" ", "https://a https://b", "/.default"]) {
        await expect(msi.acquireToken({ resource: bad })).rejects.toMatchObject({ code: "invalid_options" });
        await expect(msi.getToken([bad])).rejects.toMatchObject({ code: "invalid_options" });
      }
    }
    expect(countTokens()).toBe(0);
    const vault = await msi.acquireToken({ resource: "https://vault.azure.net" });
    expect(vault.scopes).toEqual(["https://vault.azure.net"]);
    for (const spelling of [
      "https://vault.azure.net/.default",
      " https://vault.azure.net ",
      "https://vault.azure.net/.DEFAULT",
    ]) {
      const hit = await msi.acquireToken({ resource: spelling });
      expect(hit.metadata.tokenSource).toBe("cache");
      expect(hit.accessToken).toBe(vault.accessToken);
      expect(hit.scopes).toEqual(["https://vault.azure.net"]);
    }
    expect((await msi.getToken(["https://vault.azure.net/.default"])).accessToken).toBe(vault.accessToken);
    // Another resource is another token (the fake IMDS answers every resource with the same
    // string, so results are told apart by their scopes), and switching back and forth serves
    // each its own.
    const storage = await msi.acquireToken({ resource: "https://storage.azure.com" });
    expect(storage.metadata.tokenSource).toBe("identity_provider");
    for (let i = 0; i < 3; i++) {
      expect((await msi.acquireToken({ resource: "https://vault.azure.net" })).scopes).toEqual([
        "https://vault.azure.net",
      ]);
      expect((await msi.acquireToken({ resource: "https://storage.azure.com" })).scopes).toEqual([
        "https://storage.azure.com",
      ]);
    }
    expect(countTokens()).toBe(2);
  });

  it("refuse an unsupported identity on every call", async () => {
    const { msi } = testClient(fakeImds().transport, {
      env: { MSI_ENDPOINT: "http://127.0.0.1:1/" },
      clientId: "c",
    });
    for (let i = 0; i < 2; i++) {
      await expect(msi.acquireToken({ resource: "https://vault.azure.net" })).rejects.toMatchObject({
        code: "managed_identity_unsupported_identity",
      });
    }
  });

  it("stop serving a PoP token from the cache once its certificate nears expiry, whatever a caller did to a result", async () => {
    // Valid for 24 hours and 30 minutes, and tokens valid for two days: the certificate, not the
    // token, ends the cache hits. Less than 24 hours left does not (issue 13 item 11): only the last
    // EXPIRY_BUFFER_MS before notAfter does.
    let now = Date.now();
    const imds = fakeImds(undefined, {
      certificateLifetimeMs: 24 * 3600_000 + 1800_000,
      expiresIn: 2 * 86400,
      now: () => now,
    });
    const { msi, clock } = testClient(imds.transport);
    now = clock.now();
    const request = { resource: "https://vault.azure.net", mtlsProofOfPossession: true };
    const first = await msi.acquireToken(request);
    const notAfter = first.bindingCertificate?.notAfter.getTime() as number;
    expect(() => first.bindingCertificate?.notAfter.setTime(notAfter + 365 * 86400_000)).toThrow(TypeError);
    await clock.advance(3600_000);
    expect((await msi.acquireToken(request)).metadata.tokenSource).toBe("cache");
    await clock.advance(notAfter - EXPIRY_BUFFER_MS - clock.now() - 1);
    expect((await msi.acquireToken(request)).metadata.tokenSource).toBe("cache");
    expect(imds.count(ISSUE)).toBe(1);
    await clock.advance(1);
    now = clock.now();
    const second = await msi.acquireToken(request);
    expect(second.metadata.tokenSource).toBe("identity_provider");
    expect(imds.count(ISSUE)).toBe(2);
    expect(second.bindingCertificate?.x5tS256).not.toBe(first.bindingCertificate?.x5tS256);
  });
});
