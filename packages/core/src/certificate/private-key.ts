import { createPrivateKey, KeyObject } from "node:crypto";
import { CertboundError } from "../protocol/errors";

/**
 * Loads a private key from PEM (PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#8 `PRIVATE
 * KEY`, encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` with `passphrase`), DER PKCS#8 bytes, or a ready
 * `KeyObject`. Errors: `wrong_passphrase` (missing or wrong), `invalid_private_key` (anything else).
 * The passphrase never appears in an error.
 *
 * @public
 * @example
 * ```ts
 * const key = loadPrivateKey(readFileSync("key.pem", "utf8"), { passphrase: process.env.KEY_PASSPHRASE });
 * ```
 */
export function loadPrivateKey(
  key: string | Uint8Array | KeyObject,
  options: { passphrase?: string | undefined } = {},
): KeyObject {
  if (key instanceof KeyObject) {
    const object = key;
    if (object.type !== "private") {
      throw new CertboundError(
        "invalid_private_key",
        `Expected a private KeyObject, got a ${object.type} key.`,
      );
    }
    return object;
  }
  const encrypted = typeof key === "string" && key.includes("ENCRYPTED");
  if (encrypted && !options.passphrase) {
    throw new CertboundError(
      "wrong_passphrase",
      "The private key is encrypted but no passphrase was given. Pass `passphrase` with the key.",
    );
  }
  try {
    return typeof key === "string"
      ? createPrivateKey({
          key,
          format: "pem",
          ...(options.passphrase ? { passphrase: options.passphrase } : {}),
        })
      : createPrivateKey({ key: Buffer.from(key), format: "der", type: "pkcs8" });
  } catch (cause) {
    if (encrypted) {
      throw new CertboundError(
        "wrong_passphrase",
        "The passphrase does not decrypt the private key. Check it.",
        {
          cause: redactCause(cause),
        },
      );
    }
    throw new CertboundError(
      "invalid_private_key",
      "The private key could not be read. Pass PEM (PKCS#1, SEC1 or PKCS#8, optionally encrypted) or PKCS#8 DER.",
      { cause: redactCause(cause) },
    );
  }
}

// OpenSSL's messages carry no key material, but keep only the code and message, not the object.
function redactCause(cause: unknown): Error {
  const e = cause as { code?: string; message?: string };
  return new Error(`${e.code ?? "ERR"}: ${e.message ?? "unknown"}`);
}
