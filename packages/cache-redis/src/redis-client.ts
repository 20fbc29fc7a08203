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
