import { type AxiosTransport, createAxiosTransport } from "@certbound/http-axios";
import { createLoopbackLookup, createTestClock, useTransportTestbed } from "@certbound/testing";
import axios from "axios";
import { describe, expect, it } from "vitest";

const bed = useTransportTestbed({
  handler: (req, res) => {
    if (req.url === "/redirect") res.writeHead(301, { location: "/elsewhere" }).end();
    else if (req.url === "/missing") res.writeHead(404).end("nope");
    else if (req.url === "/json") res.writeHead(200, { "content-type": "application/json" }).end('{"a":1}');
    else res.end("ok");
  },
});
const { get, rejection: failure } = bed;

function make(options: Parameters<typeof createAxiosTransport>[0] = {}): AxiosTransport {
  return bed.track(createAxiosTransport({ clock: createTestClock({ autoAdvance: false }), ...options }));
}

describe("createAxiosTransport options", () => {
  it.each([
    [{ maxResponseBytes: -5 }, "maxResponseBytes"],
    [{ maxIdentities: 0 }, "maxIdentities"],
    [{ idleTimeoutMs: 1.5 }, "idleTimeoutMs"],
    [{ ca: ["-----BEGIN CERTIFICATE-----", 7] }, "ca"],
    [{ axios: "axios" }, "axios"],
    [{ proxy: { httpProxy: "socks://proxy:1080" } }, "httpProxy"],
    // Misspelt keys are refused with the closest known one, not ignored.
    [
      { idleTimeout: 5 },
      "Unknown option `idleTimeout` in createAxiosTransport options; did you mean `idleTimeoutMs`?",
    ],
    [{ CA: "-----BEGIN CERTIFICATE-----" }, "did you mean `ca`?"],
  ])("rejects %j naming %s", (options, name) => {
    expect(() => createAxiosTransport(options as never)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining(name) }),
    );
  });
});

describe("timer options", () => {
  // Node turns a timer above 2^31-1 ms into a 1 ms one: `1e10` as "no timeout" would time out at once.
  it.each(["connectTimeoutMs", "idleTimeoutMs"])("refuses %s past 2^31-1 ms", (name) => {
    expect(() => createAxiosTransport({ [name]: 1e10 })).toThrow(
      expect.objectContaining({
        code: "invalid_options",
        message: expect.stringContaining(`\`${name}\` must be at most 2147483647 ms`),
      }),
    );
  });

  it("refuses socket durations in agentOptions past 2^31-1 ms", () => {
    expect(() => createAxiosTransport({ agentOptions: { timeout: 1e10 } })).toThrow(
      /`agentOptions.timeout` must be at most 2147483647 ms/,
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
      proxy: { protocol: "http", host: "127.0.0.1", port: bed.proxy.port },
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
    const redirect = await transport.send(
      get(`${bed.server.origin}/redirect`, { clientIdentity: bed.identityA }),
    );
    const missing = await transport.send(get(`${bed.server.origin}/missing`));
    const json = await transport.send(get(`${bed.server.origin}/json`));
    expect([redirect.status, redirect.headers.location]).toEqual([301, "/elsewhere"]);
    expect([missing.status, missing.body]).toEqual([404, "nope"]);
    expect(json.body).toBe('{"a":1}');
    expect(seen).toHaveLength(3);
    expect(bed.server.requests.map((r) => r.path)).toEqual(["/redirect", "/missing", "/json"]);
    expect(bed.server.requests[0]?.headers["x-from-interceptor"]).toBe("yes");
    expect(bed.server.requests[0]?.clientX5tS256).toBe(bed.identityA.x5tS256);
    expect(bed.proxy.tunnels).toHaveLength(0);
  });

  it("accepts an axios config instead", async () => {
    const transport = make({ axios: { headers: { common: { "x-app": "demo" } } } });
    await transport.send(get(`${bed.server.origin}/`));
    expect(bed.server.requests[0]?.headers["x-app"]).toBe("demo");
  });
});

describe("TLS verification", () => {
  it("ignores agentOptions that would loosen the host name check", async () => {
    const loosening = [{ checkServerIdentity: () => undefined }, { servername: "localhost" }];
    for (const agentOptions of loosening) {
      const transport = make({ agentOptions, lookup: createLoopbackLookup() });
      // The server's certificate names localhost, 127.0.0.1 and api.example.test, not this host.
      const error = await failure(transport.send(get(`https://wrong.example.test:${bed.server.port}/`)));
      expect(error.code).toBe("tls_handshake_failed");
    }
    expect(bed.server.requests).toEqual([]);
  });
});
