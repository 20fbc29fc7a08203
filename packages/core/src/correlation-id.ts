import { randomUUID } from "node:crypto";

// A random UUID v4 prefix per process and a 48-bit counter: unique and UUID-shaped. The head string
// changes only every 65,536 ids and the tail comes from a table, because formatting the counter
// with toString(16).padStart() on every cache hit cost about a quarter of a hit. Correlation ids
// need to be unique, not unpredictable.
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const prefix = randomUUID().slice(0, 24);
let high = 0;
let low = 0;
let head = `${prefix}00000000`;

/**
 * A correlation id for work that sends nothing (a cache hit). Network requests use `randomUUID()`.
 *
 * @example
 * ```ts
 * nextCorrelationId(); // "1b4e28ba-2fa1-41d2-883f-000000000001"
 * ```
 */
export function nextCorrelationId(): string {
  low = (low + 1) & 0xffff;
  if (low === 0) {
    high = (high + 1) % 0x100000000;
    head = prefix + high.toString(16).padStart(8, "0");
  }
  return head + (HEX_BYTE[low >>> 8] as string) + (HEX_BYTE[low & 0xff] as string);
}
