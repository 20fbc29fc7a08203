import { randomUUID } from "node:crypto";
import {
  type CacheStore,
  type CacheWriteOptions,
  type Clock,
  type Logger,
  systemClock,
} from "@certbound/core";
import {
  assertKnownKeys,
  createLog,
  invalidOptions,
  markBackgroundSignal,
  provideCacheStoreSlots,
} from "@certbound/core/credential-kit";
import { CommandDeadlines } from "./command-deadlines";
import { createEntryCipher, type RedisCacheEncryption } from "./entry-cipher";
import { LocalLevel } from "./local-level";
import type { RedisClientLike, RedisSubscriberLike } from "./redis-client";

const PKG = "@certbound/cache-redis";
const MAX_TIMER_MS = 2 ** 31 - 1;
// Deletes the lease only if it is still ours (another process may hold it after ours expired),
// then tells the waiters of every process that this key's acquisition is over.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/**
 * Options of {@link createRedisCacheStore}.
 *
 * @public
 * @example
 * ```ts
 * const options: RedisCacheStoreOptions = { client, encryption: { keys: [{ id: "k1", key }] }, lease: { ttlMs: 10_000 } };
 * ```
 */
export interface RedisCacheStoreOptions {
  /** The app's own connected client (its connection, TLS and authentication are reused). */
  client: RedisClientLike;
  /**
   * Required: keys to encrypt entries with (AES-256-GCM), or `"disabled"` to store them in clear,
   * which only fits a Redis as protected as the tokens themselves.
   */
  encryption: RedisCacheEncryption | "disabled";
  /** Start of every Redis key and of the notification channel. @default "certbound" */
  prefix?: string | undefined;
  /** Entries kept in process in front of Redis (LRU). @default 10000 */
  localMaxEntries?: number | undefined;
  /**
   * Longest wait for one Redis command; past it the store serves from the process only until Redis
   * answers a probe again.
   * @default 250
   */
  commandTimeoutMs?: number | undefined;
  /** First wait before probing a Redis that failed; doubles up to 30 s. @default 1000 */
  probeIntervalMs?: number | undefined;
  /**
   * One acquisition per key for all processes: how long a lease lasts (a holder that dies loses it
   * then) and how long a process waits for others before acquiring itself. `false`: no coordination.
   * @default { ttlMs: 15000, maxWaitMs: 30000 }
   */
  lease?: { ttlMs?: number | undefined; maxWaitMs?: number | undefined } | false | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/**
 * A {@link CacheStore} on Redis with an in-process level in front, returned by {@link createRedisCacheStore}.
 *
 * @public
 * @example
 * ```ts
 * const cache: RedisCacheStore = createRedisCacheStore({ client, encryption: { keys: [key] } });
 * ```
 */
export interface RedisCacheStore extends CacheStore {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number, options?: CacheWriteOptions): Promise<void>;
  delete(key: string): Promise<void>;
  coordinate(key: string, acquire: () => Promise<void>, signal: AbortSignal): Promise<void>;
  /** `true` while Redis failed and the store serves from the process only. */
  readonly degraded: boolean;
  /** Stops probing and closes the store's subscriber connection; the app's client stays open. */
  close(): Promise<void>;
}

const KNOWN = [
  "client",
  "encryption",
  "prefix",
  "localMaxEntries",
  "commandTimeoutMs",
  "probeIntervalMs",
  "lease",
  "clock",
  "logger",
];

class RedisTimeout extends Error {
  override readonly name = "RedisTimeout";
}
class RedisGarbage extends Error {
  override readonly name = "RedisGarbage";
}

/**
 * A cache store for any certbound client that shares tokens between the processes of a fleet
 * through Redis: encrypted at rest, under keyed-hash names, with an in-process LRU in front (a hit
 * there does no Redis I/O), one token request per key for the whole fleet on a miss (a lease, and
 * waiters notified by pub/sub), and Redis trouble never failing an acquisition (short timeouts,
 * then the process level alone until Redis answers again).
 *
 * @public
 * @example
 * ```ts
 * import { createClient } from "redis";
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const cache = createRedisCacheStore({ client, encryption: { keys: [{ id: "k1", key: Buffer.from(process.env.CACHE_KEY!, "base64") }] } });
 * const app = createConfidentialClient({ clientId, authority, certificate, cache });
 * ```
 */
