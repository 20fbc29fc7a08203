import { proxyRoutes } from "@certbound/core/transport-kit";
import { createUndiciTransport, type UndiciTransport } from "@certbound/http-undici";
import {
  createLoopbackLookup,
  createTestClock,
  startHttpsTestServer,
  useTransportTestbed,
} from "@certbound/testing";
import { Agent, Dispatcher, fetch, request } from "undici";
import { describe, expect, it } from "vitest";
import { IdentityPool } from "../src/identity-pool";

const bed = useTransportTestbed();
const { get } = bed;

function make(options: Parameters<typeof createUndiciTransport>[0] = {}): UndiciTransport {
  return bed.track(createUndiciTransport({ clock: createTestClock({ autoAdvance: false }), ...options }));
}

describe("createUndiciTransport options", () => {
  it.each([
    [{ maxResponseBytes: 0 }, "maxResponseBytes"],
    [{ maxIdentities: 1.5 }, "maxIdentities"],
    [{ connectTimeoutMs: -1 }, "connectTimeoutMs"],
    [{ ca: "not a pem" }, "ca"],
    [{ dispatcher: {} as Dispatcher }, "dispatcher"],
    [{ proxy: { httpsProxy: "ftp://proxy" } }, "httpsProxy"],
    // Misspelt keys are refused with the closest known one, not ignored.
    [
      { maxIdentites: 4 },
      "Unknown option `maxIdentites` in createUndiciTransport options; did you mean `maxIdentities`?",
    ],
    [{ headersTimeout: 5 }, "did you mean `headersTimeoutMs`?"],
    [
      { proxy: { https_proxy: "http://proxy:3128" } },
      "Unknown option `https_proxy` in `proxy`; did you mean `httpsProxy`?",
    ],
  ])("rejects %j naming %s", (options, name) => {
    expect(() => createUndiciTransport(options as never)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining(name) }),
    );
  });

  // Node turns a timer above 2^31-1 ms into a 1 ms one: `2 ** 31` as "no timeout" would time out at once.
  it.each(["connectTimeoutMs", "headersTimeoutMs", "bodyTimeoutMs"])("refuses %s past 2^31-1 ms", (name) => {
    expect(() => createUndiciTransport({ [name]: 2 ** 31 })).toThrow(
      expect.objectContaining({
        code: "invalid_options",
        message: expect.stringContaining(`\`${name}\` must be at most 2147483647 ms`),
      }),
    );
  });

  it("refuses undici durations in agentOptions past 2^31-1 ms", () => {
    expect(() => createUndiciTransport({ agentOptions: { keepAliveTimeout: 2 ** 31 } })).toThrow(
      /`agentOptions.keepAliveTimeout` must be at most 2147483647 ms/,
    );
  });

  it("names the package in its messages", () => {
    expect(() => createUndiciTransport({ maxIdentities: 0 })).toThrow(/@certbound\/http-undici/);
  });
});

describe("send()", () => {
  it("skips an informational answer (103 Early Hints) and returns the final one", async () => {
    const hinting = await startHttpsTestServer({
      authority: bed.ca,
      handler: (_req, res) => {
        res.writeEarlyHints({ link: "</style.css>; rel=preload" });
        res.setHeader("x-final", "yes");
        res.end("final");
      },
    });
    try {
      const response = await make().send(get(`${hinting.origin}/`, { clientIdentity: bed.identityA }));
      expect(response.status).toBe(200);
      expect(response.body).toBe("final");
      expect(response.headers["x-final"]).toBe("yes");
      expect(response.headers.link).toBeUndefined();
    } finally {
      await hinting.close();
    }
  });
});

describe("per-identity pools", () => {
  it("lets a request in flight finish when its pool is evicted", async () => {
    const slow = await startHttpsTestServer({
      authority: bed.ca,
      handler: (req, res) => {
        if (req.url === "/wait") bed.server.waitForRequest("/release").then(() => res.end("late"));
        else res.end("ok");
      },
    });
    try {
      const transport = make({ maxIdentities: 1 });
      const inFlight = transport.send(get(`${slow.origin}/wait`, { clientIdentity: bed.identityA }));
      await slow.waitForRequest("/wait");
      await transport.send(get(`${slow.origin}/`, { clientIdentity: bed.identityB }));
      await transport.send(get(`${bed.server.origin}/release`, { clientIdentity: bed.identityB }));
      expect((await inFlight).body).toBe("late");
      await transport.close();
      await slow.waitForIdle();
    } finally {
      await slow.close();
    }
  });
});

