import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import type { ClientTlsIdentity } from "@certbound/core";

let extraCaCertificates: string[] | undefined;

// Node adds NODE_EXTRA_CA_CERTS to its default trust store, but an explicit `ca` list replaces that
// store: read the file so "extra CAs on top of the system store" keeps meaning what it says.
function nodeExtraCaCertificates(): string[] {
  if (extraCaCertificates === undefined) {
    const file = process.env.NODE_EXTRA_CA_CERTS;
    try {
      extraCaCertificates = file ? [readFileSync(file, "utf8")] : [];
    } catch {
      extraCaCertificates = [];
    }
  }
  return extraCaCertificates;
}

/** CA PEMs as a list. */
export function caList(ca: string | readonly string[] | undefined): string[] {
  return ca === undefined ? [] : typeof ca === "string" ? [ca] : [...ca];
}

/** A short stable id for a list of CA PEMs, part of a pool key. */
export function trustId(cas: readonly string[]): string {
  if (cas.length === 0) return "-";
  return createHash("sha256").update(cas.join("\n")).digest("base64url").slice(0, 22);
}

/**
 * One TLS context per pool: the client certificate and key (if any) and the trusted CAs (the
 * system store plus `cas`). Built once per pool so a new connection re-parses nothing.
 */
export function secureContextFor(
  identity: ClientTlsIdentity | undefined,
  cas: readonly string[],
): SecureContext {
  const material = identity
    ? {
        cert: identity.certificatePem,
        // Node's TLS wants key material, not a KeyObject; it stays in this process's memory.
        key: identity.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      }
    : {};
  if (cas.length === 0) return createSecureContext(material);
  const extra = [...nodeExtraCaCertificates(), ...cas];
  // Adding CAs to a context built on the system store copies the already parsed roots (under a
  // millisecond); passing `ca` would make Node re-parse ~150 root PEMs per pool (~30 ms).
  const context = createSecureContext(material);
  const native = (context as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === "function") {
    for (const pem of extra) native.addCACert(pem);
    return context;
  }
  return createSecureContext({ ...material, ca: [...rootCertificates, ...extra] });
}
