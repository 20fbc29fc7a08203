import { checkClientAssertion } from "./client-assertion";
import type { EmulatorContext, Route, Router } from "./context";
import { entraContext, entraErrorReply, entraErrors } from "./entra-errors";
import {
  entraFaultReply,
  grantToken,
  isTenantIndependent,
  openTokenRequest,
  tokenPathTenant,
} from "./entra-token-request";
import { type Exchange, json, type Reply } from "./exchange";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const OPENID_PATH = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration\/?$/;
const JWKS_PATH = /^\/([^/]+)\/discovery(\/v2\.0)?\/keys\/?$/;
const INSTANCE_DISCOVERY_PATH = /^\/[^/]+\/discovery\/instance\/?$/;

/** Routes of the regular Entra host: client-assertion token endpoint, OpenID discovery, JWKS, instance discovery. */
export function authorityRouter(ctx: EmulatorContext): Router {
  return (exchange) => {
    const entra = (endpoint: Route["endpoint"], handle: () => Reply): Route => ({
      endpoint,
      handle,
      faultReply: entraFaultReply(ctx, exchange),
    });
    const tenant = tokenPathTenant(exchange.lowerPath, exchange.path);
    if (tenant !== undefined) return entra("token", () => bearerToken(ctx, exchange, tenant));
    if (exchange.method !== "GET") return undefined;
    const openid = exchange.path.match(OPENID_PATH);
    if (openid && OPENID_PATH.test(exchange.lowerPath)) {
      return entra("openidConfiguration", () => openidConfiguration(ctx, exchange, openid[1] as string));
    }
    const keys = exchange.path.match(JWKS_PATH);
    if (keys && JWKS_PATH.test(exchange.lowerPath)) {
      return entra("jwks", () => json(200, ctx.issuer.jwks(`${ctx.urls.authority}/${keys[1]}/v2.0`)));
    }
    if (INSTANCE_DISCOVERY_PATH.test(exchange.lowerPath)) {
      return entra("instanceDiscovery", () => instanceDiscovery(ctx, exchange));
    }
    return undefined;
  };
}

function bearerToken(ctx: EmulatorContext, exchange: Exchange, tenantSegment: string): Reply {
  const opened = openTokenRequest(ctx, exchange, tenantSegment);
  if ("reply" in opened) return opened.reply;
  const { fail, tenant, form } = opened;

  const grantType = form.get("grant_type");
  if (!grantType) return fail(entraErrors.missingParameter("grant_type"));
  if (grantType !== "client_credentials") return fail(entraErrors.unsupportedGrantType(grantType));
  const clientId = form.get("client_id");
  if (!clientId) return fail(entraErrors.missingParameter("client_id"));
  const scope = form.get("scope");
  if (!scope) return fail(entraErrors.missingParameter("scope"));
  const tokenType = form.get("token_type");
  if (tokenType !== null && tokenType.toLowerCase() !== "bearer") {
    return fail(
      tokenType.toLowerCase() === "mtls_pop"
        ? entraErrors.invalidRequest(
            `token_type=mtls_pop is served only by the mTLS endpoint (${ctx.urls.mtls}/{tenant}/oauth2/v2.0/token), authenticated by the TLS client certificate.`,
          )
        : entraErrors.invalidRequest(`The token_type '${tokenType}' is not supported here.`),
    );
  }

  const client = ctx.registry.findClient(clientId);
  if (!client || client.tenantId.toLowerCase() !== tenant.tenantId.toLowerCase()) {
    return fail(entraErrors.unknownClient(clientId, tenant.tenantId));
  }
  if (form.has("client_secret")) {
    return fail(
      entraErrors.badClientCertificate(
        `Application '${client.clientId}' has no client secret; it authenticates with a certificate. Send a client_assertion signed with the registered certificate.`,
      ),
    );
  }
  const assertion = form.get("client_assertion");
  if (!assertion) return fail(entraErrors.noClientCredential(false));
  const assertionType = form.get("client_assertion_type");
  if (!assertionType) return fail(entraErrors.missingParameter("client_assertion_type"));
  if (assertionType !== JWT_BEARER) {
    return fail(
      entraErrors.invalidRequest(
        `The client_assertion_type '${assertionType}' is not supported; use '${JWT_BEARER}'.`,
      ),
    );
  }
  const assertionError = checkClientAssertion(ctx, assertion, client, {
    tenantSegment,
    tenantId: tenant.tenantId,
  });
  if (assertionError) return fail(assertionError);

  return grantToken(ctx, opened, {
    tenantId: client.tenantId,
    appId: client.clientId,
    objectId: client.objectId,
    allowedScopes: client.allowedScopes,
    scope,
    tokenType: "Bearer",
  });
}

function openidConfiguration(ctx: EmulatorContext, exchange: Exchange, tenant: string): Reply {
  let issuerTenant = tenant;
  if (isTenantIndependent(tenant)) issuerTenant = "{tenantid}";
  else if (!ctx.registry.knowsTenant(tenant)) {
    return entraErrorReply(
      { ...entraErrors.unknownTenant(tenant), error: "invalid_tenant" },
      entraContext(exchange, ctx.now()),
    );
  }
  const base = `${ctx.urls.authority}/${tenant}`;
  return json(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      "client_secret_post",
      "private_key_jwt",
      "client_secret_basic",
      "tls_client_auth",
      "self_signed_tls_client_auth",
    ],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${ctx.urls.authority}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.urls.authority}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      "sub",
      "iss",
      "cloud_instance_name",
      "cloud_instance_host_name",
      "cloud_graph_host_name",
      "msgraph_host",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "acr",
      "nonce",
      "preferred_username",
      "name",
      "tid",
      "ver",
      "at_hash",
      "c_hash",
      "email",
    ],
    kerberos_endpoint: `${base}/kerberos`,
    tls_client_certificate_bound_access_tokens: true,
    mtls_endpoint_aliases: { token_endpoint: `${ctx.urls.mtls}/${tenant}/oauth2/v2.0/token` },
    tenant_region_scope: "NA",
    cloud_instance_name: new URL(ctx.urls.authority).host,
    cloud_graph_host_name: new URL(ctx.urls.authority).host,
    msgraph_host: new URL(ctx.urls.authority).host,
    rbac_url: ctx.urls.authority,
  });
}

function instanceDiscovery(ctx: EmulatorContext, exchange: Exchange): Reply {
  let tenant = "common";
  const authorize = exchange.query.get("authorization_endpoint");
  if (authorize) {
    try {
      tenant = new URL(authorize).pathname.split("/").filter(Boolean)[0] ?? tenant;
    } catch {
      // Entra falls back to the common endpoint for an unreadable authorization_endpoint.
    }
  }
  const host = new URL(ctx.urls.authority).host;
  const port = new URL(ctx.urls.authority).port;
  return json(200, {
    tenant_discovery_endpoint: `${ctx.urls.authority}/${tenant}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host, `localhost:${port}`] }],
  });
}
