import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { invalidOptions, x5tS256 } from "@certbound/core/credential-kit";
import { TokenValidationError } from "./errors";
import { PACKAGE } from "./package-name";

/**
 * How a TLS-terminating proxy forwards the client certificate.
 * - `"envoy"`: Envoy's `x-forwarded-client-cert` (`Hash=<hex SHA-256>;Cert="<url-encoded PEM>";...`).
 * - `"app-service"`: Azure App Service's `X-ARR-ClientCert` (base64 DER).
 * - `"nginx"`: nginx's `$ssl_client_escaped_cert` (url-encoded PEM) in a header you name.
 *
 * @public
 * @example
 * ```ts
 * const format: ForwardedCertificateFormat = "envoy";
 * ```
 */
export type ForwardedCertificateFormat = "envoy" | "app-service" | "nginx";

/**
 * Opt-in to a client certificate forwarded by a proxy you run. Only requests whose TCP peer is one
 * of `trustedProxies` may use the header; from anyone else it is ignored, so a client cannot claim
 * a certificate it does not hold by writing the header itself.
 *
 * @public
 * @example
 * ```ts
 * const forwarded: ForwardedCertificateOptions = { format: "envoy", trustedProxies: ["10.0.0.5"] };
 * ```
 */
export interface ForwardedCertificateOptions {
  readonly format: ForwardedCertificateFormat;
  /** IP addresses of the proxies that terminate TLS in front of this server (exact match). */
  readonly trustedProxies: readonly string[];
  /**
   * The header name. @default "x-forwarded-client-cert" for envoy, "x-arr-clientcert" for
   * app-service, "x-ssl-client-escaped-cert" for nginx
   */
  readonly header?: string | undefined;
}

const DEFAULT_HEADERS: Record<ForwardedCertificateFormat, string> = {
  envoy: "x-forwarded-client-cert",
  "app-service": "x-arr-clientcert",
  nginx: "x-ssl-client-escaped-cert",
};

// A certificate chain in PEM, url-encoded, is a few KiB; a header far larger is an attack.
const MAX_HEADER_LENGTH = 32 * 1024;

/** Checked options: the header name in lower case, the proxies as a set of canonical addresses. */
export interface ForwardedCertificateSettings {
  readonly format: ForwardedCertificateFormat;
  readonly header: string;
  readonly trustedProxies: ReadonlySet<string>;
}

export function checkForwardedOptions(
  options: ForwardedCertificateOptions | undefined,
): ForwardedCertificateSettings | undefined {
  if (options === undefined) return undefined;
  const fail = (why: string): never => {
    throw invalidOptions(PACKAGE, `\`forwardedCertificate\` ${why}`);
  };
  if (!(options.format in DEFAULT_HEADERS)) fail('`format` must be "envoy", "app-service" or "nginx".');
  const proxies = options.trustedProxies;
  if (!Array.isArray(proxies) || proxies.length === 0) {
    fail("needs `trustedProxies`: the IP addresses of your TLS-terminating proxies.");
  }
  for (const address of proxies) {
    if (typeof address !== "string" || isIP(address) === 0) {
      fail(`\`trustedProxies\` holds "${String(address).slice(0, 60)}", which is not an IP address.`);
    }
  }
  const header = options.header ?? DEFAULT_HEADERS[options.format];
  if (typeof header !== "string" || !/^[A-Za-z0-9-]+$/.test(header)) {
    fail("`header` must be an HTTP header name.");
  }
  return {
    format: options.format,
    header: header.toLowerCase(),
    trustedProxies: new Set(proxies.map(canonicalAddress)),
  };
}

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) is the same peer as `10.0.0.5`. */
function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith("::ffff:") && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

export function isTrustedProxy(
  settings: ForwardedCertificateSettings,
  remoteAddress: string | undefined,
): boolean {
  return remoteAddress !== undefined && settings.trustedProxies.has(canonicalAddress(remoteAddress));
}

/**
 * The `x5t#S256` of the certificate a trusted proxy forwarded, or undefined when it sent none.
 * A header that is present but unreadable is refused rather than ignored.
 */
export function forwardedThumbprint(
  settings: ForwardedCertificateSettings,
  value: string | string[] | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  // Two copies of the header: the proxy did not replace what the client sent.
  if (Array.isArray(value)) {
    if (value.length !== 1) throw unreadable("appears more than once");
    value = value[0] as string;
  }
  if (value === "") return undefined;
  if (value.length > MAX_HEADER_LENGTH) throw unreadable(`is longer than ${MAX_HEADER_LENGTH} characters`);
  // Node joins a repeated header with ", "; neither base64 nor url-encoded PEM holds a comma, so one
  // here means a second copy (the client's own) next to the proxy's.
  if (settings.format !== "envoy" && value.includes(",")) throw unreadable("appears more than once");
  switch (settings.format) {
    case "app-service":
      return thumbprintOfDer(Buffer.from(value, "base64"));
    case "nginx":
      return thumbprintOfPem(safeDecode(value));
    case "envoy":
      return envoyThumbprint(value);
  }
}

function unreadable(why: string): TokenValidationError {
  return new TokenValidationError(
    "untrusted_forwarded_certificate",
    `The forwarded client certificate header ${why}. Check the proxy's forwarding settings.`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw unreadable("is not url-encoded");
  }
}

function thumbprintOfPem(pem: string): string {
  // Only the leaf counts: the first certificate of the chain.
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!first) throw unreadable("holds no PEM certificate");
  try {
    return x5tS256(new X509Certificate(first).raw);
  } catch {
    throw unreadable("holds a certificate that cannot be parsed");
  }
}

function thumbprintOfDer(der: Buffer): string {
  try {
    return x5tS256(new X509Certificate(der).raw);
  } catch {
    throw unreadable("holds a certificate that cannot be parsed");
  }
}

/**
 * Envoy appends one element per proxy, comma-separated; the last one is from the proxy next to us
 * (the one we trust). Inside an element, `;`-separated `Key=value` pairs, values possibly quoted.
 */
function envoyThumbprint(value: string): string | undefined {
  const elements = splitOutsideQuotes(value, ",");
  const last = elements[elements.length - 1] ?? "";
  const fields = new Map<string, string>();
  for (const pair of splitOutsideQuotes(last, ";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\"/g, '"');
    fields.set(pair.slice(0, eq).trim().toLowerCase(), v);
  }
  const cert = fields.get("cert");
  const hash = fields.get("hash");
  const fromHash =
    hash === undefined
      ? undefined
      : /^[0-9a-f]{64}$/i.test(hash)
        ? Buffer.from(hash, "hex").toString("base64url")
        : (() => {
            throw unreadable("has a Hash that is not a hex SHA-256");
          })();
  if (cert === undefined) return fromHash;
  const fromCert = thumbprintOfPem(safeDecode(cert));
  if (fromHash !== undefined && fromHash !== fromCert)
    throw unreadable("has a Hash that does not match its Cert");
  return fromCert;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\" && quoted && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}
