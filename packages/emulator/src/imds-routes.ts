import { createPublicKey } from "node:crypto";
import type { EmulatorContext, Route, Router } from "./context";
import { checkCsr } from "./csr";
import { type Exchange, hasMetadataHeader, json, type Reply } from "./exchange";
import type { ManagedIdentity } from "./identities";
import { imdsTokenBody, managedIdentityToken } from "./managed-identity-token";
import { type IdentityParameter, selectIdentity } from "./select-identity";

/** What real IMDS puts in `Server`; clients check it for `IMDS` to know they talk to IMDS. */
export const IMDS_SERVER_HEADER = "IMDS/150.870.65.1854";

const V2_IDENTITY: readonly IdentityParameter[] = [
  { name: "client_id", holds: "client_id" },
  { name: "object_id", holds: "object_id" },
  { name: "mi_res_id", holds: "resource_id" },
];
const V1_IDENTITY: readonly IdentityParameter[] = [
  { name: "client_id", holds: "client_id" },
  { name: "object_id", holds: "object_id" },
  { name: "msi_res_id", holds: "resource_id" },
];

/** IMDS's error body. */
export function imdsError(status: number, error: string, description: string): Reply {
  return json(status, { error, error_description: description }, { server: IMDS_SERVER_HEADER });
}

/** Path of the emulated attestation service, under the IMDS server: getplatformmetadata names it. */
export const ATTESTATION_PATH = "/attestation";

/**
 * Routes of the IMDS server: v2 platform metadata and credential issuance, v1 token, instance
 * compute, and the emulated attestation service (`POST /attestation/attest`).
 */
export function imdsRouter(ctx: EmulatorContext): Router {
  return (exchange) => {
    const route = (endpoint: Route["endpoint"], handle: () => Reply): Route => ({
      endpoint,
      handle: () => guard(exchange, handle),
      faultReply: (status) =>
        imdsError(
          status,
          status >= 500 ? "server_error" : "invalid_request",
          `Injected fault (HTTP ${status}).`,
        ),
    });
    switch (exchange.lowerPath.replace(/\/$/, "")) {
      case "/metadata/identity/getplatformmetadata":
        return route("getPlatformMetadata", () => platformMetadata(ctx, exchange));
      case "/metadata/identity/issuecredential":
        return route("issueCredential", () => issueCredential(ctx, exchange));
      case "/metadata/identity/oauth2/token":
        return route("imdsToken", () => v1Token(ctx, exchange));
      case "/metadata/instance/compute":
        return route("compute", () => compute(ctx, exchange));
      case `${ATTESTATION_PATH}/attest`:
        // An attestation service is not IMDS: no Metadata header, its own error shape.
        return {
          endpoint: "attestation",
          handle: () => attest(ctx, exchange),
          faultReply: (status) =>
            json(status, { error: { code: "InjectedFault", message: `Injected fault (HTTP ${status}).` } }),
        };
      default:
        return undefined;
    }
  };
}

// Checks every IMDS call shares: the Metadata header, and no sign of a proxy (real IMDS refuses
// requests that carry X-Forwarded-For, since a proxy must never sit between a VM and IMDS).
function guard(exchange: Exchange, handle: () => Reply): Reply {
  if (!hasMetadataHeader(exchange)) {
    return imdsError(
      400,
      "invalid_request",
      "Required metadata header not specified. Send 'Metadata: true'.",
    );
  }
  if (exchange.headers["x-forwarded-for"] !== undefined) {
    return imdsError(
      400,
      "invalid_request",
      "Request contains an X-Forwarded-For header: IMDS must be called directly, never through a proxy.",
    );
  }
  const reply = handle();
  reply.headers = { server: IMDS_SERVER_HEADER, ...reply.headers };
  return reply;
}

