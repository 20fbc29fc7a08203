/**
 * A bounded map that evicts the least recently used entry. Relies on `Map` keeping insertion
 * order: a hit re-inserts its key at the end, so the first key is always the eviction candidate.
 * Every operation is O(1).
 *
 * @example
 * ```ts
 * const lru = new LruMap<string, number>(2, (key) => console.log("evicted", key));
 * ```
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;

  constructor(maxEntries: number, onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`LruMap: maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#max = maxEntries;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as K;
      const evicted = this.#map.get(oldest) as V;
      this.#map.delete(oldest);
      this.#onEvict?.(oldest, evicted);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  values(): IterableIterator<V> {
    return this.#map.values();
  }

  clear(): void {
    this.#map.clear();
  }
}
