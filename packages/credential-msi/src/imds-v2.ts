import type { X509Certificate } from "node:crypto";
import { CertboundError, type HttpResponse } from "@certbound/core";
import {
  type AcquisitionBudget,
  imdsRetryPolicy,
  parseDerCertificate,
  parseErrorResponse,
  parseJsonBody,
  type RetryPolicy,
  sendWithRetry,
  stringField,
} from "@certbound/core/credential-kit";
import { attestationRequired, isAttestationMissing } from "./attestation";
import type { ComputeUnitId } from "./csr";
import type { ManagedIdentityId } from "./identity";
import { imdsHeaders, joinUrl, type RequestContext } from "./request-context";

/** IMDS v2's credential API version. */
export const CRED_API_VERSION = "2.0";

/** What getplatformmetadata says about this VM and identity. */
export interface PlatformMetadata {
  readonly clientId: string;
  readonly tenantId: string;
  readonly cuId: ComputeUnitId;
  readonly attestationEndpoint: string;
}

/** What issuecredential returns. */
export interface IssuedCredential {
  readonly clientId: string;
  readonly tenantId: string;
  readonly certificate: X509Certificate;
  readonly identityType: string;
  /**
   * Base URL of the regional mTLS token endpoint as IMDS sent it, e.g.
   * `https://westus3.mtlsauth.microsoft.com`: unchecked here (mtls-endpoint.ts checks it).
   */
  readonly mtlsAuthenticationEndpoint: string;
}

/** One IMDS v2 call. */
export interface ImdsV2Call {
  readonly endpoint: string;
  readonly identity: ManagedIdentityId;
  readonly correlationId: string;
  readonly signal?: AbortSignal | undefined;
  /** The deadline of the acquisition this call belongs to. */
  readonly budget?: AcquisitionBudget | undefined;
}

/**
 * The user-assigned identity parameter of IMDS v2 calls: `client_id`, `object_id` or `mi_res_id`
 * (IMDS v1 names the last one `msi_res_id`).
 */
export function imdsV2IdentityParameter(id: ManagedIdentityId): [string, string] | undefined {
  switch (id.kind) {
    case "system":
      return undefined;
    case "clientId":
      return ["client_id", id.value];
    case "objectId":
      return ["object_id", id.value];
    case "resourceId":
      return ["mi_res_id", id.value];
  }
}

function v2Url(call: ImdsV2Call, operation: string): string {
  const url = new URL(joinUrl(call.endpoint, `/metadata/identity/${operation}`));
  url.searchParams.set("cred-api-version", CRED_API_VERSION);
  const parameter = imdsV2IdentityParameter(call.identity);
  if (parameter) url.searchParams.set(parameter[0], parameter[1]);
  return url.toString();
}

/**
 * Sends getplatformmetadata and returns the raw response (any status), after the IMDS retries.
 * `policy` lets the capability probe skip the retries on 404.
 */
export function requestPlatformMetadata(
  ctx: RequestContext,
  call: ImdsV2Call,
  policy: RetryPolicy = imdsRetryPolicy,
): Promise<HttpResponse> {
  return sendWithRetry(
    ctx.transport,
    {
      method: "GET",
      url: v2Url(call, "getplatformmetadata"),
      headers: imdsHeaders(call.correlationId),
      timeoutMs: ctx.localTimeoutMs,
      proxy: "never",
    },
    { policy, clock: ctx.clock, signal: call.signal, budget: call.budget },
  );
}

/** Whether the `server` header says the answer really comes from IMDS. */
export function isFromImds(response: HttpResponse): boolean {
  return /imds/i.test(response.headers.server ?? "");
}

/**
 * IMDS v2 step 1 (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-2-getplatformmetadata): getplatformmetadata. A 404 means IMDS v1 only:
 * `mtls_pop_token_not_supported_in_imds_v1`.
 *
 * @example
 * ```ts
 * const metadata = await getPlatformMetadata(ctx, { endpoint, identity, correlationId });
 * ```
 */
export async function getPlatformMetadata(ctx: RequestContext, call: ImdsV2Call): Promise<PlatformMetadata> {
  const response = await requestPlatformMetadata(ctx, call);
  const metadata = parsePlatformMetadata(response, ctx.clock.now(), call.correlationId);
  checkSameIdentity("getplatformmetadata", metadata, call, undefined);
  return metadata;
}

const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Refuses an IMDS answer that names another identity than the one asked for: the user-assigned
 * client id (when the app gave one) and, for issuecredential, getplatformmetadata's client and
 * tenant. A certificate for another identity must never be cached, or used, as this one.
 */
export function checkSameIdentity(
  operation: "getplatformmetadata" | "issuecredential",
  answer: { readonly clientId: string; readonly tenantId: string },
  call: ImdsV2Call,
  metadata: PlatformMetadata | undefined,
): void {
  const mismatch =
    call.identity.kind === "clientId" && !sameId(answer.clientId, call.identity.value)
      ? "a different client id than the user-assigned identity asked for"
      : metadata && !sameId(answer.clientId, metadata.clientId)
        ? "a different client id than getplatformmetadata"
        : metadata && !sameId(answer.tenantId, metadata.tenantId)
          ? "a different tenant id than getplatformmetadata"
          : undefined;
  if (mismatch) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `IMDS ${operation} answered for ${mismatch}; the answer is refused and nothing is cached. Check that the identity is assigned to this VM and that nothing else answers on the IMDS address.`,
      { correlationId: call.correlationId },
    );
  }
}

