// An app (spawned by exit.test.ts) that uses the Redis store, closes it and its Redis client and is
// done: it must exit on its own. Its commands' timeout is the longest timer Node allows, so a timer
// that kept the process alive would keep it for 24 days.
import { createRedisCacheStore } from "@certbound/cache-redis";
import { createClient } from "redis";

const client = createClient({ url: process.env.REDIS_URL });
await client.connect();
const store = createRedisCacheStore({
  client,
  encryption: { keys: [{ id: "k1", key: Buffer.alloc(32, 7) }] },
  prefix: "exit-app",
  // Every get goes to Redis.
  localMaxEntries: 1,
  commandTimeoutMs: 2_147_483_647,
});
await store.set("a", "value-a", 60_000);
await store.set("b", "value-b", 60_000);
const a = await store.get("a");
const b = await store.get("b");
// What a finished app does: close the store (its subscriber connection), then its own client.
await store.close();
client.destroy();
process.stdout.write(`${a} ${b}\n`);
