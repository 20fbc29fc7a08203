/**
 * The in-process level in front of Redis: an LRU of cache key to value and expiry, so that a hit
 * does no Redis I/O. It also maps Redis names back to keys, so that an eviction announced by
 * another process drops the local copy.
 *
 * @internal
 * @example
 * ```ts
 * const local = new LocalLevel(10_000);
 * local.set("key", "name", "value", Date.now() + 60_000);
 * ```
 */
export class LocalLevel {
  readonly #max: number;
  readonly #slots = new Map<string, { value: string; name: string; expiresAt: number }>();
  readonly #keys = new Map<string, string>();
  #youngest: string | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** The value while `now` is before its expiry; refreshes its recency. */
  get(key: string, now: number): string | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (now >= slot.expiresAt) {
      this.delete(key);
      return undefined;
    }
    // Re-inserting moves it to the young end; skipped when it is already there (a hot key).
    if (key !== this.#youngest) {
      this.#slots.delete(key);
      this.#slots.set(key, slot);
      this.#youngest = key;
    }
    return slot.value;
  }

  set(key: string, name: string, value: string, expiresAt: number): void {
    this.delete(key);
    this.#slots.set(key, { value, name, expiresAt });
    this.#youngest = key;
    this.#keys.set(name, key);
    if (this.#slots.size > this.#max) {
      const oldest = this.#slots.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#keys.delete(slot.name);
    if (key === this.#youngest) this.#youngest = undefined;
  }

  deleteByName(name: string): void {
    const key = this.#keys.get(name);
    if (key !== undefined) this.delete(key);
  }
}
