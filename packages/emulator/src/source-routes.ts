import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { EmulatorContext, Route, Router } from "./context";
import { type Exchange, hasMetadataHeader, json, type Reply } from "./exchange";
import type { ManagedIdentity } from "./identities";
import {
  imdsTokenBody,
  type ManagedIdentityToken,
  managedIdentityToken,
  shortTokenBody,
} from "./managed-identity-token";
import { type IdentityParameter, selectIdentity } from "./select-identity";
import type { EndpointName } from "./types";

/** Paths of the sources that share the managed-identity sources server. */
export const SOURCE_PATHS = {
  appService: "/msi/token",
  azureArc: "/metadata/identity/oauth2/token",
  cloudShell: "/oauth2/token",
  machineLearning: "/msi/auth",
} as const;

/** Path of the Service Fabric endpoint on its own HTTPS server. */
export const SERVICE_FABRIC_PATH = "/metadata/identity/oauth2/token";

const NO_USER_ASSIGNED = ["client_id", "object_id", "msi_res_id", "mi_res_id", "clientid", "principalid"];

/**
 * Service Fabric accepts both: @azure/msal-node (`ManagedIdentitySources/ServiceFabric.ts`), MSAL
 * Java and Azure.Identity for .NET send `2019-07-01-preview`; MSAL.NET
 * (`ManagedIdentity/ServiceFabricManagedIdentitySource.cs`) sends `2020-05-01` (earlier releases the
 * preview).
 */
export const SERVICE_FABRIC_API_VERSIONS: readonly string[] = ["2019-07-01-preview", "2020-05-01"];

// A current Azure Arc agent takes the IMDS spellings (msal-node `ManagedIdentitySources/AzureArc.ts`
// forwards `client_id`, `object_id` or `msi_res_id` and requires the same one echoed back).
const ARC_IDENTITY: readonly IdentityParameter[] = [
  { name: "client_id", holds: "client_id" },
  { name: "object_id", holds: "object_id" },
  { name: "msi_res_id", holds: "resource_id" },
];
const ARC_ECHO: Record<string, (identity: ManagedIdentity) => string> = {
  client_id: (identity) => identity.clientId,
  object_id: (identity) => identity.objectId,
  msi_res_id: (identity) => identity.resourceId,
};

// Each source shapes its errors its own way; clients must cope with all of them.
const errorShapes = {
  // App Service: { statusCode, message, correlationId }
  appService: (status: number, message: string): Reply =>
    json(status, { statusCode: status, message, correlationId: randomUUID() }),
  // Service Fabric and Machine Learning: a nested { error: { code, message } }
  nested: (status: number, code: string, message: string): Reply =>
    json(status, { error: { code, message, correlationId: randomUUID() } }),
  // Azure Arc and Cloud Shell answer like IMDS.
  imdsLike: (status: number, error: string, description: string): Reply =>
    json(status, { error, error_description: description }),
};

/** Routes of the managed-identity sources server: App Service, Azure Arc, Cloud Shell, Machine Learning. */
export function sourcesRouter(ctx: EmulatorContext): Router {
  return (exchange) => {
    const path = exchange.lowerPath.replace(/\/$/, "");
    const route = (
      endpoint: EndpointName,
      handle: () => Reply,
      faultReply: (status: number) => Reply,
    ): Route => ({
      endpoint,
      handle,
      faultReply,
    });
    switch (path) {
      case SOURCE_PATHS.appService:
        return route(
          "appService",
          () => appService(ctx, exchange),
          (s) => errorShapes.appService(s, `Injected fault (HTTP ${s}).`),
        );
      case SOURCE_PATHS.azureArc:
        return route(
          "azureArc",
          () => azureArc(ctx, exchange),
          (s) => errorShapes.imdsLike(s, "server_error", `Injected fault (HTTP ${s}).`),
        );
      case SOURCE_PATHS.cloudShell:
        return route(
          "cloudShell",
          () => cloudShell(ctx, exchange),
          (s) => errorShapes.imdsLike(s, "server_error", `Injected fault (HTTP ${s}).`),
        );
      case SOURCE_PATHS.machineLearning:
        return route(
          "machineLearning",
          () => machineLearning(ctx, exchange),
          (s) => errorShapes.nested(s, "InjectedFault", `Injected fault (HTTP ${s}).`),
        );
      default:
        return undefined;
    }
  };
}

