// Bounded waits in the managed-identity client (issue 12 items 2, 3 and 4): one deadline for the
// whole acquisition, per-attempt timeouts that fit local endpoints, Retry-After capped by what is
// left, and duration options that cannot overflow Node's timers. All on the test clock.
import { CertboundError, type HttpRequest, type HttpResponse } from "@certbound/core";
import { createTestClock, type TestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { createManagedIdentityClient } from "../src/index";
import { fakeImds, MTLS } from "./helpers/fake-imds";
import { fakeTransport, json, pathOf } from "./helpers/fake-transport";
import { testClient } from "./helpers/test-client";

const startedClock = () => createTestClock({ now: Date.now() });
const isLocal = (request: HttpRequest) => !request.url.startsWith(MTLS);

describe("one deadline per acquisition", () => {
  it("a PoP acquisition against a slow but valid IMDS ends at acquisitionTimeoutMs (90 s), saying what it tried", async () => {
    const clock = startedClock();
    const start = clock.now();
    // Every step succeeds, but only on its last retry, each failed attempt answering 500 just
    // before its timeout: today that acquisition takes minutes.
    const imds = fakeImds();
    const seen: HttpRequest[] = [];
    const calls = new Map<string, number>();
    const transport = {
      async send(request: HttpRequest): Promise<HttpResponse> {
        seen.push(request);
        const n = (calls.get(pathOf(request)) ?? 0) + 1;
        calls.set(pathOf(request), n);
        await clock.sleep((request.timeoutMs ?? 0) - 1);
        const succeedsOn = isLocal(request) ? 4 : 2;
        return n < succeedsOn ? json(500, { error: "busy" }) : imds.transport.send(request);
      },
    };
    const { msi } = testClient(transport, { clock });
    const error = await msi
      .acquireToken({
        resource: "https://vault.azure.net",
        mtlsProofOfPossession: true,
        correlationId: "c-9",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertboundError);
    expect(error).toMatchObject({ code: "timeout", correlationId: "c-9" });
    const message = (error as Error).message;
    expect(message).toContain("No token within acquisitionTimeoutMs (90000 ms): gave up after 90.0 s");
    expect(message).toContain(
      "4 attempts at http://169.254.169.254/metadata/identity/getplatformmetadata (500, 500, 500, 200)",
    );
    expect(message).toContain("4 attempts at http://169.254.169.254/metadata/identity/issuecredential");
    expect(message).toContain(`1 attempt at ${MTLS}/`);
    expect(clock.now() - start).toBeGreaterThan(89_000);
    expect(clock.now() - start).toBeLessThanOrEqual(90_000);
    // IMDS attempts get the local budget (10 s), the last ones only what was left of the 90 s.
    expect(seen.slice(0, 4).map((r) => r.timeoutMs)).toEqual([10_000, 10_000, 10_000, 10_000]);
    expect(seen.every((r) => (r.timeoutMs ?? Number.POSITIVE_INFINITY) <= 10_000)).toBe(true);
  });

  it("an IMDS that never answers fails in 47 s, not 127 s, naming every attempt", async () => {
    const clock = startedClock();
    const transport = fakeTransport(async (request) => {
      await clock.sleep(request.timeoutMs ?? 0);
      throw new CertboundError("timeout", `did not complete within timeoutMs (${request.timeoutMs} ms)`);
    });
    const { msi } = testClient(transport, { clock });
    const start = clock.now();
    const error = await msi.acquireToken({ resource: "https://vault.azure.net" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "timeout" });
    expect((error as Error).message).toContain(
      "Tried 4 attempts at http://169.254.169.254/metadata/identity/oauth2/token (timeout, timeout, timeout, timeout), over 47.0 s.",
    );
    expect(clock.now() - start).toBe(47_000);
  });

  it("acquisitionTimeoutMs is an option, and an explicit timeoutMs applies to every endpoint", async () => {
    const clock = startedClock();
    const transport = fakeTransport(async (request) => {
      await clock.sleep(request.timeoutMs ?? 0);
      throw new CertboundError("timeout", "timed out");
    });
    const { msi } = testClient(transport, { clock, acquisitionTimeoutMs: 5_000, timeoutMs: 3_000 });
    const error = await msi.acquireToken({ resource: "https://vault.azure.net" }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      "No token within acquisitionTimeoutMs (5000 ms): gave up after 5.0 s",
    );
    // 3 s, a 1 s wait, then the 1 s left.
    expect(transport.requests.map((r) => r.timeoutMs)).toEqual([3_000, 1_000]);
  });

  it("local endpoints get 10 s per attempt by default, Entra's mTLS token endpoint 30 s", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    await msi.acquireToken({ resource: "https://vault.azure.net", mtlsProofOfPossession: true });
    await msi.acquireToken({ resource: "https://storage.azure.com" });
    const byPlace = imds.transport.requests.map((r) => [isLocal(r), r.timeoutMs]);
    expect(byPlace).toEqual([
      [true, 10_000],
      [true, 10_000],
      [false, 30_000],
      [true, 10_000],
    ]);
  });
});

describe("Retry-After is capped by what the acquisition may still wait", () => {
  const appService = (clock: TestClock, retryAfter: string) => {
    const transport = fakeTransport(() => json(429, { error: "throttled" }, { "retry-after": retryAfter }));
    const msi = createManagedIdentityClient({
      transport,
      env: { IDENTITY_ENDPOINT: "http://127.0.0.1:41000/msi/token", IDENTITY_HEADER: "h" },
      fileExists: () => false,
      clock,
    });
    return { msi, transport };
  };

  it.each([
    ["a day", "86400", 86_400_000],
    ["25 days (past the longest timer)", "2160000", 2_160_000_000],
  ])(
    "App Service asking for %s fails at once with throttled, carrying the server's value",
    async (_, header, ms) => {
      const clock = startedClock();
      const { msi, transport } = appService(clock, header);
      const error = await msi.acquireToken({ resource: "https://vault.azure.net" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "throttled", status: 429, retryAfterMs: ms });
      expect(transport.requests).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
    },
  );

  it("a Retry-After that fits is still honoured, on the protocol's schedule", async () => {
    const clock = startedClock();
    const { msi, transport } = appService(clock, "5");
    await msi.acquireToken({ resource: "https://vault.azure.net" }).catch(() => undefined);
    expect(transport.requests).toHaveLength(4);
    expect(clock.sleeps).toEqual([5000, 5000, 5000]);
  });
});

describe("duration options", () => {
  const transport = fakeTransport(() => json(200, {}));
  it.each([
    ["timeoutMs", 2 ** 31],
    ["timeoutMs", 1e10],
    ["acquisitionTimeoutMs", 2 ** 31],
    ["acquisitionTimeoutMs", 0],
  ])("%s: %d is refused with invalid_options and how to fix it", (name, value) => {
    expect(() => createManagedIdentityClient({ transport, env: {}, [name]: value })).toThrow(
      expect.objectContaining({
        code: "invalid_options",
        message: expect.stringMatching(
          value > 0 ? /must be at most 2147483647 ms.*Pass a smaller number/ : /must be a positive number/,
        ),
      }),
    );
  });
});
