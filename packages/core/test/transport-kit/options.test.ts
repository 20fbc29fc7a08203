import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../../src/credential-kit/index";
import { systemClock } from "../../src/index";
import {
  assertIntegerOption,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_IDENTITIES,
  DEFAULT_MAX_RESPONSE_BYTES,
  resolveTransportOptions,
  validateTransportOptions,
} from "../../src/transport-kit/index";

const names = { packageName: "@certbound/test-transport", factoryName: "createTestTransport" };
const invalid = (fragment: string) =>
  expect.objectContaining({
    code: "invalid_options",
    message: expect.stringMatching(new RegExp(`^@certbound/test-transport: .*${fragment}`)),
  });

describe("validateTransportOptions", () => {
  it("accepts nothing set, and every common option set well", () => {
    expect(() => validateTransportOptions({}, names)).not.toThrow();
    expect(() =>
      validateTransportOptions(
        {
          ca: ["-----BEGIN CERTIFICATE-----\n...", "-----BEGIN CERTIFICATE-----\n..."],
          connectTimeoutMs: 1,
          maxResponseBytes: 10,
          maxIdentities: 1,
          proxy: { httpsProxy: "http://proxy:3128" },
          lookup: () => {},
        },
        names,
      ),
    ).not.toThrow();
  });

  it.each([
    [null, "createTestTransport takes one options object"],
    ["fast", "createTestTransport takes one options object"],
    [{ maxResponseBytes: 0 }, "maxResponseBytes"],
    [{ maxIdentities: 1.5 }, "maxIdentities"],
    [{ connectTimeoutMs: -1 }, "connectTimeoutMs"],
    [{ connectTimeoutMs: Number.NaN }, "connectTimeoutMs"],
    [{ ca: "not a pem" }, "`ca`"],
    [{ ca: ["-----BEGIN CERTIFICATE-----", 7] }, "`ca`"],
    [{ ca: 42 }, "`ca`"],
    [{ lookup: "8.8.8.8" }, "`lookup`"],
    [{ proxy: "http://proxy:3128" }, "`proxy`"],
  ])("rejects %j naming %s", (options, fragment) => {
    expect(() => validateTransportOptions(options as never, names)).toThrow(invalid(fragment));
  });
});

describe("assertIntegerOption", () => {
  it("accepts absent values and integers from the minimum up", () => {
    expect(() => assertIntegerOption(names.packageName, "n", undefined)).not.toThrow();
    expect(() => assertIntegerOption(names.packageName, "n", 1)).not.toThrow();
    expect(() => assertIntegerOption(names.packageName, "n", 0, 0)).not.toThrow();
  });

  it("says positive or non-negative, and shows the bad value", () => {
    expect(() => assertIntegerOption(names.packageName, "retries", 0)).toThrow(
      invalid("`retries` must be a positive integer, got 0"),
    );
    expect(() => assertIntegerOption(names.packageName, "idleMs", -1, 0)).toThrow(
      invalid("`idleMs` must be a non-negative integer, got -1"),
    );
  });
});

describe("resolveTransportOptions", () => {
  it("applies the documented defaults", () => {
    expect(resolveTransportOptions({}, names.packageName)).toEqual({
      clock: systemClock,
      maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      maxIdentities: DEFAULT_MAX_IDENTITIES,
      lookup: undefined,
      cas: [],
      proxies: undefined,
      proxySecureContext: undefined,
    });
    expect([DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_IDENTITIES]).toEqual([10_000, 16]);
  });

  it("keeps what was given, and parses the proxy settings once", () => {
    const clock = createTestClock();
    const lookup = () => {};
    const resolved = resolveTransportOptions(
      {
        clock,
        lookup,
        maxResponseBytes: 5,
        connectTimeoutMs: 7,
        maxIdentities: 2,
        ca: "-----BEGIN CERTIFICATE-----",
        proxy: { httpsProxy: "proxy.corp:3128" },
      },
      names.packageName,
    );
    expect(resolved).toMatchObject({
      clock,
      lookup,
      maxResponseBytes: 5,
      connectTimeoutMs: 7,
      maxIdentities: 2,
    });
    expect(resolved.cas).toEqual(["-----BEGIN CERTIFICATE-----"]);
    expect(resolved.proxies?.httpsProxy?.href).toBe("http://proxy.corp:3128/");
    expect(() =>
      resolveTransportOptions({ proxy: { httpsProxy: "socks5://proxy:1080" } }, names.packageName),
    ).toThrow(invalid("httpsProxy"));
  });

  it("builds a TLS context for an https:// proxy only when there are CAs to add and a proxy to trust", () => {
    const ca = createCertificateAuthority().certificatePem;
    const proxy = { httpsProxy: "https://proxy.corp:3128" };
    expect(resolveTransportOptions({ ca, proxy }, names.packageName).proxySecureContext).toBeDefined();
    expect(resolveTransportOptions({ proxy }, names.packageName).proxySecureContext).toBeUndefined();
    expect(resolveTransportOptions({ ca }, names.packageName).proxySecureContext).toBeUndefined();
  });
});
