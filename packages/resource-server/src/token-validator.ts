import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { x5tS256 } from "@certbound/core/credential-kit";
import { TokenValidationError } from "./errors";
import { forwardedThumbprint, isTrustedProxy } from "./forwarded-certificate";
import { type Jose, loadJose } from "./jose-module";
import { JwksSource } from "./jwks-source";
import { checkOptions, type TokenValidatorOptions, type ValidatorSettings } from "./options";

/**
 * The claims of an Entra ID access token this package reads; every other claim is kept as sent.
 *
 * @public
 * @example
 * ```ts
 * const claims: EntraAccessTokenClaims = req.accessToken.claims;
 * console.log(claims.tid, claims.appid ?? claims.azp, claims.roles);
 * ```
 */
export interface EntraAccessTokenClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly sub?: string;
  /** The tenant that issued the token. */
  readonly tid: string;
  /** `"1.0"` or `"2.0"`. */
  readonly ver?: string;
  /** The client application (v1). */
  readonly appid?: string;
  /** The client application (v2). */
  readonly azp?: string;
  readonly oid?: string;
  readonly roles?: readonly string[];
  readonly scp?: string;
  /** The certificate binding of an mTLS PoP token (RFC 8705 section 3.1). */
  readonly cnf?: { readonly "x5t#S256"?: string };
  /** Every other claim, as sent. */
  readonly [claim: string]: unknown;
}

/**
 * An accepted token: its claims, whether it was certificate-bound, and the certificate's thumbprint.
 *
 * @public
 * @example
 * ```ts
 * const token: ValidatedToken = await validator.validateRequest(req);
 * if (token.tokenType === "mtls_pop") console.log("bound to", token.certificateThumbprint);
 * ```
 */
export interface ValidatedToken {
  readonly claims: EntraAccessTokenClaims;
  /** `"mtls_pop"` for a certificate-bound token (checked against the connection), else `"Bearer"`. */
  readonly tokenType: "mtls_pop" | "Bearer";
  /** `x5t#S256` of the client certificate the token is bound to (mtls_pop only). */
  readonly certificateThumbprint: string | undefined;
  readonly tenantId: string;
}

/**
 * What one validation looks at: the `Authorization` header, and where the client certificate comes
 * from (the TLS socket, or a trusted proxy's header).
 *
 * @public
 * @example
 * ```ts
 * const input: ValidationInput = { authorization: req.headers.authorization, socket: req.socket, headers: req.headers };
 * ```
 */
export interface ValidationInput {
  readonly authorization: string | undefined;
  /** The connection the request came on; its peer certificate is the one a PoP token must match. */
  readonly socket: IncomingMessage["socket"] | TLSSocket | undefined;
  /** Request headers, read only for a forwarded certificate from a trusted proxy. */
  readonly headers?: IncomingHttpHeaders | undefined;
}

/**
 * Validates Entra ID access tokens for one API.
 *
 * @public
 * @example
 * ```ts
 * const validator = createTokenValidator({ tenants: [tenantId], audiences: ["api://my-api"] });
 * const token = await validator.validateRequest(req); // throws TokenValidationError
 * ```
 */
export interface TokenValidator {
  /** Checks the request's token and certificate; resolves with the token or throws {@link TokenValidationError}. */
  validateRequest(request: IncomingMessage): Promise<ValidatedToken>;
  /** The same, from the parts. */
  validate(input: ValidationInput): Promise<ValidatedToken>;
}

/**
 * Creates a {@link TokenValidator}: RS256 signature against the issuer's JWKS (jose, cached, with
 * bounded refetch), issuer (v1 `https://sts.windows.net/{tid}/` or v2
 * `https://login.microsoftonline.com/{tid}/v2.0`) of an allowed tenant, audience, `exp`/`nbf` with
 * a small skew, and for a certificate-bound token `cnf["x5t#S256"]` equal to the SHA-256
 * thumbprint of the client certificate on this connection (RFC 8705 section 3). A token without
 * `cnf` is refused unless `acceptBearer` is set.
 *
 * @public
 * @example
 * ```ts
 * const validator = createTokenValidator({ tenants: ["72f988bf-86f1-41af-91ab-2d7cd011db47"], audiences: ["api://my-api"] });
 * ```
 */
export function createTokenValidator(options: TokenValidatorOptions): TokenValidator {
  const settings = checkOptions(options);
  const jwks = new JwksSource(settings);
  const validate = (input: ValidationInput) => validateToken(settings, jwks, input);
  return {
    validate,
    validateRequest: (request) =>
      validate({
        authorization: request.headers.authorization,
        socket: request.socket,
        headers: request.headers,
      }),
  };
}

