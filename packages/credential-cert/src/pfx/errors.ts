import { CertboundError } from "@certbound/core";

const HOW_TO_FIX =
  "Pass the bytes of a PKCS#12 file (.pfx/.p12), e.g. from readFileSync, or its base64 text.";

/** The file is not PKCS#12 or is damaged. `detail` names the part: never secret material. */
export function invalidPfx(detail: string): CertboundError {
  return new CertboundError("invalid_certificate", `The PFX could not be read (${detail}). ${HOW_TO_FIX}`);
}

/** The file uses a PKCS#12 feature this reader does not implement. */
export function unsupportedPfx(feature: string): CertboundError {
  return new CertboundError(
    "invalid_certificate",
    `The PFX uses ${feature}, which certbound does not read. Export it again with OpenSSL 3 defaults (openssl pkcs12 -export: PBES2 with AES-256-CBC, HMAC-SHA256 MAC) or as PEM files.`,
  );
}

/**
 * The passphrase does not open the file. `stage` tells where that showed: the integrity check (MAC),
 * or decryption in a file without one (or one whose contents use a second passphrase).
 */
export function wrongPassphrase(hasPassphrase: boolean, stage: "mac" | "decrypt"): CertboundError {
  if (!hasPassphrase) {
    return new CertboundError(
      "wrong_passphrase",
      "The PFX is protected by a passphrase. Pass it as `passphrase` next to `pfx`.",
    );
  }
  return new CertboundError(
    "wrong_passphrase",
    stage === "mac"
      ? "The passphrase does not open the PFX (its integrity check failed). Check the passphrase, or whether the file was damaged in transit."
      : "The passphrase does not decrypt the PFX's contents. Check the passphrase; a file exported with separate integrity and encryption passphrases (openssl -twopass) is not supported.",
  );
}

/**
 * The file asks for more key-derivation work than the limit (`maxKdfIterations`). `asked` is what
 * was counted when the limit was hit, a lower bound of what the whole file would need.
 */
export function tooMuchWork(asked: number, limit: number): CertboundError {
  return new CertboundError(
    "invalid_certificate",
    `The PFX needs too much work to open: at least ${asked} key-derivation iterations in total, and certbound reads at most ${limit} per file (\`maxKdfIterations\`), so that loading a certificate cannot block the process for long. Export it again with fewer iterations: OpenSSL 3's defaults (openssl pkcs12 -export, 2,048 iterations) need about 6,000. If you trust this file, raise \`maxKdfIterations\`.`,
  );
}
