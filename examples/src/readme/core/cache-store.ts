// packages/core/README.md, "Cache stores". TypeScript (the `CacheStore` annotation is the point);
// the prelude gives the names the block uses.
import type { AcquiredToken } from "@certbound/core/credential-kit";

declare function myIssuer(): Promise<AcquiredToken>;

// #region readme-core-cache-store
import type { CacheStore } from "@certbound/core";
import { createTokenManager } from "@certbound/core/credential-kit";

const map = new Map<string, string>();
const cache: CacheStore = { get: (k) => map.get(k), set: (k, v) => void map.set(k, v), delete: (k) => void map.delete(k) };
const manager = createTokenManager({ fetcher: async () => myIssuer(), cache });
// #endregion readme-core-cache-store
console.log(manager);
