// Shared parts of the resource-server tests: the emulator (Entra: tokens, discovery, JWKS) on the
// injected test clock, a CA for the API's server certificate and the apps' client certificates,
// confidential clients that get PoP tokens from the emulator, and mutual-TLS servers on 127.0.0.1.

import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import type { RequestListener } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TokenResult } from "@certbound/core";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport, type UndiciTransport } from "@certbound/http-undici";
import { createTestClock, type TestClock } from "@certbound/testing";
import { afterAll, beforeAll } from "vitest";
import { createTokenValidator, type TokenValidator, type TokenValidatorOptions } from "../src/index";

export const AUDIENCE = "api://certbound-resource-server-test";
export const SCOPE = `${AUDIENCE}/.default`;

export interface Bed {
  clock: TestClock;
  emu: Emulator;
  /** The emulator's token-signing key: tests forge tokens the issuer "really" signed. */
  signingKey: KeyObject;
  /** Issues the API's server certificate and the apps' client certificates. */
  ca: ReturnType<typeof createCertificateAuthority>;
  serverCert: IssuedCertificate;
  appCert: IssuedCertificate;
  otherCert: IssuedCertificate;
  transport: UndiciTransport;
  app: ReturnType<typeof createConfidentialClient>;
}

/** Starts the emulator and the rest once per test file. Read the fields inside tests or hooks. */
export function useBed(): Bed {
  const bed = {} as Bed;
  beforeAll(async () => {
    bed.clock = createTestClock({ now: Date.now() });
    bed.signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    bed.emu = await startEmulator({ now: () => bed.clock.now(), signingKey: bed.signingKey });
    bed.ca = createCertificateAuthority({ commonName: "resource-server test CA" });
    bed.serverCert = bed.ca.issue({
      commonName: "api",
      usage: "server",
      subjectAltNames: ["127.0.0.1", "localhost"],
    });
    // RSA: Bearer tokens need a client assertion, which Entra takes only as RS256/PS256.
    bed.appCert = bed.ca.issue({ commonName: "calling app", keyType: "rsa" });
    bed.otherCert = bed.ca.issue({ commonName: "another app" });
    bed.transport = createUndiciTransport();
    bed.app = clientFor(bed, bed.appCert);
  });
  afterAll(async () => {
    bed.app?.close();
    await bed.transport?.close();
    await bed.emu?.close();
  });
  return bed;
}

/** A confidential client of the emulator's tenant that authenticates with `cert`. */
export function clientFor(bed: Bed, cert: IssuedCertificate) {
  const clientId = randomUUID();
  bed.emu.registerConfidentialClient({ clientId, certificatePem: cert.certificatePem });
  return createConfidentialClient({
    clientId,
    authority: `${bed.emu.authorityHost}/${bed.emu.tenantId}`,
    authorityHost: bed.emu.authorityHost,
    mtlsAuthorityHost: bed.emu.mtlsAuthorityHost,
    ca: bed.emu.caCertificatePem,
    certificate: { certificatePem: cert.certificatePem, privateKey: cert.privateKey },
    transport: bed.transport,
    clock: bed.clock,
    env: {},
  });
}

export function popToken(bed: Bed, scope = SCOPE): Promise<TokenResult> {
  return bed.app.acquireTokenForClient({ scopes: [scope], mtlsProofOfPossession: true, forceRefresh: true });
}

export function bearerToken(bed: Bed, scope = SCOPE): Promise<TokenResult> {
  return bed.app.acquireTokenForClient({ scopes: [scope], forceRefresh: true });
}

/** A validator for the emulator's tenant and {@link AUDIENCE}, on the test clock. */
export function validatorFor(bed: Bed, options: Partial<TokenValidatorOptions> = {}): TokenValidator {
  return createTokenValidator({
    tenants: [bed.emu.tenantId],
    audiences: [AUDIENCE],
    authorityHost: bed.emu.authorityHost,
    ca: bed.emu.caCertificatePem,
    clock: bed.clock,
    ...options,
  });
}

export interface MtlsServer {
  readonly origin: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * An https server on 127.0.0.1 that asks every client for a certificate and accepts any (the token's
 * binding is what is checked, not the chain), as a resource accepting mTLS PoP tokens does.
 */
export async function startMtlsServer(bed: Bed, listener: RequestListener): Promise<MtlsServer> {
  const server = createServer(
    {
      cert: bed.serverCert.certificatePem,
      key: bed.serverCert.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    listener,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const jwksRequests = (bed: Bed) => bed.emu.stats().requests.jwks;
