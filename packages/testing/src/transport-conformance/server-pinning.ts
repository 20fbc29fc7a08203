import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "server pinning (pinnedServerThumbprint)" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function serverPinningCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup } = fx;
  describe("server pinning (pinnedServerThumbprint)", () => {
    const sha256 = () => fx.main.certificate.certificate.fingerprint256.replaceAll(":", "").toLowerCase();

    it("a matching SHA-256 pin succeeds although the server's CA is not trusted", async () => {
      const { transport } = await setup();
      const response = await transport.send(
        get(`${fx.main.origin}/echo`, { ca: undefined, pinnedServerThumbprint: sha256() }),
      );
      expect(response.status).toBe(200);
    });

    it("a matching SHA-1 pin in upper case with colons succeeds (Service Fabric's form)", async () => {
      const { transport } = await setup();
      const sha1 = fx.main.certificate.certificate.fingerprint;
      expect(sha1).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      const response = await transport.send(
        get(`${fx.main.origin}/echo`, {
          ca: undefined,
          pinnedServerThumbprint: sha1,
          clientIdentity: fx.identityA,
        }),
      );
      expect(response.status).toBe(200);
      expect(fx.main.requests[0]?.clientX5tS256).toBe(fx.identityA.x5tS256);
    });

    it("a wrong pin is tls_handshake_failed even for a trusted server, before anything is sent", async () => {
      const { transport } = await setup();
      const wrong = fx.identityA.certificate.fingerprint256;
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`, { pinnedServerThumbprint: wrong })), [
        "tls_handshake_failed",
      ]);
      expect(fx.main.requests).toHaveLength(0);
    });

    it("a malformed pin is tls_handshake_failed naming the expected form, before any connection", async () => {
      const { transport } = await setup();
      const error = await expectFailure(
        transport.send(get(`${fx.main.origin}/echo`, { pinnedServerThumbprint: "abc" })),
        ["tls_handshake_failed"],
      );
      expect(error.message).toMatch(/40 .*64/);
      expect(fx.main.connections).toBe(0);
    });

    it("a pinned request never reuses a connection that was verified another way", async () => {
      const { transport } = await setup();
      await transport.send(get(`${fx.main.origin}/echo`));
      const wrong = fx.identityB.certificate.fingerprint;
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`, { pinnedServerThumbprint: wrong })), [
        "tls_handshake_failed",
      ]);
      expect(fx.main.requests).toHaveLength(1);
    });
  });
}
