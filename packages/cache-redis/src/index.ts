export type { EncryptionKey, RedisCacheEncryption } from "./entry-cipher";
export type { RedisCacheStore, RedisCacheStoreOptions } from "./redis-cache-store";
export { createRedisCacheStore } from "./redis-cache-store";
export type { RedisClientLike, RedisSubscriberLike } from "./redis-client";
