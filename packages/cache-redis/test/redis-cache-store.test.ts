// Issue 16: two levels, encryption at rest and keyed names, against a real redis-server.
import type { LogLevel } from "@certbound/core";
import { type AcquiredToken, createTokenManager } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisCacheStore, type RedisCacheStoreOptions, type RedisClientLike } from "../src/index";
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

const k1 = { id: "k1", key: Buffer.alloc(32, 1) };
const k2 = { id: "k2", key: Buffer.alloc(32, 2) };
const HOUR = 3600_000;

// Wraps the subscriber connection a store opens, so a test can await a message the store has
// been handed (after the store's own listener ran) instead of guessing how long delivery takes.
function hearing(inner: RedisClientLike) {
  const heard: string[] = [];
  const waits: { match: (m: string) => boolean; done: () => void }[] = [];
  const wrapped: RedisClientLike = {
    sendCommand: (args) => inner.sendCommand(args),
    duplicate: () => {
      const connection = inner.duplicate();
      return {
        connect: () => connection.connect(),
        on: (event, listener) => connection.on(event, listener),
        destroy: () => connection.destroy(),
        subscribe: (channel, listener) =>
          connection.subscribe(channel, (message, from) => {
            listener(message, from);
            heard.push(message);
            for (const w of waits.filter((w) => w.match(message))) {
              waits.splice(waits.indexOf(w), 1);
              w.done();
            }
          }),
      };
    },
  };
  const message = (match: (m: string) => boolean) =>
    heard.some(match) ? Promise.resolve() : new Promise<void>((done) => waits.push({ match, done }));
  return { wrapped, message };
}

function logs() {
  const lines: { level: LogLevel; message: string; fields: unknown }[] = [];
  return {
    lines,
    logger: {
      level: "verbose" as const,
      log: (level: LogLevel, message: string, fields?: unknown) => lines.push({ level, message, fields }),
    },
  };
}

function store(options: Partial<RedisCacheStoreOptions> = {}) {
  const s = createRedisCacheStore({ client, prefix: `b${++n}`, encryption: { keys: [k1] }, ...options });
  closers.push(() => s.close());
  return s;
}

async function rawValues(prefix: string): Promise<Record<string, string>> {
  const keys = (await client.sendCommand(["KEYS", `${prefix}:*`])) as string[];
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = (await client.sendCommand(["GET", key])) as string;
  return out;
}