export function createRedisCacheStore(options: RedisCacheStoreOptions): RedisCacheStore {
  if (typeof options !== "object" || options === null) {
    throw invalidOptions(PKG, "createRedisCacheStore takes an options object: `{ client, encryption }`.");
  }
  assertKnownKeys(PKG, options, KNOWN, "createRedisCacheStore options");
  const { client } = options;
  if (typeof client?.sendCommand !== "function" || typeof client.duplicate !== "function") {
    throw invalidOptions(
      PKG,
      "`client` must be a connected node-redis client: `await createClient({ url }).connect()` from the `redis` package.",
    );
  }
  const cipher = createEntryCipher(options.encryption);
  const prefix = options.prefix ?? "certbound";
  if (typeof prefix !== "string" || !/^[\w:.-]{1,64}$/.test(prefix)) {
    throw invalidOptions(PKG, "`prefix` must be 1 to 64 characters from A-Z a-z 0-9 _ : . -");
  }
  const localMax = wholeNumber(options.localMaxEntries, 10_000, "localMaxEntries");
  const timeoutMs = wholeNumber(options.commandTimeoutMs, 250, "commandTimeoutMs");
  const probeMs = wholeNumber(options.probeIntervalMs, 1000, "probeIntervalMs");
  const leaseTtlMs = options.lease === false ? 0 : wholeNumber(options.lease?.ttlMs, 15_000, "lease.ttlMs");
  const maxWaitMs =
    options.lease === false ? 0 : wholeNumber(options.lease?.maxWaitMs, 30_000, "lease.maxWaitMs");
  const clock = options.clock ?? systemClock;
  const log = createLog(options.logger);
  const local = new LocalLevel(localMax);
  const channel = `${prefix}:released`;
  // Every key of one entry carries the same hash tag, so they share a Redis Cluster slot.
  const entryKey = (name: string) => `${prefix}:{${name}}:e`;
  const leaseKey = (name: string) => `${prefix}:{${name}}:l`;

  // Background work (probes) must not keep the process alive; close() ends it.
  const lifetime = new AbortController();
  markBackgroundSignal(lifetime.signal);
  let degraded = false;
  let closed = false;

  // Every command races a timeout. On the system clock one shared timer does it (CommandDeadlines):
  // an AbortController per command (what an injected clock's sleep needs) costs more than a Redis
  // round trip, and a setTimeout per command 5 to 8% of one.
  const late = (command: string) =>
    new RedisTimeout(`Redis did not answer ${command} within ${timeoutMs} ms.`);
  const deadlines = clock === systemClock ? new CommandDeadlines(timeoutMs, late) : undefined;
  const call = (args: readonly string[]): Promise<unknown> => {
    const reply = client.sendCommand(args);
    const command = args[0] as string;
    if (deadlines !== undefined) return deadlines.race(command, reply);
    const timer = new AbortController();
    return Promise.race([
      reply,
      clock.sleep(timeoutMs, timer.signal).then(() => {
        throw late(command);
      }),
    ]).finally(() => timer.abort());
  };
  // Names are keyed hashes (an HMAC a lookup): remembered per key, bounded like the local level.
  const names = new Map<string, string>();
  const nameOf = (key: string): string => {
    let name = names.get(key);
    if (name === undefined) {
      if (names.size >= localMax) names.clear();
      name = cipher.name(key);
      names.set(key, name);
    }
    return name;
  };

  // Logged once per outage, with no key or value (an error may quote them), then probed in the background.
  const trouble = (operation: string, error: unknown): void => {
    if (degraded || closed) return;
    degraded = true;
    log.warn("Redis failed; serving tokens from this process only until it answers again", {
      operation,
      error: error instanceof Error ? error.name : typeof error,
    });
    void probe();
  };
  const probe = async (): Promise<void> => {
    let wait = probeMs;
    while (!closed) {
      try {
        await clock.sleep(wait, lifetime.signal);
      } catch {
        return;
      }
      try {
        if ((await call(["PING"])) === "PONG") {
          degraded = false;
          log.info("Redis answers again; sharing tokens through it", {});
          return;
        }
      } catch {
        // still down
      }
      wait = Math.min(wait * 2, 30_000);
    }
  };

  // Waiters for the end of an acquisition in another process, per name.
  const waiters = new Map<string, Set<() => void>>();
  const onMessage = (message: string) => {
    // An eviction in another process: the local copy goes too.
    if (message.startsWith("d:")) {
      local.deleteByName(message.slice(2));
      return;
    }
    const set = waiters.get(message);
    if (set === undefined) return;
    waiters.delete(message);
    for (const wake of set) wake();
  };
  let subscriber: Promise<RedisSubscriberLike> | undefined;
  const subscribe = (): Promise<RedisSubscriberLike> => {
    if (subscriber === undefined) {
      const connection = client.duplicate();
      // node-redis emits reconnect errors here; the store already falls back and probes.
      connection.on("error", () => {});
      subscriber = (async () => {
        await connection.connect();
        await connection.subscribe(channel, onMessage);
        return connection;
      })();
      subscriber.catch(() => {
        connection.destroy();
        subscriber = undefined;
      });
    }
    const pending = subscriber;
    const timer = new AbortController();
    return Promise.race([
      pending,
      clock.sleep(timeoutMs * 4, timer.signal).then(() => {
        throw new RedisTimeout("Redis did not accept the subscription in time.");
      }),
    ]).finally(() => timer.abort());
  };
  // Subscribed at once when leases are on, so the first cold miss does not wait for it.
  if (leaseTtlMs > 0) subscribe().catch((error: unknown) => trouble("subscribe", error));

  const readRedis = async (key: string, name: string): Promise<string | undefined> => {
    let raw: unknown;
    try {
      raw = await call(["GET", entryKey(name)]);
    } catch (error) {
      trouble("get", error);
      return undefined;
    }
    if (raw === null || raw === undefined) return undefined;
    if (typeof raw !== "string") {
      trouble("get", new RedisGarbage());
      return undefined;
    }
    const opened = cipher.open(name, raw);
    // `<expiry epoch ms or empty>.<value>`: the expiry travels inside the sealed value, so a hit
    // in Redis is one round trip and the local copy expires with the token.
    const dot = opened === undefined ? -1 : opened.indexOf(".");
    if (opened === undefined || dot < 0) {
      // Not a value this store wrote with a key it holds (another key, a planted value): a miss.
      log.verbose(
        "a Redis value could not be opened (another key, or not written by this store); treated as a miss",
        {},
      );
      return undefined;
    }
    const expiry = opened.slice(0, dot);
    const expiresAt = expiry === "" ? Number.POSITIVE_INFINITY : Number(expiry);
    if (!(expiresAt > clock.now())) return undefined;
    const value = opened.slice(dot + 1);
    local.set(key, name, value, expiresAt);
    return value;
  };

  const waitForRelease = (name: string) => {
    let wake!: () => void;
    const released = new Promise<void>((resolve) => {
      wake = resolve;
    });
    let set = waiters.get(name);
    if (set === undefined) {
      set = new Set();
      waiters.set(name, set);
    }
    set.add(wake);
    const cancel = () => {
      const current = waiters.get(name);
      current?.delete(wake);
      if (current?.size === 0) waiters.delete(name);
    };
    return { released, cancel };
  };

  const store: RedisCacheStore = {
    get(key) {
      const hit = local.get(key, clock.now());
      if (hit !== undefined || degraded) return hit;
      return readRedis(key, nameOf(key));
    },
    async set(key, value, ttlMs, writeOptions) {
      const name = nameOf(key);
      const ttl = ttlMs === undefined ? undefined : Math.min(Math.max(1, Math.floor(ttlMs)), MAX_TIMER_MS);
      const expiresAt = ttl === undefined ? undefined : clock.now() + ttl;
      local.set(key, name, value, expiresAt ?? Number.POSITIVE_INFINITY);
      // A token bound to a key that lives in this process only (a managed identity's PoP token)
      // never leaves it: kept in the local level, never written to Redis.
      if (degraded || writeOptions?.shareable === false) return;
      const sealed = cipher.seal(name, `${expiresAt ?? ""}.${value}`);
      try {
        await call(
          ttl === undefined
            ? ["SET", entryKey(name), sealed]
            : ["SET", entryKey(name), sealed, "PX", String(ttl)],
        );
      } catch (error) {
        trouble("set", error);
      }
    },
    async delete(key) {
      const name = nameOf(key);
      local.delete(key);
      if (degraded) return;
      try {
        await call(["DEL", entryKey(name)]);
        await call(["PUBLISH", channel, `d:${name}`]);
      } catch (error) {
        trouble("delete", error);
      }
    },
    async coordinate(key, acquire, signal) {
      if (leaseTtlMs === 0 || degraded) return acquire();
      const name = nameOf(key);
      const lease = leaseKey(name);
      const token = randomUUID();
      const deadline = clock.now() + maxWaitMs;
      try {
        await subscribe();
      } catch (error) {
        trouble("subscribe", error);
        return acquire();
      }
      for (;;) {
        let taken: boolean;
        try {
          taken = (await call(["SET", lease, token, "NX", "PX", String(leaseTtlMs)])) === "OK";
        } catch (error) {
          trouble("lease", error);
          return acquire();
        }
        if (taken) {
          log.verbose("took the fleet lease; acquiring the token for every process", {});
          try {
            return await acquire();
          } finally {
            call(["EVAL", RELEASE, "1", lease, token, channel, name]).catch((error: unknown) =>
              trouble("release", error),
            );
          }
        }
        // Another process acquires: wait for its notification (registered before looking at the
        // lease, so none is missed), its lease's expiry, our own deadline or our signal.
        const waiter = waitForRelease(name);
        let pttl: unknown;
        try {
          pttl = await call(["PTTL", lease]);
        } catch (error) {
          waiter.cancel();
          trouble("lease", error);
          return acquire();
        }
        // Released meanwhile: the caller reads the entry the holder stored.
        if (pttl === -2) {
          waiter.cancel();
          return;
        }
        const left = deadline - clock.now();
        if (left <= 0) {
          waiter.cancel();
          log.verbose("waited for another process's token acquisition long enough; acquiring here", {});
          return acquire();
        }
        const timer = new AbortController();
        const stop = () => timer.abort();
        signal.addEventListener("abort", stop, { once: true });
        // Aborted while the lease was being looked at: the listener came too late to hear it.
        if (signal.aborted) stop();
        const ms = Math.min(left, typeof pttl === "number" && pttl > 0 ? pttl + 1 : leaseTtlMs);
        const outcome = await Promise.race([
          waiter.released.then(() => "released" as const),
          clock.sleep(ms, timer.signal).then(
            () => "expired" as const,
            () => "aborted" as const,
          ),
        ]);
        timer.abort();
        signal.removeEventListener("abort", stop);
        waiter.cancel();
        if (outcome === "released") return;
        if (outcome === "aborted") throw signal.reason;
        // The lease expired (its holder died or hangs): try to take it.
      }
    },
    get degraded() {
      return degraded;
    },
    async close() {
      closed = true;
      lifetime.abort();
      const pending = subscriber;
      subscriber = undefined;
      if (pending !== undefined) (await pending.catch(() => undefined))?.destroy();
    },
  };
  // A token manager reads the local level's slots directly (a hit: one lookup); a key missing there,
  // or whose token is no longer worth serving, still goes through `get` and so to Redis.
  provideCacheStoreSlots(store, { read: (key) => local.slot(key), complete: false });
  return store;
}

function wholeNumber(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TIMER_MS) {
    throw invalidOptions(
      PKG,
      `\`${name}\` must be a whole number of milliseconds from 1 to 2147483647, got ${String(value)}.`,
    );
  }
  return n;
}
