/**
 * A least-recently-used map of connection pools that hands evicted pools to `onEvict` (which
 * closes them). Insertion order is recency order: a hit re-inserts its key, so the first key is
 * always the eldest. Not core's `LruMap`, because a transport must also drain every pool to close
 * them all.
 *
 * @public
 * @example
 * ```ts
 * const pools = new BoundedPools<https.Agent>(16, (agent) => agent.destroy());
 * const agent = pools.get(poolScope({ transportCas: [], identity, ca, pin: undefined }).key, () => new https.Agent({ keepAlive: true }));
 * // on close():
 * for (const pool of pools.drain()) pool.destroy();
 * ```
 */
export class BoundedPools<V> {
  readonly #pools = new Map<string, V>();
  readonly #max: number;
  readonly #onEvict: (pool: V) => void;
  // The most recently used key: asked again (every request of an app with one identity), it is
  // already last in recency order, and moving it there again would only churn the map.
  #newest: string | undefined;

  constructor(max: number, onEvict: (pool: V) => void) {
    this.#max = max;
    this.#onEvict = onEvict;
  }

  /** The pool for `key`, created with `create` on a miss (evicting the eldest when full). */
  get(key: string, create: () => V): V {
    const found = this.#pools.get(key);
    if (found !== undefined) {
      if (key !== this.#newest) {
        this.#pools.delete(key);
        this.#pools.set(key, found);
        this.#newest = key;
      }
      return found;
    }
    const pool = create();
    this.#pools.set(key, pool);
    this.#newest = key;
    if (this.#pools.size > this.#max) {
      const [eldestKey, eldest] = this.#pools.entries().next().value as [string, V];
      this.#pools.delete(eldestKey);
      this.#onEvict(eldest);
    }
    return pool;
  }

  /** How many pools are open. */
  get size(): number {
    return this.#pools.size;
  }

  /** Removes and returns every pool. */
  drain(): V[] {
    const all = [...this.#pools.values()];
    this.#pools.clear();
    this.#newest = undefined;
    return all;
  }
}
