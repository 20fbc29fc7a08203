import { describe, expect, it } from "vitest";
import type { ConformanceFixture } from "./fixture";

/**
 * The "round trips" cases of `testHttpTransport`, on the servers of `fx`.
 *
 * @internal
 */
export function roundTripCases(fx: ConformanceFixture): void {
  const { get, setup } = fx;
  describe("round trips", () => {
    it("GET: status, response headers (repeats joined) and request headers", async () => {
      const { transport } = await setup();
      const response = await transport.send(
        get(`${fx.main.origin}/echo?x=1&y=%20`, { headers: { "x-custom": "value 1", accept: "text/plain" } }),
      );
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toBe("application/json");
      expect(response.headers["x-multi"]).toBe("a, b");
      for (const key of Object.keys(response.headers)) expect(key).toBe(key.toLowerCase());
      expect(JSON.parse(response.body)).toEqual({ method: "GET", path: "/echo?x=1&y=%20", body: "" });
      const seen = fx.main.requests[0];
      expect(seen?.headers["x-custom"]).toBe("value 1");
      expect(seen?.headers.accept).toBe("text/plain");
    });

    it("POST with a string body", async () => {
      const { transport } = await setup();
      const body = "grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default&note=h%C3%A9";
      const response = await transport.send({
        ...get(`${fx.main.origin}/echo`),
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ method: "POST", body });
      expect(fx.main.requests[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
      expect(fx.main.requests[0]?.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
    });

    it("POST with a Uint8Array body that is a view into a larger buffer", async () => {
      const { transport } = await setup();
      const backing = Buffer.from('XXXX{"csr":"abc"}YYYY');
      const body = new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.length - 8);
      const response = await transport.send({
        ...get(`${fx.main.origin}/echo`),
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body,
      });
      expect(JSON.parse(response.body)).toMatchObject({ body: '{"csr":"abc"}' });
    });

    it("decodes UTF-8 split across chunks", async () => {
      const { transport } = await setup();
      const response = await transport.send(get(`${fx.main.origin}/utf8`));
      expect(response.body).toBe("héllo ✓ 世界");
    });

    it("plain HTTP works, with or without an identity on the request", async () => {
      const { transport } = await setup();
      const first = await transport.send(get(`${fx.plain.origin}/echo`));
      const second = await transport.send(get(`${fx.plain.origin}/echo`, { clientIdentity: fx.identityA }));
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(fx.plain.requests).toHaveLength(2);
    });

    it("returns 4xx and 5xx as responses", async () => {
      const { transport } = await setup();
      for (const code of [400, 401, 404, 429, 500, 503]) {
        const response = await transport.send(get(`${fx.main.origin}/status?code=${code}`));
        expect(response.status).toBe(code);
        expect(response.body).toBe(`status ${code}`);
        expect(response.headers["retry-after"]).toBe("7");
      }
    });

    it("returns a redirect as a response and does not follow it", async () => {
      const { transport } = await setup();
      const response = await transport.send(get(`${fx.main.origin}/redirect`));
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/echo");
      expect(fx.main.requests.map((r) => r.path)).toEqual(["/redirect"]);
    });
  });
}
