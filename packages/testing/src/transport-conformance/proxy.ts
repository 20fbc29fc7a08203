import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "proxy" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function proxyCases(fx: ConformanceFixture): void {
  const { expectFailure, get, setup, supportsProxy } = fx;
  describe("proxy", () => {
    if (!supportsProxy) {
      it("declares no proxy support: requests that allow a proxy go direct", async () => {
        const { transport } = await setup({ proxy: { httpsProxy: fx.proxy.url, httpProxy: fx.proxy.url } });
        const response = await transport.send(
          get(`https://api.example.test:${fx.main.port}/echo`, { proxy: "environment" }),
        );
        expect(response.status).toBe(200);
        expect(fx.proxy.tunnels).toHaveLength(0);
      });
      return;
    }

    const env = () => ({ httpsProxy: fx.proxy.url, httpProxy: fx.proxy.url });

    it("sends a public host name through the proxy, with the client certificate end to end", async () => {
      const { transport } = await setup({ proxy: env() });
      const response = await transport.send(
        get(`https://api.example.test:${fx.main.port}/echo`, {
          proxy: "environment",
          clientIdentity: fx.identityA,
        }),
      );
      expect(response.status).toBe(200);
      expect(fx.proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${fx.main.port}`]);
      expect(fx.main.requests[0]?.clientX5tS256).toBe(fx.identityA.x5tS256);
    });

    it("sends plain HTTP to a public host name through the proxy", async () => {
      const { transport } = await setup({ proxy: env() });
      const response = await transport.send(
        get(`http://api.example.test:${fx.plain.port}/echo`, { proxy: "environment" }),
      );
      expect(response.status).toBe(200);
      expect(fx.proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${fx.plain.port}`]);
    });

    it('goes direct when the request says proxy: "never" (or nothing)', async () => {
      const { transport, lookup } = await setup({ proxy: env() });
      await transport.send(get(`https://api.example.test:${fx.main.port}/echo`, { proxy: "never" }));
      await transport.send(get(`https://api.example.test:${fx.main.port}/echo`));
      expect(fx.proxy.tunnels).toHaveLength(0);
      expect(lookup.queries).toContain("api.example.test");
      expect(fx.main.requests).toHaveLength(2);
    });

    it("never proxies loopback destinations (127.0.0.0/8, localhost)", async () => {
      const { transport } = await setup({ proxy: env() });
      await transport.send(get(`${fx.main.origin}/echo`, { proxy: "environment" }));
      await transport.send(get(`https://localhost:${fx.main.port}/echo`, { proxy: "environment" }));
      await transport.send(get(`${fx.plain.origin}/echo`, { proxy: "environment" }));
      expect(fx.proxy.tunnels).toHaveLength(0);
      expect(fx.main.requests).toHaveLength(2);
    });

    it("honours NO_PROXY (domain suffix, leading dot, host:port)", async () => {
      for (const noProxy of [
        "example.test",
        ".example.test",
        `other.test, api.example.test:${fx.main.port}`,
      ]) {
        const { transport } = await setup({ proxy: { ...env(), noProxy } });
        await transport.send(get(`https://api.example.test:${fx.main.port}/echo`, { proxy: "environment" }));
      }
      expect(fx.proxy.tunnels).toHaveLength(0);
      const { transport } = await setup({ proxy: { ...env(), noProxy: `api.example.test:1, other.test` } });
      await transport.send(get(`https://api.example.test:${fx.main.port}/echo`, { proxy: "environment" }));
      expect(fx.proxy.tunnels).toHaveLength(1);
    });

    it("sends credentials from the proxy URL as Proxy-Authorization, and never puts them in errors", async () => {
      const password = "p%40ss-w0rd";
      const { transport } = await setup({
        proxy: { httpsProxy: `http://user:${password}@127.0.0.1:${fx.authProxy.port}` },
      });
      const error = await expectFailure(
        transport.send(get(`https://api.example.test:${fx.main.port}/echo`, { proxy: "environment" })),
        ["network_error"],
      );
      const basic = Buffer.from("user:p@ss-w0rd").toString("base64");
      expect(fx.authProxy.tunnels.map((t) => t.proxyAuthorization)).toEqual([`Basic ${basic}`]);
      const everything = inspect(error, { depth: 8 });
      for (const leak of ["w0rd", basic]) expect(everything).not.toContain(leak);
      expect(fx.main.requests).toHaveLength(0);
    });

    it("sends a pinned request direct even when it allows a proxy", async () => {
      const { transport } = await setup({ proxy: env() });
      const response = await transport.send(
        get(`https://api.example.test:${fx.main.port}/echo`, {
          proxy: "environment",
          pinnedServerThumbprint: fx.main.certificate.certificate.fingerprint256,
          ca: undefined,
        }),
      );
      expect(response.status).toBe(200);
      expect(fx.proxy.tunnels).toHaveLength(0);
    });

    it("keeps tunnelled and direct connections of one identity apart", async () => {
      const { transport } = await setup({ proxy: env() });
      const url = `https://api.example.test:${fx.main.port}/echo`;
      await transport.send(get(url, { proxy: "environment", clientIdentity: fx.identityA }));
      await transport.send(get(url, { proxy: "never", clientIdentity: fx.identityA }));
      await transport.send(get(url, { proxy: "environment", clientIdentity: fx.identityA }));
      expect(fx.proxy.tunnels).toHaveLength(1);
      const [viaProxy, direct, again] = fx.main.requests;
      expect(fx.main.requests.map((r) => r.clientX5tS256)).toEqual(Array(3).fill(fx.identityA.x5tS256));
      expect(direct?.connectionId).not.toBe(viaProxy?.connectionId);
      expect(again?.connectionId).toBe(viaProxy?.connectionId);
    });

    it("a proxy that refuses the tunnel is network_error", async () => {
      const { transport } = await setup({ proxy: { httpsProxy: fx.refusingProxy.url } });
      await expectFailure(
        transport.send(get(`https://api.example.test:${fx.main.port}/echo`, { proxy: "environment" })),
        ["network_error"],
      );
      expect(fx.refusingProxy.tunnels).toHaveLength(1);
      expect(fx.main.requests).toHaveLength(0);
    });
  });
}
