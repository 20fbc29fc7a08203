// The cache-hit fast path of acquireTokenForClient: validation, certificate checks and the
// separation of results from the cache must hold on every call, not only on the first.

import { type CertboundErrorCode, type HttpRequest, isCertboundError } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { createConfidentialClient } from "../src/index";
import { createRequestValidator } from "../src/validate-request";

const AUTHORITY = "https://login.microsoftonline.com/8d6c2f5e-0000-4000-8000-00000000c0de";
const SCOPE = "https://vault.azure.net/.default";
const ca = createCertificateAuthority({ commonName: "hit path test CA" });
// Expires half an hour from now: before the tokens (one hour), so a cached token outlives it.
const cert = ca.issue({ commonName: "ec-app", notAfter: new Date(Date.now() + 1800_000) });

function client() {
  const requests: HttpRequest[] = [];
  const clock = createTestClock({ now: Date.now() });
  let n = 0;
  const app = createConfidentialClient({
    clientId: "app-id-1",
    authority: AUTHORITY,
    certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
    transport: {
      async send(request) {
        requests.push(request);
        n++;
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ access_token: `token-${n}`, token_type: "mtls_pop", expires_in: 3600 }),
        };
      },
    },
    clock,
    env: {},
  });
  return { app, requests, clock };
}

async function codeOf(promise: Promise<unknown>): Promise<CertboundErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (isCertboundError(error)) return error.code;
    throw error;
  }
  throw new Error("expected a CertboundError");
}

