import { CertboundError, type HttpRequest, type HttpResponse, type HttpTransport } from "@certbound/core";
import {
  imdsRetryPolicy,
  managedIdentityRetryPolicy,
  type RetryEvent,
  sendWithRetry,
  ThrottleGuard,
  tokenEndpointRetryPolicy,
} from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const request: HttpRequest = {
  method: "GET",
  url: "http://169.254.169.254/metadata/x?client_id=secretish",
  headers: {},
};

/** Answers each attempt from a script: a status (with optional headers) or a transport error code. */
function scripted(
  steps: Array<
    number | [number, Record<string, string>] | "timeout" | "network_error" | "tls_handshake_failed"
  >,
) {
  const seen: HttpRequest[] = [];
  const transport: HttpTransport = {
    async send(req) {
      seen.push(req);
      const step = steps[Math.min(seen.length - 1, steps.length - 1)] ?? 200;
      if (typeof step === "string") throw new CertboundError(step, step);
      const [status, headers] = Array.isArray(step) ? step : [step, {}];
      return { status, headers, body: "{}" } satisfies HttpResponse;
    },
  };
  return { transport, seen };
}

describe("retry schedules on the injected clock", () => {
  it("IMDS: 3 retries at 1 s, 2 s, 4 s on 5xx, then the last response", async () => {
    const clock = createTestClock();
    const { transport, seen } = scripted([500]);
    const response = await sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock });
    expect(response.status).toBe(500);
    expect(seen).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it.each([404, 408, 429, 503])("IMDS retries %i", async (status) => {
    const clock = createTestClock();
    const { transport } = scripted([status, 200]);
    expect((await sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock })).status).toBe(200);
    expect(clock.sleeps).toEqual([1000]);
  });

  it("IMDS: 410 gets 7 retries 10 s apart", async () => {
    const clock = createTestClock();
    const { transport, seen } = scripted([410]);
    await sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock });
    expect(seen).toHaveLength(8);
    expect(clock.sleeps).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it("IMDS retries timeouts and then rethrows the typed error", async () => {
    const clock = createTestClock();
    const { transport, seen } = scripted(["timeout"]);
    await expect(sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock })).rejects.toMatchObject(
      {
        code: "timeout",
      },
    );
    expect(seen).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it("IMDS does not retry 400 or a TLS handshake failure", async () => {
    const clock = createTestClock();
    expect(
      (await sendWithRetry(scripted([400]).transport, request, { policy: imdsRetryPolicy, clock })).status,
    ).toBe(400);
    await expect(
      sendWithRetry(scripted(["tls_handshake_failed"]).transport, request, {
        policy: imdsRetryPolicy,
        clock,
      }),
    ).rejects.toMatchObject({ code: "tls_handshake_failed" });
    expect(clock.sleeps).toEqual([]);
  });

  it("other managed-identity sources: 3 retries at max(1 s, Retry-After), seconds and HTTP-date", async () => {
    const clock = createTestClock();
    const date = new Date(clock.now() + 7000).toUTCString();
    const { transport, seen } = scripted([
      [429, { "retry-after": "5" }],
      [503, { "retry-after": date }],
      500,
      500,
    ]);
    const response = await sendWithRetry(transport, request, { policy: managedIdentityRetryPolicy, clock });
    expect(response.status).toBe(500);
    expect(seen).toHaveLength(4);
    // 7 s HTTP-date measured after the first 5 s wait: 7000 - 5000 = 2000.
    expect(clock.sleeps).toEqual([5000, 2000, 1000]);
  });

  it.each([400, 401, 403, 502])("other managed-identity sources do not retry %i", async (status) => {
    const clock = createTestClock();
    const { seen, transport } = scripted([status]);
    await sendWithRetry(transport, request, { policy: managedIdentityRetryPolicy, clock });
    expect(seen).toHaveLength(1);
  });

  it("token endpoint: one retry after 1 s on 5xx or timeout", async () => {
    const clock = createTestClock();
    const five = scripted([502]);
    expect(
      (await sendWithRetry(five.transport, request, { policy: tokenEndpointRetryPolicy, clock })).status,
    ).toBe(502);
    expect(five.seen).toHaveLength(2);
    const timeout = scripted(["timeout", 200]);
    expect(
      (await sendWithRetry(timeout.transport, request, { policy: tokenEndpointRetryPolicy, clock })).status,
    ).toBe(200);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it("token endpoint: never retries when Retry-After is present, nor on 4xx", async () => {
    const clock = createTestClock();
    const throttled = scripted([[503, { "retry-after": "1" }]]);
    await sendWithRetry(throttled.transport, request, { policy: tokenEndpointRetryPolicy, clock });
    const bad = scripted([400]);
    await sendWithRetry(bad.transport, request, { policy: tokenEndpointRetryPolicy, clock });
    expect(throttled.seen).toHaveLength(1);
    expect(bad.seen).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("blocks identical requests locally after Retry-After, at most 1 hour, and only identical ones", async () => {
    const clock = createTestClock();
    const guard = new ThrottleGuard(clock);
    const { transport, seen } = scripted([[429, { "retry-after": "7200" }], 200]);
    const throttle = { guard, key: "same" };
    await sendWithRetry(transport, request, { policy: tokenEndpointRetryPolicy, clock, throttle });
    const blocked = await sendWithRetry(transport, request, {
      policy: tokenEndpointRetryPolicy,
      clock,
      throttle,
    }).catch((e: unknown) => e);
    expect(blocked).toMatchObject({ code: "throttled", retryAfterMs: 3600_000 });
    expect(seen).toHaveLength(1);
    // A different request is not blocked.
    await sendWithRetry(transport, request, {
      policy: tokenEndpointRetryPolicy,
      clock,
      throttle: { guard, key: "other" },
    });
    expect(seen).toHaveLength(2);
    await clock.advance(3600_000);
    await sendWithRetry(transport, request, { policy: tokenEndpointRetryPolicy, clock, throttle });
    expect(seen).toHaveLength(3);
  });

  it("stops retrying at the deadline", async () => {
    const clock = createTestClock();
    const { transport, seen } = scripted([500]);
    await sendWithRetry(transport, request, { policy: imdsRetryPolicy, clock, deadline: clock.now() + 3500 });
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(seen).toHaveLength(3);
  });

  it("emits one event per retry, with no query string", async () => {
    const clock = createTestClock();
    const events: RetryEvent[] = [];
    await sendWithRetry(scripted([500, "timeout", 200]).transport, request, {
      policy: imdsRetryPolicy,
      clock,
      onRetry: (e) => events.push(e),
    });
    expect(events).toEqual([
      {
        policy: "imds",
        retry: 1,
        delayMs: 1000,
        status: 500,
        errorCode: undefined,
        endpoint: "http://169.254.169.254/metadata/x",
      },
      {
        policy: "imds",
        retry: 2,
        delayMs: 2000,
        status: undefined,
        errorCode: "timeout",
        endpoint: "http://169.254.169.254/metadata/x",
      },
    ]);
  });

  it("a wait is cancelled by the AbortSignal", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const controller = new AbortController();
    const { transport, seen } = scripted([500]);
    const pending = sendWithRetry(transport, request, {
      policy: imdsRetryPolicy,
      clock,
      signal: controller.signal,
    });
    while (clock.pending === 0) await new Promise<void>((r) => setImmediate(r));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
    expect(seen).toHaveLength(1);
  });

  it("wraps a foreign transport error as network_error", async () => {
    const clock = createTestClock();
    const transport: HttpTransport = {
      send: async () => {
        throw new TypeError("socket hang up");
      },
    };
    await expect(
      sendWithRetry(transport, request, { policy: tokenEndpointRetryPolicy, clock }),
    ).rejects.toMatchObject({
      code: "network_error",
    });
    expect(clock.sleeps).toEqual([1000]);
  });
});
