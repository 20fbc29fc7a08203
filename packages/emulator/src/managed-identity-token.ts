import type { EmulatorContext } from "./context";
import type { ManagedIdentity } from "./identities";
import type { MintedToken } from "./token-issuer";

/** A managed-identity Bearer token with the resource it was issued for. */
export interface ManagedIdentityToken extends MintedToken {
  resource: string;
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