// base64url parts; the signature may be empty here (`alg: none`): the header check names the refusal.
const JWS_PART = /^[A-Za-z0-9_-]*$/;

async function validateToken(
  settings: ValidatorSettings,
  jwks: JwksSource,
  input: ValidationInput,
): Promise<ValidatedToken> {
  const header = input.authorization;
  if (header === undefined || header === "") {
    throw new TokenValidationError("missing_token", "The request has no Authorization header.");
  }
  // Before any parsing: a huge header must cost nothing.
  if (header.length > settings.maxTokenLength + 16) {
    throw new TokenValidationError(
      "token_too_large",
      `The token is longer than ${settings.maxTokenLength} characters.`,
    );
  }
  // indexOf and slices, not a regular expression over the whole token: this runs on every request.
  const space = header.indexOf(" ");
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
  if (scheme !== "bearer" && scheme !== "mtls_pop") {
    throw new TokenValidationError(
      "missing_token",
      "The Authorization header is not a Bearer (or mtls_pop) token.",
    );
  }
  const token = header.slice(space + 1).trim();
  if (token.length > settings.maxTokenLength) {
    throw new TokenValidationError(
      "token_too_large",
      `The token is longer than ${settings.maxTokenLength} characters.`,
    );
  }
  const firstDot = token.indexOf(".");
  const secondDot = token.indexOf(".", firstDot + 1);
  if (
    firstDot <= 0 ||
    secondDot <= firstDot + 1 ||
    token.indexOf(".", secondDot + 1) !== -1 ||
    !JWS_PART.test(token.slice(0, firstDot))
  ) {
    throw new TokenValidationError(
      "malformed_token",
      "The token is not a signed JWT (three base64url parts).",
    );
  }
  checkHeader(token);

  let claims: EntraAccessTokenClaims;
  // Both are at hand after the first request: no extra wait on the hot path.
  const loading = loadJose();
  const jose = loading instanceof Promise ? await loading : loading;
  try {
    const ready = jwks.keys();
    const keys = typeof ready === "function" ? ready : await ready;
    const verified = await jose.jwtVerify(token, keys, {
      ...settings.verifyOptions,
      currentDate: new Date(settings.now()),
    });
    claims = verified.payload as unknown as EntraAccessTokenClaims;
  } catch (error) {
    throw mapJoseError(error, jose.errors);
  }

  const tenantId = settings.issuers.get(claims.iss as string) as string;
  if (typeof claims.tid !== "string" || claims.tid.toLowerCase() !== tenantId) {
    throw new TokenValidationError("invalid_tenant", "The token's tid does not match its issuer's tenant.");
  }

  const presented = presentedThumbprint(settings, input);
  const cnf = claims.cnf as unknown;
  let tokenType: ValidatedToken["tokenType"] = "Bearer";
  let certificateThumbprint: string | undefined;
  if (cnf === undefined) {
    if (!settings.acceptBearer || scheme === "mtls_pop") {
      throw new TokenValidationError(
        "bearer_not_accepted",
        "The token is not certificate-bound (no cnf claim); this API accepts only mTLS PoP tokens.",
      );
    }
  } else {
    const bound =
      typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
    if (typeof bound !== "string" || bound === "") {
      throw new TokenValidationError(
        "unsupported_confirmation",
        "The token's cnf claim has no x5t#S256 certificate thumbprint.",
      );
    }
    if (presented === undefined) {
      throw new TokenValidationError(
        "certificate_required",
        "The token is certificate-bound, but no client certificate came with the request. Present the token's binding certificate in the TLS handshake.",
      );
    }
    if (!sameThumbprint(bound, presented)) {
      throw new TokenValidationError(
        "certificate_mismatch",
        "The token is bound to another certificate than the one presented on this connection.",
      );
    }
    tokenType = "mtls_pop";
    certificateThumbprint = bound;
  }

  if (settings.requiredRoles && !hasAnyRole(claims, settings.requiredRoles)) {
    throw new TokenValidationError(
      "insufficient_scope",
      "The token grants none of the roles or scopes this API requires.",
    );
  }
  return { claims, tokenType, certificateThumbprint, tenantId };
}

/**
 * Refuses anything but RS256 before the keys are even looked up: `alg: none` and HMAC with the
 * public key as secret never reach a key, and cannot make this server fetch keys. `jku`, `x5u`,
 * `jwk` and `x5c` headers are never followed (keys come only from the configured issuer).
 */
