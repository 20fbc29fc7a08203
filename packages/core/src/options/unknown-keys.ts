import { type CertboundError, invalidOptions } from "../protocol/errors";

// Longest key name compared for a suggestion: the distance costs length x length, and no option
// name is anywhere near this long (a hostile or generated key just gets the list of known names).
const MAX_COMPARED_LENGTH = 64;
// Longest part of an unknown key quoted in a message.
const MAX_QUOTED_LENGTH = 48;

/**
 * The known name closest to `name`, or `undefined` when none is close enough to be a likely typo.
 * Names are compared ignoring case, `_` and `-` (`client_id` finds `clientId`), by optimal string
 * alignment distance (Levenshtein plus swapped neighbours: `mtlsProofOfPossesion` finds
 * `mtlsProofOfPossession`); a known name that ends with the unknown one also counts
 * (`keyPem` finds `privateKeyPem`).
 *
 * @public
 * @example
 * ```ts
 * closestKnownKey("mtlsProofOfPossesion", ["scopes", "mtlsProofOfPossession"]); // "mtlsProofOfPossession"
 * closestKnownKey("zzz", ["scopes"]); // undefined
 * ```
 */
export function closestKnownKey(name: string, known: readonly string[]): string | undefined {
  if (name.length === 0 || name.length > MAX_COMPARED_LENGTH) return undefined;
  const wanted = normalize(name);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = osaDistance(wanted, normalize(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= allowedDistance(wanted.length)) return best;
  // A shortened name: `keyPem` for `privateKeyPem`, `proof` is too short to mean anything.
  if (wanted.length >= 4) {
    const suffixed = known.filter((k) => normalize(k).endsWith(wanted));
    if (suffixed.length === 1) return suffixed[0];
  }
  return undefined;
}

/**
 * The `invalid_options` error for an unknown key: names the key and the closest known one, or
 * lists the known ones when none is close. The key is quoted with control characters escaped and
 * cut to a few dozen characters, so a hostile key cannot forge log lines or flood them.
 *
 * @public
 * @example
 * ```ts
 * throw unknownOptionError("@certbound/credential-cert", "mtlsProofOfPossesion", REQUEST_KEYS, "the acquireTokenForClient request");
 * // @certbound/credential-cert: Unknown option `mtlsProofOfPossesion` in the acquireTokenForClient request; did you mean `mtlsProofOfPossession`?
 * ```
 */
export function unknownOptionError(
  packageName: string,
  key: string,
  known: readonly string[],
  where: string,
): CertboundError {
  const suggestion = closestKnownKey(key, known);
  const advice = suggestion
    ? `did you mean \`${suggestion}\`?`
    : `known options: ${known.map((k) => `\`${k}\``).join(", ")}.`;
  return invalidOptions(packageName, `Unknown option \`${quoteKey(key)}\` in ${where}; ${advice}`);
}

/**
 * Throws {@link unknownOptionError} for the first own enumerable key of `value` that is not in
 * `known`. For option objects read once (factories, constructors); a check on every call should
 * walk its keys with a `switch` instead, which allocates nothing.
 *
 * @public
 * @example
 * ```ts
 * assertKnownKeys("@certbound/http-undici", options, ["ca", "proxy", "clock"], "createUndiciTransport options");
 * ```
 */
export function assertKnownKeys(
  packageName: string,
  value: object,
  known: readonly string[],
  where: string,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw unknownOptionError(packageName, key, known, where);
  }
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, "");
}

// Short names tolerate one edit, longer ones about one edit in three characters.
function allowedDistance(length: number): number {
  if (length <= 3) return 1;
  if (length <= 6) return 2;
  return Math.floor(length / 3);
}

function quoteKey(key: string): string {
  const shown = key.length > MAX_QUOTED_LENGTH ? `${key.slice(0, MAX_QUOTED_LENGTH)}...` : key;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped.
  return shown.replace(/[\u0000-\u001f\u007f-\u009f`\u2028\u2029]/g, (c) =>
    c === "`" ? "'" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// neighbours, each costing 1.
function osaDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let previous2: number[] = new Array(m + 1).fill(0);
  let previous: number[] = Array.from({ length: m + 1 }, (_, j) => j);
  let current: number[] = new Array(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    current[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (previous2[j - 2] as number) + 1);
      }
      current[j] = d;
    }
    [previous2, previous, current] = [previous, current, previous2];
  }
  return previous[m] as number;
}
