/** Which managed identity to use: the system-assigned one, or a user-assigned one by one of its ids. */
export type ManagedIdentityId =
  | { readonly kind: "system" }
  | { readonly kind: "clientId" | "objectId" | "resourceId"; readonly value: string };

/** The system-assigned identity. */
export const SYSTEM_ASSIGNED: ManagedIdentityId = { kind: "system" };

/**
 * A stable string naming the identity, used to key generated keys, binding certificates and
 * cached tokens, so two identities of one process never share any of them.
 *
 * @example
 * ```ts
 * identityKey({ kind: "clientId", value: "7d8a..." }); // "clientId:7d8a..."
 * ```
 */
export function identityKey(id: ManagedIdentityId): string {
  return id.kind === "system" ? "system" : `${id.kind}:${id.value}`;
}

/**
 * Human wording for messages ("the system-assigned identity", "the user-assigned identity with
 * client id ..."). Ids are not secrets, but they are personal data: callers pass them through
 * `log.pii` before logging, and messages name only the kind.
 */
export function describeIdentity(id: ManagedIdentityId): string {
  switch (id.kind) {
    case "system":
      return "the system-assigned identity";
    case "clientId":
      return "a user-assigned identity given by client id";
    case "objectId":
      return "a user-assigned identity given by object id";
    case "resourceId":
      return "a user-assigned identity given by resource id";
  }
}
