import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM armour of a DER certificate request, as `openssl req` reads it. */
export function csrPem(der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** Runs `openssl req <args> -in <file>` on a CSR written to a temporary folder; stdout + stderr. */
export function opensslReq(der: Uint8Array, args: string[]): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "certbound-csr-"));
  try {
    const file = join(dir, "request.pem");
    writeFileSync(file, csrPem(der));
    const run = spawnSync("openssl", ["req", ...args, "-in", file], { encoding: "utf8" });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether `openssl req -verify` accepts the request's self-signature. OpenSSL 3.0 exits 0 even
 * when verification fails, so the verdict is read from its message.
 */
export function opensslVerifies(der: Uint8Array): boolean {
  const { status, output } = opensslReq(der, ["-verify", "-noout"]);
  return status === 0 && /self-signature verify OK/.test(output) && !/failure/i.test(output);
}
