import { createHash, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { decodeJwt } from "./jwt";

/** How long an attestation token the emulator issues is valid. */
export const ATTESTATION_TOKEN_LIFETIME_SECONDS = 600;

/** A verified attestation token, or why it was refused. */
export type AttestationVerdict = { ok: true } | { ok: false; reason: string };

/**
 * The emulator's stand-in for the VM's attestation service (Microsoft Azure Attestation on a real
 * VM): it signs a short-lived ES256 token naming the SHA-256 of a key (`key_sha256`, base64url of
 * the SPKI DER), and issuecredential later checks that token's signature, issuer, lifetime and key
 * against the CSR's. It proves nothing about hardware; it lets a client's attestation provider be
 * exercised over the wire, and makes a missing or forged token fail as it would on IMDS.
 */
export class AttestationService {
  readonly #key: { privateKey: KeyObject; publicKey: KeyObject };
  readonly #now: () => number;
  readonly #issuer: () => string;

  constructor(now: () => number, issuer: () => string) {
    // P-256 is generated in well under a millisecond: every emulator can have its own.
    this.#key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#now = now;
    this.#issuer = issuer;
  }

  /** A token for the key whose SPKI DER is given. */
  issue(spkiDer: Buffer): string {
    const iat = Math.floor(this.#now() / 1000);
    const header = { alg: "ES256", typ: "JWT" };
    const payload = {
      iss: this.#issuer(),
      iat,
      nbf: iat,
      exp: iat + ATTESTATION_TOKEN_LIFETIME_SECONDS,
      "x-ms-attestation-type": "certbound-emulator",
      key_sha256: keyThumbprint(spkiDer),
    };
    const input = `${part(header)}.${part(payload)}`;
    const signature = sign("sha256", Buffer.from(input), {
      key: this.#key.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return `${input}.${signature.toString("base64url")}`;
  }

  /** Checks a token against the public key of the CSR it came with. */
  verify(token: string, publicKey: KeyObject): AttestationVerdict {
    const jwt = decodeJwt(token);
    if (!jwt) return { ok: false, reason: "it is not a JWT." };
    if (jwt.header.alg !== "ES256")
      return { ok: false, reason: "it is not signed ES256 by this attestation service." };
    let valid = false;
    try {
      valid = verify(
        "sha256",
        Buffer.from(jwt.signingInput),
        { key: this.#key.publicKey, dsaEncoding: "ieee-p1363" },
        jwt.signature,
      );
    } catch {
      valid = false;
    }
    if (!valid) return { ok: false, reason: "its signature does not verify." };
    const { iss, nbf, exp, key_sha256: keySha256 } = jwt.payload;
    if (iss !== this.#issuer()) return { ok: false, reason: "it was issued by another attestation service." };
    const now = this.#now() / 1000;
    if (typeof exp !== "number" || exp <= now) return { ok: false, reason: "it has expired." };
    if (typeof nbf !== "number" || nbf > now + 300) return { ok: false, reason: "it is not valid yet." };
    const expected = keyThumbprint(publicKey.export({ type: "spki", format: "der" }));
    if (keySha256 !== expected) return { ok: false, reason: "it attests a different key than the CSR's." };
    return { ok: true };
  }
}

/** base64url SHA-256 of a key's SPKI DER. */
export function keyThumbprint(spkiDer: Buffer): string {
  return createHash("sha256").update(spkiDer).digest("base64url");
}

function part(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
