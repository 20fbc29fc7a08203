import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { LruMap } from "../lru-map";
import type { ClientTlsIdentity } from "../transport";
import { unusableTlsMaterial } from "./transport-errors";

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

/**
 * CA PEMs as a list, whether given as one PEM, a list or nothing.
 *
 * @example
 * ```ts
 * const cas = [...caList(options.ca), ...caList(request.ca)];
 * ```
 */
export function caList(ca: string | readonly string[] | undefined): string[] {
  return ca === undefined ? [] : typeof ca === "string" ? [ca] : [...ca];
}

/**
 * A short stable id for a list of CA PEMs (`-` for none), part of a pool key: two requests share
 * connections only when they trust the same CAs.
 *
 * @example
 * ```ts
 * const key = `${identity?.x5tS256 ?? "-"} ${trustId(cas)} ${pin ?? "-"}`;
 * ```
 */
export function trustId(cas: readonly string[]): string {
  if (cas.length === 0) return "-";
  // Every request asks, usually with the same one CA string: hashing it each time showed in profiles.
  const single = cas.length === 1 ? (cas[0] as string) : undefined;
  const known = single === undefined ? undefined : trustIds.get(single);
  if (known !== undefined) return known;
  const id = createHash("sha256").update(cas.join("\n")).digest("base64url").slice(0, 22);
  if (single !== undefined) trustIds.set(single, id);
  return id;
}

const trustIds = new LruMap<string, string>(64);

/**
 * Which connections a request may use: the CAs it trusts (the transport's and its own) and a
 * pool key that differs whenever the client identity, the trust, the pin or the route does.
 *
 * @example
 * ```ts
 * const scope: PoolScope = poolScope({ transportCas, identity: request.clientIdentity, ca: request.ca, pin });
 * ```
 */
export interface PoolScope {
  readonly cas: readonly string[];
  readonly key: string;
}

/**
 * What decides a request's connection pool. Keying pools by all of it is what keeps a connection
 * opened with one client certificate from ever carrying a request for another identity (or for
 * none), or a request that trusts different CAs or pins the server.
 *
 * @example
 * ```ts
 * const scopeOf: PoolScopeInput = { transportCas: settings.cas, identity, ca: request.ca, pin, route: proxy?.href };
 * ```
 */
export interface PoolScopeInput {
  /** The transport-wide extra CAs. */
  readonly transportCas: readonly string[];
  readonly identity: ClientTlsIdentity | undefined;
  /** The request's own extra CAs. */
  readonly ca: string | readonly string[] | undefined;
  /** The normalised server pin. */
  readonly pin: string | undefined;
  /** Anything else that must not share connections, e.g. the proxy a pool tunnels through. */
  readonly route?: string | undefined;
}

/**
 * The pool key and trusted CAs of a request.
 *
 * @example
 * ```ts
 * const { cas, key } = poolScope({ transportCas, identity: request.clientIdentity, ca: request.ca, pin });
 * const agent = pools.get(key, () => new https.Agent({ keepAlive: true, secureContext: secureContextFor(request.clientIdentity, cas) }));
 * ```
 */
export function poolScope(input: PoolScopeInput): PoolScope {
  const cas = [...input.transportCas, ...caList(input.ca)];
  const parts = [input.identity?.x5tS256 ?? "-", trustId(cas), input.pin ?? "-"];
  if (input.route !== undefined) parts.push(input.route);
  return { cas, key: parts.join(" ") };
}

/**
 * One TLS context per pool: the client certificate and key (if any) and the trusted CAs (the
 * system store, `NODE_EXTRA_CA_CERTS` and `cas`). Build it once per pool so a new connection
 * re-parses nothing. Throws Node's error when the certificate, key or a CA is unusable
 * ({@link poolSecureContext} turns it into a certbound error).
 *
 * @example
 * ```ts
 * const secureContext = secureContextFor(request.clientIdentity, caList(request.ca));
 * const agent = new https.Agent({ keepAlive: true, secureContext });
 * ```
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

/**
 * {@link secureContextFor} for a new pool: when Node refuses the certificate, its key or a CA,
 * fails with `tls_handshake_failed` (message prefixed with `packageName`), since no handshake
 * could ever succeed with that material.
 *
 * @example
 * ```ts
 * const agent = pools.get(key, () => new https.Agent({ keepAlive: true, secureContext: poolSecureContext(identity, cas, PACKAGE) }));
 * ```
 */
export function poolSecureContext(
  identity: ClientTlsIdentity | undefined,
  cas: readonly string[],
  packageName: string,
): SecureContext {
  try {
    return secureContextFor(identity, cas);
  } catch (cause) {
    throw unusableTlsMaterial(packageName, cause);
  }
}
