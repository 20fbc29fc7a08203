// IMDS v2 behaviour that follows MSAL.NET (issue 13 items 9 to 12), against the in-memory IMDS.
import { CertboundError } from "@certbound/core";
import { CLIENT_SKU, CLIENT_VERSION } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";
import { fakeImds, TENANT } from "./helpers/fake-imds";
import { json, pathOf } from "./helpers/fake-transport";
import { testClient } from "./helpers/test-client";

const PLATFORM = "/metadata/identity/getplatformmetadata";
const ISSUE = "/metadata/identity/issuecredential";
const TOKEN = `/${TENANT}/oauth2/v2.0/token`;
const HOUR = 3600_000;
const pop = { resource: "https://vault.azure.net", mtlsProofOfPossession: true } as const;

/** A transport failure as the transports report a connection the server reset. */
const reset = () =>
  new CertboundError(
    "network_error",
    "The request to https://mtlsauth failed (ECONNRESET: socket hang up).",
    {
      cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    },
  );

describe("IMDS v2 failures are managed_identity_request_failed (issue 13 item 9)", () => {
  // Follows MSAL.NET ImdsV2Tests.GetCsrMetadataAsyncFailsWithInvalidFormat and
  // ImdsV2ManagedIdentitySource.GetCsrMetadataAsync: every failure but the v1 404 is
  // ManagedIdentityRequestFailed, keeping the status.
  it("getplatformmetadata 500 (after the IMDS retries) and 400 keep the service's details", async () => {
    for (const [status, retries] of [
      [500, 4],
      [400, 1],
    ] as const) {
      const imds = fakeImds((_r, path) =>
        path === PLATFORM
          ? json(status, { error: "server_error", error_description: "boom" }, { server: "IMDS/1" })
          : undefined,
      );
      const { msi } = testClient(imds.transport);
      await expect(msi.acquireToken(pop)).rejects.toMatchObject({
        name: "ServiceError",
        code: "managed_identity_request_failed",
        status,
        errorCode: "server_error",
        errorDescription: "boom",
      });
      expect(imds.count(PLATFORM)).toBe(retries);
      expect(imds.count(ISSUE)).toBe(0);
    }
  });

  // Follows MSAL.NET ImdsV2ManagedIdentitySource.ExecuteCertificateRequestAsync.
  it("an issuecredential error is managed_identity_request_failed with its status", async () => {
    const imds = fakeImds((_r, path) =>
      path === ISSUE
        ? json(403, { error: "forbidden", error_description: "Identity not assigned" })
        : undefined,
    );
    const { msi } = testClient(imds.transport);
    await expect(msi.acquireToken(pop)).rejects.toMatchObject({
      code: "managed_identity_request_failed",
      status: 403,
      errorCode: "forbidden",
    });
  });
});

describe("re-mint (issue 13 item 10)", () => {
  // Follows MSAL.NET ManagedIdentityAuthRequest.SendDelegatedImdsV2TokenRequestAsync with
  // ImdsV2ManagedIdentitySource.IsSchanelFailure: a connection reset is a rejected certificate.
  it("a connection reset on the mTLS token request re-mints once, reading getplatformmetadata again", async () => {
    let resets = 2; // the first attempt and the token endpoint policy's one retry
    const imds = fakeImds((_r, path) => (path === TOKEN && resets-- > 0 ? reset() : undefined));
    const { msi, clock } = testClient(imds.transport);
    const result = await msi.acquireToken(pop);
    expect(result.tokenType).toBe("mtls_pop");
    expect([imds.count(PLATFORM), imds.issued, imds.count(TOKEN)]).toEqual([2, 2, 3]);
    expect(clock.sleeps).toEqual([1000]);
    const presented = imds.transport.requests
      .filter((r) => pathOf(r) === TOKEN)
      .map((r) => r.clientIdentity?.x5tS256);
    expect(presented[0]).toBe(presented[1]);
    expect(presented[2]).not.toBe(presented[0]);
    expect(presented[2]).toBe(result.bindingCertificate?.x5tS256);
  });

  it("re-mints only once, and another network failure does not re-mint", async () => {
    const always = fakeImds((_r, path) => (path === TOKEN ? reset() : undefined));
    await expect(testClient(always.transport).msi.acquireToken(pop)).rejects.toMatchObject({
      code: "network_error",
    });
    expect(always.issued).toBe(2);

    const refused = fakeImds((_r, path) =>
      path === TOKEN
        ? new CertboundError("network_error", "refused", {
            cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
          })
        : undefined,
    );
    await expect(testClient(refused.transport).msi.acquireToken(pop)).rejects.toMatchObject({
      code: "network_error",
    });
    expect(refused.issued).toBe(1);
  });
});

