import { createHash, KeyObject, type X509Certificate } from "node:crypto";
import { type BindingCertificate, CertboundError } from "@certbound/core";
import {
  assertKnownKeys,
  certificateNotBefore,
  createBindingCertificate,
  loadPrivateKey,
  parsePemChain,
} from "@certbound/core/credential-kit";
import type { CertificateInput } from "./certificate-input";
import { PACKAGE } from "./package-name";
import { readPfx } from "./pfx";

/**
 * A certificate checked and ready for TLS and for signing client assertions.
 *
 * @public
 */
export interface LoadedCertificate {
  /** Chain PEM, key and `x5t#S256`: the TLS client identity and the PoP binding certificate. */
  readonly binding: BindingCertificate;
  /** Leaf first. */
  readonly chain: readonly X509Certificate[];
  readonly notBefore: Date;
  /** SHA-1 thumbprint in upper-case hex, as the Entra portal shows it. */
  readonly thumbprintSha1: string;
}

// Every key of the certificate input forms (PEM, PFX, PEM + KeyObject); `satisfies` fails to
// compile when a form gains a key that is missing here.
const CERTIFICATE_INPUT_KEYS = Object.keys({
  certificatePem: true,
  privateKeyPem: true,
  privateKey: true,
  passphrase: true,
  pfx: true,
  maxKdfIterations: true,
} satisfies Record<AllKeys<CertificateInput>, true>);

// With a KeyObject, core's BindingCertificate and IssuedCertificate (a token result's
// `bindingCertificate`, a test CA's certificate) are accepted whole: their other fields describe
// the same certificate and key, and `privateKey` is the one used.
const WITH_KEY_OBJECT_KEYS = [...CERTIFICATE_INPUT_KEYS, "certificate", "x5tS256", "notAfter", "keyPem"];

type AllKeys<T> = T extends unknown ? keyof T : never;

const KEY_BLOCK =
  /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

const text = (value: string | Uint8Array) =>
  typeof value === "string"
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");

/**
 * Loads a certificate in any supported form and checks that its key matches. With `now`, an expired
 * or not-yet-valid certificate is refused too. Errors: `invalid_options` (unknown form),
 * `invalid_certificate`, `invalid_private_key`, `wrong_passphrase`, `cert_without_private_key`,
 * `certificate_expired`, `certificate_not_yet_valid`.
 *
 * @public
 * @example
 * ```ts
 * const loaded = loadCertificate({ pfx: readFileSync("app.pfx"), passphrase }, Date.now());
 * console.log(loaded.binding.x5tS256);
 * ```
 */
export function loadCertificate(input: CertificateInput, now?: number): LoadedCertificate {
  if (typeof input !== "object" || input === null) {
    throw new CertboundError(
      "invalid_options",
      `${PACKAGE}: \`certificate\` must be { certificatePem, privateKeyPem, passphrase? }, { pfx, passphrase? }, { certificatePem, privateKey } or a function returning one of them.`,
    );
  }
  // `keyPem` (what a test CA hands out) or `privateKeyPEM` would otherwise be ignored, and the
  // error would be a missing key instead of the misspelt name.
  assertKnownKeys(
    PACKAGE,
    input,
    (input as { privateKey?: unknown }).privateKey instanceof KeyObject
      ? WITH_KEY_OBJECT_KEYS
      : CERTIFICATE_INPUT_KEYS,
    "`certificate`",
  );
  const loaded =
    "pfx" in input && input.pfx !== undefined
      ? fromPfx(input.pfx, input.passphrase, input.maxKdfIterations)
      : fromPem(input);
  if (now !== undefined) assertTimeValid(loaded, now);
  return loaded;
}

function fromPem(input: CertificateInput): LoadedCertificate {
  const pemInput = input as {
    certificatePem?: unknown;
    privateKeyPem?: unknown;
    privateKey?: unknown;
    passphrase?: unknown;
  };
  const { certificatePem } = pemInput;
  if (typeof certificatePem !== "string" && !(certificatePem instanceof Uint8Array)) {
    throw new CertboundError(
      "invalid_options",
      `${PACKAGE}: \`certificate\` needs \`certificatePem\` (PEM text or bytes) or \`pfx\` (PKCS#12 bytes).`,
    );
  }
  const certText = text(certificatePem);
  const chain = parsePemChain(certText);
  let privateKey: KeyObject;
  if (pemInput.privateKey !== undefined) {
    if (!(pemInput.privateKey instanceof KeyObject) || pemInput.privateKey.type !== "private") {
      throw new CertboundError(
        "cert_without_private_key",
        `${PACKAGE}: \`privateKey\` must be a private KeyObject (e.g. from crypto.createPrivateKey); a public key cannot authenticate the app.`,
      );
    }
    privateKey = pemInput.privateKey;
  } else {
    const keySource =
      pemInput.privateKeyPem !== undefined ? pemInput.privateKeyPem : certText.match(KEY_BLOCK)?.[0];
    if (keySource === undefined) {
      throw new CertboundError(
        "cert_without_private_key",
        `${PACKAGE}: the certificate came without its private key. Pass \`privateKeyPem\` (or a combined PEM holding both, or a PFX with the key).`,
      );
    }
    if (typeof keySource !== "string" && !(keySource instanceof Uint8Array)) {
      throw new CertboundError(
        "invalid_private_key",
        `${PACKAGE}: \`privateKeyPem\` must be PEM text or bytes.`,
      );
    }
    const passphrase = typeof pemInput.passphrase === "string" ? pemInput.passphrase : undefined;
    privateKey = loadPrivateKey(text(keySource), { passphrase });
  }
  return finish(chain, privateKey);
}

