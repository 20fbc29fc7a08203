// One acquisition's deadline across all its attempts and waits (issue 12 items 3 and 4), and
// Retry-After on any error answer of the token endpoint (issue 13 item 5), on the injected clock.
import { CertboundError, type HttpRequest, type HttpResponse, type HttpTransport } from "@certbound/core";
import {
  AcquisitionBudget,
  imdsRetryPolicy,
  MAX_THROTTLE_MS,
  managedIdentityRetryPolicy,
  sendWithRetry,
  ThrottleGuard,
  tokenEndpointRetryPolicy,
} from "@certbound/core/credential-kit";
import { createTestClock, type TestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const request: HttpRequest = {
  method: "GET",
  url: "http://169.254.169.254/metadata/identity/getplatformmetadata?client_id=x",
  headers: {},
  timeoutMs: 30_000,
};

/** Each attempt takes `takesMs` on the test clock, then answers with `answer`. */
function slow(
  clock: TestClock,
  takesMs: (req: HttpRequest) => number,
  answer: (n: number) => HttpResponse | Error,
) {
  const seen: HttpRequest[] = [];
  const transport: HttpTransport = {
    async send(req) {
      seen.push(req);
      await clock.sleep(takesMs(req));
      const out = answer(seen.length);
      if (out instanceof Error) throw out;
      return out;
    },
  };
  return { transport, seen };
}

const budgetOf = (clock: TestClock, budgetMs: number) =>
  new AcquisitionBudget({ clock, budgetMs, optionName: "acquisitionTimeoutMs", correlationId: "c-1" });

describe("the acquisition budget", () => {
  it("cuts each attempt's timeout to the time left, and fails with timeout naming what was tried", async () => {
    const clock = createTestClock();
    const start = clock.now();
    // A slow but valid IMDS: every answer is a 500 just before the attempt's timeout.
    const { transport, seen } = slow(
      clock,
      (req) => (req.timeoutMs ?? 0) - 1,
      () => ({ status: 500, headers: {}, body: "" }),
    );
    const error = await sendWithRetry(transport, request, {
      policy: imdsRetryPolicy,
      clock,
      budget: budgetOf(clock, 40_000),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertboundError);
    expect(error).toMatchObject({ code: "timeout", correlationId: "c-1" });
    expect((error as Error).message).toContain("acquisitionTimeoutMs (40000 ms)");
    expect((error as Error).message).toContain(
      "2 attempts at http://169.254.169.254/metadata/identity/getplatformmetadata (500, 500)",
    );
    expect((error as Error).message).not.toContain("client_id");
    // A 29.999 s attempt, a 1 s wait, then an attempt cut to the 9.001 s left; no third attempt.
    expect(seen.map((r) => r.timeoutMs)).toEqual([30_000, 9_001]);
    expect(clock.now() - start).toBeLessThanOrEqual(40_000);
  });

  it("an attempt cut short by the deadline fails as the acquisition's timeout, not the attempt's", async () => {
    const clock = createTestClock();
    const { transport } = slow(
      clock,
      (req) => req.timeoutMs ?? 0,
      () => new CertboundError("timeout", "did not complete within timeoutMs"),
    );
    const error = await sendWithRetry(transport, request, {
      policy: tokenEndpointRetryPolicy,
      clock,
      budget: budgetOf(clock, 20_000),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "timeout" });
    expect((error as Error).message).toMatch(/acquisitionTimeoutMs \(20000 ms\): gave up after 20\.0 s/);
    expect((error as Error & { cause: unknown }).cause).toMatchObject({ code: "timeout" });
  });

  it("when the policy gives up, the last failure says how many attempts and how long", async () => {
    const clock = createTestClock();
    // IMDS that never answers: 4 attempts of 10 s and waits of 1, 2, 4 s.
    const { transport, seen } = slow(
      clock,
      (req) => req.timeoutMs ?? 0,
      () => new CertboundError("timeout", "The request did not complete within timeoutMs (10000 ms)."),
    );
    const error = await sendWithRetry(
      transport,
      { ...request, timeoutMs: 10_000 },
      {
        policy: imdsRetryPolicy,
        clock,
        budget: budgetOf(clock, 90_000),
      },
    ).catch((e: unknown) => e);
    expect(seen).toHaveLength(4);
    expect(error).toMatchObject({ code: "timeout" });
    expect((error as Error).message).toContain("timeoutMs (10000 ms). Tried 4 attempts at");
    expect((error as Error).message).toContain("(timeout, timeout, timeout, timeout), over 47.0 s.");
  });

  it("keeps the protocol's schedules intact when they fit", async () => {
    const clock = createTestClock();
    const { transport, seen } = slow(
      clock,
      () => 5,
      (n) => ({ status: n <= 7 ? 410 : 200, headers: {}, body: "" }),
    );
    const response = await sendWithRetry(transport, request, {
      policy: imdsRetryPolicy,
      clock,
      budget: budgetOf(clock, 90_000),
    });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(8);
    expect(clock.sleeps.filter((ms) => ms === 10_000)).toHaveLength(7);
  });

  it.each([
    ["a day", "86400", 86_400_000],
    ["25 days, past the longest timer", "2160000", 2_160_000_000],
  ])(
    "a Retry-After of %s fails at once with throttled, carrying the server's value",
    async (_, header, ms) => {
      const clock = createTestClock();
      const { transport, seen } = slow(
        clock,
        () => 1,
        () => ({ status: 429, headers: { "retry-after": header }, body: "" }),
      );
      const error = await sendWithRetry(transport, request, {
        policy: managedIdentityRetryPolicy,
        clock,
        budget: budgetOf(clock, 90_000),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "throttled", status: 429, retryAfterMs: ms });
      expect(seen).toHaveLength(1);
      // No wait at all, let alone one that overflows into 1 ms retries.
      expect(clock.sleeps).toEqual([1]);
    },
  );

  it("a Retry-After that fits is honoured", async () => {
    const clock = createTestClock();
    const { transport } = slow(
      clock,
      () => 0,
      (n) =>
        n === 1
          ? { status: 503, headers: { "retry-after": "5" }, body: "" }
          : { status: 200, headers: {}, body: "" },
    );
    const response = await sendWithRetry(transport, request, {
      policy: managedIdentityRetryPolicy,
      clock,
      budget: budgetOf(clock, 90_000),
    });
    expect(response.status).toBe(200);
    expect(clock.sleeps).toEqual([0, 5000, 0]);
  });
});

describe("Retry-After from the token endpoint blocks identical requests", () => {
  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/Throttling/ThrottlingAcceptanceTests.cs
  // Http400_RetryAfter_ThrottleForDuration_AcceptanceTest_Async: any error status, not only 429/5xx.
  it.each([400, 401, 429, 503])(
    "after a %i with Retry-After, until it passes, with the answer's status",
    async (status) => {
      const clock = createTestClock();
      const guard = new ThrottleGuard(clock);
      const seen: HttpRequest[] = [];
      const transport: HttpTransport = {
        async send(req) {
          seen.push(req);
          return seen.length === 1
            ? { status, headers: { "retry-after": "15" }, body: '{"error":"invalid_client"}' }
            : { status: 200, headers: {}, body: "{}" };
        },
      };
      const throttle = { guard, key: "same request" };
      const first = await sendWithRetry(transport, request, {
        policy: tokenEndpointRetryPolicy,
        clock,
        throttle,
      });
      expect(first.status).toBe(status);
      const blocked = await sendWithRetry(transport, request, {
        policy: tokenEndpointRetryPolicy,
        clock,
        throttle,
      }).catch((e: unknown) => e);
      expect(blocked).toMatchObject({ code: "throttled", status, retryAfterMs: 15_000 });
      expect(seen).toHaveLength(1);
      await clock.advance(15_000);
      expect(
        (await sendWithRetry(transport, request, { policy: tokenEndpointRetryPolicy, clock, throttle }))
          .status,
      ).toBe(200);
      expect(seen).toHaveLength(2);
    },
  );

  // Follows MSAL.NET ThrottlingAcceptanceTests.cs RetryAfter_LargeTimeoutHeader_DefaultTimeout_IsUsed_Async.
  it("a 400 asking for 2 hours blocks for 1 hour", async () => {
    const clock = createTestClock();
    const guard = new ThrottleGuard(clock);
    const transport: HttpTransport = {
      send: async () => ({ status: 400, headers: { "retry-after": "7200" }, body: "" }),
    };
    await sendWithRetry(transport, request, {
      policy: tokenEndpointRetryPolicy,
      clock,
      throttle: { guard, key: "k" },
    });
    expect(guard.remaining("k")).toBe(MAX_THROTTLE_MS);
  });

  it("a success carrying Retry-After blocks nothing", async () => {
    const clock = createTestClock();
    const guard = new ThrottleGuard(clock);
    const transport: HttpTransport = {
      send: async () => ({ status: 200, headers: { "retry-after": "60" }, body: "{}" }),
    };
    await sendWithRetry(transport, request, {
      policy: tokenEndpointRetryPolicy,
      clock,
      throttle: { guard, key: "k" },
    });
    expect(guard.remaining("k")).toBe(0);
  });
});
