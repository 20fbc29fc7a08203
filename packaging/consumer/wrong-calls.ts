// Calls a consumer gets wrong, each of which must be a type error. scripts/check-packages.mjs
// type-checks this file next to main-api.ts, against the packed tarballs, under moduleResolution
// node10, node16 (as .cts and as .mts) and bundler. main-api.ts alone would also pass if an entry's
// types collapsed to `any` (a `.d.ts` stub re-exporting something TypeScript reads as untyped, say):
// then these calls compile, every `@ts-expect-error` below is unused (TS2578) and the check fails.
// Only type-checked, never run.

import { certboundClientOptions } from "@certbound/azure";
import { createRedisCacheStore } from "@certbound/cache-redis";
import { runCli } from "@certbound/cli";
import { createMemoryCacheStore, ResourceCaller } from "@certbound/core";
import { x5tS256 } from "@certbound/core/credential-kit";
import { parseRequestTarget } from "@certbound/core/transport-kit";
import { createConfidentialClient, loadCertificate } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { startEmulator } from "@certbound/emulator";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";
import { instrumentCertbound } from "@certbound/otel";
import { createTokenValidator } from "@certbound/resource-server";

export function wrongCalls(): void {
  // @ts-expect-error: the options are an object
  createMemoryCacheStore(1000);
  // @ts-expect-error: a cache store is not a number
  const entries: number = createMemoryCacheStore();
  // @ts-expect-error: ResourceCaller needs a transport
  new ResourceCaller({});
  // @ts-expect-error: the thumbprint is of DER bytes, not of a PEM string
  x5tS256("-----BEGIN CERTIFICATE-----");
  // @ts-expect-error: the url is a string
  parseRequestTarget({ url: 443 }, "consumer");
  // @ts-expect-error: clientId is a string
  createConfidentialClient({ clientId: 42 });
  // @ts-expect-error: loadCertificate returns the loaded certificate, not a string
  const pem: string = loadCertificate({ certificatePem: "", privateKeyPem: "" });
  // @ts-expect-error: the options are an object
  createManagedIdentityClient("http://169.254.169.254");
  // @ts-expect-error: the options are an object
  void startEmulator(8443);
  // @ts-expect-error: the options are an object
  createUndiciTransport("https://localhost");
  // @ts-expect-error: the options are an object
  createAxiosTransport("https://localhost");
  // @ts-expect-error: argv is an array of strings
  void runCli("--version");
  // @ts-expect-error: the credential is required
  certboundClientOptions({});
  // @ts-expect-error: the Redis client and the encryption keys are required
  createRedisCacheStore({});
  // @ts-expect-error: the options are an object
  instrumentCertbound("certbound");
  // @ts-expect-error: tenants and audiences are required
  createTokenValidator({});
  void [entries, pem];
}