function fromPfx(
  pfx: unknown,
  passphrase: string | undefined,
  maxKdfIterations: number | undefined,
): LoadedCertificate {
  let bytes: Uint8Array;
  if (pfx instanceof Uint8Array) bytes = pfx;
  else if (typeof pfx === "string" && /^[A-Za-z0-9+/=\s]+$/.test(pfx)) bytes = Buffer.from(pfx, "base64");
  else {
    throw new CertboundError(
      "invalid_certificate",
      `${PACKAGE}: \`pfx\` must be the bytes of a PKCS#12 file (e.g. readFileSync("app.pfx")) or their base64 text.`,
    );
  }
  const { certificates, keys } = readPfx(bytes, passphrase, { maxKdfIterations });
  if (certificates.length === 0) {
    throw new CertboundError("invalid_certificate", `${PACKAGE}: the PFX holds no certificate.`);
  }
  if (keys.length === 0) {
    throw new CertboundError(
      "cert_without_private_key",
      `${PACKAGE}: the PFX holds no private key. Export it again including the private key (e.g. openssl pkcs12 -export -inkey key.pem).`,
    );
  }
  // The leaf is the certificate one of the keys belongs to; the others form its chain.
  for (const key of keys) {
    const leaf = certificates.find((c) => c.checkPrivateKey(key));
    if (leaf) return finish([leaf, ...certificates.filter((c) => c !== leaf)], key);
  }
  throw new CertboundError(
    "cert_without_private_key",
    `${PACKAGE}: the private key in the PFX belongs to none of its certificates. Export the certificate together with its own key.`,
  );
}

function finish(chain: readonly X509Certificate[], privateKey: KeyObject): LoadedCertificate {
  const leaf = chain[0] as X509Certificate;
  const thumbprintSha1 = createHash("sha1").update(leaf.raw).digest("hex").toUpperCase();
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new CertboundError(
      "cert_without_private_key",
      `${PACKAGE}: the private key does not belong to the certificate (thumbprint ${thumbprintSha1}). Pass the key that was generated with this certificate.`,
    );
  }
  const binding = createBindingCertificate({ certificate: chain, privateKey });
  return { binding, chain, notBefore: certificateNotBefore(leaf), thumbprintSha1 };
}

/**
 * Refuses a certificate outside its validity period at `now` (the injected clock):
 * `certificate_expired` or `certificate_not_yet_valid`.
 *
 * @example
 * ```ts
 * assertTimeValid(loaded, clock.now());
 * ```
 */
export function assertTimeValid(loaded: LoadedCertificate, now: number): void {
  assertValidityWindow(loaded, loaded.notBefore.getTime(), loaded.binding.notAfter.getTime(), now);
}

/**
 * {@link assertTimeValid} against bounds read once at load time: the hot path of a fixed certificate
 * keeps them as numbers, so a caller changing the `notAfter` Date of a returned binding certificate
 * cannot move them.
 *
 * @example
 * ```ts
 * assertValidityWindow(loaded, notBeforeMs, notAfterMs, clock.now());
 * ```
 */
export function assertValidityWindow(
  loaded: LoadedCertificate,
  notBeforeMs: number,
  notAfterMs: number,
  now: number,
): void {
  if (notAfterMs <= now) {
    throw new CertboundError(
      "certificate_expired",
      `${PACKAGE}: the certificate (thumbprint ${loaded.thumbprintSha1}) expired on ${new Date(notAfterMs).toISOString()}. Renew it, register the new one on the app registration, and pass it here (a provider function picks it up without a restart).`,
    );
  }
  if (notBeforeMs > now) {
    throw new CertboundError(
      "certificate_not_yet_valid",
      `${PACKAGE}: the certificate (thumbprint ${loaded.thumbprintSha1}) is valid only from ${new Date(notBeforeMs).toISOString()}. Check the system clock, or wait until then.`,
    );
  }
}
