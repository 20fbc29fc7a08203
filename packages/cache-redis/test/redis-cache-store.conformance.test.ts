// The Redis store passes core's CacheStore conformance suite against a real redis-server; Redis
// expires entries on its own clock, hence `ttlClock: "own"`.
import { testCacheStore } from "@certbound/testing";
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";
import { createRedisCacheStore, type RedisCacheStore } from "../src/index";
import { type RedisServer, startRedisServer } from "./redis-server";

let server: RedisServer;
let client: ReturnType<typeof createClient>;
const stores: RedisCacheStore[] = [];
let prefix = 0;

beforeAll(async () => {
  server = await startRedisServer();
  client = createClient({ url: server.url });
  await client.connect();
});
afterAll(async () => {
  for (const store of stores) await store.close();
  client.destroy();
  await server.stop();
});

const key = { id: "k1", key: Buffer.alloc(32, 7) };

// Each case gets its own key space (prefix) and a fresh store (empty local level).
testCacheStore(
  "redis (encrypted)",
  ({ clock }) => {
    const store = createRedisCacheStore({
      client,
      clock,
      prefix: `t${++prefix}`,
      encryption: { keys: [key] },
    });
    stores.push(store);
    return store;
  },
  { ttlClock: "own" },
);

testCacheStore(
  "redis (encryption disabled)",
  ({ clock }) => {
    const store = createRedisCacheStore({ client, clock, prefix: `p${++prefix}`, encryption: "disabled" });
    stores.push(store);
    return store;
  },
  { ttlClock: "own" },
);
