import { type MemoryStoreSlot, sweepClock } from "@certbound/core/credential-kit";

/** A local value, with its Redis name and the mark of the eviction sweep. */
interface LocalSlot extends MemoryStoreSlot {
  readonly name: string;
  used: boolean;
}

/**
 * The in-process level in front of Redis: cache key to value and expiry, so that a hit does no
 * Redis I/O. Its slots have the shape of core's memory-store slots, and the store hands them to the
 * token manager (`provideCacheStoreSlots`): a token manager's hit in this level then costs what a
 * hit in core's memory store costs (one lookup, nothing parsed, no clock read), instead of a `get`,
 * a clock reading and a second lookup of what the value decodes to. Bounded with the "clock"
 * approximation of LRU (a hit only sets a mark; eviction gives marked slots a second chance), so a
 * hit never reorders a map. It also maps Redis names back to keys, so that an eviction announced by
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
  readonly #slots = new Map<string, LocalSlot>();
  readonly #keys = new Map<string, string>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** The value while `now` is before its expiry. */
  get(key: string, now: number): string | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (now >= slot.expiresAt) {
      this.delete(key);
      return undefined;
    }
    if (!slot.used) slot.used = true;
    return slot.value;
  }

  /** The key's slot, expired or not: the token manager checks the token's own expiry. */
  slot(key: string): MemoryStoreSlot | undefined {
    const slot = this.#slots.get(key);
    if (slot !== undefined && !slot.used) slot.used = true;
    return slot;
  }

  set(key: string, name: string, value: string, expiresAt: number): void {
    this.delete(key);
    this.#slots.set(key, {
      value,
      expiresAt,
      stored: undefined,
      certificate: undefined,
      entry: undefined,
      name,
      used: false,
    });
    this.#keys.set(name, key);
    if (this.#slots.size > this.#max) this.#evictOne();
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#keys.delete(slot.name);
  }

  deleteByName(name: string): void {
    const key = this.#keys.get(name);
    if (key !== undefined) this.delete(key);
  }

  #evictOne(): void {
    const [, slot] = sweepClock(this.#slots);
    this.#keys.delete(slot.name);
  }
}