describe("acquireTokenForClient cache hits", () => {
  it("validate a scopes array again after it was changed in place", async () => {
    const { app, requests } = client();
    const scopes = [SCOPE];
    const request = { scopes, mtlsProofOfPossession: true };
    await app.acquireTokenForClient(request);
    expect((await app.acquireTokenForClient(request)).metadata.tokenSource).toBe("cache");
    scopes[0] = " ";
    expect(await codeOf(app.acquireTokenForClient(request))).toBe("invalid_options");
    scopes.length = 0;
    expect(await codeOf(app.acquireTokenForClient(request))).toBe("invalid_options");
    scopes.push(7 as unknown as string);
    expect(await codeOf(app.acquireTokenForClient(request))).toBe("invalid_options");
    scopes[0] = "https://storage.azure.com/.default";
    const other = await app.acquireTokenForClient(request);
    expect(other.metadata.tokenSource).toBe("identity_provider");
    expect(other.scopes).toEqual(["https://storage.azure.com/.default"]);
    expect(requests).toHaveLength(2);
  });

  it("validate again an array changed in place while another array was in use", async () => {
    const { app, requests } = client();
    const a = [SCOPE];
    const b = ["https://storage.azure.com/.default"];
    for (const scopes of [a, b, a, b])
      await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
    expect(requests).toHaveLength(2);
    a[0] = "";
    const hit = await app.acquireTokenForClient({ scopes: b, mtlsProofOfPossession: true });
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(await codeOf(app.acquireTokenForClient({ scopes: a, mtlsProofOfPossession: true }))).toBe(
      "invalid_options",
    );
    a[0] = "https://graph.microsoft.com/.default";
    const other = await app.acquireTokenForClient({ scopes: a, mtlsProofOfPossession: true });
    expect(other.metadata.tokenSource).toBe("identity_provider");
    expect(other.scopes).toEqual(["https://graph.microsoft.com/.default"]);
    expect(requests).toHaveLength(3);
  });

  it("reject invalid requests (as rejections, not throws) after hits with the same scopes", async () => {
    const { app, requests } = client();
    const scopes = [SCOPE];
    await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
    for (const bad of [
      null,
      { scopes, mtlsProofOfPossession: "yes" },
      { scopes, claims: "" },
      { scopes, correlationId: "" },
    ]) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = app.acquireTokenForClient(bad as never);
      }).not.toThrow();
      expect(await codeOf(promise as Promise<unknown>)).toBe("invalid_options");
    }
    expect(requests).toHaveLength(1);
  });

  it("return scopes no caller can use to change the cache", async () => {
    const { app } = client();
    const scopes = [SCOPE];
    const first = await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
    expect(first.scopes).not.toBe(scopes);
    expect(Object.isFrozen(first.scopes)).toBe(true);
    expect(() => (first.scopes as string[]).push("x")).toThrow(TypeError);
    const hit = await app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
    expect(hit.scopes).toEqual([SCOPE]);
  });

  it("refuse the fixed certificate on a hit once it expired by the injected clock, whatever a caller did to a result", async () => {
    const { app, clock, requests } = client();
    const request = { scopes: [SCOPE], mtlsProofOfPossession: true };
    const first = await app.acquireTokenForClient(request);
    // A caller cannot move the binding certificate's notAfter (it is read-only), nor so extend its use.
    expect(() =>
      first.bindingCertificate?.notAfter.setTime(cert.notAfter.getTime() + 365 * 86400_000),
    ).toThrow(TypeError);
    await clock.advance(cert.notAfter.getTime() - clock.now() - 1);
    expect((await app.acquireTokenForClient(request)).metadata.tokenSource).toBe("cache");
    await clock.advance(1);
    expect(await codeOf(app.acquireTokenForClient(request))).toBe("certificate_expired");
    expect(requests).toHaveLength(1);
  });

  it("refuse a certificate that is not valid yet on every call", async () => {
    // Whole seconds: certificates carry their validity to the second.
    const notBefore = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86400_000);
    const future = ca.issue({ commonName: "future", notBefore });
    // A clock that can go back, as a corrected system clock does.
    let now = notBefore.getTime();
    const clock = { now: () => now, random: () => 0.5, sleep: async () => {} };
    const app = createConfidentialClient({
      clientId: "app-id-1",
      authority: AUTHORITY,
      certificate: { certificatePem: future.certificatePem, privateKey: future.privateKey },
      transport: {
        async send() {
          return {
            status: 200,
            headers: {},
            body: JSON.stringify({ access_token: "t", token_type: "mtls_pop", expires_in: 3600 }),
          };
        },
      },
      clock,
      env: {},
    });
    const request = { scopes: [SCOPE], mtlsProofOfPossession: true };
    expect((await app.acquireTokenForClient(request)).accessToken).toBe("t");
    expect((await app.acquireTokenForClient(request)).metadata.tokenSource).toBe("cache");
    now = notBefore.getTime() - 1;
    expect(await codeOf(app.acquireTokenForClient(request))).toBe("certificate_not_yet_valid");
  });

  // Apps write `acquireTokenForClient({ scopes: [scope], ... })`: a fresh array on every call.
  it("validate fresh scopes arrays on every call, invalid ones rejected before any request", async () => {
    const { app, requests } = client();
    await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    const hit = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(hit.metadata.tokenSource).toBe("cache");
    // A hole is not a scope (`every` skipped holes, so `[, scope]` used to reach the cache key).
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested.
    for (const scopes of [[" "], [], [SCOPE, 7], [SCOPE, " "], [, SCOPE], [` ${SCOPE}`.slice(0, 1)], "x"]) {
      expect(
        await codeOf(app.acquireTokenForClient({ scopes: scopes as never, mtlsProofOfPossession: true })),
      ).toBe("invalid_options");
      expect(
        (await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true })).metadata
          .tokenSource,
      ).toBe("cache");
    }
    expect(requests).toHaveLength(1);
  });

  it("hand a single scope on as the caller's array (no lookup, no copy) and copy multi-scope arrays", () => {
    const validate = createRequestValidator();
    const single = [SCOPE];
    expect(validate({ scopes: single })).toBe(single);
    // Multi-scope arrays: a frozen copy, remembered per array while it holds the same strings.
    const pair = [SCOPE, "offline_access"];
    const pairCopy = validate({ scopes: pair });
    expect(Object.isFrozen(pairCopy)).toBe(true);
    expect(pairCopy).toEqual(pair);
    expect(validate({ scopes: pair })).toBe(pairCopy);
    const fresh = validate({ scopes: [...pair] });
    expect(fresh).not.toBe(pairCopy);
    expect(fresh).toEqual(pairCopy);
    pair[1] = " ";
    expect(() => validate({ scopes: pair })).toThrow(/non-empty array of scopes/);
    // Blank as trim() sees it, Unicode spaces included; anything else passes.
    for (const blank of ["", " ", "\t", "\u00a0", "\u3000 \ufeff"])
      expect(() => validate({ scopes: [blank] })).toThrow(/non-empty array of scopes/);
    expect(validate({ scopes: ["\u00e9"] })).toEqual(["\u00e9"]);
  });

  // The validator no longer copies a single-scope array: the token manager must copy it before any
  // work that outlives the call, or a caller reusing its array would change the request in flight.
  it("a caller changing its array after the call changes neither the request sent nor the cached token", async () => {
    const { app, requests } = client();
    const scopes = [SCOPE];
    const pending = app.acquireTokenForClient({ scopes, mtlsProofOfPossession: true });
    scopes[0] = "https://evil.example/.default";
    const result = await pending;
    expect(result.scopes).toEqual([SCOPE]);
    expect(Object.isFrozen(result.scopes)).toBe(true);
    expect(requests).toHaveLength(1);
    expect(String(requests[0]?.body)).toContain(encodeURIComponent(SCOPE));
    expect(String(requests[0]?.body)).not.toContain("evil");
    const hit = await app.acquireTokenForClient({ scopes: [SCOPE], mtlsProofOfPossession: true });
    expect(hit.metadata.tokenSource).toBe("cache");
    expect(hit.scopes).toEqual([SCOPE]);
  });
});
