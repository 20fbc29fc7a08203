// Timers and waits (issue 12 items 2 and 22): no duration option may overflow Node's 2^31-1 ms
// timers, and one AbortSignal shared by many waits gets one listener. The process-lifetime side
// (a wait keeps the process alive, a background refresh does not) runs in child processes in
// reliability/test/process-lifetime.test.ts.
import { getEventListeners } from "node:events";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import {
  type AcquiredToken,
  createTokenManager,
  durationOption,
  type FetchRequest,
  isBackgroundSignal,
  MAX_TIMER_MS,
  markBackgroundSignal,
  onAbort,
  raceAbort,
} from "../../src/credential-kit/index";
import { ResourceCaller, systemClock } from "../../src/index";
import { Attempt, assertDurationOption, validateTransportOptions } from "../../src/transport-kit/index";

const tooLong = expect.objectContaining({
  code: "invalid_options",
  message: expect.stringContaining("must be at most 2147483647 ms"),
});

describe("duration options never exceed the longest Node.js timer", () => {
  it("MAX_TIMER_MS is 2^31-1", () => {
    expect(MAX_TIMER_MS).toBe(2_147_483_647);
  });

  it.each([2 ** 31, 1e10])("durationOption refuses %d, which Node would turn into a 1 ms timer", (value) => {
    expect(() => durationOption("@certbound/x", "timeoutMs", value, 30_000)).toThrow(tooLong);
  });

  it("durationOption applies the default and accepts the maximum", () => {
    expect(durationOption("@certbound/x", "timeoutMs", undefined, 30_000)).toBe(30_000);
    expect(durationOption("@certbound/x", "timeoutMs", MAX_TIMER_MS, 30_000)).toBe(MAX_TIMER_MS);
    expect(() => durationOption("@certbound/x", "timeoutMs", Number.POSITIVE_INFINITY, 30_000)).toThrow(
      /positive number of milliseconds/,
    );
  });

  it("ResourceCaller refuses a timeoutMs past 2^31-1 before creating its transport", () => {
    let created = 0;
    const transport = () => {
      created++;
      return { send: async () => ({ status: 200, headers: {}, body: "" }) };
    };
    expect(() => new ResourceCaller({ transport, timeoutMs: 2 ** 31 })).toThrow(tooLong);
    expect(() => new ResourceCaller({ transport, timeoutMs: -1 })).toThrow(/positive number/);
    expect(created).toBe(0);
  });

  it("transports refuse connectTimeoutMs past 2^31-1, and assertDurationOption checks the others", () => {
    const names = { packageName: "@certbound/t", factoryName: "createT" };
    expect(() => validateTransportOptions({ connectTimeoutMs: 2 ** 31 }, names)).toThrow(tooLong);
    expect(() => assertDurationOption("@certbound/t", "idleTimeoutMs", 1e10, 0)).toThrow(tooLong);
    expect(() => assertDurationOption("@certbound/t", "idleTimeoutMs", 0, 0)).not.toThrow();
  });
});

describe("one AbortSignal shared by many waits", () => {
  it("gets one listener however many waits, attempts and races use it, and all are cancelled", async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const clock = createTestClock({ autoAdvance: false });
    const never = new Promise<never>(() => {});
    const races = Array.from({ length: 60 }, () => raceAbort(never, signal));
    const sleeps = Array.from({ length: 60 }, () => systemClock.sleep(60_000, signal));
    const attempts = Array.from({ length: 60 }, () => new Attempt(clock, 1000, signal));
    expect(getEventListeners(signal, "abort")).toHaveLength(1);
    controller.abort();
    for (const outcome of await Promise.allSettled([...races, ...sleeps])) {
      expect(outcome).toMatchObject({ status: "rejected", reason: { code: "aborted" } });
    }
    expect(attempts.every((a) => a.failure("https://x")?.code === "aborted")).toBe(true);
    for (const a of attempts) a.dispose();
  });

  it("a finished wait lets go of its hook, so a later abort does not reach it", async () => {
    const controller = new AbortController();
    let fired = 0;
    const unsubscribe = onAbort(controller.signal, () => fired++);
    await raceAbort(Promise.resolve(1), controller.signal);
    unsubscribe();
    controller.abort();
    expect(fired).toBe(0);
  });
});

describe("background signals", () => {
  it("are marked explicitly; every other signal keeps its waits referenced", () => {
    const background = new AbortController().signal;
    expect(isBackgroundSignal(background)).toBe(false);
    markBackgroundSignal(background);
    expect(isBackgroundSignal(background)).toBe(true);
    expect(isBackgroundSignal(undefined)).toBe(false);
  });
});

describe("the token manager's background refresh", () => {
  it("acquires under a background signal (its waits may let the process exit); callers' acquisitions do not", async () => {
    const clock = createTestClock({ now: Date.now() });
    const seen: Array<{ background: boolean; signal: AbortSignal }> = [];
    const manager = createTokenManager({
      clock,
      fetcher: async (request: FetchRequest): Promise<AcquiredToken> => {
        seen.push({ background: isBackgroundSignal(request.signal), signal: request.signal });
        return {
          accessToken: `t${seen.length}`,
          tokenType: "Bearer",
          expiresOn: new Date(clock.now() + 3600_000),
          refreshOn: new Date(clock.now() + 60_000),
        };
      },
    });
    const request = { clientId: "c", authority: "a", scopes: ["s"] };
    await manager.acquireToken(request);
    await clock.advance(600_000);
    await manager.acquireToken(request); // served from the cache, starts the refresh
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(seen.map((s) => s.background)).toEqual([false, true]);
    manager.close();
    expect(seen.every((s) => s.signal.aborted)).toBe(true);
  });
});
