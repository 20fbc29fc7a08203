import type { EmulatorContext } from "./context";
import {
  type EntraContext,
  type EntraError,
  entraContext,
  entraErrorReply,
  entraErrors,
} from "./entra-errors";
import { type Exchange, json, type Reply } from "./exchange";
import { entraTokenBody, type TokenSubject } from "./token-issuer";

const TENANT_INDEPENDENT = new Set(["common", "organizations", "consumers"]);
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token\/?$/;

/** The tenant segment of a `/{tenant}/oauth2/v2.0/token` path, or `undefined` for another path. */
export function tokenPathTenant(lowerPath: string, path: string): string | undefined {
  if (!TOKEN_PATH.test(lowerPath)) return undefined;
  return decodeURIComponent((path.match(TOKEN_PATH) as RegExpMatchArray)[1] as string);
}

/** A token request that passed the checks every Entra token endpoint makes before its own. */
export interface OpenedTokenRequest {
  readonly entra: EntraContext;
  /** The Entra error reply for `e`, with this request's correlation and headers. */
  readonly fail: (e: EntraError) => Reply;
  readonly tenant: { readonly tenantId: string };
  /** The form body; a body that is not a form is, to Entra, a request without parameters. */
  readonly form: URLSearchParams;
}

/**
 * The checks both Entra token endpoints (client assertion and mTLS) make first: POST only, a
 * tenant Entra knows, no repeated parameter. Gives the error reply, or what the endpoint goes on with.
 */
export function openTokenRequest(
  ctx: EmulatorContext,
  exchange: Exchange,
  tenantSegment: string,
): OpenedTokenRequest | { readonly reply: Reply } {
  const entra = entraContext(exchange, ctx.now());
  const fail = (e: EntraError) => entraErrorReply(e, entra);
  if (exchange.method !== "POST") return { reply: fail(entraErrors.postOnly(exchange.method)) };
  const tenant = resolveTenant(ctx, tenantSegment);
  if (isEntraError(tenant)) return { reply: fail(tenant) };
  const form = exchange.form ?? new URLSearchParams();
  const repeated = repeatedParameter(form);
  if (repeated) return { reply: fail(entraErrors.repeatedParameter(repeated)) };
  return { entra, fail, tenant, form };
}

/** What a token endpoint grants once the client is authenticated: a subject and the scope it asked for. */
export interface TokenGrant extends Omit<TokenSubject, "audience"> {
  /** The `scope` parameter, resolved to the token's audience. */
  readonly scope: string;
  /** Resources (or scopes) the subject may ask for; `undefined` for any. */
  readonly allowedScopes: readonly string[] | undefined;
  readonly tokenType: "Bearer" | "mtls_pop";
}

/**
 * How both Entra token endpoints end: the scope resolved for the subject (or Entra's error for it),
 * then a token minted for the scope's resource, in Entra's token body.
 */
export function grantToken(ctx: EmulatorContext, opened: OpenedTokenRequest, grant: TokenGrant): Reply {
  const { scope, allowedScopes, tokenType, ...subject } = grant;
  const resolved = resolveScope(scope, subject.appId, allowedScopes);
  if (isEntraError(resolved)) return opened.fail(resolved);
  const minted = ctx.issuer.mint({ ...subject, audience: resolved.resource });
  return json(200, entraTokenBody(minted, tokenType), opened.entra.headers);
}

/** The `faultReply` of an Entra route: an injected fault in Entra's error shape. */
export function entraFaultReply(ctx: EmulatorContext, exchange: Exchange): (status: number) => Reply {
  return (status) => entraErrorReply(entraErrors.injected(status), entraContext(exchange, ctx.now()));
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
