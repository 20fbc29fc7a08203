// Issue 16: the fleet lease at the store level, on a real redis-server. Each store stands for a
// process (its own local level and subscriber connection) on one Redis.
import { type AcquiredToken, createTokenManager } from "@certbound/core/credential-kit";
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRedisCacheStore } from "../src/index";
import { countingClient } from "./counting-client";
import { type RedisServer, startRedisServer } from "./redis-server";

let server: RedisServer;
let client: ReturnType<typeof createClient>;
const closers: (() => Promise<void>)[] = [];
let n = 0;
beforeAll(async () => {
  server = await startRedisServer();
  client = createClient({ url: server.url });
  await client.connect();
});
afterAll(async () => {
  for (const close of closers) await close();
  client.destroy();
  await server.stop();
});

const encryption = { keys: [{ id: "k1", key: Buffer.alloc(32, 4) }] };
const request = {
  clientId: "app",
  authority: "https://login.example/tenant",
  scopes: ["https://r/.default"],
};

function process(prefix: string, ttlMs = 15_000) {
  const counted = countingClient(client);
  const store = createRedisCacheStore({ client: counted.client, encryption, prefix, lease: { ttlMs } });
  closers.push(() => store.close());
  return { store, commands: counted.commands, sent: counted.sent };
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((r) => setImmediate(r));
};

it("a waiter sends no command while it waits, and wakes on the holder's release message", async () => {
  const prefix = `w${++n}`;
  const holder = process(prefix);
  const waiter = process(prefix);
  const g = gate();
  let holding!: () => void;
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  const first = holder.store.coordinate(
    "key",
    async () => {
      holding();
      await g.opened;
      await holder.store.set("key", "token", 60_000);
    },
    new AbortController().signal,
  );
  await held;
  let acquiredByWaiter = false;
  const second = waiter.store.coordinate(
    "key",
    async () => {
      acquiredByWaiter = true;
    },
    new AbortController().signal,
  );
  // Let the waiter try the lease and look at its expiry, then count what it sends while waiting.
  while (!waiter.sent("PTTL")) await turns(1);
  const sent = waiter.commands.length;
  await turns(200);
  expect(waiter.commands.length).toBe(sent);
  g.open();
  await Promise.all([first, second]);
  expect(acquiredByWaiter).toBe(false);
  expect(await waiter.store.get("key")).toBe("token");
});

it("a waiter's AbortSignal ends only its own wait; the holder's acquisition goes on", async () => {
  const prefix = `a${++n}`;
  const holder = process(prefix);
  const waiter = process(prefix);
  const g = gate();
  let holding!: () => void;
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  const first = holder.store.coordinate(
    "key",
    async () => {
      holding();
      await g.opened;
      await holder.store.set("key", "token", 60_000);
    },
    new AbortController().signal,
  );
  await held;
  const controller = new AbortController();
  const second = waiter.store.coordinate("key", async () => {}, controller.signal);
  while (!waiter.sent("PTTL")) await turns(1);
  controller.abort(new Error("caller gave up"));
  await expect(second).rejects.toThrow("caller gave up");
  g.open();
  await first;
  expect(await holder.store.get("key")).toBe("token");
});

it("when the holder's acquisition fails, the lease is released and the waiter is woken to acquire itself", async () => {
  const prefix = `f${++n}`;
  const holder = process(prefix);
  const waiter = process(prefix);
  const g = gate();
  let holding!: () => void;
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  const first = holder.store.coordinate(
    "key",
    async () => {
      holding();
      await g.opened;
      throw new Error("token endpoint said no");
    },
    new AbortController().signal,
  );
  await held;
  const second = waiter.store.coordinate("key", async () => {}, new AbortController().signal);
  while (!waiter.sent("PTTL")) await turns(1);
  g.open();
  await expect(first).rejects.toThrow("token endpoint said no");
  // Woken by the release; the token manager then reads the key (a miss) and acquires itself.
  await second;
  const lease = (await client.sendCommand(["KEYS", `${prefix}:*:l`])) as string[];
  expect(lease).toEqual([]);
});

it("a token manager that missed just before another process stored and released finds that token under the lease", async () => {
  // Two token managers on one Redis, each with its own store (two processes). B's first read
  // misses; before B asks for the lease, A takes it, stores its token and releases it. B then
  // takes the free lease and must read A's token, not request another one (the fleet bench made 2
  // requests for 4 processes on a slow machine before the token manager read again under the lease).
  const prefix = `late${++n}`;
  const a = process(prefix);
  const b = process(prefix);
  let requests = 0;
  const fetcher = async (): Promise<AcquiredToken> => ({
    accessToken: `t-${++requests}`,
    tokenType: "Bearer",
    expiresOn: new Date(Date.now() + 3600_000),
  });
  const managerA = createTokenManager({ cache: a.store, fetcher });
  let reads = 0;
  const lateB = {
    get: async (key: string) => {
      const value = await b.store.get(key);
      // B's first read (the miss) returns only after A's whole acquisition.
      if (++reads === 1) await managerA.acquireToken(request);
      return value;
    },
    set: b.store.set.bind(b.store),
    delete: b.store.delete.bind(b.store),
    coordinate: b.store.coordinate.bind(b.store),
  };
  const managerB = createTokenManager({ cache: lateB, fetcher });
  const result = await managerB.acquireToken(request);
  expect(reads).toBe(2);
  expect(requests).toBe(1);
  expect(result).toMatchObject({ accessToken: "t-1", metadata: { tokenSource: "cache" } });
  expect(b.sent("SET")).toBe(true);
  managerA.close();
  managerB.close();
});
