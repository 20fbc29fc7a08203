import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "@certbound/core";
import {
  type ConnectProxy,
  createLoopbackLookup,
  createTestClock,
  type HttpsTestServer,
  startConnectProxy,
  startHttpsTestServer,
} from "@certbound/core/testing";
import { proxyRoutes } from "@certbound/core/transport-kit";
import { createUndiciTransport, type UndiciTransport } from "@certbound/http-undici";
import { Agent, Dispatcher, fetch, request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IdentityPool } from "../src/identity-pool";

let ca: CertificateAuthority;
let identityA: IssuedCertificate;
let identityB: IssuedCertificate;
let server: HttpsTestServer;
let proxy: ConnectProxy;
let transports: UndiciTransport[] = [];

beforeAll(async () => {
  ca = createCertificateAuthority();
  identityA = ca.issue({ commonName: "A" });
  identityB = ca.issue({ commonName: "B" });
  server = await startHttpsTestServer({
    authority: ca,
    handler: (req, res) => {
      if (req.url === "/hang") return;
      res.end("ok");
    },
  });
  proxy = await startConnectProxy();
});

afterEach(async () => {
  await Promise.all(transports.map((t) => t.close()));
  transports = [];
  await server.waitForIdle();
  server.reset();
  proxy.reset();
});

afterAll(async () => {
  await Promise.all([server.close(), proxy.close()]);
});

function make(options: Parameters<typeof createUndiciTransport>[0] = {}): UndiciTransport {
  const transport = createUndiciTransport({ clock: createTestClock({ autoAdvance: false }), ...options });
  transports.push(transport);
  return transport;
}

async function failure(promise: Promise<unknown>): Promise<Error & { code: string }> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error & { code: string },
  );
  if (!outcome) throw new Error("expected a rejection");
  return outcome;
}

const get = (url: string, extra = {}) => ({
  method: "GET" as const,
  url,
  headers: {},
  ca: ca.certificatePem,
  ...extra,
});

describe("createUndiciTransport options", () => {
  it.each([
    [{ maxResponseBytes: 0 }, "maxResponseBytes"],
    [{ maxIdentities: 1.5 }, "maxIdentities"],
    [{ connectTimeoutMs: -1 }, "connectTimeoutMs"],
    [{ ca: "not a pem" }, "ca"],
    [{ dispatcher: {} as Dispatcher }, "dispatcher"],
    [{ proxy: { httpsProxy: "ftp://proxy" } }, "httpsProxy"],
  ])("rejects %j naming %s", (options, name) => {
    expect(() => createUndiciTransport(options as never)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining(name) }),
    );
  });

  it("names the package in its messages", () => {
    expect(() => createUndiciTransport({ maxIdentities: 0 })).toThrow(/@certbound\/http-undici/);
  });
});

describe("per-identity pools", () => {
  it("closes the least recently used pool beyond maxIdentities, gracefully", async () => {
    const transport = make({ maxIdentities: 1 });
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityA }));
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityB }));
    // A's pool was evicted and closed: only B's connection stays open.
    await server.waitForOpenConnections(1);
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityA }));
    expect(server.connections).toBe(3);
    expect(server.requests.map((r) => r.clientX5tS256)).toEqual([
      identityA.x5tS256,
      identityB.x5tS256,
      identityA.x5tS256,
    ]);
  });

  it("lets a request in flight finish when its pool is evicted", async () => {
    const slow = await startHttpsTestServer({
      authority: ca,
      handler: (req, res) => {
        if (req.url === "/wait") server.waitForRequest("/release").then(() => res.end("late"));
        else res.end("ok");
      },
    });
    try {
      const transport = make({ maxIdentities: 1 });
      const inFlight = transport.send(get(`${slow.origin}/wait`, { clientIdentity: identityA }));
      await slow.waitForRequest("/wait");
      await transport.send(get(`${slow.origin}/`, { clientIdentity: identityB }));
      await transport.send(get(`${server.origin}/release`, { clientIdentity: identityB }));
      expect((await inFlight).body).toBe("late");
      await transport.close();
      await slow.waitForIdle();
    } finally {
      await slow.close();
    }
  });

  it("fails with tls_handshake_failed when the key does not belong to the certificate", async () => {
    const transport = make();
    const broken = { ...identityA, privateKey: identityB.privateKey };
    await expect(transport.send(get(`${server.origin}/`, { clientIdentity: broken }))).rejects.toMatchObject({
      code: "tls_handshake_failed",
    });
  });

  it("rejects a malformed pin as tls_handshake_failed, naming the expected form", async () => {
    const transport = make();
    await expect(
      transport.send(get(`${server.origin}/`, { pinnedServerThumbprint: "abc" })),
    ).rejects.toMatchObject({ code: "tls_handshake_failed", message: expect.stringMatching(/40 .*64/) });
    expect(server.connections).toBe(0);
  });

  it("keeps the query string, which may hold identifiers, out of error messages", async () => {
    const transport = make();
    const error = await failure(transport.send(get(`https://127.0.0.1:1/token?client_id=0f4c-secret-id`)));
    expect(error.code).toBe("network_error");
    expect(error.message).toContain("https://127.0.0.1:1/token");
    expect(error.message).not.toContain("0f4c-secret-id");
  });

  it("refuses requests after close()", async () => {
    const transport = make();
    await transport.close();
    await expect(transport.send(get(`${server.origin}/`))).rejects.toMatchObject({ code: "network_error" });
  });
});

