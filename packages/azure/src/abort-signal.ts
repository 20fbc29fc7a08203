import type { GetTokenOptions } from "@azure/core-auth";

/** What the Azure SDK passes as `abortSignal` (`@azure/abort-controller`'s `AbortSignalLike`). */
type AbortSignalLike = NonNullable<GetTokenOptions["abortSignal"]>;

/**
 * The Azure SDK passes an `AbortSignalLike` (anything with `aborted` and `addEventListener`);
 * certbound credentials take a real `AbortSignal`. A real one passes through; a look-alike is
 * bridged to one that aborts with it (its listener is removed once the call settles).
 *
 * @internal
 * @example
 * ```ts
 * const bridged = toAbortSignal(options?.abortSignal);
 * try { await credential.getToken(scopes, { signal: bridged.signal }); } finally { bridged.release(); }
 * ```
 */
export function toAbortSignal(like: AbortSignalLike | undefined): {
  signal: AbortSignal | undefined;
  release: () => void;
} {
  if (like === undefined || like === null) return { signal: undefined, release: () => {} };
  if (like instanceof AbortSignal) return { signal: like, release: () => {} };
  const controller = new AbortController();
  if (like.aborted) {
    controller.abort();
    return { signal: controller.signal, release: () => {} };
  }
  const onAbort = () => controller.abort();
  like.addEventListener("abort", onAbort);
  return { signal: controller.signal, release: () => like.removeEventListener("abort", onAbort) };
}
