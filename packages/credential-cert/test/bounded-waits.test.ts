// Bounded waits in the confidential client: one deadline per acquisition (issue 12 item 4),
// duration options that cannot overflow Node's timers (item 2), and a token-endpoint error with
// Retry-After that blocks identical requests locally whatever its status (issue 13 item 5).
import { CertboundError, type HttpRequest, type HttpResponse, type HttpTransport } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createTestClock, type TestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { type ConfidentialClientOptions, createConfidentialClient } from "../src/index";

const TENANT = "8d6c2f5e-0000-4000-8000-00000000c0de";
const SCOPES = ["https://vault.azure.net/.default"];
const cert = createCertificateAuthority({ commonName: "bounded waits CA" }).issue({
  commonName: "app",
  keyType: "rsa",
});

function app(
  clock: TestClock,
  answer: (request: HttpRequest, n: number) => Promise<HttpResponse> | HttpResponse,
  overrides: Partial<ConfidentialClientOptions> = {},
) {
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = {
    async send(request) {
      requests.push(request);
      return answer(request, requests.length);
    },
  };
  const client = createConfidentialClient({
    clientId: "app-id-1",
    authority: `https://login.microsoftonline.com/${TENANT}`,
    certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
    transport,
    clock,
    env: {},
    ...overrides,
  });
  return { client, requests };
}

const hangs = (clock: TestClock) => async (request: HttpRequest) => {
  await clock.sleep(request.timeoutMs ?? 0);
  throw new CertboundError("timeout", `did not complete within timeoutMs (${request.timeoutMs} ms)`);
};
const tokenAnswer: HttpResponse = {
  status: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ access_token: "fresh", token_type: "Bearer", expires_in: 3600 }),
};

describe("one deadline per acquisition", () => {
  it("a hung token endpoint fails at acquisitionTimeoutMs, saying what was tried", async () => {
    const clock = createTestClock({ now: Date.now() });
    const { client, requests } = app(clock, hangs(clock), { acquisitionTimeoutMs: 40_000 });
    const error = await client
      .acquireTokenForClient({ scopes: SCOPES, correlationId: "c-7" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "timeout", correlationId: "c-7" });
    expect((error as Error).message).toContain(
      `No token within acquisitionTimeoutMs (40000 ms): gave up after 40.0 s and 2 attempts at https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token (timeout, timeout)`,
    );
    // 30 s, a 1 s wait, then only the 9 s left.
    expect(requests.map((r) => r.timeoutMs)).toEqual([30_000, 9_000]);
  });

  it("by default (90 s) the protocol's one retry fits, and the error says how long it all took", async () => {
    const clock = createTestClock({ now: Date.now() });
    const { client } = app(clock, hangs(clock));
    const error = await client.acquireTokenForClient({ scopes: SCOPES }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "timeout" });
    expect((error as Error).message).toMatch(/Tried 2 attempts at .* \(timeout, timeout\), over 61\.0 s\.$/);
  });
});

describe("Retry-After on any token-endpoint error", () => {
  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/Throttling/ThrottlingAcceptanceTests.cs
  // Http400_RetryAfter_ThrottleForDuration_AcceptanceTest_Async (a 400 invalid_client with
  // Retry-After throttles the identical request) and SimilarRequests_AreThrottled_RetryAfter_Async
  // (other scopes are not throttled).
  it("a 400 invalid_client with Retry-After blocks the identical request until it passes", async () => {
    const clock = createTestClock({ now: Date.now() });
    const { client, requests } = app(clock, (_, n) =>
      n === 1
        ? {
            status: 400,
            headers: { "content-type": "application/json", "retry-after": "15" },
            body: JSON.stringify({ error: "invalid_client", error_description: "AADSTS7000215" }),
          }
        : tokenAnswer,
    );
    await expect(client.acquireTokenForClient({ scopes: SCOPES })).rejects.toMatchObject({
      code: "service_error",
      errorCode: "invalid_client",
    });
    await expect(client.acquireTokenForClient({ scopes: SCOPES })).rejects.toMatchObject({
      code: "throttled",
      status: 400,
      retryAfterMs: 15_000,
    });
    expect(requests).toHaveLength(1);
    // Another request (other scopes) is not blocked.
    await client.acquireTokenForClient({ scopes: ["https://graph.microsoft.com/.default"] });
    expect(requests).toHaveLength(2);
    await clock.advance(15_000);
    expect((await client.acquireTokenForClient({ scopes: SCOPES })).accessToken).toBe("fresh");
    expect(requests).toHaveLength(3);
  });
});

describe("duration options", () => {
  it.each([
    ["timeoutMs", 2 ** 31],
    ["timeoutMs", 1e10],
    ["acquisitionTimeoutMs", 2 ** 31],
  ])("%s: %d is refused with invalid_options and how to fix it", (name, value) => {
    const clock = createTestClock();
    expect(() => app(clock, () => tokenAnswer, { [name]: value })).toThrow(
      expect.objectContaining({
        code: "invalid_options",
        message: expect.stringMatching(
          new RegExp(`^@certbound/credential-cert: \`${name}\` must be at most 2147483647 ms`),
        ),
      }),
    );
  });
});
