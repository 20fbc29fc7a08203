// The kit's socket-level parts against real TLS servers and a CONNECT proxy on 127.0.0.1.
import { connect, type TLSSocket } from "node:tls";
import {
  type ConnectProxy,
  type HttpsTestServer,
  startConnectProxy,
  startHttpsTestServer,
} from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "../../src/credential-kit/index";
import {
  matchesPin,
  normalizePin,
  openTunnel,
  PROXY_REFUSED,
  poolSecureContext,
  secureContextFor,
} from "../../src/transport-kit/index";

let ca: CertificateAuthority;
let client: IssuedCertificate;
let server: HttpsTestServer;
let proxy: ConnectProxy;

beforeAll(async () => {
  ca = createCertificateAuthority();
  client = ca.issue({ commonName: "client" });
  server = await startHttpsTestServer({ authority: ca, handler: (_req, res) => void res.end("ok") });
  proxy = await startConnectProxy();
});

afterAll(async () => {
  await Promise.all([server.close(), proxy.close()]);
});

/** Completes a TLS handshake with the test server using `secureContextFor(identity, cas)`. */
function handshake(identity: IssuedCertificate | undefined, cas: readonly string[]): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: server.port,
      servername: "localhost",
      secureContext: secureContextFor(identity, cas),
    });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("secureContextFor", () => {
  it("trusts the given CA on top of the system store and presents the identity's certificate", async () => {
    const socket = await handshake(client, [ca.certificatePem]);
    expect(socket.authorized).toBe(true);
    expect(socket.getCertificate()).toMatchObject({ fingerprint256: client.certificate.fingerprint256 });
    socket.destroy();
  });

  it("does not trust a private CA it was not given", async () => {
    await expect(handshake(undefined, [])).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|SIGNATURE/),
    });
  });
});

describe("poolSecureContext", () => {
  it("turns a key that does not belong to the certificate into tls_handshake_failed", () => {
    const other = ca.issue({ commonName: "other" });
    const mismatched = { ...client, privateKey: other.privateKey };
    expect(() => secureContextFor(mismatched, [])).toThrow();
    expect(() => poolSecureContext(mismatched, [], "@certbound/test-transport")).toThrow(
      expect.objectContaining({
        code: "tls_handshake_failed",
        message: expect.stringMatching(/^@certbound\/test-transport: the client certificate, its key/),
      }),
    );
    expect(() => poolSecureContext(client, [ca.certificatePem], "@certbound/test-transport")).not.toThrow();
  });
});

describe("matchesPin", () => {
  it("matches the certificate the server presented, by SHA-1 or SHA-256", async () => {
    const { fingerprint, fingerprint256 } = server.certificate.certificate;
    const cases: Array<[string, boolean]> = [
      [fingerprint256, true],
      [fingerprint, true],
      [client.certificate.fingerprint256, false],
      [client.certificate.fingerprint, false],
    ];
    for (const [thumbprint, matches] of cases) {
      // Node 20 hands out the peer certificate once per socket (a second call returns nothing),
      // so every check gets its own connection, as it does in a transport.
      const socket = await handshake(undefined, [ca.certificatePem]);
      expect(matchesPin(socket, normalizePin(thumbprint) as string)).toBe(matches);
      socket.destroy();
    }
  });
});

describe("openTunnel", () => {
  it("opens a CONNECT tunnel that carries TLS to the target", async () => {
    proxy.reset();
    const authority = `api.example.test:${server.port}`;
    const tunnel = await openTunnel(new URL(proxy.url), authority, { timeoutMs: 5000 });
    const tls = connect({ socket: tunnel, servername: "api.example.test", ca: ca.certificatePem });
    await new Promise<void>((resolve, reject) => {
      tls.once("secureConnect", resolve);
      tls.once("error", reject);
    });
    expect(tls.authorized).toBe(true);
    expect(proxy.tunnels.map((t) => [t.kind, t.authority])).toEqual([["connect", authority]]);
    tls.destroy();
  });

  it("sends proxy credentials as Basic auth and keeps them out of the refusal", async () => {
    const refusing = await startConnectProxy({ refuseWith: 407 });
    try {
      const error = await openTunnel(
        new URL(`http://user:p%40ss-w0rd@127.0.0.1:${refusing.port}`),
        "api.example.test:443",
        { timeoutMs: 5000 },
      ).then(
        () => undefined,
        (failure: unknown) => failure as Error & { code: string },
      );
      expect(error?.code).toBe(PROXY_REFUSED);
      expect(error?.message).toContain("407");
      expect(error?.message).not.toContain("w0rd");
      expect(refusing.tunnels[0]?.proxyAuthorization).toBe(
        `Basic ${Buffer.from("user:p@ss-w0rd").toString("base64")}`,
      );
    } finally {
      await refusing.close();
    }
  });

  it("is cancelled by its signal", async () => {
    const cancel = new AbortController();
    cancel.abort();
    await expect(
      openTunnel(new URL(proxy.url), "api.example.test:443", { timeoutMs: 5000, signal: cancel.signal }),
    ).rejects.toMatchObject({ name: "AbortError" });
  });
});
