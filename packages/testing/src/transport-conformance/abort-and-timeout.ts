import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "abort and timeout" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function abortAndTimeoutCases(fx: ConformanceFixture): void {
  const { expectFailure, get, partialFlushed, settle, setup, tick } = fx;
  describe("abort and timeout", () => {
    it("an already aborted signal is aborted, and nothing is sent", async () => {
      const { transport } = await setup();
      const controller = new AbortController();
      controller.abort();
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`, { signal: controller.signal })), [
        "aborted",
      ]);
      expect(fx.main.requests).toHaveLength(0);
    });

    it("aborting while the server holds the request is aborted", async () => {
      const { transport } = await setup();
      const controller = new AbortController();
      const pending = transport.send(
        get(`${fx.main.origin}/hang`, { signal: controller.signal, clientIdentity: fx.identityA }),
      );
      const result = settle(pending);
      await fx.main.waitForRequest("/hang");
      controller.abort();
      await expectFailure(pending, ["aborted"]);
      expect(result.settled()).toBe(true);
    });

    it("aborting while the body streams is aborted", async () => {
      const { transport } = await setup();
      const controller = new AbortController();
      const flushed = new Promise<void>((resolve) => partialFlushed.push(resolve));
      const pending = transport.send(get(`${fx.main.origin}/hang-body`, { signal: controller.signal }));
      settle(pending);
      await flushed;
      controller.abort();
      await expectFailure(pending, ["aborted"]);
    });

    it("timeoutMs fires on the injected clock while the server holds the request", async () => {
      const { transport, clock } = await setup();
      const pending = transport.send(get(`${fx.main.origin}/hang`, { timeoutMs: 5000 }));
      const result = settle(pending);
      await fx.main.waitForRequest("/hang");
      expect(clock.pending, "the transport must wait for timeoutMs on the injected clock").toBeGreaterThan(0);
      await clock.advance(4999);
      await tick();
      expect(result.settled(), "the timeout fired early").toBe(false);
      await clock.advance(1);
      await expectFailure(pending, ["timeout"]);
    });

    it("timeoutMs covers a TLS handshake that never completes", async () => {
      const { transport, clock } = await setup();
      const pending = transport.send(get(`https://127.0.0.1:${fx.stall.port}/`, { timeoutMs: 3000 }));
      settle(pending);
      await fx.stall.waitForConnection();
      await clock.advance(3000);
      await expectFailure(pending, ["timeout"]);
    });

    it("timeoutMs covers a body that stops arriving", async () => {
      const { transport, clock } = await setup();
      const flushed = new Promise<void>((resolve) => partialFlushed.push(resolve));
      const pending = transport.send(get(`${fx.main.origin}/hang-body`, { timeoutMs: 2000 }));
      settle(pending);
      await flushed;
      await clock.advance(2000);
      await expectFailure(pending, ["timeout"]);
    });

    it("a request that completes cancels its timeout wait", async () => {
      const { transport, clock } = await setup();
      await transport.send(get(`${fx.main.origin}/echo`, { timeoutMs: 60_000 }));
      expect(clock.pending).toBe(0);
    });
  });
}
