import { createTestClock } from "@certbound/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/seams/clock";
import { Attempt } from "../../src/transport-kit/index";

const endpoint = "https://api.example.test/x";

describe("Attempt", () => {
  it("times out on the injected clock, not the wall clock", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const attempt = new Attempt(clock, 500, undefined);
    await clock.advance(499);
    expect(attempt.signal.aborted).toBe(false);
    expect(attempt.failure(endpoint)).toBeUndefined();
    await clock.advance(1);
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.failure(endpoint)).toMatchObject({
      code: "timeout",
      message: expect.stringContaining("timeoutMs (500 ms)"),
    });
    attempt.dispose();
  });

  it("reports the caller's abort as aborted, carrying the caller's reason", () => {
    const clock = createTestClock({ autoAdvance: false });
    const caller = new AbortController();
    const attempt = new Attempt(clock, 500, caller.signal);
    caller.abort(new Error("user went away"));
    expect(attempt.signal.aborted).toBe(true);
    const failure = attempt.failure(endpoint);
    expect(failure?.code).toBe("aborted");
    expect(failure?.cause).toEqual(new Error("user went away"));
    attempt.dispose();
  });

  it("keeps the first reason: a timeout after an abort stays an abort", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const caller = new AbortController();
    const attempt = new Attempt(clock, 10, caller.signal);
    caller.abort();
    await clock.advance(10);
    expect(attempt.failure(endpoint)?.code).toBe("aborted");
    attempt.dispose();
  });

  it("has no timer without a finite timeout, and none after dispose()", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const unbounded = new Attempt(clock, Number.POSITIVE_INFINITY, undefined);
    const disposed = new Attempt(clock, 10, undefined);
    disposed.dispose();
    await clock.advance(1_000_000);
    expect(unbounded.signal.aborted).toBe(false);
    expect(disposed.signal.aborted).toBe(false);
    unbounded.dispose();
  });

  it("lets go of the caller's signal on dispose()", () => {
    const clock = createTestClock({ autoAdvance: false });
    const caller = new AbortController();
    const attempt = new Attempt(clock, undefined, caller.signal);
    attempt.dispose();
    caller.abort();
    expect(attempt.signal.aborted).toBe(false);
    expect(attempt.failure(endpoint)).toBeUndefined();
  });

  it("race() settles like the work while the attempt runs", async () => {
    const attempt = new Attempt(createTestClock({ autoAdvance: false }), 100, undefined);
    await expect(attempt.race(Promise.resolve("done"), () => {})).resolves.toBe("done");
    await expect(attempt.race(Promise.reject(new Error("boom")), () => {})).rejects.toThrow("boom");
    attempt.dispose();
  });

  it("race() rejects at once on cancellation and discards a result that arrives later", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const attempt = new Attempt(clock, 100, undefined);
    let deliver: (value: string) => void = () => {};
    const stalled = new Promise<string>((resolve) => {
      deliver = resolve;
    });
    const discarded: string[] = [];
    const outcome = expect(attempt.race(stalled, (late) => discarded.push(late))).rejects.toThrow("timeout");
    await clock.advance(100);
    await outcome;
    deliver("late response");
    await stalled;
    await Promise.resolve();
    expect(discarded).toEqual(["late response"]);
    attempt.dispose();
  });

  it("is cancelled from the start by a signal that has already fired", async () => {
    const caller = new AbortController();
    caller.abort();
    const attempt = new Attempt(createTestClock({ autoAdvance: false }), undefined, caller.signal);
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.failure(endpoint)?.code).toBe("aborted");
    const discarded: string[] = [];
    const work = Promise.resolve("too late");
    // race() then rejects at once and discards the work's result.
    await expect(attempt.race(work, (late) => discarded.push(late))).rejects.toThrow("aborted");
    expect(discarded).toEqual(["too late"]);
    attempt.dispose();
  });

  it("onCancel() runs its listener once, on the timeout or on the caller's abort", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const timedOut = new Attempt(clock, 100, undefined);
    const calls: string[] = [];
    timedOut.onCancel(() => calls.push(timedOut.failure(endpoint)?.code ?? "none"));
    await clock.advance(99);
    expect(calls).toEqual([]);
    await clock.advance(1);
    await clock.advance(1000);
    expect(calls).toEqual(["timeout"]);
    timedOut.dispose();

    const caller = new AbortController();
    const aborted = new Attempt(clock, 100, caller.signal);
    aborted.onCancel(() => calls.push(aborted.failure(endpoint)?.code ?? "none"));
    caller.abort();
    await clock.advance(100);
    expect(calls).toEqual(["timeout", "aborted"]);
    aborted.dispose();
  });

  it("onCancel() runs at once on an attempt already cancelled, and never after dispose()", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const caller = new AbortController();
    caller.abort();
    const over = new Attempt(clock, 100, caller.signal);
    let ran = 0;
    over.onCancel(() => ran++);
    expect(ran).toBe(1);
    over.dispose();

    const disposed = new Attempt(clock, 100, undefined);
    disposed.onCancel(() => ran++);
    disposed.dispose();
    await clock.advance(1000);
    expect(ran).toBe(1);
  });

  it("a signal first read after the attempt was cancelled is already aborted, with the reason", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const attempt = new Attempt(clock, 10, undefined);
    await clock.advance(10);
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.signal.reason).toMatchObject({ code: "timeout" });
    // The same signal on every read.
    expect(attempt.signal).toBe(attempt.signal);
    attempt.dispose();
  });

  describe("on the system clock (a plain timer, driven here by fake timers)", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("times out after timeoutMs and not before", () => {
      vi.useFakeTimers();
      const attempt = new Attempt(systemClock, 500, undefined);
      vi.advanceTimersByTime(499);
      expect(attempt.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(attempt.signal.aborted).toBe(true);
      expect(attempt.failure(endpoint)).toMatchObject({ code: "timeout" });
      attempt.dispose();
    });

    it("leaves no timer behind after dispose(), and a caller's abort still wins first", () => {
      vi.useFakeTimers();
      const done = new Attempt(systemClock, 500, undefined);
      expect(vi.getTimerCount()).toBe(1);
      done.dispose();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(done.signal.aborted).toBe(false);
      const caller = new AbortController();
      const aborted = new Attempt(systemClock, 500, caller.signal);
      caller.abort();
      vi.advanceTimersByTime(500);
      expect(aborted.failure(endpoint)).toMatchObject({ code: "aborted" });
      aborted.dispose();
    });

    it("takes the clock's own (chained) wait for longer than one timer can hold", async () => {
      vi.useFakeTimers();
      const attempt = new Attempt(systemClock, 2 ** 31, undefined);
      await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
      expect(attempt.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(attempt.signal.aborted).toBe(true);
      attempt.dispose();
    });
  });
});
