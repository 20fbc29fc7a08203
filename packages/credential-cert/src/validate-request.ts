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
export type RequestValidator = (request: AcquireTokenForClientRequest) => readonly string[];

/**
 * Builds a {@link RequestValidator} for one client. Apps keep their scopes arrays and pass them
 * over and over: it remembers the frozen copy made of each array it validated (weakly, so a
 * dropped array takes its copy with it; the last one is checked first, without a lookup) and reuses
 * the copy while that array still holds exactly the copied strings (compared element by element on
 * every call, so an array changed in place is validated again). Everything else is checked on every
 * call.
 *
 * @example
 * ```ts
 * const validate = createRequestValidator();
 * const scopes = validate({ scopes: ["https://vault.azure.net/.default"] }); // frozen copy
 * ```
 */
export function createRequestValidator(): RequestValidator {
  // Nothing a caller passes is this object, so the first call always validates.
  let lastInput: unknown = NOTHING;
  let lastCopy: readonly string[] = [];
  const copies = new WeakMap<readonly unknown[], readonly string[]>();

  const scopesOf = (scopes: unknown): readonly string[] => {
    if (scopes === lastInput && unchanged(scopes as readonly unknown[], lastCopy)) return lastCopy;
    if (Array.isArray(scopes)) {
      const known = copies.get(scopes);
      if (known !== undefined && unchanged(scopes, known)) {
        lastInput = scopes;
        lastCopy = known;
        return known;
      }
    }
    if (
      !Array.isArray(scopes) ||
      scopes.length === 0 ||
      !scopes.every((s) => typeof s === "string" && s.trim() !== "")
    ) {
      throw invalidOptions(
        PACKAGE,
        '`scopes` must be a non-empty array of scopes, e.g. ["https://vault.azure.net/.default"].',
      );
    }
    const copy: readonly string[] = Object.freeze([...(scopes as string[])]);
    copies.set(scopes, copy);
    lastInput = scopes;
    lastCopy = copy;
    return copy;
  };

  return (request) => {
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
    const scopes = scopesOf(request.scopes);
    if (request.mtlsProofOfPossession !== undefined && typeof request.mtlsProofOfPossession !== "boolean") {
      throw invalidOptions(PACKAGE, "`mtlsProofOfPossession` must be true or false.");
    }
    if (request.claims !== undefined && (typeof request.claims !== "string" || request.claims === "")) {
      throw invalidOptions(PACKAGE, "`claims` must be the claims challenge JSON text the resource sent.");
    }
    // Before any I/O: CR/LF would become a retried network error (undici) or a rewritten header (axios).
    if (request.correlationId !== undefined) assertCorrelationId(PACKAGE, request.correlationId);
    return scopes;
  };
}

const NOTHING = {};

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