/** Route of the Service Fabric server. */
export function serviceFabricRouter(ctx: EmulatorContext): Router {
  return (exchange) =>
    exchange.lowerPath.replace(/\/$/, "") === SERVICE_FABRIC_PATH
      ? {
          endpoint: "serviceFabric",
          handle: () => serviceFabric(ctx, exchange),
          faultReply: (s) => errorShapes.nested(s, "InjectedFault", `Injected fault (HTTP ${s}).`),
        }
      : undefined;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tokenOrError(
  ctx: EmulatorContext,
  identity: ManagedIdentity,
  resource: string | null,
  onError: (status: number, error: string, description: string) => Reply,
): ManagedIdentityToken | Reply {
  const minted = managedIdentityToken(ctx, identity, resource);
  return "error" in minted ? onError(400, minted.error, minted.description) : minted;
}

function appService(ctx: EmulatorContext, exchange: Exchange): Reply {
  const fail = (status: number, message: string) => errorShapes.appService(status, message);
  if (exchange.method !== "GET") return fail(405, `The method ${exchange.method} is not allowed; use GET.`);
  if (!sameSecret(exchange.headers["x-identity-header"], ctx.secrets.appService)) {
    return fail(401, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.");
  }
  if (exchange.query.get("api-version") !== "2019-08-01") {
    return fail(400, "Missing or unsupported api-version; use api-version=2019-08-01.");
  }
  const selection = selectIdentity(
    ctx.registry,
    exchange.query,
    [
      { name: "client_id", holds: "client_id" },
      { name: "object_id", holds: "object_id" },
      { name: "mi_res_id", holds: "resource_id" },
    ],
    ["msi_res_id", "clientid", "principalid"],
  );
  if (!("identity" in selection)) return fail(selection.status, selection.reason);
  const minted = tokenOrError(ctx, selection.identity, exchange.query.get("resource"), (s, _e, d) =>
    fail(s, d),
  );
  if ("status" in minted) return minted;
  return json(200, shortTokenBody(minted, selection.identity.clientId));
}

function serviceFabric(ctx: EmulatorContext, exchange: Exchange): Reply {
  const fail = (status: number, code: string, message: string) => errorShapes.nested(status, code, message);
  if (exchange.method !== "GET") return fail(405, "MethodNotAllowed", `Use GET, not ${exchange.method}.`);
  if (!sameSecret(exchange.headers.secret, ctx.secrets.serviceFabric)) {
    return fail(
      401,
      "SecretHeaderNotFound",
      "The 'secret' header is missing or does not match IDENTITY_HEADER.",
    );
  }
  const version = exchange.query.get("api-version");
  if (version === null || !SERVICE_FABRIC_API_VERSIONS.includes(version)) {
    return fail(
      400,
      "InvalidApiVersion",
      `Missing or unsupported api-version; use one of: ${SERVICE_FABRIC_API_VERSIONS.join(", ")}.`,
    );
  }
  const accepted: IdentityParameter[] = [{ name: "principalid", holds: "client_or_object_id" }];
  const selection = selectIdentity(ctx.registry, exchange.query, accepted, [
    "client_id",
    "object_id",
    "mi_res_id",
    "msi_res_id",
  ]);
  if (!("identity" in selection)) return fail(selection.status, "InvalidIdentity", selection.reason);
  const minted = tokenOrError(ctx, selection.identity, exchange.query.get("resource"), fail);
  if ("status" in minted) return minted;
  return json(200, {
    token_type: "Bearer",
    access_token: minted.accessToken,
    expires_on: minted.expiresOn,
    resource: minted.resource,
    client_id: selection.identity.clientId,
  });
}

// Azure Arc and Cloud Shell check like IMDS before anything else: the method, then the Metadata header.
function refusedLikeImds(exchange: Exchange, method: "GET" | "POST"): Reply | undefined {
  if (exchange.method !== method) {
    return errorShapes.imdsLike(
      405,
      "invalid_request",
      `The method ${exchange.method} is not allowed; use ${method}.`,
    );
  }
  if (!hasMetadataHeader(exchange)) {
    return errorShapes.imdsLike(
      400,
      "invalid_request",
      "Required metadata header not specified. Send 'Metadata: true'.",
    );
  }
  return undefined;
}

function azureArc(ctx: EmulatorContext, exchange: Exchange): Reply {
  const fail = errorShapes.imdsLike;
  const refused = refusedLikeImds(exchange, "GET");
  if (refused) return refused;
  if (exchange.query.get("api-version") !== "2020-06-01") {
    return fail(400, "invalid_request", "Missing or unsupported api-version; use api-version=2020-06-01.");
  }
  // A legacy agent ignores a user-assigned selector and answers for the system identity; the
  // client can tell only from the echoed client_id.
  const legacy = ctx.settings.azureArcAgent === "legacy";
  const accepted = legacy ? [] : ARC_IDENTITY;
  const params = legacy ? withoutParameters(exchange.query, ARC_IDENTITY) : exchange.query;
  const others = NO_USER_ASSIGNED.filter((name) => !ARC_IDENTITY.some((a) => a.name === name));
  const selection = selectIdentity(ctx.registry, params, accepted, others);
  if (!("identity" in selection)) return fail(selection.status, "invalid_request", selection.reason);
  const selector = accepted.find((a) => params.has(a.name))?.name;
  const resource = exchange.query.get("resource");
  if (!resource)
    return fail(
      400,
      "invalid_request",
      "Required audience parameter not specified. Send resource=<resource URI>.",
    );

  const authorization = exchange.headers.authorization;
  if (authorization === undefined) {
    // The challenge: a fresh key in a file only a local administrator could read on a real machine.
    const key = randomBytes(32).toString("hex");
    const file = ctx.arcTokenFolder.write(key);
    ctx.arcKeys.set(file, key);
    return json(
      401,
      {
        error: "unauthorized_client",
        error_description: "Authentication required: read the key file named in WWW-Authenticate.",
      },
      { "www-authenticate": `Basic realm=${file}` },
    );
  }
  const match = /^Basic\s+(.+)$/i.exec(authorization.trim());
  const presented = match?.[1]?.trim();
  const file =
    presented === undefined ? undefined : [...ctx.arcKeys].find(([, key]) => sameSecret(presented, key))?.[0];
  if (file === undefined) {
    return fail(
      401,
      "unauthorized_client",
      "The Authorization header does not hold the contents of a current challenge key file. Request a new challenge.",
    );
  }
  // Each key opens one request, so a leaked key file is worth little.
  ctx.arcKeys.delete(file);
  ctx.arcTokenFolder.remove(file);
  const minted = tokenOrError(ctx, selection.identity, resource, fail);
  if ("status" in minted) return minted;
  const body = imdsTokenBody(minted, selection.identity.clientId);
  const echo = selector === undefined ? undefined : ARC_ECHO[selector];
  return json(200, echo && selector ? { ...body, [selector]: echo(selection.identity) } : body);
}

function withoutParameters(query: URLSearchParams, names: readonly IdentityParameter[]): URLSearchParams {
  const kept = new URLSearchParams(query);
  for (const { name } of names) kept.delete(name);
  return kept;
}

function cloudShell(ctx: EmulatorContext, exchange: Exchange): Reply {
  const fail = errorShapes.imdsLike;
  const refused = refusedLikeImds(exchange, "POST");
  if (refused) return refused;
  if (!exchange.form) {
    return fail(
      400,
      "invalid_request",
      "The body must be a form: Content-Type: application/x-www-form-urlencoded with resource=<resource URI>.",
    );
  }
  const params = new URLSearchParams([...exchange.query, ...exchange.form]);
  const selection = selectIdentity(ctx.registry, params, [], NO_USER_ASSIGNED);
  if (!("identity" in selection)) return fail(selection.status, "invalid_request", selection.reason);
  const minted = tokenOrError(ctx, selection.identity, exchange.form.get("resource"), fail);
  if ("status" in minted) return minted;
  return json(200, {
    access_token: minted.accessToken,
    refresh_token: "",
    client_id: selection.identity.clientId,
    expires_in: String(minted.lifetimeSeconds),
    expires_on: String(minted.expiresOn),
    not_before: String(minted.issuedAt),
    resource: minted.resource,
    token_type: "Bearer",
  });
}

function machineLearning(ctx: EmulatorContext, exchange: Exchange): Reply {
  const fail = (status: number, code: string, message: string) => errorShapes.nested(status, code, message);
  if (exchange.method !== "GET") return fail(405, "MethodNotAllowed", `Use GET, not ${exchange.method}.`);
  if (!sameSecret(exchange.headers.secret, ctx.secrets.machineLearning)) {
    return fail(401, "Unauthorized", "The 'secret' header is missing or does not match MSI_SECRET.");
  }
  if (!hasMetadataHeader(exchange))
    return fail(400, "BadRequest", "Required metadata header not specified. Send 'Metadata: true'.");
  if (exchange.query.get("api-version") !== "2017-09-01") {
    return fail(400, "BadRequest", "Missing or unsupported api-version; use api-version=2017-09-01.");
  }
  const selection = selectIdentity(
    ctx.registry,
    exchange.query,
    [{ name: "clientid", holds: "client_id" }],
    ["client_id", "object_id", "mi_res_id", "msi_res_id", "principalid"],
  );
  if (!("identity" in selection)) return fail(selection.status, "BadRequest", selection.reason);
  const minted = tokenOrError(ctx, selection.identity, exchange.query.get("resource"), fail);
  if ("status" in minted) return minted;
  return json(200, shortTokenBody(minted, selection.identity.clientId));
}
