// Resource side: validations per second of @certbound/resource-server's validator with a warm JWKS,
// next to jose's jwtVerify alone on the same token and the same warm remote JWKS (the floor: RS256
// signature, issuer, audience and time checks). The validator adds the Authorization parsing, the
// header pre-check, the tenant check and the cnf comparison with the SHA-256 of the connection's
// client certificate. Target: within 1.2x of jose alone.
// Run: `node --import tsx resource-server.ts` (in bench/, after a build). Prints Markdown.
import type { AddressInfo } from "node:net";
import { connect, createServer, type TLSSocket } from "node:tls";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { createTokenValidator } from "@certbound/resource-server";
import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { fetch as undiciFetch } from "undici";
import { measureInterleaved } from "./cache-hit.ts";

const TARGET = 1.2;
const PAIRS = 21;
const SLICE_MS = 150;

/** Calls per second of `op`, each awaited, over one slice. */
async function rate(op: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < SLICE_MS) {
    await op();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}
const AUDIENCE = "api://bench-resource-server";

const emu = await startEmulator();
const transport = createUndiciTransport({ ca: emu.caCertificatePem });
try {
  const ca = createCertificateAuthority({ commonName: "bench CA" });
  const cert = ca.issue({ commonName: "bench app" });
  emu.registerConfidentialClient({ clientId: "bench-app", certificatePem: cert.certificatePem });
  const app = createConfidentialClient({
    clientId: "bench-app",
    authority: `${emu.authorityHost}/${emu.tenantId}`,
    authorityHost: emu.authorityHost,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    ca: emu.caCertificatePem,
    certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
    transport,
    env: {},
  });
  const { accessToken } = await app.acquireTokenForClient({
    scopes: [`${AUDIENCE}/.default`],
    mtlsProofOfPossession: true,
  });
  app.close();

  const validator = createTokenValidator({
    tenants: [emu.tenantId],
    audiences: [AUDIENCE],
    authorityHost: emu.authorityHost,
    ca: emu.caCertificatePem,
  });
  // The server side of a real mutual-TLS connection on which `cert` was presented: the validator
  // reads the client certificate from it as it would in a server (once per connection).
  const serverCert = ca.issue({ commonName: "bench api", usage: "server", subjectAltNames: ["127.0.0.1"] });
  const tlsServer = createServer({
    cert: serverCert.certificatePem,
    key: serverCert.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  const accepted = new Promise<TLSSocket>((resolve) => tlsServer.once("secureConnection", resolve));
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  const client = connect({
    host: "127.0.0.1",
    port: (tlsServer.address() as AddressInfo).port,
    ca: ca.certificatePem,
    cert: cert.certificatePem,
    key: cert.keyPem,
  });
  const socket = await accepted;
  const input = { authorization: `Bearer ${accessToken}`, socket };

  const jwks = createRemoteJWKSet(new URL(`${emu.authorityHost}/${emu.tenantId}/discovery/v2.0/keys`), {
    [customFetch]: (url, init) =>
      undiciFetch(url, { ...init, dispatcher: transport.dispatcherFor() } as never) as never,
  });
  const joseOptions = {
    algorithms: ["RS256"],
    issuer: `${emu.authorityHost}/${emu.tenantId}/v2.0`,
    audience: AUDIENCE,
  };
  // Warm both key caches (one JWKS fetch each) before measuring.
  const first = await validator.validate(input);
  if (first.tokenType !== "mtls_pop") throw new Error("the bench token was not accepted as mtls_pop");
  await jwtVerify(accessToken, jwks, joseOptions);

  const ops = {
    "jose jwtVerify alone": () => jwtVerify(accessToken, jwks, joseOptions),
    "certbound validator (mtls_pop)": () => validator.validate(input),
  };
  const stats = await measureInterleaved(ops);
  // On a shared machine one slow round moves a ratio of medians a lot: pair short slices instead
  // (jose, then the validator, then the other way round) and take the median of the pairs' ratios.
  const pairRatios: number[] = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    const first = pair % 2 === 0;
    const a = await rate(first ? ops["jose jwtVerify alone"] : ops["certbound validator (mtls_pop)"]);
    const b = await rate(first ? ops["certbound validator (mtls_pop)"] : ops["jose jwtVerify alone"]);
    pairRatios.push(first ? a / b : b / a);
  }
  pairRatios.sort((x, y) => x - y);
  const ratio = pairRatios[Math.floor(PAIRS / 2)] as number;
  console.log("| operation | validations/s | p50 µs | p99 µs |");
  console.log("|---|---:|---:|---:|");
  for (const [name, s] of Object.entries(stats)) {
    console.log(
      `| ${name} | ${Math.round(s.opsPerSecond)} | ${s.p50Us.toFixed(1)} | ${s.p99Us.toFixed(1)} |`,
    );
  }
  console.log(
    `\nratio jose / validator, median of ${PAIRS} paired ${SLICE_MS} ms slices: ${ratio.toFixed(3)}x (target within ${TARGET}x: ${ratio <= TARGET ? "met" : "MISSED"}); p50 ratio ${(
      stats["certbound validator (mtls_pop)"].p50Us / stats["jose jwtVerify alone"].p50Us
    ).toFixed(3)}x; JWKS requests: ${emu.stats().requests.jwks}`,
  );
  process.exitCode = ratio <= TARGET ? 0 : 1;
  client.destroy();
  tlsServer.close();
} finally {
  await transport.close();
  await emu.close();
}
