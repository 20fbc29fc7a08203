// packages/testing/README.md, "Check a cache store": the suite run against stores that keep time on
// the suite's clock and against one that expires entries itself. Type-checked, not run; the
// prelude stands for a store of your own on a remote server.
import type { CacheStore } from "@certbound/core";

declare function createMyRedisStore(): Promise<CacheStore>;

// #region readme-testing-cache-store
import { createMemoryCacheStore } from "@certbound/core";
import { jsonCacheStore, testCacheStore } from "@certbound/testing";

// Stores that measure `ttlMs` on the clock they are given: the suite also checks that entries expire.
testCacheStore("memory", ({ clock }) => createMemoryCacheStore({ clock }));
testCacheStore("json", ({ clock }) => jsonCacheStore({ clock }));
// A store whose server expires entries on its own clock: only "there within the TTL" is checked.
testCacheStore("my redis store", () => createMyRedisStore(), { ttlClock: "own" });
// #endregion readme-testing-cache-store
