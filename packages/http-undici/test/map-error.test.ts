import { CertboundError } from "@certbound/core";
import { errors } from "undici";
import { describe, expect, it } from "vitest";
import { mapError } from "../src/map-error";

const context = { endpoint: "https://api.example.test/x", withCertificate: false, answered: false };

describe("mapError", () => {
  it.each([
    [new errors.HeadersTimeoutError(), "timeout"],
    [new errors.BodyTimeoutError(), "timeout"],
    [new errors.ConnectTimeoutError(), "timeout"],
    [Object.assign(new Error("x"), { code: "ETIMEDOUT" }), "timeout"],
    [new errors.SocketError("other side closed"), "network_error"],
    [Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), "network_error"],
    [
      Object.assign(new Error("alert"), { code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" }),
      "tls_handshake_failed",
    ],
    [
      Object.assign(new Error("untrusted"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }),
      "tls_handshake_failed",
    ],
    [Object.assign(new Error("name"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }), "tls_handshake_failed"],
    [
      new Error("Client network socket disconnected before secure TLS connection was established"),
      "tls_handshake_failed",
    ],
    [new errors.RequestAbortedError(), "network_error"],
    ["not even an error", "network_error"],
  ])("%s -> %s", (error, code) => {
    expect(mapError(error, context).code).toBe(code);
  });

  it("finds a TLS code in a cause or among Happy Eyeballs' aggregated errors", () => {
    const tls = Object.assign(new Error("bad cert"), { code: "CERT_HAS_EXPIRED" });
    expect(mapError(new Error("wrapped", { cause: tls }), context).code).toBe("tls_handshake_failed");
    expect(mapError(new AggregateError([new Error("a"), tls]), context).code).toBe("tls_handshake_failed");
  });

  it("passes certbound errors through untouched", () => {
    const own = new CertboundError("response_too_large", "too big");
    expect(mapError(own, context)).toBe(own);
  });

  it("says a certificate may have been rejected when a server hangs up on a client certificate", () => {
    const closed = new errors.SocketError("other side closed");
    expect(mapError(closed, { ...context, withCertificate: true }).message).toMatch(/client certificate/);
    expect(mapError(closed, { ...context, withCertificate: true, answered: true }).message).not.toMatch(
      /client certificate/,
    );
    expect(mapError(closed, context).message).not.toMatch(/client certificate/);
  });
});
