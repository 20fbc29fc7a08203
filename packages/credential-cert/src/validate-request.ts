import { assertCorrelationId, invalidOptions, unknownOptionError } from "@certbound/core/credential-kit";
import type { AcquireTokenForClientRequest } from "./options";
import { PACKAGE } from "./package-name";

/**
 * Checks one `acquireTokenForClient` request and returns its scopes. Throws `invalid_options`
 * before any work. A single scope comes back as the caller's own array (core's token manager
 * serves hits with the cached entry's frozen copy, and copies the array before any work that
 * outlives the call); several scopes come back as a frozen copy.
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
 * Builds a {@link RequestValidator} for one client. Apps ask for one scope at a time, mostly with
 * a fresh array each time (`{ scopes: [scope] }`): that array is checked on every call (an array,
 * one non-blank string) and handed on as it is, with no lookup: over thousands of scopes a lookup
 * per call in a table of its own is a likely CPU-cache miss, which is most of what separates a hit
 * on one key from a hit on many. Multi-scope arrays are copied and frozen, and the copy remembered
 * per array (weakly) while the array holds exactly its strings (`===` per element, on every call),
 * so an array changed in place is validated again.
 *
 * @example
 * ```ts
 * const validate = createRequestValidator();
 * const scopes = validate({ scopes: ["https://vault.azure.net/.default"] });
 * ```
 */
export function createRequestValidator(): RequestValidator {
  const copies = new WeakMap<readonly unknown[], readonly string[]>();

  const scopesOf = (scopes: unknown): readonly string[] => {
    if (!Array.isArray(scopes)) throw badScopes();
    const n = scopes.length;
    if (n === 1) {
      const s: unknown = scopes[0];
      if (typeof s !== "string" || blank(s)) throw badScopes();
      return scopes as readonly string[];
    }
    if (n === 0) throw badScopes();
    const known = copies.get(scopes);
    if (known !== undefined && unchanged(scopes, known)) return known;
    for (let i = 0; i < n; i++) {
      const s: unknown = scopes[i];
      if (typeof s !== "string" || blank(s)) throw badScopes();
    }
    const copy: readonly string[] = Object.freeze([...(scopes as string[])]);
    copies.set(scopes, copy);
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

// Blank as `String.prototype.trim` sees it; a scope starting with printable ASCII (every real one)
// is decided by one comparison.
function blank(s: string): boolean {
  const c = s.charCodeAt(0);
  return !(c > 0x20 && c < 0x7f) && s.trim() === "";
}

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
