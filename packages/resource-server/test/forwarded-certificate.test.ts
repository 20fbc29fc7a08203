// Behind a TLS-terminating proxy: the client certificate comes in a header, and counts only when the
// TCP peer is a proxy the app named. Real sockets: a plain node:http server on 127.0.0.1 plays the
// app behind the proxy; the test writes the headers a proxy (or an attacker) would.

import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { x5tS256 } from "@certbound/core/credential-kit";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  createNodeAuthenticator,
  type ForwardedCertificateOptions,
  type TokenValidationError,
} from "../src/index";
import { popToken, useBed, validatorFor } from "./testbed";

const bed = useBed();
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function behindProxy(forwarded: ForwardedCertificateOptions) {
  const rejected: TokenValidationError[] = [];
  const authenticate = createNodeAuthenticator({
    validator: validatorFor(bed, { forwardedCertificate: forwarded }),
    onRejected: (e) => rejected.push(e),
  });
  server = createServer(async (req, res) => {
    const token = await authenticate(req, res);
    if (token) res.end(token.certificateThumbprint);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { accessToken } = await popToken(bed);
  const call = async (headers: Record<string, string | string[]>) => {
    const response = await request(`${origin}/`, {
      headers: { authorization: `Bearer ${accessToken}`, ...headers },
    });
    return { status: response.statusCode, body: await response.body.text(), code: rejected.at(-1)?.code };
  };
  return call;
}

const der = (pem: string) => new X509Certificate(pem).raw;
const hex = (pem: string) => Buffer.from(x5tS256(der(pem)), "base64url").toString("hex");

describe("a forwarded client certificate", () => {
  it("envoy: x-forwarded-client-cert from a trusted proxy, the element the nearest proxy added", async () => {
    const call = await behindProxy({ format: "envoy", trustedProxies: ["127.0.0.1"] });
    const mine = `By=spiffe://api;Hash=${hex(bed.appCert.certificatePem)};Cert="${encodeURIComponent(bed.appCert.certificatePem)}";Subject="CN=calling app"`;
    const ok = await call({ "x-forwarded-client-cert": mine });
    expect(ok).toMatchObject({ status: 200, body: bed.appCert.x5tS256 });
    // Hash alone is enough.
    expect(
      (await call({ "x-forwarded-client-cert": `Hash=${hex(bed.appCert.certificatePem)}` })).status,
    ).toBe(200);
    // An element the client wrote first, then the proxy's own: only the proxy's counts.
    const spoofed = `Hash=${hex(bed.appCert.certificatePem)},Hash=${hex(bed.otherCert.certificatePem)}`;
    expect(await call({ "x-forwarded-client-cert": spoofed })).toMatchObject({
      status: 401,
      code: "certificate_mismatch",
    });
    // A Hash that disagrees with its Cert.
    const lying = `Hash=${hex(bed.otherCert.certificatePem)};Cert="${encodeURIComponent(bed.appCert.certificatePem)}"`;
    expect(await call({ "x-forwarded-client-cert": lying })).toMatchObject({
      status: 401,
      code: "untrusted_forwarded_certificate",
    });
    // No header from the proxy: no certificate (never the proxy's own connection).
    expect(await call({})).toMatchObject({ status: 401, code: "certificate_required" });
  });

  it("app-service: X-ARR-ClientCert as base64 DER; the header twice is refused", async () => {
    const call = await behindProxy({ format: "app-service", trustedProxies: ["::ffff:127.0.0.1"] });
    const value = der(bed.appCert.certificatePem).toString("base64");
    expect(await call({ "X-ARR-ClientCert": value })).toMatchObject({
      status: 200,
      body: bed.appCert.x5tS256,
    });
    expect(
      await call({ "X-ARR-ClientCert": der(bed.otherCert.certificatePem).toString("base64") }),
    ).toMatchObject({
      status: 401,
      code: "certificate_mismatch",
    });
    expect(await call({ "X-ARR-ClientCert": "bm90IGEgY2VydA==" })).toMatchObject({
      status: 401,
      code: "untrusted_forwarded_certificate",
    });
    // The client's copy next to the proxy's (Node joins them with ", "): refused, not guessed at.
    const twice = await call({
      "X-ARR-ClientCert": [value, der(bed.otherCert.certificatePem).toString("base64")],
    });
    expect(twice).toMatchObject({ status: 401, code: "untrusted_forwarded_certificate" });
  });

  it("nginx: $ssl_client_escaped_cert in the header the app names", async () => {
    const call = await behindProxy({
      format: "nginx",
      trustedProxies: ["127.0.0.1"],
      header: "X-Client-Cert",
    });
    const value = encodeURIComponent(bed.appCert.certificatePem);
    expect(await call({ "x-client-cert": value })).toMatchObject({ status: 200, body: bed.appCert.x5tS256 });
    expect(await call({ "x-client-cert": "%E0%A4%A" })).toMatchObject({
      status: 401,
      code: "untrusted_forwarded_certificate",
    });
  });

  it("is ignored when the TCP peer is not a trusted proxy: a client cannot claim a certificate it does not hold", async () => {
    const call = await behindProxy({ format: "envoy", trustedProxies: ["10.0.0.5"] });
    const claimed = `Hash=${hex(bed.appCert.certificatePem)}`;
    expect(await call({ "x-forwarded-client-cert": claimed })).toMatchObject({
      status: 401,
      code: "certificate_required",
    });
  });
});
