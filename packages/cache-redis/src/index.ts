export type { EncryptionKey, RedisCacheEncryption } from "./entry-cipher";
export type { RedisCacheStore, RedisCacheStoreOptions } from "./redis-cache-store";
export { createRedisCacheStore } from "./redis-cache-store";
export type { RedisClientLike, RedisClusterLike, RedisSubscriberLike } from "./redis-client";
export { redisClusterClient } from "./redis-client";
