// What a consumer project writes first, type-checked by scripts/check-packages.mjs against the
// packed tarballs installed with npm, under moduleResolution node10 (CommonJS), node16 (as CJS
// and as ESM) and bundler. A package whose types resolve only partly under one of them (e.g. a
// subpath import in its .d.ts that node10 cannot follow, which silently drops an `extends` and
// makes `createUndiciTransport({ ca })` an error) fails the check. Only type-checked, never run.

import { certboundClientOptions } from "@certbound/azure";
import { createRedisCacheStore, type RedisCacheStore, type RedisClientLike } from "@certbound/cache-redis";
import { EXIT_CODES, runCli } from "@certbound/cli";
import {
  type CertboundError,
  createMemoryCacheStore,
  MtlsPopTokenAcquirer,
  ResourceCaller,
  type TokenResult,
} from "@certbound/core";
import {
  type AcquiredToken,
  createCertificateAuthority,
  createTokenManager,
  type FetchRequest,
  x5tS256,
} from "@certbound/core/credential-kit";
import { mapTransportError, parseRequestTarget } from "@certbound/core/transport-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { startEmulator } from "@certbound/emulator";
import { createAxiosTransport } from "@certbound/http-axios";
import { createPopFetch, createUndiciTransport } from "@certbound/http-undici";
import { type CertboundInstrumentation, instrumentCertbound } from "@certbound/otel";
import { createTokenValidator, type TokenValidationError } from "@certbound/resource-server";

export async function consumer(): Promise<number> {
  const instrumentation: CertboundInstrumentation = instrumentCertbound();
  const emu = await startEmulator();
  const undici = createUndiciTransport({ ca: emu.caCertificatePem });
  const axios = createAxiosTransport({ ca: emu.caCertificatePem });

  const msi = createManagedIdentityClient({ transport: undici, imdsEndpoint: emu.imdsEndpoint });
  const pop: TokenResult = await new MtlsPopTokenAcquirer(msi).acquireToken(`${emu.resourceUrl}/.default`);

  const app = createCertificateAuthority({ commonName: "consumer CA" }).issue({ commonName: "consumer" });
  emu.registerConfidentialClient({ clientId: "consumer", certificatePem: app.certificatePem });
  const cca = createConfidentialClient({
    clientId: "consumer",
    authority: `https://login.microsoftonline.com/${emu.tenantId}`,
    certificate: { certificatePem: app.certificatePem, privateKeyPem: app.keyPem },
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    transport: axios,
  });
  const viaCert = await cca.acquireTokenForClient({
    scopes: ["api://x/.default"],
    mtlsProofOfPossession: true,
  });

  // An Azure SDK client's options: its TokenCredential and the binding-certificate policy.
  const azure = certboundClientOptions({ credential: cca });
  const sdkToken: string = (await azure.credential.getToken("api://x/.default")).token;
  const position: "perCall" | "perRetry" | undefined = azure.additionalPolicies[0]?.position;

  // The Redis store takes the app's own client (node-redis fits); `redis` is an optional peer.
  const redisClient: RedisClientLike = {
    sendCommand: async () => null,
    duplicate: () => {
      throw new Error("no subscriber without leases");
    },
  };
  const redisCache: RedisCacheStore = createRedisCacheStore({
    client: redisClient,
    encryption: { keys: [{ id: "k1", key: new Uint8Array(32) }] },
    lease: false,
  });
  await redisCache.close();

  const manager = createTokenManager({
    cache: createMemoryCacheStore(),
    fetcher: async ({ scopes }: FetchRequest): Promise<AcquiredToken> => ({
      accessToken: scopes.join(" "),
      tokenType: "Bearer",
      expiresOn: new Date(Date.now() + 3_600_000),
    }),
  });
  const bearer = await manager.acquireToken({ clientId: "c", authority: "a", scopes: ["s"] });
  const caller = new ResourceCaller({ transport: undici });
  const response = await caller.call(pop, `${emu.resourceUrl}/data`);
  const target = parseRequestTarget({ url: `${emu.resourceUrl}/data` }, "consumer");
  const failure: CertboundError = mapTransportError(new Error("refused"), {
    endpoint: target.endpoint,
    withCertificate: false,
  });

  const popFetch = createPopFetch({ credential: cca, scopes: ["api://x/.default"], transport: undici });
  const fetched = await popFetch(`${emu.resourceUrl}/data`);
  await popFetch.close();
  const validator = createTokenValidator({ tenants: [emu.tenantId], audiences: ["api://x"] });
  const refusal = await validator
    .validate({ authorization: `Bearer ${viaCert.accessToken}`, socket: undefined })
    .catch((error: TokenValidationError) => error.code);

  await msi.close();
  await cca.close();
  await undici.close();
  await axios.close();
  await emu.close();
  manager.close();
  instrumentation.disable();
  const cli: number = (await runCli(["--version"])) + EXIT_CODES.network;
  return [
    cli,
    response.status,
    fetched.status,
    refusal,
    viaCert.tokenType,
    bearer.tokenType,
    x5tS256(new Uint8Array(32)),
    failure.code,
    sdkToken,
    position,
    redisCache.degraded,
  ].length;
}
