import { describe, expect, it } from "vitest";
import {
  isAlwaysDirect,
  proxyEnvironmentFromProcess,
  proxyFor,
  proxyRoutes,
  resolveProxyOption,
} from "../../src/transport-kit/index";

const PKG = "@certbound/test-transport";

// Link-local destinations cannot be reached from a test, so the conformance suite checks the
// loopback bypass end to end and this file checks the predicate every route goes through.
describe("isAlwaysDirect", () => {
  it.each([
    "169.254.169.254",
    "169.254.0.1",
    "169.254.255.255",
    "127.0.0.1",
    "127.255.1.2",
    "localhost",
    "LOCALHOST.",
    "imds.localhost",
    "[::1]",
    "::1",
    "[::ffff:a9fe:a9fe]",
    "[::ffff:7f00:1]",
    "[fe80::1]",
    "0.0.0.0",
  ])("%s is never proxied", (host) => {
    expect(isAlwaysDirect(host)).toBe(true);
  });

  it.each([
    "169.255.0.1",
    "169.253.255.255",
    "128.0.0.1",
    "10.0.0.1",
    "example.com",
    "localhost.example.com",
    "[2001:db8::1]",
  ])("%s may be proxied", (host) => {
    expect(isAlwaysDirect(host)).toBe(false);
  });

  it("sees through the URL parser's normal forms of IPv4 (numeric, hex)", () => {
    for (const url of ["http://2852039166/", "http://0xa9.0xfe.0xa9.0xfe/", "http://169.254.43518/"]) {
      expect(isAlwaysDirect(new URL(url).hostname)).toBe(true);
    }
  });
});

describe("proxyFor", () => {
  const routes = proxyRoutes(
    { httpsProxy: "http://proxy.corp:3128", httpProxy: "http://plain.corp:8080" },
    PKG,
  );

  it("routes https and http to their proxies", () => {
    expect(proxyFor(new URL("https://login.microsoftonline.com/x"), routes)?.host).toBe("proxy.corp:3128");
    expect(proxyFor(new URL("http://example.com/"), routes)?.host).toBe("plain.corp:8080");
  });

  it("never routes IMDS or loopback, whatever the settings", () => {
    const everything = proxyRoutes({ httpsProxy: "http://p:1", httpProxy: "http://p:1", noProxy: "" }, PKG);
    for (const url of [
      "http://169.254.169.254/metadata/identity/oauth2/token",
      "https://169.254.169.254/",
      "http://127.0.0.1:40342/",
      "http://localhost:8080/",
      "http://[::1]/",
    ]) {
      expect(proxyFor(new URL(url), everything)).toBeUndefined();
    }
  });

  it("falls back to HTTP_PROXY for https when HTTPS_PROXY is unset", () => {
    const onlyHttp = proxyRoutes({ httpProxy: "http://plain.corp:8080" }, PKG);
    expect(proxyFor(new URL("https://example.com/"), onlyHttp)?.host).toBe("plain.corp:8080");
    const onlyHttps = proxyRoutes({ httpsProxy: "http://proxy.corp:3128" }, PKG);
    expect(proxyFor(new URL("http://example.com/"), onlyHttps)).toBeUndefined();
  });

  it.each([
    ["*", "https://anything.example/", true],
    ["example.com", "https://example.com/", true],
    ["example.com", "https://api.example.com/", true],
    ["example.com", "https://notexample.com/", false],
    [".example.com", "https://api.example.com/", true],
    ["*.example.com", "https://example.com/", true],
    ["example.com:8443", "https://example.com:8443/", true],
    ["example.com:8443", "https://example.com/", false],
    ["10.0.0.0/8", "https://10.1.2.3/", true],
    ["10.0.0.0/8", "https://11.1.2.3/", false],
    ["[2001:db8::]/32", "https://[2001:db8::5]/", true],
    ["2001:db8::5", "https://[2001:db8::5]/", true],
    ["a.test, b.test  c.test", "https://c.test/", true],
    ["EXAMPLE.COM", "https://example.com/", true],
  ])("NO_PROXY=%s, %s bypasses: %s", (noProxy, url, bypassed) => {
    const withNoProxy = proxyRoutes({ httpsProxy: "http://proxy.corp:3128", noProxy }, PKG);
    expect(proxyFor(new URL(url), withNoProxy) === undefined).toBe(bypassed);
  });

  it("accepts host:port without a scheme, and rejects what is not an http(s) proxy", () => {
    expect(proxyRoutes({ httpsProxy: "proxy.corp:3128" }, PKG).httpsProxy?.href).toBe(
      "http://proxy.corp:3128/",
    );
    expect(() => proxyRoutes({ httpsProxy: "socks5://proxy:1080" }, PKG)).toThrow(
      expect.objectContaining({
        code: "invalid_options",
        message: expect.stringMatching(/^@certbound\/test-transport: .*httpsProxy/),
      }),
    );
    expect(() => proxyRoutes({ httpProxy: "http://[bad" }, PKG)).toThrow(
      expect.objectContaining({ code: "invalid_options" }),
    );
  });
});

describe("proxyEnvironmentFromProcess", () => {
  it("prefers the lower-case variables, like curl and undici", () => {
    expect(
      proxyEnvironmentFromProcess({
        https_proxy: "http://lower:1",
        HTTPS_PROXY: "http://upper:1",
        HTTP_PROXY: "http://upper:2",
        NO_PROXY: "x.test",
      }),
    ).toEqual({ httpsProxy: "http://lower:1", httpProxy: "http://upper:2", noProxy: "x.test" });
  });
});

describe("resolveProxyOption", () => {
  it("means no proxy for false or nothing, and validates an explicit environment", () => {
    expect(resolveProxyOption(undefined, PKG)).toBeUndefined();
    expect(resolveProxyOption(false, PKG)).toBeUndefined();
    expect(resolveProxyOption({ httpsProxy: "proxy.corp:3128" }, PKG)?.httpsProxy?.host).toBe(
      "proxy.corp:3128",
    );
    expect(() => resolveProxyOption({ httpProxy: "ftp://proxy" }, PKG)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining(PKG) }),
    );
  });

  it("reads the process environment for true", () => {
    const saved = { https_proxy: process.env.https_proxy, HTTPS_PROXY: process.env.HTTPS_PROXY };
    try {
      delete process.env.https_proxy;
      process.env.HTTPS_PROXY = "http://from-env.test:3128";
      expect(resolveProxyOption(true, PKG)?.httpsProxy?.host).toBe("from-env.test:3128");
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
