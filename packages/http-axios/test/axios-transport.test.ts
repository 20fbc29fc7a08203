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
import { type AxiosTransport, createAxiosTransport } from "@certbound/http-axios";
import axios from "axios";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let ca: CertificateAuthority;
let identityA: IssuedCertificate;
let identityB: IssuedCertificate;
let server: HttpsTestServer;
let proxy: ConnectProxy;
let transports: AxiosTransport[] = [];

beforeAll(async () => {
  ca = createCertificateAuthority();
  identityA = ca.issue({ commonName: "A" });
  identityB = ca.issue({ commonName: "B" });
  server = await startHttpsTestServer({
    authority: ca,
    handler: (req, res) => {
      if (req.url === "/redirect") res.writeHead(301, { location: "/elsewhere" }).end();
      else if (req.url === "/missing") res.writeHead(404).end("nope");
      else if (req.url === "/json") res.writeHead(200, { "content-type": "application/json" }).end('{"a":1}');
      else res.end("ok");
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

function make(options: Parameters<typeof createAxiosTransport>[0] = {}): AxiosTransport {
  const transport = createAxiosTransport({ clock: createTestClock({ autoAdvance: false }), ...options });
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

describe("createAxiosTransport options", () => {
  it.each([
    [{ maxResponseBytes: -5 }, "maxResponseBytes"],
    [{ maxIdentities: 0 }, "maxIdentities"],
    [{ idleTimeoutMs: 1.5 }, "idleTimeoutMs"],
    [{ ca: ["-----BEGIN CERTIFICATE-----", 7] }, "ca"],
    [{ axios: "axios" }, "axios"],
    [{ proxy: { httpProxy: "socks://proxy:1080" } }, "httpProxy"],
  ])("rejects %j naming %s", (options, name) => {
    expect(() => createAxiosTransport(options as never)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining(name) }),
    );
  });
});

describe("a ready axios instance", () => {
  it("keeps its interceptors, but not settings that would bypass the agents or break the contract", async () => {
    const instance = axios.create({
      adapter: "fetch",
      httpVersion: 2,
      params: { injected: "1" },
      maxRedirects: 5,
      validateStatus: (status) => status < 300,
      proxy: { protocol: "http", host: "127.0.0.1", port: proxy.port },
      responseType: "json",
      maxContentLength: 1,
    });
    const seen: string[] = [];
    instance.interceptors.request.use((config) => {
      seen.push(String(config.url));
      config.headers.set("x-from-interceptor", "yes");
      return config;
    });
    const transport = make({ axios: instance });
    const redirect = await transport.send(get(`${server.origin}/redirect`, { clientIdentity: identityA }));
    const missing = await transport.send(get(`${server.origin}/missing`));
    const json = await transport.send(get(`${server.origin}/json`));
    expect([redirect.status, redirect.headers.location]).toEqual([301, "/elsewhere"]);
    expect([missing.status, missing.body]).toEqual([404, "nope"]);
    expect(json.body).toBe('{"a":1}');
    expect(seen).toHaveLength(3);
    expect(server.requests.map((r) => r.path)).toEqual(["/redirect", "/missing", "/json"]);
    expect(server.requests[0]?.headers["x-from-interceptor"]).toBe("yes");
    expect(server.requests[0]?.clientX5tS256).toBe(identityA.x5tS256);
    expect(proxy.tunnels).toHaveLength(0);
  });

  it("accepts an axios config instead", async () => {
    const transport = make({ axios: { headers: { common: { "x-app": "demo" } } } });
    await transport.send(get(`${server.origin}/`));
    expect(server.requests[0]?.headers["x-app"]).toBe("demo");
  });
});

describe("per-identity agents", () => {
  it("retires the least recently used agent beyond maxIdentities", async () => {
    const transport = make({ maxIdentities: 1 });
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityA }));
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityB }));
    await server.waitForOpenConnections(1);
    await transport.send(get(`${server.origin}/`, { clientIdentity: identityA }));
    expect(server.connections).toBe(3);
    expect(server.requests.map((r) => r.clientX5tS256)).toEqual([
      identityA.x5tS256,
      identityB.x5tS256,
      identityA.x5tS256,
    ]);
  });

  it("fails with tls_handshake_failed when the key does not belong to the certificate", async () => {
    const transport = make();
    const broken = { ...identityA, privateKey: identityB.privateKey };
    await expect(transport.send(get(`${server.origin}/`, { clientIdentity: broken }))).rejects.toMatchObject({
      code: "tls_handshake_failed",
    });
  });

  it("rejects a malformed pin, and refuses requests after close()", async () => {
    const transport = make();
    await expect(
      transport.send(get(`${server.origin}/`, { pinnedServerThumbprint: "zz" })),
    ).rejects.toMatchObject({
      code: "tls_handshake_failed",
    });
    await transport.close();
    await expect(transport.send(get(`${server.origin}/`))).rejects.toMatchObject({ code: "network_error" });
  });

  it("keeps the query string out of error messages", async () => {
    const transport = make();
    const error = await failure(transport.send(get("https://127.0.0.1:1/token?client_id=0f4c-secret-id")));
    expect(error.code).toBe("network_error");
    expect(error.message).toContain("https://127.0.0.1:1/token");
    expect(error.message).not.toContain("0f4c-secret-id");
  });
});

describe("TLS verification", () => {
  it("ignores agentOptions that would loosen the host name check", async () => {
    const loosening = [{ checkServerIdentity: () => undefined }, { servername: "localhost" }];
    for (const agentOptions of loosening) {
      const transport = make({ agentOptions, lookup: createLoopbackLookup() });
      // The server's certificate names localhost, 127.0.0.1 and api.example.test, not this host.
      const error = await failure(transport.send(get(`https://wrong.example.test:${server.port}/`)));
      expect(error.code).toBe("tls_handshake_failed");
    }
    expect(server.requests).toEqual([]);
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
});