/** Validates a getplatformmetadata answer. */
export function parsePlatformMetadata(
  response: HttpResponse,
  now: number,
  correlationId: string,
): PlatformMetadata {
  const what = "IMDS getplatformmetadata";
  if (response.status === 404) {
    throw parseErrorResponse(response, {
      what,
      now,
      correlationId,
      code: "mtls_pop_token_not_supported_in_imds_v1",
      hint: () =>
        "This VM offers only IMDS v1, which cannot issue mTLS PoP tokens. Request a Bearer token (leave `mtlsProofOfPossession` off) or run on a VM with IMDS v2.",
    });
  }
  if (response.status < 200 || response.status >= 300) {
    // Follows MSAL.NET ImdsV2ManagedIdentitySource.GetCsrMetadataAsync: ManagedIdentityRequestFailed.
    throw parseErrorResponse(response, { what, now, correlationId, code: "managed_identity_request_failed" });
  }
  if (!isFromImds(response)) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `The answer of ${what} does not come from IMDS (its \`server\` header does not say IMDS). Check \`imdsEndpoint\` and AZURE_POD_IDENTITY_AUTHORITY_HOST.`,
      { correlationId },
    );
  }
  const json = parseJsonBody(response, {
    code: "managed_identity_response_parse_failure",
    what,
    correlationId,
  });
  const clientId = stringField(json, "clientId");
  const tenantId = stringField(json, "tenantId");
  const attestationEndpoint = stringField(json, "attestationEndpoint");
  const rawCuId = json.cuId;
  const cu =
    typeof rawCuId === "object" && rawCuId !== null && !Array.isArray(rawCuId)
      ? (rawCuId as Record<string, unknown>)
      : undefined;
  const cuId: ComputeUnitId | undefined = cu
    ? { vmId: stringField(cu, "vmId"), vmssId: stringField(cu, "vmssId") }
    : undefined;
  const missing = [
    ...(clientId ? [] : ["clientId"]),
    ...(tenantId ? [] : ["tenantId"]),
    ...(cuId && (cuId.vmId || cuId.vmssId) ? [] : ["cuId (vmId or vmssId)"]),
    ...(attestationEndpoint ? [] : ["attestationEndpoint"]),
  ];
  if (!clientId || !tenantId || !cuId || !attestationEndpoint || missing.length > 0) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `The answer of ${what} lacks ${missing.join(", ")}. IMDS v2 may not be fully available on this VM; retry later or request a Bearer token.`,
      { correlationId },
    );
  }
  return { clientId, tenantId, cuId, attestationEndpoint };
}

/**
 * IMDS v2 step 4: issuecredential. Sends the CSR (single-line base64 DER) and returns the issued
 * certificate and where to ask for the token.
 *
 * @example
 * ```ts
 * const credential = await issueCredential(ctx, { endpoint, identity, correlationId }, csrDer);
 * ```
 */
export async function issueCredential(
  ctx: RequestContext,
  call: ImdsV2Call,
  csr: Uint8Array,
  attestationToken?: string | undefined,
): Promise<IssuedCredential> {
  const response = await sendWithRetry(
    ctx.transport,
    {
      method: "POST",
      url: v2Url(call, "issuecredential"),
      headers: { ...imdsHeaders(call.correlationId), "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({
        csr: Buffer.from(csr).toString("base64"),
        ...(attestationToken === undefined ? {} : { attestation_token: attestationToken }),
      }),
      timeoutMs: ctx.localTimeoutMs,
      proxy: "never",
    },
    { policy: imdsRetryPolicy, clock: ctx.clock, signal: call.signal, budget: call.budget },
  );
  return parseIssuedCredential(response, ctx.clock.now(), call.correlationId);
}

/** Validates an issuecredential answer. */
export function parseIssuedCredential(
  response: HttpResponse,
  now: number,
  correlationId: string,
): IssuedCredential {
  const what = "IMDS issuecredential";
  if (response.status < 200 || response.status >= 300) {
    const error = parseErrorResponse(response, {
      what,
      now,
      correlationId,
      // Follows MSAL.NET ImdsV2ManagedIdentitySource.ExecuteCertificateRequestAsync: ManagedIdentityRequestFailed.
      code: "managed_identity_request_failed",
    });
    if (isAttestationMissing(error)) throw attestationRequired(error, correlationId);
    throw error;
  }
  const json = parseJsonBody(response, {
    code: "managed_identity_response_parse_failure",
    what,
    correlationId,
  });
  const fields = {
    client_id: stringField(json, "client_id"),
    tenant_id: stringField(json, "tenant_id"),
    certificate: stringField(json, "certificate"),
    identity_type: stringField(json, "identity_type"),
    mtls_authentication_endpoint: stringField(json, "mtls_authentication_endpoint"),
  };
  const missing = Object.entries(fields)
    .filter(([, value]) => value === undefined)
    .map(([name]) => name);
  const { client_id, tenant_id, certificate, identity_type, mtls_authentication_endpoint } = fields;
  if (!client_id || !tenant_id || !certificate || !identity_type || !mtls_authentication_endpoint) {
    throw new CertboundError(
      "managed_identity_request_failed",
      `The answer of ${what} lacks ${missing.join(", ")}.`,
      { correlationId },
    );
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(certificate.replace(/\s+/g, ""))) {
    throw new CertboundError(
      "invalid_certificate",
      `The \`certificate\` returned by ${what} is not base64 DER.`,
      { correlationId },
    );
  }
  const parsed = parseDerCertificate(Buffer.from(certificate, "base64"));
  return {
    clientId: client_id,
    tenantId: tenant_id,
    certificate: parsed,
    identityType: identity_type,
    mtlsAuthenticationEndpoint: mtls_authentication_endpoint,
  };
}
