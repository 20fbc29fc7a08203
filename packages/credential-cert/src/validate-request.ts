import { assertCorrelationId, invalidOptions, unknownOptionError } from "@certbound/core/credential-kit";
import type { AcquireTokenForClientRequest } from "./options";
import { PACKAGE } from "./package-name";

/**
 * Checks one `acquireTokenForClient` request and returns its scopes as a frozen copy (the copy
 * goes into the cache and back to callers in `TokenResult.scopes`, so neither the caller's array
 * nor a result can change a cached entry). Throws `invalid_options` before any work.
 *
 * @example
 * ```ts
 * const validate: RequestValidator = createRequestValidator();
 * ```
 */
export interface RequestValidator {
  (request: AcquireTokenForClientRequest): readonly string[];
  /**
   * The same checks of the fields, given apart (the Credential method `getToken` has no request
   * object, and building one just to take it apart again costs a share of a cache hit). The caller
   * has checked the keys of whatever object the fields came from.
   */
  fields(
    scopes: unknown,
    mtlsProofOfPossession: unknown,
    claims: unknown,
    correlationId: unknown,
  ): readonly string[];
}

/**
 * Builds a {@link RequestValidator} for one client. Validating and copying the scopes is most of
 * what a cache hit costs, and apps ask for the same few scopes over and over, mostly with a fresh
 * array each time (`{ scopes: [scope] }`). So it remembers the frozen copies it made: the last one
 * (compared element by element, no lookup), single-scope copies by their scope string (bounded, two
 * generations), and copies of multi-scope arrays by array (weakly). A remembered copy is served only
 * while the array holds exactly its strings (`===` per element, on every call), and a string equal to
 * one that passed validation passes again, so a fresh array costs a few comparisons and no
 * allocation, and an array changed in place is validated again. Everything else is checked on every
 * call.
 *
 * @example
 * ```ts
 * const validate = createRequestValidator();
 * const scopes = validate({ scopes: ["https://vault.azure.net/.default"] }); // frozen copy
 * ```
 */
export function createRequestValidator(): RequestValidator {
  let lastCopy: readonly string[] = NO_SCOPES;
  // Single-scope copies by their scope; two generations bound it (a forgotten one is made again).
  let byScope = new Map<string, readonly string[]>();
  let previousByScope = new Map<string, readonly string[]>();
  const copies = new WeakMap<readonly unknown[], readonly string[]>();

  const remembered = (scopes: readonly unknown[]): readonly string[] | undefined => {
    if (scopes.length === 1) {
      const scope = scopes[0];
      if (typeof scope !== "string") return undefined;
      let copy = byScope.get(scope);
      if (copy === undefined) {
        copy = previousByScope.get(scope);
        if (copy !== undefined) rememberScope(scope, copy);
      }
      return copy;
    }
    const known = copies.get(scopes);
    return known !== undefined && unchanged(scopes, known) ? known : undefined;
  };
  const rememberScope = (scope: string, copy: readonly string[]): void => {
    if (byScope.size >= REMEMBERED_SCOPES) {
      previousByScope = byScope;
      byScope = new Map();
    }
    byScope.set(scope, copy);
  };

  const scopesOf = (scopes: unknown): readonly string[] => {
    if (!Array.isArray(scopes) || scopes.length === 0) throw badScopes();
    if (unchanged(scopes, lastCopy)) return lastCopy;
    const known = remembered(scopes);
    if (known !== undefined) {
      lastCopy = known;
      return known;
    }
    const n = scopes.length;
    for (let i = 0; i < n; i++) {
      const s: unknown = scopes[i];
      if (typeof s !== "string" || s.trim() === "") throw badScopes();
    }
    const copy: readonly string[] = Object.freeze([...(scopes as string[])]);
    if (n === 1) rememberScope(copy[0] as string, copy);
    else copies.set(scopes, copy);
    lastCopy = copy;
    return copy;
  };

  const fields = (
    scopesInput: unknown,
    mtlsProofOfPossession: unknown,
    claims: unknown,
    correlationId: unknown,
  ): readonly string[] => {
    const scopes = scopesOf(scopesInput);
    if (mtlsProofOfPossession !== undefined && typeof mtlsProofOfPossession !== "boolean") {
      throw invalidOptions(PACKAGE, "`mtlsProofOfPossession` must be true or false.");
    }
    if (claims !== undefined && (typeof claims !== "string" || claims === "")) {
      throw invalidOptions(PACKAGE, "`claims` must be the claims challenge JSON text the resource sent.");
    }
    // Before any I/O: CR/LF would become a retried network error (undici) or a rewritten header (axios).
    if (correlationId !== undefined) assertCorrelationId(PACKAGE, correlationId);
    return scopes;
  };

  const validate = (request: AcquireTokenForClientRequest): readonly string[] => {
    if (typeof request !== "object" || request === null) {
      throw invalidOptions(
        PACKAGE,
        'acquireTokenForClient takes { scopes: ["<resource>/.default"], mtlsProofOfPossession? }.',
      );
    }
    // A misspelt key (`mtlsProofOfPossesion: true`) would otherwise turn a PoP request into a
    // Bearer one without a word. This runs on every cache hit: `for...in` over a literal walks
    // V8's cached key list and the switch compares interned strings, so nothing is allocated.
    for (const key in request) {
      switch (key) {
        case "scopes":
        case "mtlsProofOfPossession":
        case "forceRefresh":
        case "claims":
        case "correlationId":
        case "signal":
          continue;
        default:
          throw unknownOptionError(PACKAGE, key, REQUEST_KEYS, "the acquireTokenForClient request");
      }
    }
    // The checks of `fields`, written out again: one call less on every cache hit.
    const scopes = scopesOf(request.scopes);
    const { mtlsProofOfPossession, claims, correlationId } = request;
    if (mtlsProofOfPossession !== undefined && typeof mtlsProofOfPossession !== "boolean") {
      throw invalidOptions(PACKAGE, "`mtlsProofOfPossession` must be true or false.");
    }
    if (claims !== undefined && (typeof claims !== "string" || claims === "")) {
      throw invalidOptions(PACKAGE, "`claims` must be the claims challenge JSON text the resource sent.");
    }
    if (correlationId !== undefined) assertCorrelationId(PACKAGE, correlationId);
    return scopes;
  };
  return Object.assign(validate, { fields });
}

// Until the first copy: no caller's array is compared with it (an empty one fails first).
const NO_SCOPES: readonly string[] = Object.freeze([]);
// Single-scope copies remembered per generation: twice the default token cache's size, so a full
// cache's worth of scopes never turns a generation over on every pass (see core's CacheKeyMemo).
const REMEMBERED_SCOPES = 20_000;

function badScopes() {
  return invalidOptions(
    PACKAGE,
    '`scopes` must be a non-empty array of scopes, e.g. ["https://vault.azure.net/.default"].',
  );
}

// The keys of AcquireTokenForClientRequest, for the message (`satisfies`: none missing, none extra);
// keep the switch above in step.
const REQUEST_KEYS = Object.keys({
  scopes: true,
  mtlsProofOfPossession: true,
  forceRefresh: true,
  claims: true,
  correlationId: true,
  signal: true,
} satisfies Record<keyof AcquireTokenForClientRequest, true>);

// The copy was made from a validated array; while the array still holds the same strings (same
// length, `===` per element) it is still valid and the copy still equals it.
function unchanged(input: readonly unknown[], copy: readonly string[]): boolean {
  const n = copy.length;
  if (input.length !== n) return false;
  for (let i = 0; i < n; i++) if (input[i] !== copy[i]) return false;
  return true;
}
