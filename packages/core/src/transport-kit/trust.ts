import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { CertboundError } from "../protocol/errors";
import type { ClientTlsIdentity } from "../seams/transport";
import { LruMap } from "../token-cache/lru-map";
import { unusableTlsMaterial } from "./transport-errors";

let extraCaCertificates: { all: string[]; beyondRoots: string[] } | undefined;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const pemBody = (pem: string) => pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");

// Node adds NODE_EXTRA_CA_CERTS to its default trust store, but a context given more CAs gets a
// fresh copy of Node's bundled roots without them: read the file so "extra CAs on top of the
// system store" keeps meaning what it says. Read and split once per process; `beyondRoots` drops
// the certificates already among Node's bundled roots (NODE_EXTRA_CA_CERTS often points at the
// system bundle: 144 certificates, of which 122 were duplicates, cost 18 ms per new pool to add).
function nodeExtraCaCertificates(): { all: string[]; beyondRoots: string[] } {
  if (extraCaCertificates === undefined) {
    const file = process.env.NODE_EXTRA_CA_CERTS;
    let text = "";
    try {
      text = file ? readFileSync(file, "utf8") : "";
    } catch {
      text = "";
    }
    const blocks = text.match(PEM_BLOCK) ?? [];
    // With --use-openssl-ca a context's roots are OpenSSL's store, not Node's bundle: skip nothing.
    const opensslCa = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((arg) =>
      arg.includes("--use-openssl-ca"),
    );
    const roots = new Set(opensslCa ? [] : rootCertificates.map(pemBody));
    extraCaCertificates = {
      all: text ? [text] : [],
      beyondRoots: blocks.filter((pem) => !roots.has(pemBody(pem))),
    };
  }
  return extraCaCertificates;
}

// The pool id of each identity object, computed once: hashing the certificate on every request
// would show in profiles, and the object is what requests carry. Copies of an identity (a frozen
// or copied TokenResult) still share the certificate text and the KeyObject, memoised too.
const identityIds = new WeakMap<ClientTlsIdentity, string>();
const certificateIds = new LruMap<string, string>(256);
const keyIds = new WeakMap<object, string>();

/**
 * The id that keys an identity's connection pools, computed from what the identity really
 * presents, never from its `x5tS256` field alone: base64url SHA-256 of the leaf certificate's DER
 * (its `x5t#S256`) plus a hash of the private key's public half. An identity object whose
 * `x5tS256` names another certificate than the one it carries is refused (`tls_handshake_failed`):
 * keyed by the field, it would make a later genuine request of that other certificate ride a
 * connection that presents this one. Memoised per identity object (a WeakMap), so it costs one
 * hash per identity, not per request.
 *
 * @public
 * @example
 * ```ts
 * const key = `${identityPoolId(request.clientIdentity, PACKAGE)} ${trustId(cas)}`;
 * ```
 */
export function identityPoolId(identity: ClientTlsIdentity, packageName = "@certbound/core"): string {
  const known = identityIds.get(identity);
  if (known !== undefined) return known;
  let x5t = certificateIds.get(identity.certificatePem);
  let keyId = keyIds.get(identity.privateKey);
  try {
    if (x5t === undefined) {
      x5t = createHash("sha256").update(new X509Certificate(identity.certificatePem).raw).digest("base64url");
      certificateIds.set(identity.certificatePem, x5t);
    }
    if (keyId === undefined) {
      const spki = createPublicKey(identity.privateKey).export({ type: "spki", format: "der" });
      keyId = createHash("sha256").update(spki).digest("base64url").slice(0, 22);
      keyIds.set(identity.privateKey, keyId);
    }
  } catch (cause) {
    throw unusableTlsMaterial(packageName, cause);
  }
  if (identity.x5tS256 !== x5t) {
    throw new CertboundError(
      "tls_handshake_failed",
      `${packageName}: the client identity's x5tS256 (${String(identity.x5tS256).slice(0, 64)}) is not the thumbprint of its certificate (${x5t}). Build identities from the certificate (e.g. result.bindingCertificate) instead of assembling them by hand.`,
    );
  }
  const id = `${x5t}.${keyId}`;
  identityIds.set(identity, id);
  return id;
}

/**
 * CA PEMs as a list, whether given as one PEM, a list or nothing.
 *
 * @public
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
 * @public
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
 * @public
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
 * @public
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
  /** Names the transport in errors (a forged identity is refused). @default "@certbound/core" */
  readonly packageName?: string | undefined;
}

