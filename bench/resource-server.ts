// Resource side: validations per second of @certbound/resource-server's validator with a warm JWKS,
// next to jose's jwtVerify alone on the same token and the same warm remote JWKS (the floor: RS256
// signature, issuer, audience and time checks). The validator adds the Authorization parsing, the
// header pre-check, the tenant check and the cnf comparison with the SHA-256 of the connection's
// client certificate. Target: within 1.2x of jose alone.
// Run: `node --import tsx resource-server.ts` (in bench/, after a build). Prints Markdown.
import { X509Certificate } from "node:crypto";
import { createCertificateAuthority } from "@certbound/core";
import { createConfidentialClient } from "@certbound/credential-cert";
import { startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { createTokenValidator } from "@certbound/resource-server";
import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { fetch as undiciFetch } from "undici";
import { measureInterleaved } from "./cache-hit.ts";

const TARGET = 1.2;
const AUDIENCE = "api://bench-resource-server";

const emu = await startEmulator();
const transport = createUndiciTransport({ ca: emu.caCertificatePem });
try {
  const cert = createCertificateAuthority({ commonName: "bench CA" }).issue({ commonName: "bench app" });
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
  // What a TLS socket of a connection that presented `cert` answers (the bench measures the
  // validator, not the handshake).
  const raw = new X509Certificate(cert.certificatePem).raw;
  const socket = { encrypted: true, getPeerCertificate: () => ({ raw }) } as never;
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
  const accepted = await validator.validate(input);
  if (accepted.tokenType !== "mtls_pop") throw new Error("the bench token was not accepted as mtls_pop");
  await jwtVerify(accessToken, jwks, joseOptions);

  const stats = await measureInterleaved({
    "jose jwtVerify alone": () => jwtVerify(accessToken, jwks, joseOptions),
    "certbound validator (mtls_pop)": () => validator.validate(input),
  });
  const jose = stats["jose jwtVerify alone"];
  const ours = stats["certbound validator (mtls_pop)"];
  const ratio = jose.opsPerSecond / ours.opsPerSecond;
  console.log("| operation | validations/s | p50 µs | p99 µs |");
  console.log("|---|---:|---:|---:|");
  for (const [name, s] of Object.entries(stats)) {
    console.log(
      `| ${name} | ${Math.round(s.opsPerSecond)} | ${s.p50Us.toFixed(1)} | ${s.p99Us.toFixed(1)} |`,
    );
  }
  console.log(
    `\nratio jose / validator: ${ratio.toFixed(3)}x (target within ${TARGET}x: ${ratio <= TARGET ? "met" : "MISSED"}); JWKS requests: ${emu.stats().requests.jwks}`,
  );
  process.exitCode = ratio <= TARGET ? 0 : 1;
} finally {
  await transport.close();
  await emu.close();
}
