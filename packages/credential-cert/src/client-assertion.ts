import { constants, createHash, type KeyObject, randomUUID, sign, type X509Certificate } from "node:crypto";
import { CertboundError } from "@certbound/core";
import { PACKAGE } from "./package-name";

/**
 * Signature algorithm of the client assertion. PS256 is what current MSAL versions send.
 *
 * @public
 */
export type AssertionAlgorithm = "PS256" | "RS256";

/**
 * Options of {@link createClientAssertion}.
 *
 * @public
 */
export interface ClientAssertionOptions {
  clientId: string;
  /** The token endpoint URL the assertion is sent to (`aud`). */
  audience: string;
  /** The certificate chain, leaf first. */
  chain: readonly X509Certificate[];
  privateKey: KeyObject;
  /** `x5t#S256` of the leaf (the PS256 header names the certificate by it). */
  x5tS256: string;
  /** Epoch milliseconds, from the injected clock. */
  now: number;
  /** Put the chain in the `x5c` header (subject name / issuer authentication, "SNI"). @default false */
  sendX5c?: boolean | undefined;
  /** @default "PS256" */
  algorithm?: AssertionAlgorithm | undefined;
  /** @default a new UUID */
  jti?: string | undefined;
}

/**
 * Lifetime of a client assertion (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-4-client-assertion).
 *
 * @public
 * @example
 * ```ts
 * const exp = Math.floor(Date.now() / 1000) + ASSERTION_LIFETIME_SECONDS;
 * ```
 */
export const ASSERTION_LIFETIME_SECONDS = 600;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function sha1Thumbprint(chain: readonly X509Certificate[]): string {
  const leaf = chain[0];
  if (!leaf) {
    throw new CertboundError(
      "invalid_certificate",
      `${PACKAGE}: the certificate chain is empty; pass the certificate.`,
    );
  }
  // SHA-1 here only names the certificate (RFC 7515 x5t); nothing is signed or checked with it.
  return createHash("sha1").update(leaf.raw).digest("base64url");
}

/**
 * Builds and signs the client assertion JWT with which a certificate authenticates a Bearer token
 * request (RFC 7523), as Entra ID documents it and MSAL.NET sends it (Internal/JsonWebToken.cs):
 * header `alg`, `typ` and the certificate's thumbprint: `x5t#S256` (SHA-256) with PS256, `x5t`
 * (SHA-1, base64url) with RS256; plus `x5c` with `sendX5c`. Claims `aud` (the token endpoint),
 * `iss` = `sub` = client id, `jti`, `nbf`, `iat`, `exp` (+10 minutes). Needs an RSA key: Entra ID
 * accepts only RS256/PS256 assertions, so an EC key fails with `invalid_certificate`.
 * `x5c` is the chain as a JSON array (RFC 7515 section 4.1.6, as msal-node sends it), where MSAL.NET
 * sends the leaf alone as a string; Entra ID reads both.
 * The assertion is a credential: never log it.
 *
 * @public
 * @example
 * ```ts
 * const assertion = createClientAssertion({ clientId, audience: tokenUrl, chain, privateKey, x5tS256, now: Date.now() });
 * ```
 */
export function createClientAssertion(options: ClientAssertionOptions): string {
  const keyType = options.privateKey.asymmetricKeyType;
  const algorithm = options.algorithm ?? "PS256";
  if (keyType !== "rsa" && keyType !== "rsa-pss") {
    throw new CertboundError(
      "invalid_certificate",
      `${PACKAGE}: Bearer tokens need a certificate with an RSA key: Entra ID accepts client assertions signed with RS256 or PS256 only, and this certificate has a${keyType === "ec" ? "n EC" : ` ${keyType ?? "unknown"}`} key. Use an RSA certificate, or request mtlsProofOfPossession: true (mTLS works with EC keys).`,
    );
  }
  if (keyType === "rsa-pss" && algorithm === "RS256") {
    throw new CertboundError(
      "invalid_options",
      `${PACKAGE}: an RSA-PSS key can only sign PS256 assertions; drop \`assertionAlgorithm: "RS256"\`.`,
    );
  }
  const iat = Math.floor(options.now / 1000);
  // One thumbprint, the one that goes with the algorithm (JsonWebToken.CreateJsonHeader in MSAL.NET).
  const header: Record<string, unknown> =
    algorithm === "PS256"
      ? { alg: algorithm, typ: "JWT", "x5t#S256": options.x5tS256 }
      : { alg: algorithm, typ: "JWT", x5t: sha1Thumbprint(options.chain) };
  if (options.sendX5c) header.x5c = options.chain.map((c) => c.raw.toString("base64"));
  const claims = {
    aud: options.audience,
    iss: options.clientId,
    sub: options.clientId,
    jti: options.jti ?? randomUUID(),
    nbf: iat,
    iat,
    exp: iat + ASSERTION_LIFETIME_SECONDS,
  };
  const signingInput = `${b64url(header)}.${b64url(claims)}`;
  const signature =
    algorithm === "PS256"
      ? sign("sha256", Buffer.from(signingInput), {
          key: options.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        })
      : sign("sha256", Buffer.from(signingInput), options.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}
