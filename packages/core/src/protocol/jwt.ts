/**
 * Reads a JWT's payload WITHOUT verifying it: for checks on a token we just received from the
 * identity provider over TLS (its `cnf` binding, its audience), never for trusting a token.
 * Returns `undefined` when the token is not a readable JWT (Entra may issue opaque tokens).
 *
 * @public
 * @example
 * ```ts
 * const cnf = decodeJwtPayload(result.accessToken)?.cnf;
 * ```
 */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return typeof payload === "object" && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `cnf["x5t#S256"]` a PoP token is bound to, when the token is a JWT that says so.
 *
 * @public
 * @example
 * ```ts
 * if (tokenBindingThumbprint(result.accessToken) !== result.bindingCertificate?.x5tS256) throw new Error("not bound");
 * ```
 */
export function tokenBindingThumbprint(token: string): string | undefined {
  const cnf = decodeJwtPayload(token)?.cnf;
  const value =
    typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
  return typeof value === "string" ? value : undefined;
}
