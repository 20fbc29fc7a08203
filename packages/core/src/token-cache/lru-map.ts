import { sweepClock } from "./clock-sweep";

/**
 * A bounded map with least-recently-used eviction, tuned for read-heavy use: a hit only marks the
 * entry as used (one `Map.get`, no reordering); eviction gives marked entries a second chance
 * (moves them to the back, unmarked) and drops the first unmarked one. This "clock" approximation
 * of LRU keeps every operation O(1) amortised and makes hits as cheap as a plain `Map` lookup.
 *
 * @public
 * @example
 * ```ts
 * const lru = new LruMap<string, number>(2, (key) => console.log("evicted", key));
 * ```
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, { value: V; used: boolean }>();
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
    const slot = this.#map.get(key);
    if (slot === undefined) return undefined;
    // Written only when it changes: hits on hot entries then touch no memory.
    if (!slot.used) slot.used = true;
    return slot.value;
  }

  set(key: K, value: V): void {
    const slot = this.#map.get(key);
    if (slot !== undefined) {
      slot.value = value;
      slot.used = true;
      return;
    }
    this.#map.set(key, { value, used: false });
    if (this.#map.size > this.#max) this.#evictOne();
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  #evictOne(): void {
    const [key, slot] = sweepClock(this.#map);
    this.#onEvict?.(key, slot.value);
  }
}
