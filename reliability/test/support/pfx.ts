// PKCS#12 fixtures from the openssl CLI, an encoder independent of the code under test. The
// certificate and key pass through a temporary folder that is removed before this returns.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PFX of `certificatePem` + `keyPem` under `passphrase` (OpenSSL 3 defaults, or `-legacy`). */
export function makePfx(certificatePem: string, keyPem: string, passphrase: string, legacy = false): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "certbound-reliability-pfx-"));
  try {
    writeFileSync(join(dir, "cert.pem"), certificatePem);
    writeFileSync(join(dir, "key.pem"), keyPem, { mode: 0o600 });
    return execFileSync(
      "openssl",
      [
        "pkcs12",
        "-export",
        ...(legacy ? ["-legacy"] : []),
        "-in",
        "cert.pem",
        "-inkey",
        "key.pem",
        "-passout",
        `pass:${passphrase}`,
      ],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
