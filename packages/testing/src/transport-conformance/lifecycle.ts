import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "lifecycle" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function lifecycleCases(fx: ConformanceFixture): void {
  const { expectFailure, get, settle, setup } = fx;
  describe("lifecycle", () => {
    it("close() closes every pooled connection", async () => {
      const { transport } = await setup();
      expect(typeof transport.close, "a pooling transport must offer close()").toBe("function");
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityB }));
      await transport.send(get(`${fx.main.origin}/echo`));
      await transport.send(get(`${fx.plain.origin}/echo`));
      expect(fx.main.openConnections).toBe(3);
      await transport.close?.();
      await Promise.all([fx.main.waitForIdle(), fx.plain.waitForIdle()]);
      expect(fx.main.openConnections + fx.plain.openConnections).toBe(0);
    });

    it("close() with a request in flight ends it with network_error saying the transport is closed", async () => {
      const { transport } = await setup();
      expect(typeof transport.close, "a pooling transport must offer close()").toBe("function");
      const pending = transport.send(get(`${fx.main.origin}/hang`, { clientIdentity: fx.identityA }));
      settle(pending);
      await fx.main.waitForRequest("/hang");
      await transport.close?.();
      const error = await expectFailure(pending, ["network_error"]);
      expect(error.message).toMatch(/transport is closed/);
    });

    it("Symbol.asyncDispose is close(): idempotent, and later requests fail as closed", async () => {
      const { transport } = await setup();
      const dispose = (transport as Partial<AsyncDisposable>)[Symbol.asyncDispose];
      expect(typeof dispose, "a pooling transport must be AsyncDisposable (`await using`)").toBe("function");
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
      await expect(dispose?.call(transport)).resolves.toBeUndefined();
      await expect(transport.close?.()).resolves.toBeUndefined();
      await fx.main.waitForIdle();
      expect(fx.main.openConnections).toBe(0);
      const error = await expectFailure(transport.send(get(`${fx.main.origin}/echo`)), ["network_error"]);
      expect(error.message).toMatch(/transport is closed/);
    });

    it("a request after close() is network_error, and nothing is sent", async () => {
      const { transport } = await setup();
      expect(typeof transport.close, "a pooling transport must offer close()").toBe("function");
      await transport.close?.();
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`)), ["network_error"]);
      expect(fx.main.connections).toBe(0);
    });
  });
}
