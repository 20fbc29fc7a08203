import type { IdentityRegistry, ManagedIdentity } from "./identities";

/** A query or form parameter that names a user-assigned identity, and what it holds. */
export interface IdentityParameter {
  name: string;
  holds: "client_id" | "object_id" | "resource_id" | "client_or_object_id";
}

/** The identity a managed-identity request addresses, or why it addresses none. */
export type IdentitySelection = { identity: ManagedIdentity } | { status: number; reason: string };

/**
 * Resolves the identity of a managed-identity request: none of `accepted` present means the
 * system-assigned identity; more than one, a repeated one, an unknown one or any of `refused`
 * (a parameter of another source, e.g. `msi_res_id` on IMDS v2) is an error.
 */
export function selectIdentity(
  registry: IdentityRegistry,
  params: URLSearchParams,
  accepted: readonly IdentityParameter[],
  refused: readonly string[] = [],
): IdentitySelection {
  for (const name of refused) {
    if (params.has(name)) {
      const names = accepted.map((a) => a.name).join(", ");
      return {
        status: 400,
        reason: `The parameter '${name}' is not supported by this endpoint${names ? `; name a user-assigned identity with one of: ${names}` : "; it serves the system-assigned identity only"}.`,
      };
    }
  }
  const given = accepted.filter((a) => params.has(a.name));
  if (given.length === 0) return { identity: registry.system };
  if (given.length > 1) {
    return { status: 400, reason: `Only one of ${given.map((g) => g.name).join(", ")} may be given.` };
  }
  const selector = given[0] as IdentityParameter;
  const values = params.getAll(selector.name);
  if (values.length > 1)
    return { status: 400, reason: `The parameter '${selector.name}' was given more than once.` };
  const value = values[0] ?? "";
  const identity =
    selector.holds === "client_or_object_id"
      ? (registry.findManagedIdentity("client_id", value) ?? registry.findManagedIdentity("object_id", value))
      : registry.findManagedIdentity(selector.holds, value);
  if (!identity) {
    return {
      status: 400,
      reason: `Identity not found: no managed identity with ${selector.name} '${value}' is assigned to this machine.`,
    };
  }
  return { identity };
}
