import { constants, type KeyObject, sign, verify } from "node:crypto";

/** A JWT split into its parts; header and payload are parsed JSON objects. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header) + "." + base64url(payload)`: the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/** The signature algorithms the emulator verifies. */
export type JwtAlgorithm = "RS256" | "PS256";

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Signs a JWT with RS256. */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

function encodePart(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Splits and parses a compact JWS; `undefined` when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = parseObject(h);
  const payload = parseObject(p);
  if (!header || !payload) return undefined;
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") };
}

function parseObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies an RS256 or PS256 signature; false on any mismatch, including a key of the wrong kind. */
export function verifyJwtSignature(jwt: DecodedJwt, alg: JwtAlgorithm, publicKey: KeyObject): boolean {
  try {
    const data = Buffer.from(jwt.signingInput);
    return alg === "RS256"
      ? verify("sha256", data, publicKey, jwt.signature)
      : verify(
          "sha256",
          data,
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
          jwt.signature,
        );
  } catch {
    return false;
  }
}
