import type { EmulatorContext } from "./context";
import { type EntraError, entraErrors } from "./entra-errors";

const TENANT_INDEPENDENT = new Set(["common", "organizations", "consumers"]);
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token\/?$/;

/** The tenant segment of a `/{tenant}/oauth2/v2.0/token` path, or `undefined` for another path. */
export function tokenPathTenant(lowerPath: string, path: string): string | undefined {
  if (!TOKEN_PATH.test(lowerPath)) return undefined;
  return decodeURIComponent((path.match(TOKEN_PATH) as RegExpMatchArray)[1] as string);
}

/** The canonical tenant id of the path's tenant, or the error Entra gives for it. */
export function resolveTenant(ctx: EmulatorContext, tenant: string): { tenantId: string } | EntraError {
  if (TENANT_INDEPENDENT.has(tenant.toLowerCase())) return entraErrors.tenantIndependent(tenant);
  const tenantId = ctx.registry.knowsTenant(tenant);
  return tenantId ? { tenantId } : entraErrors.unknownTenant(tenant);
}

/** Whether a tenant segment is `/common`, `/organizations` or `/consumers`. */
export function isTenantIndependent(tenant: string): boolean {
  return TENANT_INDEPENDENT.has(tenant.toLowerCase());
}

/**
 * The resource of a client-credentials `scope`: exactly one scope, `<resource>/.default`. With
 * `allowed`, the resource must be one of them (entries may be scopes or resources).
 */
export function resolveScope(
  scope: string,
  clientId: string,
  allowed: readonly string[] | undefined,
): { resource: string } | EntraError {
  const scopes = scope.split(/\s+/).filter((s) => s !== "");
  const only = scopes[0];
  if (scopes.length !== 1 || !only || !only.endsWith("/.default") || only.length === "/.default".length) {
    return entraErrors.scopeNotDefault(scope);
  }
  const resource = only.slice(0, -"/.default".length);
  if (allowed && !allowed.some((entry) => sameResource(entry, resource))) {
    return entraErrors.scopeNotAllowed(only, clientId);
  }
  return { resource };
}

/** Compares resources the way audiences are compared: case-insensitive, `/.default` and a trailing slash ignored. */
export function sameResource(a: string, b: string): boolean {
  return normalizeResource(a) === normalizeResource(b);
}

function normalizeResource(value: string): string {
  let v = value.trim();
  if (v.endsWith("/.default")) v = v.slice(0, -"/.default".length);
  while (v.endsWith("/")) v = v.slice(0, -1);
  return v.toLowerCase();
}

/** The first repeated parameter of a form, if any: Entra refuses ambiguous requests. */
export function repeatedParameter(form: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const name of form.keys()) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/** Narrows a check result to its error. */
export function isEntraError(value: object): value is EntraError {
  return "error" in value && "code" in value;
}
