import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "client identities" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function clientIdentityCases(fx: ConformanceFixture): void {
  const { get, settle, setup, supportsIdentityBound } = fx;
  describe("client identities", () => {
    it("keys pools by the certificate: a forged identity (x5tS256 of A, certificate of B) never poisons A's pool", async () => {
      const { transport } = await setup();
      const forged = { ...fx.identityB, x5tS256: fx.identityA.x5tS256 };
      const first = await settle(transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: forged })))
        .outcome;
      // Refusing the forged identity is the expected answer; if a transport sends it, it must at
      // least present what it carries, never reuse A's connection.
      if (first.error !== undefined) {
        expect((first.error as { code?: string }).code).toBe("tls_handshake_failed");
      } else {
        expect(fx.main.requests.at(-1)?.clientX5tS256).toBe(fx.identityB.x5tS256);
      }
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: { ...fx.identityA } }));
      const genuine = fx.main.requests.slice(first.error === undefined ? 1 : 0);
      expect(genuine.map((r) => r.clientX5tS256)).toEqual([fx.identityA.x5tS256, fx.identityA.x5tS256]);
      expectOneCertificatePerConnection();
    });

    it("presents exactly the certificate of the request's identity", async () => {
      const { transport } = await setup();
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityB }));
      expect(fx.main.requests.map((r) => r.clientX5tS256)).toEqual([
        fx.identityA.x5tS256,
        fx.identityB.x5tS256,
      ]);
      expect(fx.main.requests.every((r) => r.clientAuthorized)).toBe(true);
    });

    it("never shares a connection between identities (A, B, A, B, A, B)", async () => {
      const { transport } = await setup();
      const order = [fx.identityA, fx.identityB, fx.identityA, fx.identityB, fx.identityA, fx.identityB];
      for (const identity of order) {
        await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: identity }));
      }
      expect(fx.main.requests.map((r) => r.clientX5tS256)).toEqual(order.map((i) => i.x5tS256));
      expectOneCertificatePerConnection();
      expect(new Set(fx.main.requests.map((r) => r.connectionId)).size).toBe(2);
      expect(fx.main.connections).toBe(2);
    });

    it("never shares a connection between identities under concurrency", async () => {
      const { transport } = await setup();
      const identities = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? fx.identityA : fx.identityB));
      const responses = await Promise.all(
        identities.map((identity) =>
          transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: identity })),
        ),
      );
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expectOneCertificatePerConnection();
      const presented = fx.main.requests.map((r) => r.clientX5tS256).sort();
      expect(presented).toEqual(identities.map((i) => i.x5tS256).sort());
    });

    it("a request without identity presents none and never rides an identity's connection", async () => {
      const { transport } = await setup();
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
      await transport.send(get(`${fx.main.origin}/echo`));
      await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
      await transport.send(get(`${fx.main.origin}/echo`));
      const [a1, none1, a2, none2] = fx.main.requests;
      expect(none1?.clientX5tS256).toBeUndefined();
      expect(none2?.clientX5tS256).toBeUndefined();
      expect(a2?.clientX5tS256).toBe(fx.identityA.x5tS256);
      expect(none1?.connectionId).not.toBe(a1?.connectionId);
      expect(a2?.connectionId).toBe(a1?.connectionId);
      expect(none2?.connectionId).toBe(none1?.connectionId);
      expectOneCertificatePerConnection();
    });

    it("100 sequential requests with one identity to one origin use one TLS connection", async () => {
      const { transport } = await setup();
      for (let i = 0; i < 100; i++) {
        const response = await transport.send(
          get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }),
        );
        expect(response.status).toBe(200);
      }
      expect(fx.main.requests).toHaveLength(100);
      expect(fx.main.connections).toBe(1);
    });

    if (supportsIdentityBound) {
      it("beyond maxIdentities, closes the least recently used identity's connections", async () => {
        const { transport } = await setup({ maxIdentities: 1 });
        await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
        await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityB }));
        // A's pool was evicted and closed: only B's connection stays open.
        await fx.main.waitForOpenConnections(1);
        await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: fx.identityA }));
        expect(fx.main.connections).toBe(3);
        expect(fx.main.requests.map((r) => r.clientX5tS256)).toEqual([
          fx.identityA.x5tS256,
          fx.identityB.x5tS256,
          fx.identityA.x5tS256,
        ]);
      });
    } else {
      it("declares no identity bound: offered one anyway, it still never mixes identities", async () => {
        const { transport } = await setup({ maxIdentities: 1 });
        for (const identity of [fx.identityA, fx.identityB, fx.identityA]) {
          await transport.send(get(`${fx.main.origin}/echo`, { clientIdentity: identity }));
        }
        expect(fx.main.requests.map((r) => r.clientX5tS256)).toEqual([
          fx.identityA.x5tS256,
          fx.identityB.x5tS256,
          fx.identityA.x5tS256,
        ]);
        expectOneCertificatePerConnection();
      });
    }

    function expectOneCertificatePerConnection() {
      const byConnection = new Map<number, Set<string | undefined>>();
      for (const r of fx.main.requests) {
        const seen = byConnection.get(r.connectionId) ?? new Set();
        seen.add(r.clientX5tS256);
        byConnection.set(r.connectionId, seen);
      }
      for (const seen of byConnection.values()) expect(seen.size).toBe(1);
    }
  });
}
