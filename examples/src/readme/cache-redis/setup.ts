// packages/cache-redis/README.md, "Set up" and "Keys and encryption". Type-checked, not run (it
// needs a Redis and an app registration).

// #region readme-cache-redis-setup
import { createRedisCacheStore } from "@certbound/cache-redis";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createUndiciTransport } from "@certbound/http-undici";
import { createClient } from "redis";

// Your app's own client: its URL, TLS and authentication are yours.
const client = createClient({ url: process.env.REDIS_URL ?? "redis://localhost:6379" });
client.on("error", (error) => console.error("redis", error.message));
await client.connect();

const cache = createRedisCacheStore({
  client,
  // 32 random bytes from your secret store (`openssl rand -base64 32`).
  encryption: { keys: [{ id: "2026-12", key: Buffer.from(process.env.CERTBOUND_CACHE_KEY ?? "", "base64") }] },
});
const transport = createUndiciTransport();
const app = createConfidentialClient({
  clientId: "6b3c1f2e-4d5a-4e8f-9a0b-1c2d3e4f5a6b",
  authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com",
  certificate: { certificatePem: process.env.APP_CERT ?? "", privateKeyPem: process.env.APP_KEY ?? "" },
  transport,
  cache,
});
const token = await app.acquireTokenForClient({ scopes: ["https://vault.azure.net/.default"], mtlsProofOfPossession: true });
// On shutdown: the store's subscriber connection, then your client.
await app.close();
await cache.close();
client.destroy();
// #endregion readme-cache-redis-setup
console.log(token.tokenType);

// #region readme-cache-redis-rotation
const rotating = createRedisCacheStore({
  client,
  encryption: {
    // The first key encrypts new entries; the second still opens entries written before the rotation.
    keys: [
      { id: "2027-01", key: Buffer.from(process.env.CERTBOUND_CACHE_KEY_NEW ?? "", "base64") },
      { id: "2026-12", key: Buffer.from(process.env.CERTBOUND_CACHE_KEY ?? "", "base64") },
    ],
    // Key names stay the same across the rotation, so every instance keeps sharing.
    nameKey: Buffer.from(process.env.CERTBOUND_CACHE_NAME_KEY ?? "", "base64"),
  },
});
// #endregion readme-cache-redis-rotation
console.log(rotating.degraded);
