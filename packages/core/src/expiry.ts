/**
 * A number at or above this is an absolute epoch (seconds); below, a relative duration.
 *
 * @example
 * ```ts
 * const absolute = value >= EPOCH_THRESHOLD_SECONDS;
 * ```
 */
export const EPOCH_THRESHOLD_SECONDS = 978_307_200;

/**
 * Reads an expiry field as services send it: seconds as a number or numeric string (absolute when
 * >= 978307200, else relative to `now`), or an ISO-8601 / RFC 1123 date string.
 * Returns epoch milliseconds, or `undefined` when the value is absent or unreadable.
 *
 * @example
 * ```ts
 * parseExpiry(3599, Date.now());             // now + 3599 s
 * parseExpiry("1767225600", Date.now());     // 2026-01-01T00:00:00Z
 * parseExpiry("2026-01-01T00:00:00Z", 0);    // same
 * ```
 */
export function parseExpiry(value: unknown, now: number): number | undefined {
  let seconds: number | undefined;
  if (typeof value === "number") seconds = value;
  else if (typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value)) seconds = Number(value);
  else if (typeof value === "string" && /\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}\/\d{4}|[a-z]{3}/i.test(value)) {
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : at;
  }
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  const ms = seconds >= EPOCH_THRESHOLD_SECONDS ? seconds * 1000 : now + seconds * 1000;
  return Number.isFinite(new Date(ms).getTime()) ? Math.round(ms) : undefined;
}

/**
 * The managed-identity half-life rule: a token that lives more than 2 hours is refreshed at half
 * its remaining lifetime.
 *
 * @example
 * ```ts
 * halfLifeRefresh(now, now + 24 * 3600_000); // now + 12 h
 * ```
 */
export function halfLifeRefresh(now: number, expiresAt: number): number | undefined {
  const lifetime = expiresAt - now;
  return lifetime > 2 * 3600_000 ? now + Math.floor(lifetime / 2) : undefined;
}
