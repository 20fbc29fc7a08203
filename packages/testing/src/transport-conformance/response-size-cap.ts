import { DEFAULT_MAX_RESPONSE_BYTES } from "@certbound/core/transport-kit";
import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "response size cap" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function responseSizeCapCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup } = fx;
  describe("response size cap", () => {
    it(`accepts a body of exactly ${DEFAULT_MAX_RESPONSE_BYTES} bytes (the default cap)`, async () => {
      const { transport } = await setup();
      const response = await transport.send(get(`${fx.main.origin}/bytes?n=${DEFAULT_MAX_RESPONSE_BYTES}`));
      expect(response.body.length).toBe(DEFAULT_MAX_RESPONSE_BYTES);
    });

    it("a declared length over the cap is response_too_large", async () => {
      const { transport } = await setup();
      await expectFailure(
        transport.send(get(`${fx.main.origin}/bytes?n=${DEFAULT_MAX_RESPONSE_BYTES + 1}`)),
        ["response_too_large"],
      );
    });

    it("a chunked body over the cap is response_too_large, and the transport still works", async () => {
      const { transport } = await setup();
      await expectFailure(
        transport.send(get(`${fx.main.origin}/bytes?n=${DEFAULT_MAX_RESPONSE_BYTES + 1}&chunked=1`)),
        ["response_too_large"],
      );
      const next = await transport.send(get(`${fx.main.origin}/echo`));
      expect(next.status).toBe(200);
    });
  });
}
