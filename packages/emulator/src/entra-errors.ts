import { randomUUID } from "node:crypto";
import { type Exchange, json, type Reply } from "./exchange";

/** Per-request context of an Entra answer: correlation, trace and the headers Entra sends back. */
export interface EntraContext {
  correlationId: string;
  traceId: string;
  now: number;
  /** `x-ms-request-id`, and `client-request-id` when the client asked for it. */
  headers: Record<string, string>;
}

/** Builds the context: `correlation_id` is the client's `client-request-id` when it sent one. */
export function entraContext(exchange: Exchange, now: number): EntraContext {
  const given = exchange.headers["client-request-id"]?.trim();
  const correlationId = given ? given : randomUUID();
  const traceId = randomUUID();
  const headers: Record<string, string> = {
    "cache-control": "no-store, no-cache",
    pragma: "no-cache",
    "x-ms-request-id": traceId,
  };
  if ((exchange.headers["return-client-request-id"] ?? "").toLowerCase() === "true" && given) {
    headers["client-request-id"] = given;
  }
  return { correlationId, traceId, now, headers };
}

/** One Entra error: the OAuth `error`, the AADSTS number and the first line of the description. */
export interface EntraError {
  status: number;
  error: string;
  code: number;
  message: string;
}

/** Entra's timestamp format, e.g. `2026-01-01 10:20:30Z`. */
export function entraTimestamp(now: number): string {
  return `${new Date(now).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** The JSON error body Entra sends: `error`, `error_description` (AADSTS first), `error_codes`, ids. */
export function entraErrorReply(e: EntraError, ctx: EntraContext): Reply {
  const timestamp = entraTimestamp(ctx.now);
  return json(
    e.status,
    {
      error: e.error,
      error_description: `AADSTS${e.code}: ${e.message}\r\nTrace ID: ${ctx.traceId}\r\nCorrelation ID: ${ctx.correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [e.code],
      timestamp,
      trace_id: ctx.traceId,
      correlation_id: ctx.correlationId,
    },
    ctx.headers,
  );
}

// The catalogue. AADSTS numbers follow Entra's where Entra has one for the case; the descriptions
// are the emulator's own and say how to fix the request.
export const entraErrors = {
  missingParameter: (name: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  repeatedParameter: (name: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 90023,
    message: `The parameter '${name}' was sent more than once. Send it exactly once.`,
  }),
  unexpectedParameter: (name: string, why: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 90023,
    message: `The parameter '${name}' is not allowed here: ${why}`,
  }),
  invalidRequest: (message: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 90023,
    message,
  }),
  postOnly: (method: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 900561,
    message: `The endpoint only accepts POST requests. Received a ${method} request.`,
  }),
  tenantIndependent: (tenant: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 50194,
    message: `App-only tokens cannot be issued by the tenant-independent authority '/${tenant}'. Use a tenant-specific authority such as /{tenant-id}.`,
  }),
  unknownTenant: (tenant: string): EntraError => ({
    status: 400,
    error: "invalid_request",
    code: 90002,
    message: `Tenant '${tenant}' not found. Check the tenant id in the authority.`,
  }),
  unsupportedGrantType: (grantType: string): EntraError => ({
    status: 400,
    error: "unsupported_grant_type",
    code: 70003,
    message: `The app requested an unsupported grant type '${grantType}'. Use grant_type=client_credentials.`,
  }),
  unknownClient: (clientId: string, tenant: string): EntraError => ({
    status: 400,
    error: "unauthorized_client",
    code: 700016,
    message: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. Register the application (or managed identity) in this tenant, or check the client id and tenant.`,
  }),
  noClientCredential: (mtls: boolean): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 7000218,
    message: mtls
      ? "No client certificate was presented in the TLS handshake. With token_type=mtls_pop the application authenticates with its TLS client certificate: configure the transport with the certificate and its key."
      : "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  unregisteredCertificate: (clientId: string, thumbprint: string, how: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    message: `The certificate '${thumbprint}' ${how} is not registered on application '${clientId}'. Register the certificate, or use the registered one.`,
  }),
  badClientCertificate: (message: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    message,
  }),
  malformedAssertion: (message: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 50027,
    message: `The client assertion is invalid or malformed: ${message}`,
  }),
  assertionAlgorithm: (alg: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 5002738,
    message: `Invalid JWT token. '${alg}' is not a supported signature algorithm for client assertions; use RS256 or PS256.`,
  }),
  assertionSignature: (): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    message: "Client assertion failed signature validation.",
  }),
  assertionTime: (message: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700024,
    message: `Client assertion is not within its valid time range: ${message}`,
  }),
  assertionSubject: (message: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 700021,
    message,
  }),
  assertionClaim: (message: string): EntraError => ({
    status: 401,
    error: "invalid_client",
    code: 50013,
    message,
  }),
  scopeNotDefault: (scope: string): EntraError => ({
    status: 400,
    error: "invalid_scope",
    code: 1002012,
    message: `The provided value for scope '${scope}' is not valid. Client credential flows must have exactly one scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  scopeNotAllowed: (scope: string, clientId: string): EntraError => ({
    status: 400,
    error: "invalid_scope",
    code: 70011,
    message: `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' is not allowed for application '${clientId}'.`,
  }),
  injected: (status: number): EntraError =>
    status === 429
      ? {
          status,
          error: "temporarily_unavailable",
          code: 50196,
          message: "The server is throttling requests (injected fault).",
        }
      : status >= 500
        ? {
            status,
            error: "server_error",
            code: 50000,
            message: "There was an error issuing a token (injected fault).",
          }
        : { status, error: "invalid_request", code: 90023, message: "Injected fault." },
};
