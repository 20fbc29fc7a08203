import { randomBytes, randomUUID, type X509Certificate } from "node:crypto";
import { invalidOptions, parsePemChain } from "@certbound/core/credential-kit";
import type { ConfidentialClientRegistration, ManagedIdentityInfo } from "./types";

const PKG = "@certbound/emulator";

/** A registered confidential client application. */
export interface ConfidentialClient {
  readonly clientId: string;
  tenantId: string;
  objectId: string;
  /** Leaf certificates registered for the application (its key credentials). */
  readonly certificates: X509Certificate[];
  allowedScopes: string[] | undefined;
}

/** A managed identity of the emulated machine. */
export interface ManagedIdentity extends ManagedIdentityInfo {
  readonly kind: "system" | "user";
}

/** The emulator's directory: applications and managed identities, looked up case-insensitively. */
export class IdentityRegistry {
  readonly system: ManagedIdentity;
  private readonly clients = new Map<string, ConfidentialClient>();
  private readonly managed: ManagedIdentity[] = [];
  private readonly subscription = randomUUID();

  constructor(readonly tenantId: string) {
    this.system = {
      kind: "system",
      clientId: randomUUID(),
      objectId: randomUUID(),
      resourceId: `/subscriptions/${this.subscription}/resourceGroups/certbound-emulator/providers/Microsoft.Compute/virtualMachines/emulator-vm`,
    };
    this.managed.push(this.system);
  }

  registerClient(o: ConfidentialClientRegistration): void {
    if (typeof o?.clientId !== "string" || o.clientId.trim() === "") {
      throw invalidOptions(PKG, "registerConfidentialClient needs a non-empty `clientId`.");
    }
    if (this.findManagedIdentity("client_id", o.clientId)) {
      throw invalidOptions(
        PKG,
        `The client id "${o.clientId}" already belongs to a managed identity. Use another id.`,
      );
    }
    const leaf = parsePemChain(o.certificatePem)[0] as X509Certificate;
    const key = o.clientId.toLowerCase();
    const existing = this.clients.get(key);
    if (existing) {
      if (!existing.certificates.some((c) => c.raw.equals(leaf.raw))) existing.certificates.push(leaf);
      if (o.allowedScopes) existing.allowedScopes = [...o.allowedScopes];
      if (o.tenantId) existing.tenantId = o.tenantId;
      if (o.objectId) existing.objectId = o.objectId;
      return;
    }
    this.clients.set(key, {
      clientId: o.clientId,
      tenantId: o.tenantId ?? this.tenantId,
      objectId: o.objectId ?? randomUUID(),
      certificates: [leaf],
      allowedScopes: o.allowedScopes ? [...o.allowedScopes] : undefined,
    });
  }

  registerManagedIdentity(o: Partial<ManagedIdentityInfo> = {}): ManagedIdentityInfo {
    const clientId = o.clientId ?? randomUUID();
    if (this.clients.has(clientId.toLowerCase()) || this.findManagedIdentity("client_id", clientId)) {
      throw invalidOptions(PKG, `The client id "${clientId}" is already registered. Use another id.`);
    }
    const objectId = o.objectId ?? randomUUID();
    if (this.findManagedIdentity("object_id", objectId)) {
      throw invalidOptions(PKG, `The object id "${objectId}" is already registered. Use another id.`);
    }
    const name = `uami-${randomBytes(4).toString("hex")}`;
    const resourceId =
      o.resourceId ??
      `/subscriptions/${this.subscription}/resourceGroups/certbound-emulator/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
    if (this.findManagedIdentity("resource_id", resourceId)) {
      throw invalidOptions(PKG, `The resource id "${resourceId}" is already registered. Use another id.`);
    }
    const identity: ManagedIdentity = { kind: "user", clientId, objectId, resourceId };
    this.managed.push(identity);
    return { clientId, objectId, resourceId };
  }

  /** Registered applications, in registration order (the inspector lists them). */
  listClients(): ConfidentialClient[] {
    return [...this.clients.values()];
  }

  /** Managed identities, system-assigned first (the inspector lists them). */
  listManagedIdentities(): ManagedIdentity[] {
    return [...this.managed];
  }

  findClient(clientId: string): ConfidentialClient | undefined {
    return this.clients.get(clientId.toLowerCase());
  }

  /** Tenants the directory knows: the emulator's and those of registered applications. */
  knowsTenant(tenant: string): string | undefined {
    const lower = tenant.toLowerCase();
    if (lower === this.tenantId.toLowerCase()) return this.tenantId;
    for (const client of this.clients.values())
      if (client.tenantId.toLowerCase() === lower) return client.tenantId;
    return undefined;
  }

  findManagedIdentity(
    by: "client_id" | "object_id" | "resource_id",
    value: string,
  ): ManagedIdentity | undefined {
    const lower = value.toLowerCase();
    return this.managed.find(
      (m) =>
        (by === "client_id" ? m.clientId : by === "object_id" ? m.objectId : m.resourceId).toLowerCase() ===
        lower,
    );
  }
}