function v2Preconditions(ctx: EmulatorContext, exchange: Exchange, method: string): Reply | undefined {
  if (!ctx.settings.imdsV2) {
    return imdsError(404, "not_found", "This endpoint is not available on this VM (IMDS v1 only).");
  }
  if (exchange.method !== method) {
    return imdsError(405, "invalid_request", `The method ${exchange.method} is not allowed; use ${method}.`);
  }
  const version = exchange.query.getAll("cred-api-version");
  if (version.length !== 1 || version[0] !== "2.0") {
    return imdsError(
      400,
      "invalid_request",
      "Missing or unsupported cred-api-version; use cred-api-version=2.0.",
    );
  }
  return undefined;
}

function cuId(ctx: EmulatorContext): { vmId: string; vmssId?: string } {
  return ctx.settings.vmssId
    ? { vmId: ctx.settings.vmId, vmssId: ctx.settings.vmssId }
    : { vmId: ctx.settings.vmId };
}

function resolveV2Identity(ctx: EmulatorContext, exchange: Exchange): ManagedIdentity | Reply {
  const selection = selectIdentity(ctx.registry, exchange.query, V2_IDENTITY, [
    "msi_res_id",
    "principalid",
    "clientid",
  ]);
  return "identity" in selection
    ? selection.identity
    : imdsError(selection.status, "invalid_request", selection.reason);
}

function platformMetadata(ctx: EmulatorContext, exchange: Exchange): Reply {
  const problem = v2Preconditions(ctx, exchange, "GET");
  if (problem) return problem;
  const identity = resolveV2Identity(ctx, exchange);
  if ("status" in identity) return identity;
  return json(200, {
    clientId: identity.clientId,
    tenantId: ctx.registry.tenantId,
    cuId: cuId(ctx),
    // The emulated attestation service: clients POST {"publicKey": "<base64 SPKI DER>"} to
    // `${attestationEndpoint}/attest` and send the token back as issuecredential's attestation_token.
    attestationEndpoint: `${ctx.urls.imds}${ATTESTATION_PATH}`,
  });
}

function issueCredential(ctx: EmulatorContext, exchange: Exchange): Reply {
  const problem = v2Preconditions(ctx, exchange, "POST");
  if (problem) return problem;
  const identity = resolveV2Identity(ctx, exchange);
  if ("status" in identity) return identity;
  if (!(exchange.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
    return imdsError(400, "invalid_request", "The body must be JSON: send Content-Type: application/json.");
  }
  let body: unknown;
  try {
    body = JSON.parse(exchange.body.toString("utf8"));
  } catch {
    return imdsError(400, "invalid_request", "The body is not valid JSON.");
  }
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const csr = fields.csr;
  const attestationToken = fields.attestation_token;
  if (attestationToken !== undefined && typeof attestationToken !== "string") {
    return imdsError(400, "invalid_request", "The attestation_token must be a string.");
  }
  // What IMDS answers today for a key without attestation (issue 13; MSAL.NET's mocks model it).
  if (ctx.settings.requireAttestation && (attestationToken === undefined || attestationToken.trim() === "")) {
    return imdsError(400, "invalid_request", "Attestation Token is missing / empty");
  }
  if (typeof csr !== "string" || csr === "") {
    return imdsError(
      400,
      "invalid_request",
      'The body must be {"csr": "<base64 DER of a PKCS#10 request>"}.',
    );
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(csr)) {
    return imdsError(
      400,
      "invalid_request",
      "The csr must be single-line base64 of the DER (no PEM armour, no line breaks).",
    );
  }
  const check = checkCsr(Buffer.from(csr, "base64"), {
    tenantId: ctx.registry.tenantId,
    clientId: identity.clientId,
    cuIdJson: JSON.stringify(cuId(ctx)),
  });
  if (!check.ok) return imdsError(400, "invalid_request", check.reason);
  // A token sent is checked whether or not attestation is required: a forged one is never ignored.
  if (attestationToken !== undefined && attestationToken.trim() !== "") {
    const verdict = ctx.attestation.verify(attestationToken.trim(), check.publicKey);
    if (!verdict.ok)
      return imdsError(400, "invalid_request", `Attestation Token is invalid: ${verdict.reason}`);
  }
  const now = ctx.now();
  const issued = ctx.managedIdentityCa.issue({
    publicKey: check.publicKey,
    commonName: identity.clientId,
    subjectPrefix: [["0.9.2342.19200300.100.1.25", ctx.registry.tenantId]],
    usage: "client",
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + ctx.settings.issuedCertificateLifetimeSeconds * 1000),
  });
  return json(200, {
    client_id: identity.clientId,
    tenant_id: ctx.registry.tenantId,
    certificate: issued.certificate.raw.toString("base64"),
    identity_type: identity.kind === "system" ? "SystemAssigned" : "UserAssigned",
    mtls_authentication_endpoint: ctx.urls.mtls,
  });
}

