// One process of a fleet (spawned by fleet.test.ts): a confidential client with a certificate on the
// shared Redis store. It says "ready", waits for "go" on stdin so that every process misses
// together, acquires `concurrency` PoP tokens at once, prints what it got and exits on its own.
import { createRedisCacheStore } from "@certbound/cache-redis";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";
import { createClient } from "redis";

const env = JSON.parse(process.env.APP_CONFIG);
// `redisUrl: null` (the bench's baseline): each process keeps its tokens to itself.
const client = env.redisUrl === null ? undefined : createClient({ url: env.redisUrl });
client?.on("error", () => {});
await client?.connect();
const cache =
  client &&
  createRedisCacheStore({
    client,
    encryption: { keys: [{ id: "k1", key: Buffer.from(env.key, "base64") }] },
    lease: { ttlMs: env.leaseMs },
    logger: {
      level: "verbose",
      log: (level, message) => process.stderr.write(`${level} ${message}\n`),
    },
  });
const transport = createUndiciTransport();
const app = createConfidentialClient({
  clientId: env.clientId,
  authority: env.authority,
  mtlsAuthorityHost: env.mtlsAuthorityHost,
  certificate: { certificatePem: env.certificatePem, privateKeyPem: env.keyPem },
  transport,
  env: {},
  cache,
});
process.stdout.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
try {
  const results = await Promise.all(
    Array.from({ length: env.concurrency }, () =>
      app.acquireTokenForClient({ scopes: [env.scope], mtlsProofOfPossession: true }),
    ),
  );
  process.stdout.write(
    `${JSON.stringify({
      sources: results.map((r) => r.metadata.tokenSource),
      tokens: [...new Set(results.map((r) => r.accessToken))],
      x5t: [...new Set(results.map((r) => r.bindingCertificate?.x5tS256))],
    })}\n`,
  );
} finally {
  await app.close();
  await transport.close();
  await cache?.close();
  client?.destroy();
}
