import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "TLS failures" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function tlsFailureCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup } = fx;
  describe("TLS failures", () => {
    it("an untrusted server certificate is tls_handshake_failed, and nothing is sent", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`, { ca: undefined })), [
        "tls_handshake_failed",
      ]);
      expect(fx.main.requests).toHaveLength(0);
    });

    it("a server certificate for another host name is tls_handshake_failed", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`https://wrong-name.example.test:${fx.main.port}/echo`)), [
        "tls_handshake_failed",
      ]);
      expect(fx.main.requests).toHaveLength(0);
    });

    it("a server that requires a client certificate and gets none: tls_handshake_failed", async () => {
      const { transport } = await setup();
      await expectFailure(transport.send(get(`${fx.strict.origin}/echo`)), ["tls_handshake_failed"]);
      expect(fx.strict.requests).toHaveLength(0);
    });

    it("a server that rejects the client certificate: tls_handshake_failed, or a network error naming the certificate", async () => {
      const { transport } = await setup();
      // Node's TLS server drops such a connection after the handshake instead of sending an
      // alert, so a client cannot always tell it from a reset; it must then say what to check.
      const error = await expectFailure(
        transport.send(get(`${fx.strict.origin}/echo`, { clientIdentity: fx.foreignIdentity })),
        ["tls_handshake_failed", "network_error"],
      );
      if (error.code === "network_error") expect(error.message).toMatch(/client certificate/i);
      expect(fx.strict.requests).toHaveLength(0);
      // The same transport still works with an accepted certificate.
      const ok = await transport.send(get(`${fx.strict.origin}/echo`, { clientIdentity: fx.identityA }));
      expect(ok.status).toBe(200);
    });

    it("a client key that does not belong to its certificate is tls_handshake_failed, and nothing is sent", async () => {
      const { transport } = await setup();
      const mismatched = { ...fx.identityA, privateKey: fx.identityB.privateKey };
      await expectFailure(transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: mismatched })), [
        "tls_handshake_failed",
      ]);
      expect(fx.main.requests).toHaveLength(0);
    });
  });
}