function v1Token(ctx: EmulatorContext, exchange: Exchange): Reply {
  if (exchange.method !== "GET")
    return imdsError(405, "invalid_request", `The method ${exchange.method} is not allowed; use GET.`);
  const version = exchange.query.get("api-version");
  if (!version) return imdsError(400, "invalid_request", "Required query variable 'api-version' is missing.");
  if (version !== "2018-02-01") {
    return imdsError(
      400,
      "invalid_request",
      `Invalid api-version '${version}'; this emulator serves 2018-02-01.`,
    );
  }
  const selection = selectIdentity(ctx.registry, exchange.query, V1_IDENTITY, ["mi_res_id"]);
  if (!("identity" in selection)) return imdsError(selection.status, "invalid_request", selection.reason);
  const minted = managedIdentityToken(ctx, selection.identity, exchange.query.get("resource"));
  if ("error" in minted) return imdsError(400, minted.error, minted.description);
  return json(200, imdsTokenBody(minted, selection.identity.clientId));
}

function compute(ctx: EmulatorContext, exchange: Exchange): Reply {
  if (exchange.method !== "GET")
    return imdsError(405, "invalid_request", `The method ${exchange.method} is not allowed; use GET.`);
  if (!exchange.query.get("api-version")) {
    return imdsError(400, "invalid_request", "Required query variable 'api-version' is missing.");
  }
  return json(200, {
    azEnvironment: "AzurePublicCloud",
    location: ctx.settings.location,
    name: "emulator-vm",
    osType: "Linux",
    provider: "Microsoft.Compute",
    resourceGroupName: "certbound-emulator",
    resourceId: ctx.registry.system.resourceId,
    vmId: ctx.settings.vmId,
    ...(ctx.settings.vmssId ? { vmScaleSetName: "emulator-vmss" } : {}),
    zone: "",
  });
}

// The emulated attestation service: a signed, short-lived token for the posted public key.
function attest(ctx: EmulatorContext, exchange: Exchange): Reply {
  const refuse = (status: number, message: string) =>
    json(status, { error: { code: "InvalidRequest", message } });
  if (exchange.method !== "POST")
    return refuse(405, `The method ${exchange.method} is not allowed; use POST.`);
  let body: unknown;
  try {
    body = JSON.parse(exchange.body.toString("utf8"));
  } catch {
    return refuse(400, 'The body must be JSON: {"publicKey": "<base64 SPKI DER>"}.');
  }
  const publicKey =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>).publicKey : undefined;
  if (typeof publicKey !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(publicKey)) {
    return refuse(400, 'The body must be {"publicKey": "<base64 SPKI DER of the key to attest>"}.');
  }
  let spki: Buffer;
  try {
    spki = createPublicKey({ key: Buffer.from(publicKey, "base64"), format: "der", type: "spki" }).export({
      type: "spki",
      format: "der",
    });
  } catch {
    return refuse(400, "The publicKey is not a DER SubjectPublicKeyInfo.");
  }
  return json(200, { token: ctx.attestation.issue(spki) });
}