function checkHeader(token: string): void {
  let header: { alg?: unknown; kid?: unknown } | undefined;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8"));
  } catch {
    header = undefined;
  }
  if (typeof header !== "object" || header === null) {
    throw new TokenValidationError("malformed_token", "The token's header is not JSON.");
  }
  if (header.alg !== "RS256") {
    throw new TokenValidationError(
      "unsupported_algorithm",
      `The token is signed with ${typeof header.alg === "string" ? header.alg.slice(0, 20) : "no algorithm"}; only RS256 is accepted.`,
    );
  }
  if (typeof header.kid !== "string" || header.kid === "" || header.kid.length > 256) {
    throw new TokenValidationError("malformed_token", "The token's header has no kid.");
  }
}

function presentedThumbprint(settings: ValidatorSettings, input: ValidationInput): string | undefined {
  const socket = input.socket as (TLSSocket & { remoteAddress?: string }) | undefined;
  const forwarded = settings.forwarded;
  if (forwarded && isTrustedProxy(forwarded, socket?.remoteAddress)) {
    // The proxy's own certificate (if it presents one) is not the client's: only the header counts.
    return forwardedThumbprint(forwarded, input.headers?.[forwarded.header]);
  }
  if (!socket || !(socket as { encrypted?: boolean }).encrypted) return undefined;
  return connectionThumbprint(socket);
}

// The client certificate's thumbprint, by connection: keep-alive requests on one connection hash
// it once. Sound across a TLS 1.2 renegotiation to another certificate too: the connection did
// prove possession of the first certificate's key, and a token bound to the new one is refused
// (a false refusal at worst, never a false acceptance).
const thumbprints = new WeakMap<object, string>();

function connectionThumbprint(socket: TLSSocket): string | undefined {
  const cached = thumbprints.get(socket);
  if (cached !== undefined) return cached;
  // getPeerX509Certificate (Node 15.9+) is several times cheaper than getPeerCertificate(), which
  // builds an object of every field on each call (about 2 us against 11 us here).
  const raw =
    typeof socket.getPeerX509Certificate === "function"
      ? socket.getPeerX509Certificate()?.raw
      : typeof socket.getPeerCertificate === "function"
        ? socket.getPeerCertificate()?.raw
        : undefined;
  if (!raw || raw.length === 0) return undefined;
  const thumbprint = x5tS256(raw);
  thumbprints.set(socket, thumbprint);
  return thumbprint;
}

function sameThumbprint(a: string, b: string): boolean {
  // Some issuers pad base64url; the value is public, so a plain comparison is enough.
  return a.replace(/=+$/, "") === b;
}

function hasAnyRole(claims: EntraAccessTokenClaims, required: readonly string[]): boolean {
  const granted = new Set<string>();
  if (Array.isArray(claims.roles)) for (const role of claims.roles) granted.add(String(role));
  if (typeof claims.scp === "string") for (const scope of claims.scp.split(" ")) granted.add(scope);
  return required.some((role) => granted.has(role));
}

function mapJoseError(error: unknown, errors: Jose["errors"]): TokenValidationError {
  if (error instanceof TokenValidationError) return error;
  if (error instanceof errors.JWTExpired) {
    return new TokenValidationError("token_expired", "The token has expired.");
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") {
      return new TokenValidationError(
        "invalid_issuer",
        "The token was issued by an issuer (tenant) this API does not accept.",
      );
    }
    if (error.claim === "aud") {
      return new TokenValidationError("invalid_audience", "The token is for another audience than this API.");
    }
    if (error.claim === "nbf" || error.claim === "iat") {
      return new TokenValidationError(
        "token_not_yet_valid",
        "The token is not valid yet (nbf in the future).",
      );
    }
    return new TokenValidationError(
      "malformed_token",
      `The token's ${error.claim} claim is missing or invalid.`,
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new TokenValidationError(
      "unknown_signing_key",
      "The token's kid is not one of the issuer's signing keys.",
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenValidationError("invalid_signature", "The token's signature is not valid.");
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new TokenValidationError(
      "unsupported_algorithm",
      "The token's algorithm is not accepted; only RS256 is.",
    );
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenValidationError("malformed_token", "The token is not a well-formed signed JWT.");
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenValidationError(
      "unknown_signing_key",
      "The issuer's key set has several keys for this kid.",
    );
  }
  // Timeouts, network failures, a JWKS that is not 200 or not a key set.
  const why = error instanceof Error ? error.message : String(error);
  return new TokenValidationError(
    "jwks_unavailable",
    `The issuer's signing keys could not be fetched (${why.slice(0, 200)}). Check that this server can reach the authority host.`,
    { cause: error },
  );
}
