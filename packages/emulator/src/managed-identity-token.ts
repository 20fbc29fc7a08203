import type { EmulatorContext } from "./context";
import type { ManagedIdentity } from "./identities";
import type { MintedToken } from "./token-issuer";

/** A managed-identity Bearer token with the resource it was issued for. */
export interface ManagedIdentityToken extends MintedToken {
  resource: string;
}

/**
 * The token body of IMDS (v1), and of Azure Arc, which answers like IMDS: every number as a string.
 */
export function imdsTokenBody(minted: ManagedIdentityToken, clientId: string): Record<string, string> {
  return {
    access_token: minted.accessToken,
    client_id: clientId,
    expires_in: String(minted.lifetimeSeconds),
    expires_on: String(minted.expiresOn),
    ext_expires_in: String(minted.lifetimeSeconds),
    not_before: String(minted.issuedAt),
    resource: minted.resource,
    token_type: "Bearer",
  };
}

/** The short token body of App Service and Azure Machine Learning: no lifetime, `expires_on` a string. */
export function shortTokenBody(minted: ManagedIdentityToken, clientId: string): Record<string, string> {
  return {
    access_token: minted.accessToken,
    expires_on: String(minted.expiresOn),
    resource: minted.resource,
    token_type: "Bearer",
    client_id: clientId,
  };
}

/**
 * Mints a Bearer token for a managed identity and a `resource` (v1 style, no `/.default`). A
 * missing resource or a scope sent as resource is refused as real sources refuse it.
 */
export function managedIdentityToken(
  ctx: EmulatorContext,
  identity: ManagedIdentity,
  resource: string | null | undefined,
): ManagedIdentityToken | { error: string; description: string } {
  if (!resource) {
    return {
      error: "invalid_request",
      description: "Required audience parameter not specified. Send resource=<resource URI>.",
    };
  }
  if (resource.endsWith("/.default")) {
    return {
      error: "invalid_resource",
      description: `The resource '${resource}' is a scope. Managed-identity endpoints take the resource: drop '/.default'.`,
    };
  }
  const minted = ctx.issuer.mint({
    tenantId: ctx.registry.tenantId,
    audience: resource,
    appId: identity.clientId,
    objectId: identity.objectId,
    extraClaims: { xms_mirid: identity.resourceId },
  });
  return { ...minted, resource };
}
