import { type CertboundError, invalidOptions } from "../protocol/errors";
import { MAX_TIMER_MS } from "../seams/clock";

/**
 * Checks a duration option in milliseconds and applies its default: a finite number above 0
 * (or at least 0 with `min: 0`) and at most {@link MAX_TIMER_MS}, because Node.js silently turns a
 * longer timer into a 1 ms one (`timeoutMs: 2 ** 31` would time out at once). Throws
 * `invalid_options` naming the package and the option.
 *
 * @public
 * @example
 * ```ts
 * const timeoutMs = durationOption("@my-scope/my-credential", "timeoutMs", options.timeoutMs, 30_000);
 * ```
 */
export function durationOption(
  packageName: string,
  name: string,
  value: unknown,
  fallback: number,
  min: 0 | 1 = 1,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw invalidOptions(
      packageName,
      `\`${name}\` must be a ${min === 0 ? "non-negative" : "positive"} number of milliseconds (${fallback} by default), got ${String(value)}.`,
    );
  }
  if (value > MAX_TIMER_MS) throw durationTooLong(packageName, name, value);
  return value;
}

/**
 * The `invalid_options` error of a duration above {@link MAX_TIMER_MS}, with the fix.
 *
 * @public
 * @example
 * ```ts
 * if (value > MAX_TIMER_MS) throw durationTooLong("@my-scope/my-transport", "idleTimeoutMs", value);
 * ```
 */
export function durationTooLong(packageName: string, name: string, value: number): CertboundError {
  return invalidOptions(
    packageName,
    `\`${name}\` must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer Node.js can hold), got ${String(value)}. Pass a smaller number; there is no "no timeout" value.`,
  );
}