describe("dispatcherFor", () => {
  it("gives undici's request() the identity's certificate on the transport's own pool", async () => {
    const transport = make();
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityA }));
    const dispatcher = transport.dispatcherFor(identityA, { ca: ca.certificatePem });
    const response = await request(`${server.origin}/`, { dispatcher });
    expect(await response.body.text()).toBe("ok");
    const [first, second] = server.requests;
    expect(second?.clientX5tS256).toBe(identityA.x5tS256);
    expect(second?.connectionId).toBe(first?.connectionId);
  });

  it("works with undici's fetch, and fails cleanly once the transport is closed", async () => {
    const transport = make();
    const dispatcher = transport.dispatcherFor(identityB, { ca: ca.certificatePem });
    const response = await fetch(`${server.origin}/`, { dispatcher, headers: { authorization: "Bearer t" } });
    expect(await response.text()).toBe("ok");
    expect(server.requests[0]?.clientX5tS256).toBe(identityB.x5tS256);
    expect(server.requests[0]?.headers.authorization).toBe("Bearer t");
    await transport.close();
    await expect(fetch(`${server.origin}/`, { dispatcher })).rejects.toThrow();
  });

  it("presents no certificate without an identity", async () => {
    const transport = make();
    const response = await request(`${server.origin}/`, {
      dispatcher: transport.dispatcherFor(undefined, { ca: ca.certificatePem }),
    });
    await response.body.text();
    expect(server.requests[0]?.clientX5tS256).toBeUndefined();
  });

  it("is owned by the transport: closing it is a no-op, transport.close() ends it", async () => {
    const transport = make();
    const dispatcher = transport.dispatcherFor(identityA, { ca: ca.certificatePem });
    await dispatcher.close();
    await dispatcher.destroy();
    await (await request(`${server.origin}/`, { dispatcher })).body.text();
    await transport.close();
    await expect(request(`${server.origin}/`, { dispatcher })).rejects.toMatchObject({
      message: expect.stringContaining("closed"),
    });
  });

  it("follows the transport's proxy settings", async () => {
    const lookup = createLoopbackLookup();
    const transport = make({ proxy: { httpsProxy: proxy.url }, lookup });
    const dispatcher = transport.dispatcherFor(identityB, { ca: ca.certificatePem });
    await (await request(`https://api.example.test:${server.port}/`, { dispatcher })).body.text();
    await (await request(`${server.origin}/`, { dispatcher })).body.text();
    expect(proxy.tunnels.map((t) => t.authority)).toEqual([`api.example.test:${server.port}`]);
    expect(server.requests.map((r) => r.clientX5tS256)).toEqual([identityB.x5tS256, identityB.x5tS256]);
  });
});

describe("a dispatcher of yours", () => {
  function spy() {
    const inner = new Agent({ connect: { ca: ca.certificatePem, lookup: createLoopbackLookup() } });
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
    const transport = make({ dispatcher, lookup: createLoopbackLookup(), ca: ca.certificatePem });
    const url = `https://api.example.test:${server.port}/`;
    await transport.send({ method: "GET", url, headers: {}, proxy: "environment" });
    expect(origins).toHaveLength(1);
    // A client certificate, a per-request CA, proxy "never" or a loopback host: the transport's own pools.
    await transport.send(get(url, { proxy: "environment", clientIdentity: identityA }));
    await transport.send(get(url, { proxy: "environment" }));
    await transport.send({ method: "GET", url, headers: {} });
    await transport
      .send({ method: "GET", url: `${server.origin}/`, headers: {}, proxy: "environment" })
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
  it("sends credentials from the proxy URL as Proxy-Authorization, never in errors", async () => {
    const refusing = await startConnectProxy({ refuseWith: 407 });
    try {
      const transport = make({
        proxy: { httpsProxy: `http://user:p%40ss-w0rd@127.0.0.1:${refusing.port}` },
        lookup: createLoopbackLookup(),
      });
      const error = await failure(
        transport.send(get(`https://api.example.test:${server.port}/`, { proxy: "environment" })),
      );
      expect(error.code).toBe("network_error");
      expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain("w0rd");
      expect(refusing.tunnels[0]?.proxyAuthorization).toBe(
        `Basic ${Buffer.from("user:p@ss-w0rd").toString("base64")}`,
      );
    } finally {
      await refusing.close();
    }
  });

  it("sends pinned requests directly even when they allow a proxy", async () => {
    const transport = make({ proxy: { httpsProxy: proxy.url }, lookup: createLoopbackLookup() });
    const pin = server.certificate.certificate.fingerprint256;
    const response = await transport.send(
      get(`https://api.example.test:${server.port}/`, {
        proxy: "environment",
        pinnedServerThumbprint: pin,
        ca: undefined,
      }),
    );
    expect(response.status).toBe(200);
    expect(proxy.tunnels).toHaveLength(0);
  });

  it("keeps tunnelled and direct connections of one identity apart", async () => {
    const transport = make({ proxy: { httpsProxy: proxy.url }, lookup: createLoopbackLookup() });
    const url = `https://api.example.test:${server.port}/`;
    await transport.send(get(url, { proxy: "environment", clientIdentity: identityA }));
    await transport.send(get(url, { proxy: "never", clientIdentity: identityA }));
    await transport.send(get(url, { proxy: "environment", clientIdentity: identityA }));
    expect(proxy.tunnels).toHaveLength(1);
    const [viaProxy, direct, again] = server.requests;
    expect(direct?.connectionId).not.toBe(viaProxy?.connectionId);
    expect(again?.connectionId).toBe(viaProxy?.connectionId);
  });

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