describe("dispatcherFor", () => {
  it("gives undici's request() the identity's certificate on the transport's own pool", async () => {
    const transport = make();
    await transport.send(get(`${bed.server.origin}/`, { clientIdentity: bed.identityA }));
    const dispatcher = transport.dispatcherFor(bed.identityA, { ca: bed.ca.certificatePem });
    const response = await request(`${bed.server.origin}/`, { dispatcher });
    expect(await response.body.text()).toBe("ok");
    const [first, second] = bed.server.requests;
    expect(second?.clientX5tS256).toBe(bed.identityA.x5tS256);
    expect(second?.connectionId).toBe(first?.connectionId);
  });

  it("works with undici's fetch, and fails cleanly once the transport is closed", async () => {
    const transport = make();
    const dispatcher = transport.dispatcherFor(bed.identityB, { ca: bed.ca.certificatePem });
    const response = await fetch(`${bed.server.origin}/`, {
      dispatcher,
      headers: { authorization: "Bearer t" },
    });
    expect(await response.text()).toBe("ok");
    expect(bed.server.requests[0]?.clientX5tS256).toBe(bed.identityB.x5tS256);
    expect(bed.server.requests[0]?.headers.authorization).toBe("Bearer t");
    await transport.close();
    await expect(fetch(`${bed.server.origin}/`, { dispatcher })).rejects.toThrow();
  });

  it("presents no certificate without an identity", async () => {
    const transport = make();
    const response = await request(`${bed.server.origin}/`, {
      dispatcher: transport.dispatcherFor(undefined, { ca: bed.ca.certificatePem }),
    });
    await response.body.text();
    expect(bed.server.requests[0]?.clientX5tS256).toBeUndefined();
  });

  it("is owned by the transport: closing it is a no-op, transport.close() ends it", async () => {
    const transport = make();
    const dispatcher = transport.dispatcherFor(bed.identityA, { ca: bed.ca.certificatePem });
    await dispatcher.close();
    await dispatcher.destroy();
    await (await request(`${bed.server.origin}/`, { dispatcher })).body.text();
    await transport.close();
    await expect(request(`${bed.server.origin}/`, { dispatcher })).rejects.toMatchObject({
      message: expect.stringContaining("closed"),
    });
  });

  it("follows the transport's proxy settings", async () => {
    const lookup = createLoopbackLookup();
    const transport = make({ proxy: { httpsProxy: bed.proxy.url }, lookup });
    const dispatcher = transport.dispatcherFor(bed.identityB, { ca: bed.ca.certificatePem });
    await (await request(`https://api.example.test:${bed.server.port}/`, { dispatcher })).body.text();
    await (await request(`${bed.server.origin}/`, { dispatcher })).body.text();
    expect(bed.proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${bed.server.port}`]);
    expect(bed.server.requests.map((r) => r.clientX5tS256)).toEqual([
      bed.identityB.x5tS256,
      bed.identityB.x5tS256,
    ]);
  });
});

describe("a dispatcher of yours", () => {
  function spy() {
    const inner = new Agent({ connect: { ca: bed.ca.certificatePem, lookup: createLoopbackLookup() } });
    const origins: string[] = [];
    class Spy extends Dispatcher {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        origins.push(String(options.origin));
        return inner.dispatch(options, handler);
      }
      override close(): Promise<void> {
        return inner.close();
      }
      override destroy(): Promise<void> {
        return inner.destroy();
      }
    }
    return { dispatcher: new Spy(), origins, inner };
  }

  it("carries identity-less requests that may use a proxy, and nothing else", async () => {
    const { dispatcher, origins, inner } = spy();
    const transport = make({ dispatcher, lookup: createLoopbackLookup(), ca: bed.ca.certificatePem });
    const url = `https://api.example.test:${bed.server.port}/`;
    await transport.send({ method: "GET", url, headers: {}, proxy: "environment" });
    expect(origins).toHaveLength(1);
    // A client certificate, a per-request CA, proxy "never" or a loopback host: the transport's own pools.
    await transport.send(get(url, { proxy: "environment", clientIdentity: bed.identityA }));
    await transport.send(get(url, { proxy: "environment" }));
    await transport.send({ method: "GET", url, headers: {} });
    await transport
      .send({ method: "GET", url: `${bed.server.origin}/`, headers: {}, proxy: "environment" })
      .catch(() => {});
    expect(origins).toHaveLength(1);
    // Yours stays yours: the transport's close() leaves it open.
    await transport.close();
    await transport.send({ method: "GET", url, headers: {}, proxy: "environment" }).catch(() => {});
    await (await request(url, { dispatcher })).body.text();
    await inner.close();
  });
});

describe("proxy details", () => {
  it("routes link-local destinations to the direct agent (no connection is made here)", async () => {
    const pool = new IdentityPool({
      identity: undefined,
      cas: [],
      pin: undefined,
      lookup: undefined,
      connectTimeoutMs: 1000,
      agentOptions: {},
      proxies: proxyRoutes({ httpsProxy: "http://127.0.0.1:9", httpProxy: "http://127.0.0.1:9" }, "test"),
      proxySecureContext: undefined,
    });
    const direct = pool.dispatcherFor(new URL("http://127.0.0.1/"), "never");
    expect(pool.dispatcherFor(new URL("http://169.254.169.254/metadata"), "environment")).toBe(direct);
    expect(pool.dispatcherFor(new URL("https://[fe80::1]/"), "environment")).toBe(direct);
    expect(pool.dispatcherFor(new URL("https://example.com/"), "environment")).not.toBe(direct);
    await pool.destroy();
  });
});
