import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";
import { freePort } from "./fixture";

/**
 * The "network failures" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function networkFailureCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup } = fx;
  describe("network failures", () => {
    it("a connection reset mid-body is network_error", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`${fx.main.origin}/reset-mid-body`)), ["network_error"]);
    });

    it("a server that closes without answering is network_error", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`${fx.main.origin}/close-without-answer`)), ["network_error"]);
    });

    it("a refused connection is network_error", async () => {
      const { transport } = await setup();
      const closedPort = await freePort();
      await expectFailure(transport.send(get(`https://127.0.0.1:${closedPort}/`)), ["network_error"]);
    });

    it("an error names the endpoint but not the query string, which may hold identifiers", async () => {
      const { transport } = await setup();
      const closedPort = await freePort();
      const endpoint = `https://127.0.0.1:${closedPort}/token`;
      const error = await expectFailure(transport.send(get(`${endpoint}?client_id=0f4c-secret-id`)), [
        "network_error",
      ]);
      expect(error.message).toContain(endpoint);
      expect(error.message).not.toContain("0f4c-secret-id");
    });
  });
}