describe("a binding certificate with less than 24 hours left (issue 13 item 11)", () => {
  it("still serves the tokens it bound: no getplatformmetadata, issuecredential or token request per call", async () => {
    let now = Date.now();
    const imds = fakeImds(undefined, { certificateLifetimeMs: 23 * HOUR, now: () => now });
    const { msi, clock } = testClient(imds.transport);
    now = clock.now();
    const first = await msi.acquireToken(pop);
    for (let i = 0; i < 5; i++) {
      const hit = await msi.acquireToken(pop);
      expect(hit.metadata.tokenSource).toBe("cache");
      expect(hit.accessToken).toBe(first.accessToken);
    }
    expect([imds.count(PLATFORM), imds.issued, imds.count(TOKEN)]).toEqual([1, 1, 1]);
  });

  // Follows MSAL.NET ImdsV2Tests.mTLSPop_ShortLivedCert_LessThan24h_NotCached_ReMints: a new token
  // (forceRefresh) gets a new certificate.
  it("a new token gets a new certificate", async () => {
    const imds = fakeImds(undefined, { certificateLifetimeMs: 23 * HOUR });
    const { msi } = testClient(imds.transport);
    const first = await msi.acquireToken(pop);
    const second = await msi.acquireToken({ ...pop, forceRefresh: true });
    expect(second.metadata.tokenSource).toBe("identity_provider");
    expect(second.bindingCertificate?.x5tS256).not.toBe(first.bindingCertificate?.x5tS256);
    expect(imds.issued).toBe(2);
    // The new pair is what the cache serves from now on.
    const hit = await msi.acquireToken(pop);
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.accessToken).toBe(second.accessToken);
  });

  // Follows MSAL.NET ImdsV2Tests.mTLSPop_ProactiveRefresh_RotatesCert_ServedResultStaysConsistentAsync.
  it("a proactive refresh rotates the certificate; the served result stays the pair it was", async () => {
    let now = Date.now();
    // Tokens of 4 hours refresh at half-life; certificates of 23 hours are never reused for a new token.
    const imds = fakeImds(undefined, {
      certificateLifetimeMs: 23 * HOUR,
      expiresIn: 4 * 3600,
      now: () => now,
    });
    const { msi, clock } = testClient(imds.transport);
    now = clock.now();
    const first = await msi.acquireToken(pop);
    const thumb1 = first.bindingCertificate?.x5tS256;
    await clock.advance(2 * HOUR + 10 * 60_000); // past refreshOn, whatever the jitter
    now = clock.now();

    const served = await msi.acquireToken(pop);
    const servedCertificate = served.bindingCertificate;
    expect(served.metadata.tokenSource).toBe("cache");
    expect(served.accessToken).toBe(first.accessToken);
    expect(servedCertificate?.x5tS256).toBe(thumb1);

    // Let the background refresh finish (no wall-clock wait: it needs only resolved promises).
    for (let i = 0; i < 1000 && imds.count(TOKEN) < 2; i++) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect([imds.count(PLATFORM), imds.issued, imds.count(TOKEN)]).toEqual([2, 2, 2]);
    expect(served.bindingCertificate).toBe(servedCertificate);
    expect(served.bindingCertificate?.x5tS256).toBe(thumb1);

    const next = await msi.acquireToken(pop);
    expect(next.metadata.tokenSource).toBe("cache");
    expect(next.bindingCertificate?.x5tS256).not.toBe(thumb1);
    expect(next.accessToken).toBe(`pop-${next.bindingCertificate?.x5tS256}`);
  });
});

describe("IMDS v1 Bearer headers (issue 13 item 12)", () => {
  // Follows MSAL.NET ImdsTests.ImdsFails404TwiceThenSucceeds200Async (client metadata headers) and
  // ImdsManagedIdentitySource.CreateRequestAsync.
  it("sends x-client-SKU and x-client-Ver with Metadata and the correlation id", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    await msi.acquireToken({ resource: "https://vault.azure.net", correlationId: "corr-v1" });
    const [request] = imds.transport.requests;
    expect(request?.headers).toEqual({
      metadata: "true",
      "x-ms-client-request-id": "corr-v1",
      "x-client-sku": CLIENT_SKU,
      "x-client-ver": CLIENT_VERSION,
    });
  });
});
