// One EC certificate and key exported by the openssl CLI in every PKCS#12 encoding worth reading.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const VARIANT_PASSPHRASE = "variant passphrase";
export const UTF8_PASSPHRASE = "pässwörd ✓ \u{1F512}";

export interface PfxVariant {
  readonly bytes: Buffer;
  /** What to open it with; `undefined` and `""` both mean no passphrase. */
  readonly passphrase: string | undefined;
  /** Whether some other passphrase must fail (false when nothing in the file is protected). */
  readonly protectedByPassphrase: boolean;
}

export interface PfxVariants {
  readonly certPem: string;
  readonly variants: Readonly<Record<string, PfxVariant>>;
  cleanup(): void;
}

// name -> [openssl pkcs12 -export options, passphrase, protected]
const RECIPES: Record<string, [string[], string, boolean]> = {
  "OpenSSL 3 default (PBES2 AES-256-CBC, HMAC-SHA256)": [[], VARIANT_PASSPHRASE, true],
  "legacy (RC2-40 certificates, 3DES key, HMAC-SHA1)": [["-legacy"], VARIANT_PASSPHRASE, true],
  "AES-128 key, AES-192 certificates, HMAC-SHA512": [
    ["-keypbe", "aes-128-cbc", "-certpbe", "aes-192-cbc", "-macalg", "sha512"],
    VARIANT_PASSPHRASE,
    true,
  ],
  "HMAC-SHA384 MAC": [["-macalg", "sha384"], VARIANT_PASSPHRASE, true],
  "PBES2 DES-EDE3 key, pbeWithSHAAnd3-KeyTripleDES certificates": [
    ["-keypbe", "des-ede3-cbc", "-certpbe", "PBE-SHA1-3DES"],
    VARIANT_PASSPHRASE,
    true,
  ],
  "one iteration, MAC iteration count left out": [["-noiter", "-nomaciter"], VARIANT_PASSPHRASE, true],
  "no MAC (modern)": [["-nomac"], VARIANT_PASSPHRASE, true],
  "no MAC (legacy)": [["-legacy", "-nomac"], VARIANT_PASSPHRASE, true],
  "empty passphrase (modern)": [[], "", true],
  "empty passphrase (legacy)": [["-legacy"], "", true],
  "no encryption, MAC only": [["-keypbe", "NONE", "-certpbe", "NONE"], VARIANT_PASSPHRASE, true],
  "no encryption, no MAC": [["-keypbe", "NONE", "-certpbe", "NONE", "-nomac"], "", false],
  "UTF-8 passphrase (modern)": [[], UTF8_PASSPHRASE, true],
  "UTF-8 passphrase (legacy)": [["-legacy"], UTF8_PASSPHRASE, true],
};

/** Every variant's name (known before the files are made, for `it.each`). */
export const PFX_VARIANT_NAMES: readonly string[] = Object.keys(RECIPES);

/**
 * Encodings openssl can still write but node-forge does not read (no exporter has defaulted to them
 * for two decades): refused up front, with a message naming the scheme. Made with the others.
 */
export const UNREAD_RECIPES: Record<string, [string[], string, boolean]> = {
  "RC2-128 certificates, 2-key 3DES key (pbeWithSHAAnd2-KeyTripleDES)": [
    ["-legacy", "-certpbe", "PBE-SHA1-RC2-128", "-keypbe", "PBE-SHA1-2DES"],
    VARIANT_PASSPHRASE,
    true,
  ],
};

/**
 * Writes `key.pem` (P-256) and a 30-day self-signed `cert.pem` for `CN=commonName` into the folder
 * `openssl` runs in: the pair every PFX fixture here is exported from.
 */
export function makeSelfSignedPair(openssl: (args: string[]) => unknown, commonName: string): void {
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"]);
  openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    "key.pem",
    "-out",
    "cert.pem",
    "-days",
    "30",
    "-subj",
    `/CN=${commonName}`,
  ]);
}

export function makePfxVariants(): PfxVariants {
  const dir = mkdtempSync(join(tmpdir(), "certbound-pfx-"));
  const run = (args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  makeSelfSignedPair(run, "pfx-variants");
  const variants: Record<string, PfxVariant> = {};
  Object.entries({ ...RECIPES, ...UNREAD_RECIPES }).forEach(
    ([name, [options, passphrase, protectedByPassphrase]], i) => {
      const out = `v${i}.pfx`;
      run([
        "pkcs12",
        "-export",
        "-in",
        "cert.pem",
        "-inkey",
        "key.pem",
        "-out",
        out,
        "-passout",
        `pass:${passphrase}`,
        ...options,
      ]);
      variants[name] = { bytes: readFileSync(join(dir, out)), passphrase, protectedByPassphrase };
    },
  );
  return {
    certPem: readFileSync(join(dir, "cert.pem"), "utf8"),
    variants,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
