import { createHash, type KeyObject, randomBytes, type X509Certificate } from "node:crypto";
import { type DecodedJwt, decodeJwt, signJwt, verifyJwtSignature } from "./jwt";

/** What an access token says about its subject. */
export interface TokenSubject {
  tenantId: string;
  /** The `aud`: the scope's resource without `/.default`. */
  audience: string;
  appId: string;
  objectId: string;
  /** The `x5t#S256` the token is bound to (PoP); absent for Bearer. */
  boundTo?: string | undefined;
  /** Extra claims, e.g. `xms_mirid` of a managed identity. */
  extraClaims?: Record<string, unknown>;
}

/** A minted access token with its times in epoch seconds. */
export interface MintedToken {
  accessToken: string;
  issuedAt: number;
  expiresOn: number;
  lifetimeSeconds: number;
}

/** Signs access tokens (RS256, `kid` in the JWKS) and checks the ones it signed. */
export class TokenIssuer {
  readonly kid: string;

  constructor(
    private readonly options: {
      signingKey: KeyObject;
      /** Certificate of the signing key, published in the JWKS as `x5c`. */
      certificate: X509Certificate;
      issuer: (tenantId: string) => string;
      lifetimeSeconds: number;
      now: () => number;
    },
  ) {
    // Entra uses the SHA-1 thumbprint of the signing certificate as kid.
    this.kid = createHash("sha1").update(options.certificate.raw).digest("base64url");
  }

  mint(subject: TokenSubject): MintedToken {
    const issuedAt = Math.floor(this.options.now() / 1000);
    const lifetimeSeconds = this.options.lifetimeSeconds;
    const issuer = this.options.issuer(subject.tenantId);
    const payload: Record<string, unknown> = {
      aud: subject.audience,
      iss: issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + lifetimeSeconds,
      aio: randomBytes(24).toString("base64url"),
      appid: subject.appId,
      appidacr: "2",
      azp: subject.appId,
      azpacr: "2",
      idp: issuer,
      idtyp: "app",
      oid: subject.objectId,
      sub: subject.objectId,
      tid: subject.tenantId,
      uti: randomBytes(16).toString("base64url"),
      ver: "2.0",
      ...(subject.extraClaims ?? {}),
      ...(subject.boundTo ? { cnf: { "x5t#S256": subject.boundTo } } : {}),
    };
    const accessToken = signJwt(
      { typ: "JWT", alg: "RS256", kid: this.kid, x5t: this.kid },
      payload,
      this.options.signingKey,
    );
    return { accessToken, issuedAt, expiresOn: issuedAt + lifetimeSeconds, lifetimeSeconds };
  }

  /** The decoded token when this issuer signed it (right kid, RS256, valid signature). */
  verify(token: string): DecodedJwt | undefined {
    const jwt = decodeJwt(token);
    if (jwt?.header.alg !== "RS256" || jwt.header.kid !== this.kid) return undefined;
    return verifyJwtSignature(jwt, "RS256", this.options.certificate.publicKey) ? jwt : undefined;
  }

  /** The JWKS document. */
  jwks(issuer: string): Record<string, unknown> {
    const jwk = this.options.certificate.publicKey.export({ format: "jwk" });
    return {
      keys: [
        {
          kty: "RSA",
          use: "sig",
          kid: this.kid,
          x5t: this.kid,
          n: jwk.n,
          e: jwk.e,
          x5c: [this.options.certificate.raw.toString("base64")],
          issuer,
        },
      ],
    };
  }
}

/** The body of a successful Entra token answer; `refresh_in` at half-life for tokens over 2 hours. */
export function entraTokenBody(
  minted: MintedToken,
  tokenType: "mtls_pop" | "Bearer",
): Record<string, unknown> {
  return {
    token_type: tokenType,
    expires_in: minted.lifetimeSeconds,
    ext_expires_in: minted.lifetimeSeconds,
    ...(minted.lifetimeSeconds > 7200 ? { refresh_in: Math.floor(minted.lifetimeSeconds / 2) } : {}),
    access_token: minted.accessToken,
  };
}
