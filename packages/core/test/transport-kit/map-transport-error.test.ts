import { describe, expect, it } from "vitest";
import { CertboundError } from "../../src/index";
import {
  describeTransportFailure,
  mapTransportError,
  PIN_MISMATCH,
  PROXY_REFUSED,
  responseTooLarge,
  transportClosed,
  unusableTlsMaterial,
} from "../../src/transport-kit/index";

const context = { endpoint: "https://api.example.test/x", withCertificate: false };
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("mapTransportError", () => {
  it.each([
    [coded("ETIMEDOUT"), "timeout"],
    [coded("ECONNREFUSED"), "network_error"],
    [coded("ECONNRESET", "socket hang up"), "network_error"],
    [coded("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), "tls_handshake_failed"],
    [coded("ERR_OSSL_EVP_BAD_DECRYPT"), "tls_handshake_failed"],
    [coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "tls_handshake_failed"],
    [coded("DEPTH_ZERO_SELF_SIGNED_CERT"), "tls_handshake_failed"],
    [coded("ERR_TLS_CERT_ALTNAME_INVALID"), "tls_handshake_failed"],
    [
      new Error("Client network socket disconnected before secure TLS connection was established"),
      "tls_handshake_failed",
    ],
    [coded(PIN_MISMATCH), "tls_handshake_failed"],
    [coded(PROXY_REFUSED, "The proxy answered 403"), "network_error"],
    ["not even an error", "network_error"],
    [undefined, "network_error"],
  ])("%s -> %s", (error, code) => {
    expect(mapTransportError(error, context).code).toBe(code);
  });

  it("names the endpoint and says what to check, per kind of failure", () => {
    expect(mapTransportError(coded(PIN_MISMATCH), context).message).toMatch(
      /certificate of https:\/\/api\.example\.test\/x does not match pinnedServerThumbprint/,
    );
    expect(mapTransportError(coded("CERT_HAS_EXPIRED"), context).message).toMatch(/pass its CA in `ca`/);
    expect(mapTransportError(coded(PROXY_REFUSED, "The proxy answered 407"), context).message).toMatch(
      /proxy refused the tunnel .*407.*NO_PROXY/,
    );
    expect(mapTransportError(coded("ECONNREFUSED", "connect refused"), context).message).toBe(
      "The request to https://api.example.test/x failed (ECONNREFUSED: connect refused). Check the URL, the network path and any proxy.",
    );
  });

  it("finds a TLS code in a cause or among Happy Eyeballs' aggregated errors", () => {
    const tls = coded("CERT_HAS_EXPIRED", "bad cert");
    expect(mapTransportError(new Error("wrapped", { cause: tls }), context).code).toBe(
      "tls_handshake_failed",
    );
    expect(mapTransportError(new AggregateError([coded("ECONNREFUSED"), tls]), context).code).toBe(
      "tls_handshake_failed",
    );
    const deep = [1, 2, 3, 4, 5, 6].reduce<Error>((inner) => new Error("wrap", { cause: inner }), tls);
    expect(mapTransportError(deep, context).code).toBe("network_error");
  });

  it("treats the client's own timeout codes as timeouts", () => {
    const own = coded("CLIENT_TIMEOUT");
    expect(mapTransportError(own, context).code).toBe("network_error");
    expect(mapTransportError(own, { ...context, timeoutCodes: ["CLIENT_TIMEOUT"] }).code).toBe("timeout");
    expect(mapTransportError(new Error("no code"), { ...context, timeoutCodes: [""] }).code).toBe(
      "network_error",
    );
  });

  it("passes certbound errors through untouched", () => {
    const own = new CertboundError("aborted", "stop");
    expect(mapTransportError(own, context)).toBe(own);
  });

  it("hints at a rejected client certificate only when one was presented and the server hung up", () => {
    const hangUp = coded("ECONNRESET", "socket hang up");
    expect(mapTransportError(hangUp, { ...context, withCertificate: true }).message).toMatch(
      /client certificate/,
    );
    expect(mapTransportError(hangUp, context).message).not.toMatch(/client certificate/);
    const midBody = coded("ECONNRESET", "aborted");
    expect(mapTransportError(midBody, { ...context, withCertificate: true }).message).not.toMatch(
      /client certificate/,
    );
    const custom = { ...context, withCertificate: true, closedBeforeAnswer: () => true };
    expect(mapTransportError(midBody, custom).message).toMatch(/client certificate/);
  });

  it("attaches the error as cause, or what redact() returns", () => {
    const error = Object.assign(coded("ECONNREFUSED"), {
      config: { headers: { authorization: "Bearer secret" } },
    });
    expect(mapTransportError(error, context).cause).toBe(error);
    const bare = new Error("bare");
    const redacted = mapTransportError(error, { ...context, redact: () => bare });
    expect(redacted.cause).toBe(bare);
  });
});

describe("describeTransportFailure", () => {
  it("prefers a nested TLS code over the outer code", () => {
    const outer = Object.assign(new Error("fetch failed", { cause: coded("CERT_HAS_EXPIRED") }), {
      code: "OUTER",
    });
    expect(describeTransportFailure(outer)).toEqual({ code: "CERT_HAS_EXPIRED", message: "fetch failed" });
    expect(describeTransportFailure(coded("A"))).toEqual({ code: "A", message: "A" });
    expect(describeTransportFailure(42)).toEqual({ code: "", message: "42" });
  });
});

describe("transport error factories", () => {
  it("name the package and give the contract's codes", () => {
    expect(transportClosed("@certbound/test-transport")).toMatchObject({
      code: "network_error",
      message: "@certbound/test-transport: the transport is closed. Create a new one.",
    });
    const cause = new Error("key values mismatch");
    expect(unusableTlsMaterial("@certbound/test-transport", cause)).toMatchObject({
      code: "tls_handshake_failed",
      cause,
      message: expect.stringMatching(/^@certbound\/test-transport: .*\(key values mismatch\)/),
    });
    const tooLarge = responseTooLarge("https://api.example.test/x", 10);
    expect(tooLarge).toMatchObject({
      code: "response_too_large",
      message: expect.stringContaining("maxResponseBytes (10 bytes)"),
    });
    expect(tooLarge.cause).toBeUndefined();
    expect(responseTooLarge("https://api.example.test/x", 10, cause).cause).toBe(cause);
  });
});