describe("two levels", () => {
  it("serves a local hit without any Redis command, and a local miss from Redis", async () => {
    const prefix = `two${++n}`;
    const a = countingClient(client);
    const b = countingClient(client);
    const writer = store({ client: a.client, prefix, lease: false });
    const reader = store({ client: b.client, prefix, lease: false });
    await writer.set("key", "value", HOUR);
    a.commands.length = 0;
    expect(writer.get("key")).toBe("value");
    expect(a.commands).toEqual([]);
    // Another process: its local level is empty, so it reads Redis once, then holds it.
    expect(await reader.get("key")).toBe("value");
    expect(b.commands.map((c) => c[0])).toEqual(["GET"]);
    expect(reader.get("key")).toBe("value");
    expect(b.commands).toHaveLength(1);
  });

  // The token manager reads the local level's slots directly (provideCacheStoreSlots). A local
  // token no longer worth serving must still send it to Redis, where another process may have
  // written a newer one, and not straight to the identity provider.
  it("a token manager whose local copy expires takes another process's newer token from Redis", async () => {
    const prefix = `newer${++n}`;
    // Sleeps wait for advance(): the store's command timeouts run on this clock too.
    const clock = createTestClock({ now: Date.UTC(2026, 0, 1), autoAdvance: false });
    let issued = 0;
    const fetched: string[] = [];
    const manager = (name: string) =>
      createTokenManager({
        clock,
        cache: store({ prefix, clock, lease: false }),
        fetcher: async (): Promise<AcquiredToken> => {
          fetched.push(name);
          return {
            accessToken: `token-${++issued}`,
            tokenType: "Bearer",
            expiresOn: new Date(clock.now() + HOUR),
          };
        },
      });
    const a = manager("a");
    const b = manager("b");
    const request = { clientId: "app", authority: "tenant", scopes: ["https://r/.default"] };
    expect((await a.acquireToken(request)).accessToken).toBe("token-1");
    expect((await b.acquireToken(request)).accessToken).toBe("token-1");
    // Half an hour later, process a gets a new token (valid until 90 min); b still holds token-1.
    await clock.advance(30 * 60_000);
    expect((await a.acquireToken({ ...request, forceRefresh: true })).accessToken).toBe("token-2");
    expect((await b.acquireToken(request)).accessToken).toBe("token-1");
    // At 56 min token-1 is inside the 5-minute buffer: b reads Redis and gets token-2.
    await clock.advance(26 * 60_000);
    const result = await b.acquireToken(request);
    expect(result.accessToken).toBe("token-2");
    expect(result.metadata.tokenSource).toBe("cache");
    expect(fetched).toEqual(["a", "a"]);
    // And then serves it from its local level.
    await expect(b.acquireToken(request)).resolves.toMatchObject({ accessToken: "token-2" });
  });

  it("writes the entry with PX ttlMs, so Redis drops it when the token stops being servable", async () => {
    const prefix = `px${++n}`;
    const s = store({ prefix, lease: false });
    await s.set("key", "value", 60_000);
    const [name] = (await client.sendCommand(["KEYS", `${prefix}:*`])) as string[];
    const pttl = (await client.sendCommand(["PTTL", name as string])) as number;
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it("drops the local copy after its ttl on the store's clock", async () => {
    const clock = createTestClock({ autoAdvance: false });
    const prefix = `lt${++n}`;
    const s = store({ prefix, clock, lease: false });
    await s.set("key", "value", 1000);
    await clock.advance(1001);
    // Gone locally, and the value in Redis carries the same expiry: not served either.
    expect(await s.get("key")).toBeUndefined();
  });

  it("an eviction in one process drops the other processes' local copies", async () => {
    const prefix = `ev${++n}`;
    const a = store({ prefix });
    const heard = hearing(client);
    const b = store({ prefix, client: heard.wrapped });
    await a.set("key", "value", HOUR);
    expect(await b.get("key")).toBe("value");
    await a.delete("key");
    // Wait until b's own subscriber has been handed the eviction: a count of event-loop turns
    // was too few on a loaded CI machine, where the message took longer to arrive.
    await heard.message((m) => m.startsWith("d:"));
    expect(await b.get("key")).toBeUndefined();
  });
});

describe("what may be shared", () => {
  it("keeps an entry written with { shareable: false } in the process only, never in Redis", async () => {
    const prefix = `own${++n}`;
    const a = countingClient(client);
    const s = store({ client: a.client, prefix, lease: false });
    await s.set("pop", "process-bound", HOUR, { shareable: false });
    expect(s.get("pop")).toBe("process-bound");
    expect(a.commands).toEqual([]);
    expect(await rawValues(prefix)).toEqual({});
    expect(await store({ prefix, lease: false }).get("pop")).toBeUndefined();
  });
});

describe("secrets at rest", () => {
  it('refuses to start without an encryption key unless told "disabled"', () => {
    expect(() => createRedisCacheStore({ client } as unknown as RedisCacheStoreOptions)).toThrow(
      /encryption` is required/,
    );
    expect(() => createRedisCacheStore({ client, encryption: { keys: [] } })).toThrow(/empty/);
    expect(() =>
      createRedisCacheStore({ client, encryption: { keys: [{ id: "k", key: Buffer.alloc(16) }] } }),
    ).toThrow(/32 bytes/);
    expect(() =>
      createRedisCacheStore({ client, encryption: { keys: [{ id: "a.b", key: Buffer.alloc(32) }] } }),
    ).toThrow(/id/);
    try {
      createRedisCacheStore({ client, encryption: { keys: [{ id: "k", key: Buffer.alloc(16) }] } });
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid_options" });
    }
  });

  it("keeps no token, tenant, client or scope in clear in Redis, and key names of one entry share a hash slot", async () => {
    const prefix = `enc${++n}`;
    const s = store({ prefix });
    const clock = createTestClock();
    const manager = createTokenManager({
      cache: s,
      clock,
      source: async (): Promise<AcquiredToken> => ({
        accessToken: "eyJ.SECRET-TOKEN.sig",
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() + HOUR),
        tenantId: "tenant-4f1c",
      }),
    });
    await manager.acquireToken({
      clientId: "client-77aa",
      authority: "https://login.example/tenant-4f1c",
      scopes: ["api://scope-x/.default"],
    });
    const raw = await rawValues(prefix);
    const dump = JSON.stringify(raw);
    expect(Object.keys(raw).length).toBeGreaterThan(0);
    for (const secret of ["SECRET-TOKEN", "tenant-4f1c", "client-77aa", "scope-x", "login.example"]) {
      expect(dump).not.toContain(secret);
    }
    for (const name of Object.keys(raw))
      expect(name).toMatch(new RegExp(`^${prefix}:\\{[A-Za-z0-9_-]{43}\\}:[el]$`));
  });

  it("reads values written with an older key after rotation, and names stay stable with a nameKey", async () => {
    const prefix = `rot${++n}`;
    const nameKey = Buffer.alloc(32, 9);
    const before = store({ prefix, encryption: { keys: [k1], nameKey } });
    await before.set("key", "old-value", HOUR);
    const after = store({ prefix, encryption: { keys: [k2, k1], nameKey } });
    expect(await after.get("key")).toBe("old-value");
    await after.set("key2", "new-value", HOUR);
    // A process that no longer holds k2 cannot open it: a miss, never garbage served.
    const stale = store({ prefix, encryption: { keys: [k1], nameKey } });
    expect(await stale.get("key2")).toBeUndefined();
    expect(await stale.get("key")).toBe("old-value");
  });

  it("treats a planted, tampered or moved value as a miss", async () => {
    const prefix = `tam${++n}`;
    const s = store({ prefix, lease: false });
    await s.set("a", "value-a", HOUR);
    await s.set("b", "value-b", HOUR);
    const raw = await rawValues(prefix);
    const [nameA, nameB] = Object.keys(raw) as [string, string];
    const reader = () => store({ prefix, lease: false });
    // Moved: a's value under b's name does not open (the name is authenticated).
    await client.sendCommand(["SET", nameB, raw[nameA] as string]);
    const r1 = reader();
    const [gotA, gotB] = [await r1.get("a"), await r1.get("b")];
    // The moved one is a miss; the other still opens as its own value, never as the other's.
    expect([gotA, gotB].filter((v) => v === undefined)).toHaveLength(1);
    expect(gotA === undefined || gotA === "value-a").toBe(true);
    expect(gotB === undefined || gotB === "value-b").toBe(true);
    // Tampered and planted.
    const tampered =
      (raw[nameA] as string).slice(0, -2) + ((raw[nameA] as string).endsWith("A") ? "BB" : "AA");
    await client.sendCommand(["SET", nameA, tampered]);
    await client.sendCommand(["SET", nameB, "cbp.0.plain-token"]);
    const r2 = reader();
    expect(await r2.get("a")).toBeUndefined();
    expect(await r2.get("b")).toBeUndefined();
    expect(r2.degraded).toBe(false);
  });
});

describe("Redis trouble never fails an acquisition", () => {
  it("falls back to the local level when Redis hangs (CLIENT PAUSE), logs once, and comes back", async () => {
    const { lines, logger: inner } = logs();
    let backAgain!: () => void;
    const back = new Promise<void>((resolve) => {
      backAgain = resolve;
    });
    const logger = {
      ...inner,
      log: (level: LogLevel, message: string, fields?: unknown) => {
        inner.log(level, message, fields);
        if (message.startsWith("Redis answers again")) backAgain();
      },
    };
    const prefix = `hang${++n}`;
    const s = store({ prefix, logger, commandTimeoutMs: 50, probeIntervalMs: 20, lease: false });
    const clock = createTestClock();
    let requests = 0;
    const manager = createTokenManager({
      cache: s,
      clock,
      source: async (): Promise<AcquiredToken> => ({
        accessToken: `t-${++requests}`,
        tokenType: "Bearer",
        expiresOn: new Date(clock.now() + HOUR),
      }),
    });
    const pauser = createClient({ url: server.url });
    await pauser.connect();
    await pauser.sendCommand(["CLIENT", "PAUSE", "400", "ALL"]);
    const results = await Promise.all(
      ["a", "b", "c"].map((scope) =>
        manager.acquireToken({
          clientId: "c",
          authority: "https://login.example/t",
          scopes: [`api://${scope}/.default`],
        }),
      ),
    );
    expect(results.map((r) => r.accessToken).sort()).toEqual(["t-1", "t-2", "t-3"]);
    expect(s.degraded).toBe(true);
    // Served from the process while Redis hangs.
    const again = await manager.acquireToken({
      clientId: "c",
      authority: "https://login.example/t",
      scopes: ["api://a/.default"],
    });
    expect(again.metadata.tokenSource).toBe("cache");
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    pauser.destroy();
    // The probe finds Redis again once the pause ends (awaited through the log line, no timer).
    await back;
    expect(s.degraded).toBe(false);
  });

  it("treats an answer of the wrong type as trouble, not as a value", async () => {
    const { lines, logger } = logs();
    const garbage: RedisClientLike = {
      sendCommand: async () => 42,
      duplicate: () => client.duplicate(),
    };
    const s = store({ client: garbage, logger, lease: false, probeIntervalMs: 60_000 });
    expect(await s.get("key")).toBeUndefined();
    expect(s.degraded).toBe(true);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain("key");
  });
});
