import { x5tS256 } from "@certbound/core/credential-kit";
import type { EmulatorContext, Router } from "./context";
import { sameResource } from "./entra-token-request";
import { type Exchange, json, type Reply } from "./exchange";

/**
 * Why the protected resource refused a request: the `error_description` of its 401.
 *
 * @public
 * @example
 * ```ts
 * const reason = (await response.json()).error_description as ResourceRejection; // e.g. "certificate_mismatch"
 * ```
 */
export type ResourceRejection =
  | "client_certificate_required"
  | "missing_token"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_audience"
  | "certificate_mismatch"
  | "bearer_not_accepted";

const MESSAGES: Record<ResourceRejection, string> = {
  client_certificate_required:
    "No TLS client certificate was presented. Call the resource over mutual TLS with the binding certificate.",
  missing_token: "No access token: send Authorization: Bearer <token>.",
  bad_signature: "The access token is not a JWT signed by this emulator.",
  expired: "The access token has expired. Acquire a new one.",
  not_yet_valid: "The access token is not valid yet (nbf is in the future).",
  wrong_audience:
    "The access token was issued for another audience. Ask for a token for this resource's scope.",
  certificate_mismatch:
    "The token is bound to another certificate than the one presented in the TLS handshake (cnf x5t#S256 mismatch). Call the resource with the binding certificate the token was issued for.",
  bearer_not_accepted: "This resource accepts only certificate-bound (mTLS PoP) tokens.",
};

// Leeway on exp/nbf: the same clock signs and checks, so this only absorbs rounding to seconds.
const SKEW_SECONDS = 5;

/** The protected resource: any path and method; answers with an echo of the accepted token. */
export function resourceRouter(ctx: EmulatorContext): Router {
  return (exchange) => ({
    endpoint: "resource",
    handle: () => protectedResource(ctx, exchange),
    faultReply: (status) =>
      json(status, { error: "injected_fault", error_description: `Injected fault (HTTP ${status}).` }),
  });
}

function reject(reason: ResourceRejection): Reply {
  return json(
    401,
    { error: "invalid_token", error_description: reason, message: MESSAGES[reason] },
    { "www-authenticate": `Bearer error="invalid_token", error_description="${reason}"` },
  );
}

function protectedResource(ctx: EmulatorContext, exchange: Exchange): Reply {
  const certificate = exchange.clientCertificate;
  if (!certificate) return reject("client_certificate_required");
  const match = /^(Bearer|mtls_pop|PoP)\s+(\S+)\s*$/i.exec(exchange.headers.authorization ?? "");
  const token = match?.[2];
  if (!token) return reject("missing_token");
  const jwt = ctx.issuer.verify(token);
  if (!jwt) return reject("bad_signature");
  const { payload } = jwt;
  const now = ctx.now() / 1000;
  if (typeof payload.exp !== "number" || payload.exp + SKEW_SECONDS <= now) return reject("expired");
  if (typeof payload.nbf === "number" && payload.nbf - SKEW_SECONDS > now) return reject("not_yet_valid");
  const audience = typeof payload.aud === "string" ? payload.aud : "";
  if (!ctx.settings.resourceAudiences().some((a) => sameResource(a, audience)))
    return reject("wrong_audience");
  const presented = x5tS256(certificate.raw);
  const cnf = payload.cnf;
  const boundTo =
    typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
  if (cnf !== undefined) {
    if (boundTo !== presented) return reject("certificate_mismatch");
  } else if (!ctx.settings.resourceAcceptsBearer) {
    return reject("bearer_not_accepted");
  }
  return json(200, {
    subject: payload.sub,
    tokenType: cnf !== undefined ? "mtls_pop" : "Bearer",
    clientCertificateX5tS256: presented,
    audience,
    appId: payload.appid,
    tenantId: payload.tid,
    method: exchange.method,
    path: exchange.path,
  });
}
