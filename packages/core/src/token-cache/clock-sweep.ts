/**
 * The eviction step of the "clock" approximation of LRU, for a `Map` in insertion order whose
 * values carry their own `used` mark (set by a hit): removes and returns the first unmarked entry,
 * moving each marked one it passes to the back, unmarked (its second chance). A hit then costs one
 * flag write at most and never reorders the map. Used by `LruMap`, the token manager's
 * in-process cache and cache-redis's local level. The map must not be empty.
 *
 * @internal
 * @example
 * ```ts
 * if (map.size > max) {
 *   const [key, evicted] = sweepClock(map);
 * }
 * ```
 */
export function sweepClock<K, S extends { used: boolean }>(map: Map<K, S>): [K, S] {
  // Terminates: each pass either evicts or clears one mark, and there are finitely many marks.
  for (;;) {
    const first = map.entries().next().value as [K, S];
    const [key, slot] = first;
    map.delete(key);
    if (!slot.used) return first;
    slot.used = false;
    map.set(key, slot);
  }
}