/**
 * The pool key and trusted CAs of a request.
 *
 * @public
 * @example
 * ```ts
 * const { cas, key } = poolScope({ transportCas, identity: request.clientIdentity, ca: request.ca, pin });
 * const agent = pools.get(key, () => new https.Agent({ keepAlive: true, secureContext: secureContextFor(request.clientIdentity, cas) }));
 * ```
 */
export function poolScope(input: PoolScopeInput): PoolScope {
  // Every request asks, mostly with the same identity object and trust as the last one: then the
  // answer is the same (an identity object's id never changes; strings never change; an array of
  // CAs might, so a request with one is always worked out again).
  const last = lastScope;
  if (
    last !== undefined &&
    input.identity === last.identity &&
    input.ca === last.ca &&
    (input.ca === undefined || typeof input.ca === "string") &&
    input.transportCas === last.transportCas &&
    Object.isFrozen(input.transportCas) &&
    input.pin === last.pin &&
    input.route === last.route &&
    input.packageName === last.packageName
  ) {
    return last.scope;
  }
  const scope = computePoolScope(input);
  lastScope = {
    identity: input.identity,
    ca: input.ca,
    transportCas: input.transportCas,
    pin: input.pin,
    route: input.route,
    packageName: input.packageName,
    scope,
  };
  return scope;
}

// The last scope worked out, with what it was worked out from. The transport-wide CA list is
// compared by reference only when frozen (the transports' own setting is).
let lastScope:
  | (Pick<PoolScopeInput, "identity" | "ca" | "transportCas" | "pin" | "route" | "packageName"> & {
      scope: PoolScope;
    })
  | undefined;

function computePoolScope(input: PoolScopeInput): PoolScope {
  const cas = [...input.transportCas, ...caList(input.ca)];
  // Keyed by the certificate and key the identity really carries (see identityPoolId).
  const identityId = input.identity ? identityPoolId(input.identity, input.packageName) : "-";
  const parts = [identityId, trustId(cas), input.pin ?? "-"];
  if (input.route !== undefined) parts.push(input.route);
  return { cas, key: parts.join(" ") };
}

/**
 * One TLS context per pool: the client certificate and key (if any) and the trusted CAs (the
 * system store, `NODE_EXTRA_CA_CERTS` and `cas`). Build it once per pool so a new connection
 * re-parses nothing. Throws Node's error when the certificate, key or a CA is unusable
 * ({@link poolSecureContext} turns it into a certbound error).
 *
 * @public
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
  // A context holds no state a connection changes, so pools of one identity and trust share one:
  // a pool re-created after eviction (or another transport's) builds nothing. Per identity object
  // (WeakMap: the key material goes when the identity does), and in a small LRU without one.
  const trust = trustId(cas);
  const memo = identity ? contextsOf(identity) : anonymousContexts;
  const known = memo.get(trust);
  if (known !== undefined) return known;
  const context = buildSecureContext(identity, cas);
  memo.set(trust, context);
  return context;
}

const MAX_CONTEXTS_PER_IDENTITY = 8;
const contextsByIdentity = new WeakMap<ClientTlsIdentity, LruMap<string, SecureContext>>();
const anonymousContexts = new LruMap<string, SecureContext>(MAX_CONTEXTS_PER_IDENTITY);

function contextsOf(identity: ClientTlsIdentity): LruMap<string, SecureContext> {
  let memo = contextsByIdentity.get(identity);
  if (!memo) {
    memo = new LruMap<string, SecureContext>(MAX_CONTEXTS_PER_IDENTITY);
    contextsByIdentity.set(identity, memo);
  }
  return memo;
}

function buildSecureContext(identity: ClientTlsIdentity | undefined, cas: readonly string[]): SecureContext {
  const material = identity
    ? {
        cert: identity.certificatePem,
        // Node's TLS wants key material, not a KeyObject; it stays in this process's memory.
        key: identity.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      }
    : {};
  if (cas.length === 0) return createSecureContext(material);
  const extra = nodeExtraCaCertificates();
  // Adding CAs to a context built on the system store copies the already parsed roots (under a
  // millisecond); passing `ca` would make Node re-parse ~150 root PEMs per pool (~18 ms). The copy
  // lacks NODE_EXTRA_CA_CERTS, so those are added too, minus the ones Node bundles anyway.
  const context = createSecureContext(material);
  const native = (context as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === "function") {
    for (const pem of [...extra.beyondRoots, ...cas]) native.addCACert(pem);
    return context;
  }
  return createSecureContext({ ...material, ca: [...rootCertificates, ...extra.all, ...cas] });
}

/**
 * {@link secureContextFor} for a new pool: when Node refuses the certificate, its key or a CA,
 * fails with `tls_handshake_failed` (message prefixed with `packageName`), since no handshake
 * could ever succeed with that material.
 *
 * @public
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
