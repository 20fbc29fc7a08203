import type { X509Certificate } from "node:crypto";
import { x5tS256 } from "@certbound/core/credential-kit";
import type { EmulatorContext, Router } from "./context";
import { type EntraError, entraErrors } from "./entra-errors";
import {
  entraFaultReply,
  grantToken,
  openTokenRequest,
  type TokenGrant,
  tokenPathTenant,
} from "./entra-token-request";
import type { Exchange, Reply } from "./exchange";
import type { ManagedIdentity } from "./identities";

// https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-3-pop-request: exactly these fields; client_info and claims optional.
const REQUIRED = ["client_id", "grant_type", "scope", "token_type"] as const;
const OPTIONAL = new Set(["client_info", "claims"]);
const CREDENTIAL_FIELDS = ["client_assertion", "client_assertion_type", "client_secret"];

/** Routes of the mTLS Entra host: only the token endpoint, authenticated by the TLS client certificate. */
export function mtlsRouter(ctx: EmulatorContext): Router {
  return (exchange) => {
    const tenant = tokenPathTenant(exchange.lowerPath, exchange.path);
    if (tenant === undefined) return undefined;
    return {
      endpoint: "mtlsToken",
      handle: () => popToken(ctx, exchange, tenant),
      faultReply: entraFaultReply(ctx, exchange),
    };
  };
}

function popToken(ctx: EmulatorContext, exchange: Exchange, tenantSegment: string): Reply {
  const opened = openTokenRequest(ctx, exchange, tenantSegment);
  if ("reply" in opened) return opened.reply;
  const { fail, tenant, form } = opened;
  for (const name of CREDENTIAL_FIELDS) {
    if (form.has(name)) {
      return fail(
        entraErrors.unexpectedParameter(
          name,
          "with token_type=mtls_pop the TLS client certificate authenticates the application; send no client_assertion or client_secret.",
        ),
      );
    }
  }
  for (const name of REQUIRED) if (!form.get(name)) return fail(entraErrors.missingParameter(name));
  const grantType = form.get("grant_type") as string;
  if (grantType !== "client_credentials") return fail(entraErrors.unsupportedGrantType(grantType));
  const tokenType = form.get("token_type") as string;
  if (tokenType !== "mtls_pop") {
    return fail(
      entraErrors.invalidRequest(
        `The mTLS endpoint issues only certificate-bound tokens: token_type must be 'mtls_pop', not '${tokenType}'. For Bearer tokens use ${ctx.urls.authority} with a client assertion.`,
      ),
    );
  }
  const clientInfo = form.get("client_info");
  if (clientInfo !== null && clientInfo !== "1" && clientInfo !== "2") {
    return fail(
      entraErrors.invalidRequest(`The client_info value '${clientInfo}' is not valid; send 2 (or 1).`),
    );
  }
  const claims = form.get("claims");
  if (claims !== null && !isJsonObject(claims)) {
    return fail(entraErrors.invalidRequest("The 'claims' parameter is not a JSON object."));
  }
  for (const name of form.keys()) {
    if (!OPTIONAL.has(name) && !(REQUIRED as readonly string[]).includes(name)) {
      return fail(
        entraErrors.unexpectedParameter(
          name,
          "it is not part of the mTLS PoP token request (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-3-pop-request).",
        ),
      );
    }
  }

  const clientId = form.get("client_id") as string;
  const client = ctx.registry.findClient(clientId);
  const identity = client ? undefined : ctx.registry.findManagedIdentity("client_id", clientId);
  const clientTenant = client ? client.tenantId : ctx.registry.tenantId;
  if ((!client && !identity) || clientTenant.toLowerCase() !== tenant.tenantId.toLowerCase()) {
    return fail(entraErrors.unknownClient(clientId, tenant.tenantId));
  }
  const certificate = exchange.clientCertificate;
  if (!certificate) return fail(entraErrors.noClientCredential(true));
  const thumbprint = x5tS256(certificate.raw);

  let subject: Pick<TokenGrant, "appId" | "objectId" | "allowedScopes" | "extraClaims">;
  if (client) {
    if (!client.certificates.some((c) => c.raw.equals(certificate.raw))) {
      return fail(
        entraErrors.unregisteredCertificate(client.clientId, thumbprint, "presented in the TLS handshake"),
      );
    }
    subject = { appId: client.clientId, objectId: client.objectId, allowedScopes: client.allowedScopes };
  } else {
    const problem = checkManagedIdentityCertificate(ctx, certificate, identity as ManagedIdentity);
    if (problem) return fail(problem);
    const mi = identity as ManagedIdentity;
    subject = {
      appId: mi.clientId,
      objectId: mi.objectId,
      allowedScopes: undefined,
      extraClaims: { xms_mirid: mi.resourceId },
    };
  }

  return grantToken(ctx, opened, {
    ...subject,
    tenantId: tenant.tenantId,
    boundTo: thumbprint,
    scope: form.get("scope") as string,
    tokenType: "mtls_pop",
  });
}

/** A managed identity authenticates with a certificate its machine's IMDS issued for it, still valid. */
function checkManagedIdentityCertificate(
  ctx: EmulatorContext,
  certificate: X509Certificate,
  identity: ManagedIdentity,
): EntraError | undefined {
  const ca = ctx.managedIdentityCa.certificate;
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) {
    return entraErrors.badClientCertificate(
      `The TLS client certificate was not issued by this machine's managed-identity endpoint. Managed identity '${identity.clientId}' authenticates with a certificate from IMDS issuecredential.`,
    );
  }
  const subject = certificate.subject.split("\n");
  const cn = subject.find((line) => line.startsWith("CN="))?.slice(3) ?? "";
  const dc = subject.find((line) => line.startsWith("DC="))?.slice(3) ?? "";
  if (
    cn.toLowerCase() !== identity.clientId.toLowerCase() ||
    dc.toLowerCase() !== ctx.registry.tenantId.toLowerCase()
  ) {
    return entraErrors.badClientCertificate(
      `The TLS client certificate was issued for '${cn}' in tenant '${dc}', not for client_id '${identity.clientId}'. Present the certificate minted for this identity.`,
    );
  }
  const now = ctx.now();
  const notBefore = new Date(certificate.validFrom).getTime();
  const notAfter = new Date(certificate.validTo).getTime();
  if (now < notBefore || now >= notAfter) {
    return entraErrors.badClientCertificate(
      `The managed-identity certificate is valid from ${new Date(notBefore).toISOString()} to ${new Date(notAfter).toISOString()}, not now. Mint a new one with issuecredential.`,
    );
  }
  return undefined;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
