import type { X509Certificate } from "node:crypto";
import { X509Certificate as Certificate } from "node:crypto";
import { x5tS256 } from "@certbound/core/credential-kit";
import { decodeJwt } from "../jwt";
import type { ObservedRequest } from "../servers";
import type { EndpointName, Fault } from "../types";

/** A certificate as the inspector shows it: public facts only. */
export interface CertificateFacts {
  x5tS256: string;
  subject: string;
  issuer: string;
  validTo: string;
}

/** A token as the inspector shows it by default: decoded header and claims, never the compact token. */
export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** `cnf["x5t#S256"]`: the certificate a PoP token is bound to. */
  boundTo?: string;
  /** Handle for the reveal control; the compact token stays on the server. */
  ref: string;
}

/**
 * One request in the inspector's log. It carries no header values, no request body, no compact
 * token and no key: only what the page shows without being asked to reveal.
 */
export interface InspectorEntry {
  id: number;
  flowId: number;
  /** Epoch ms on the emulator's clock. */
  at: number;
  endpoint: EndpointName;
  method: string;
  path: string;
  outcome: ObservedRequest["outcome"];
  status?: number;
  durationMs: number;
  correlationId?: string;
  /** The TLS client certificate presented in the handshake. */
  clientCertificate?: CertificateFacts;
  /** The injected fault this request got. */
  fault?: Fault;
  /** `error` and `error_description` of an error answer. */
  error?: { code: string; description: string };
  /** The token the answer carried (token endpoints) or the request presented (resource). */
  token?: DecodedToken;
  /** The certificate IMDS `issuecredential` issued. */
  issuedCertificate?: CertificateFacts;
  /** At the resource: the token's binding next to the certificate the handshake presented. */
  binding?: { boundTo?: string; presented?: string; match?: boolean; reason?: string; message?: string };
}

/** Endpoints whose successful answer is a JSON body with `access_token`. */
const TOKEN_ENDPOINTS = new Set<EndpointName>([
  "token",
  "mtlsToken",
  "imdsToken",
  "appService",
  "serviceFabric",
  "azureArc",
  "cloudShell",
  "machineLearning",
]);

// Bodies larger than this are not parsed for the log (an injected 3 MB body, say).
const MAX_PARSED_BODY = 64 * 1024;

/** The correlation id a client sent: Entra's `client-request-id`, or IMDS's `x-ms-client-request-id`. */
export function correlationIdOf(headers: Record<string, string>): string | undefined {
  const value = headers["client-request-id"] ?? headers["x-ms-client-request-id"];
  // A correlation id is an opaque short string; anything else is not worth grouping by.
  return value && value.length <= 128 ? value : undefined;
}

export function certificateFacts(certificate: X509Certificate): CertificateFacts {
  return {
    x5tS256: x5tS256(certificate.raw),
    subject: certificate.subject.replace(/\n/g, ", "),
    issuer: certificate.issuer.replace(/\n/g, ", "),
    validTo: certificate.validTo,
  };
}

/**
 * Turns what a server saw into a log entry, and hands out the compact token (kept apart for the
 * reveal control) through `keepToken`.
 */
export function toEntry(
  event: ObservedRequest,
  ids: { id: number; flowId: number; at: number },
  keepToken: (token: string) => string,
): InspectorEntry {
  const { exchange, reply } = event;
  const entry: InspectorEntry = {
    ...ids,
    endpoint: event.endpoint,
    method: exchange.method,
    path: exchange.path,
    outcome: event.outcome,
    durationMs: Math.round(event.durationMs * 10) / 10,
  };
  if (reply) entry.status = reply.status;
  const correlationId = correlationIdOf(exchange.headers);
  if (correlationId) entry.correlationId = correlationId;
  if (exchange.clientCertificate) entry.clientCertificate = certificateFacts(exchange.clientCertificate);
  if (event.fault) {
    // A raw fault body may be megabytes: the log keeps its start.
    const { body: faultBody, ...rest } = event.fault;
    entry.fault = faultBody === undefined ? rest : { ...rest, body: faultBody.slice(0, 200) };
  }

  const body =
    reply?.body !== undefined && reply.body.length <= MAX_PARSED_BODY ? jsonObject(reply.body) : {};
  if (reply && reply.status >= 400) {
    const code = typeof body.error === "string" ? body.error : `HTTP ${reply.status}`;
    const description =
      typeof body.error_description === "string"
        ? body.error_description
        : typeof body.message === "string"
          ? body.message
          : "";
    entry.error = { code, description: description.split("\n")[0] ?? "" };
  }
  if (reply?.status === 200 && TOKEN_ENDPOINTS.has(event.endpoint) && typeof body.access_token === "string") {
    const token = decoded(body.access_token, keepToken);
    if (token) entry.token = token;
  }
  if (reply?.status === 200 && event.endpoint === "issueCredential" && typeof body.certificate === "string") {
    try {
      entry.issuedCertificate = certificateFacts(new Certificate(Buffer.from(body.certificate, "base64")));
    } catch {
      // An injected body that is not a certificate: nothing to show.
    }
  }
  if (event.endpoint === "resource") {
    const presented = /^(?:Bearer|mtls_pop|PoP)\s+(\S+)\s*$/i.exec(exchange.headers.authorization ?? "")?.[1];
    const token = presented ? decoded(presented, keepToken) : undefined;
    if (token) entry.token = token;
    const binding: NonNullable<InspectorEntry["binding"]> = {};
    if (token?.boundTo) binding.boundTo = token.boundTo;
    if (entry.clientCertificate) binding.presented = entry.clientCertificate.x5tS256;
    if (binding.boundTo && binding.presented) binding.match = binding.boundTo === binding.presented;
    if (reply && reply.status >= 400 && !event.fault) {
      if (typeof body.error_description === "string") binding.reason = body.error_description;
      if (typeof body.message === "string") binding.message = body.message;
    }
    entry.binding = binding;
  }
  return entry;
}

function decoded(token: string, keepToken: (token: string) => string): DecodedToken | undefined {
  const jwt = decodeJwt(token);
  if (!jwt) return undefined;
  const cnf = jwt.payload.cnf;
  const boundTo =
    typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
  return {
    header: jwt.header,
    claims: jwt.payload,
    ...(typeof boundTo === "string" ? { boundTo } : {}),
    ref: keepToken(token),
  };
}

function jsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
