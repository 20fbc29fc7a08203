import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";

/** A scratch folder for CA bundles and client certificates; removed by `cleanup()`. */
export function scratch(): { dir: string; write(name: string, content: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "certbound-interop-"));
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * An app registration's certificate: RSA, since msal-node and @azure/identity sign PS256 client
 * assertions; self-signed-like (its own CA, not the emulator's), as Entra accepts any registered one.
 */
export function appCertificate(commonName: string): IssuedCertificate {
  return createCertificateAuthority({ commonName: `${commonName} CA`, keyType: "rsa" }).issue({
    commonName,
    keyType: "rsa",
  });
}
