import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "compressed answers" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function compressedAnswerCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup } = fx;
  describe("compressed answers", () => {
    for (const encoding of ["gzip", "deflate", "deflate-raw", "br"]) {
      it(`decodes a ${encoding} body and drops content-encoding`, async () => {
        const { transport } = await setup();
        const response = await transport.send(get(`${fx.main.origin}/compressed?enc=${encoding}`));
        expect(JSON.parse(response.body)).toEqual({ ok: "compressed ✓" });
        expect(response.headers["content-encoding"]).toBeUndefined();
      });
    }

    it("a gzip bomb inflating past the cap is response_too_large, and the transport still works", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`${fx.main.origin}/gzip-bomb`)), ["response_too_large"]);
      const next = await transport.send(get(`${fx.main.origin}/echo`));
      expect(next.status).toBe(200);
    });
  });
}
