import { CertboundError } from "@certbound/core";
import { AxiosError } from "axios";
import { describe, expect, it } from "vitest";
import { mapError } from "../src/map-error";

const context = { endpoint: "https://api.example.test/x", withCertificate: false, maxResponseBytes: 10 };
const nodeError = (code: string, message = code) => Object.assign(new Error(message), { code });
const fromNode = (error: Error) =>
  AxiosError.from(error, undefined, { headers: { authorization: "Bearer top-secret" } } as never);

describe("mapError", () => {
  it.each([
    [new AxiosError("maxContentLength size of 10 exceeded", "ERR_BAD_RESPONSE"), "response_too_large"],
    [new AxiosError("stream has been aborted", "ERR_BAD_RESPONSE"), "network_error"],
    [new AxiosError("timeout of 5ms exceeded", "ECONNABORTED"), "timeout"],
    [fromNode(nodeError("ETIMEDOUT")), "timeout"],
    [fromNode(nodeError("ECONNREFUSED")), "network_error"],
    [fromNode(nodeError("ECONNRESET", "socket hang up")), "network_error"],
    [fromNode(nodeError("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED")), "tls_handshake_failed"],
    [fromNode(nodeError("DEPTH_ZERO_SELF_SIGNED_CERT")), "tls_handshake_failed"],
    [fromNode(nodeError("ERR_CERTBOUND_PIN_MISMATCH")), "tls_handshake_failed"],
    [fromNode(nodeError("ERR_CERTBOUND_PROXY_REFUSED", "The proxy answered 403")), "network_error"],
  ])("%s -> %s", (error, code) => {
    expect(mapError(error, context).code).toBe(code);
  });

  it("never attaches an AxiosError (it carries the request config and headers)", () => {
    const mapped = mapError(fromNode(nodeError("ECONNREFUSED")), context);
    expect(mapped.cause).toBeInstanceOf(Error);
    expect(mapped.cause).not.toBeInstanceOf(AxiosError);
    const bare = mapError(
      new AxiosError("boom", "ERR_BAD_RESPONSE", {
        headers: { authorization: "Bearer top-secret" },
      } as never),
      context,
    );
    expect(bare.cause).not.toBeInstanceOf(AxiosError);
    expect(JSON.stringify(bare.cause, Object.getOwnPropertyNames(bare.cause))).not.toContain("top-secret");
  });

  it("passes certbound errors through untouched", () => {
    const own = new CertboundError("aborted", "stop");
    expect(mapError(own, context)).toBe(own);
  });

  it("hints at a rejected client certificate only for a hang-up before any answer", () => {
    const hangUp = fromNode(nodeError("ECONNRESET", "socket hang up"));
    expect(mapError(hangUp, { ...context, withCertificate: true }).message).toMatch(/client certificate/);
    expect(mapError(hangUp, context).message).not.toMatch(/client certificate/);
    const midBody = fromNode(nodeError("ECONNRESET", "aborted"));
    expect(mapError(midBody, { ...context, withCertificate: true }).message).not.toMatch(
      /client certificate/,
    );
  });
});
