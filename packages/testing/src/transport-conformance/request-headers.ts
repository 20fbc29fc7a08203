import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";
import { SECRET } from "./fixture";

/**
 * The "request headers" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function requestHeaderCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup } = fx;
  describe("request headers", () => {
    for (const [label, value] of [
      ["CR/LF", "a\r\nx-injected: 1"],
      ["a lone LF", "a\nb"],
      ["NUL", "a\u0000b"],
      ["a character outside latin-1", "caf\u00e9 \u2713"],
    ] as const) {
      it(`refuses a header value with ${label} before sending (invalid_options)`, async () => {
        const { transport } = await setup();
        const error = await expectFailure(
          transport.send(
            get(`${fx.main.origin}/echo`, { headers: { authorization: SECRET, "x-bad": value } }),
          ),
          ["invalid_options"],
        );
        expect(error.message).toContain("x-bad");
        expect(fx.main.requests).toHaveLength(0);
        expect(fx.main.connections).toBe(0);
      });
    }

    it("refuses a header name that is not an HTTP token before sending", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`, { headers: { "x bad\r\n": "v" } })), [
        "invalid_options",
      ]);
      expect(fx.main.requests).toHaveLength(0);
    });

    it("advertises no compression of its own (accept-encoding absent or identity)", async () => {
      const { transport } = await setup();
      await transport.send(get(`${fx.main.origin}/echo`));
      expect([undefined, "identity"]).toContain(fx.main.requests[0]?.headers["accept-encoding"]);
    });
  });
}
