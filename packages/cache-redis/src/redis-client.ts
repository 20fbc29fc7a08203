/**
 * What this store needs of a connected Redis client: node-redis (`redis` 5 or 6) `createClient()`
 * fits as it is. Commands go through `sendCommand`; notifications come on one `duplicate()`
 * connection that the store opens, subscribes and closes itself.
 *
 * @public
 * @example
 * ```ts
 * import { createClient } from "redis";
 * const client: RedisClientLike = await createClient({ url: process.env.REDIS_URL }).connect();
 * ```
 */
export interface RedisClientLike {
  sendCommand(args: readonly string[]): Promise<unknown>;
  duplicate(): RedisSubscriberLike;
}

/**
 * The subscriber connection of a {@link RedisClientLike} (`client.duplicate()` of node-redis).
 *
 * @public
 * @example
 * ```ts
 * const subscriber: RedisSubscriberLike = client.duplicate();
 * ```
 */
export interface RedisSubscriberLike {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
  destroy(): void;
}

/**
 * What {@link redisClusterClient} needs of a Redis Cluster client: node-redis `createCluster()`
 * fits as it is (its `sendCommand` takes the key that picks the node first).
 *
 * @public
 * @example
 * ```ts
 * import { createCluster } from "redis";
 * const cluster: RedisClusterLike = await createCluster({ rootNodes: [{ url }] }).connect();
 * ```
 */
export interface RedisClusterLike {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  duplicate(): RedisSubscriberLike;
}

// Commands the store sends, and where their key is: the node that owns its slot must answer.
const KEY_AT: Readonly<Record<string, number>> = { GET: 1, SET: 1, DEL: 1, PTTL: 1, EVAL: 3 };
const READ_ONLY = new Set(["GET", "PTTL"]);

/**
 * Adapts a Redis Cluster client (node-redis `createCluster()`) to the store: each command goes to
 * the node owning its key's slot (the keys of one entry share a slot through their hash tag), and
 * notifications use the cluster's own pub/sub.
 *
 * @public
 * @example
 * ```ts
 * const cluster = await createCluster({ rootNodes: [{ url: "redis://10.0.0.1:6379" }] }).connect();
 * const cache = createRedisCacheStore({ client: redisClusterClient(cluster), encryption });
 * ```
 */
export function redisClusterClient(cluster: RedisClusterLike): RedisClientLike {
  return {
    sendCommand: (args) => {
      const name = args[0] ?? "";
      const at = KEY_AT[name];
      return cluster.sendCommand(at === undefined ? undefined : args[at], READ_ONLY.has(name), [...args]);
    },
    duplicate: () => cluster.duplicate(),
  };
}
