import { x5tS256 } from "@certbound/core/credential-kit";
import { type Exchange, toRecord } from "./exchange";
import type { EmulatorStats, EndpointName, RecordedRequest } from "./types";

/** Every endpoint name, in the order stats list them. */
export const ENDPOINTS: readonly EndpointName[] = [
  "token",
  "mtlsToken",
  "openidConfiguration",
  "jwks",
  "instanceDiscovery",
  "getPlatformMetadata",
  "issueCredential",
  "attestation",
  "imdsToken",
  "compute",
  "appService",
  "serviceFabric",
  "azureArc",
  "cloudShell",
  "machineLearning",
  "resource",
];

/** How many requests {@link EmulatorStats.recent} keeps. */
export const RECENT_LIMIT = 200;

// Headers that carry a credential: a bearer token, the App Service/Service Fabric/ML secret, the Arc key.
const SECRET_HEADERS = new Set([
  "authorization",
  "secret",
  "x-identity-header",
  "proxy-authorization",
  "cookie",
]);
const SECRET_FORM_FIELDS = new Set(["client_assertion", "client_secret"]);
const SECRET_JSON_FIELDS = new Set(["attestation_token"]);
const REDACTED = "<redacted>";

export type ServerName = keyof EmulatorStats["handshakes"];

/** Counts requests and handshakes and keeps the recent requests, redacted. */
export class StatsRecorder {
  private requests = emptyCounts();
  private handshakes = { authority: 0, mtls: 0, resource: 0, serviceFabric: 0 };
  private recent: RecordedRequest[] = [];

  handshake(server: ServerName): void {
    this.handshakes[server]++;
  }

  record(endpoint: EndpointName, exchange: Exchange): void {
    this.requests[endpoint]++;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(exchange.headers)) {
      headers[name] = SECRET_HEADERS.has(name) ? REDACTED : value;
    }
    const entry: RecordedRequest = {
      endpoint,
      method: exchange.method,
      path: exchange.path,
      query: toRecord(exchange.query),
      headers,
    };
    if (exchange.form) {
      const form = toRecord(exchange.form);
      for (const name of Object.keys(form)) if (SECRET_FORM_FIELDS.has(name)) form[name] = REDACTED;
      entry.form = form;
    }
    const parsed = parseJsonObject(exchange);
    if (parsed !== undefined) entry.json = parsed;
    if (exchange.clientCertificate) entry.clientCertificateX5tS256 = x5tS256(exchange.clientCertificate.raw);
    this.recent.push(entry);
    if (this.recent.length > RECENT_LIMIT) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
  }

  snapshot(): EmulatorStats {
    return structuredClone({ requests: this.requests, handshakes: this.handshakes, recent: this.recent });
  }

  reset(): void {
    this.requests = emptyCounts();
    this.handshakes = { authority: 0, mtls: 0, resource: 0, serviceFabric: 0 };
    this.recent = [];
  }
}

function emptyCounts(): Record<EndpointName, number> {
  return Object.fromEntries(ENDPOINTS.map((name) => [name, 0])) as Record<EndpointName, number>;
}

function parseJsonObject(exchange: Exchange): unknown {
  if (!(exchange.headers["content-type"] ?? "").toLowerCase().includes("json")) return undefined;
  try {
    const value: unknown = JSON.parse(exchange.body.toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const copy = { ...(value as Record<string, unknown>) };
      for (const name of Object.keys(copy)) if (SECRET_JSON_FIELDS.has(name)) copy[name] = REDACTED;
      return copy;
    }
    return value;
  } catch {
    return undefined;
  }
}
