import { CertboundError, type HttpRequest, type HttpResponse } from "@certbound/core";
import {
  type AcquisitionBudget,
  CLIENT_SKU,
  CLIENT_VERSION,
  encodeForm,
  imdsRetryPolicy,
  managedIdentityRetryPolicy,
  type RetryPolicy,
  sendWithRetry,
} from "@certbound/core/credential-kit";
import { readArcChallenge } from "./azure-arc-challenge";
import type { DetectedSource, ManagedIdentitySourceName } from "./detect-source";
import { describeIdentity, type ManagedIdentityId } from "./identity";
import { type ManagedIdentityToken, parseManagedIdentityResponse } from "./parse-managed-identity-response";
import { imdsHeaders, joinUrl, type RequestContext } from "./request-context";

/** API versions of the Bearer token endpoints (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s4-2-sources). */
export const API_VERSION = {
  imds: "2018-02-01",
  appService: "2019-08-01",
  serviceFabric: "2020-05-01",
  azureArc: "2020-06-01",
  machineLearning: "2017-09-01",
} as const;

/** How each source is named in messages. */
export const SOURCE_LABEL: Record<ManagedIdentitySourceName, string> = {
  imds: "IMDS",
  appService: "App Service",
  serviceFabric: "Service Fabric",
  azureArc: "Azure Arc",
  cloudShell: "Cloud Shell",
  machineLearning: "Azure Machine Learning",
};

/**
 * The query parameter naming a user-assigned identity for a source, or `undefined` for the
 * system-assigned one. Throws `managed_identity_unsupported_identity` where the source has no way
 * to select that identity (Azure Arc and Cloud Shell have only the system identity; Service Fabric
 * selects by principal (object) id; Machine Learning by client id).
 *
 * @example
 * ```ts
 * identityParameter(source, { kind: "resourceId", value: id }); // ["mi_res_id", id] on App Service
 * ```
 */
export function identityParameter(
  source: DetectedSource,
  id: ManagedIdentityId,
): [string, string] | undefined {
  if (id.kind === "system") {
    return source.name === "machineLearning" && source.defaultClientId !== undefined
      ? ["clientid", source.defaultClientId]
      : undefined;
  }
  switch (source.name) {
    case "imds":
      return [{ clientId: "client_id", objectId: "object_id", resourceId: "msi_res_id" }[id.kind], id.value];
    case "appService":
      return [{ clientId: "client_id", objectId: "object_id", resourceId: "mi_res_id" }[id.kind], id.value];
    case "serviceFabric":
      if (id.kind === "objectId") return ["principalId", id.value];
      break;
    case "machineLearning":
      if (id.kind === "clientId") return ["clientid", id.value];
      break;
    case "azureArc":
    case "cloudShell":
      break;
  }
  const supported: Partial<Record<ManagedIdentitySourceName, string>> = {
    serviceFabric: " Service Fabric selects a user-assigned identity by its principal id: pass `objectId`.",
    machineLearning:
      " Azure Machine Learning selects a user-assigned identity by client id: pass `clientId`.",
  };
  throw new CertboundError(
    "managed_identity_unsupported_identity",
    `${SOURCE_LABEL[source.name]} cannot issue tokens for ${describeIdentity(id)}.${
      supported[source.name] ??
      ` ${SOURCE_LABEL[source.name]} supports only the system-assigned identity: leave out \`clientId\`, \`objectId\` and \`resourceId\`.`
    }`,
  );
}

/** One Bearer acquisition. */
export interface BearerCall {
  readonly source: DetectedSource;
  readonly identity: ManagedIdentityId;
  readonly resource: string;
  readonly correlationId: string;
  readonly signal?: AbortSignal | undefined;
  /** The deadline of the acquisition this call belongs to. */
  readonly budget?: AcquisitionBudget | undefined;
  /** Where the Azure Arc agent writes its challenge files. */
  readonly arcTokenFolder: string;
}

/** The request and retry policy of a Bearer call, before any Azure Arc challenge. */
export function buildBearerRequest(
  ctx: RequestContext,
  call: BearerCall,
): { request: HttpRequest; policy: RetryPolicy } {
  const { source, resource, correlationId } = call;
  const parameter = identityParameter(source, call.identity);
  const common = { timeoutMs: ctx.localTimeoutMs, proxy: "never" as const };
  const get = (base: string, apiVersion: string, headers: Record<string, string>): HttpRequest => {
    const url = new URL(base);
    url.searchParams.set("api-version", apiVersion);
    url.searchParams.set("resource", resource);
    if (parameter) url.searchParams.set(parameter[0], parameter[1]);
    return { method: "GET", url: url.toString(), headers, ...common, ca: ctx.ca };
  };
  switch (source.name) {
    case "imds":
      return {
        request: get(
          joinUrl(source.endpoint, "/metadata/identity/oauth2/token"),
          API_VERSION.imds,
          // Follows MSAL.NET ImdsManagedIdentitySource.CreateRequestAsync (test
          // ImdsTests.ImdsFails404TwiceThenSucceeds200Async): the library identity, as on every other call.
          { ...imdsHeaders(correlationId), "x-client-sku": CLIENT_SKU, "x-client-ver": CLIENT_VERSION },
        ),
        policy: imdsRetryPolicy,
      };
    case "appService":
      return {
        request: get(source.endpoint, API_VERSION.appService, {
          "x-identity-header": source.secret,
          "x-ms-client-request-id": correlationId,
        }),
        policy: managedIdentityRetryPolicy,
      };
    case "serviceFabric":
      return {
        request: {
          ...get(source.endpoint, API_VERSION.serviceFabric, {
            secret: source.secret,
            "x-ms-client-request-id": correlationId,
          }),
          // Service Fabric's endpoint has a self-signed certificate: trust exactly that one.
          pinnedServerThumbprint: source.thumbprint,
        },
        policy: managedIdentityRetryPolicy,
      };
    case "azureArc":
      return {
        request: get(source.endpoint, API_VERSION.azureArc, imdsHeaders(correlationId)),
        policy: managedIdentityRetryPolicy,
      };
    case "machineLearning":
      return {
        request: get(source.endpoint, API_VERSION.machineLearning, {
          secret: source.secret,
          ...imdsHeaders(correlationId),
        }),
        policy: managedIdentityRetryPolicy,
      };
    case "cloudShell":
      return {
        request: {
          method: "POST",
          url: source.endpoint,
          headers: {
            ...imdsHeaders(correlationId),
            "content-type": "application/x-www-form-urlencoded",
          },
          body: encodeForm({ resource }),
          ...common,
          ca: ctx.ca,
        },
        policy: managedIdentityRetryPolicy,
      };
  }
}

/**
 * One Bearer token from the detected source (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s4-2-sources), including Azure Arc's
 * challenge round trip.
 *
 * @example
 * ```ts
 * const token = await acquireBearerToken(ctx, { source, identity, resource, correlationId, arcTokenFolder });
 * ```
 */
export async function acquireBearerToken(
  ctx: RequestContext,
  call: BearerCall,
): Promise<ManagedIdentityToken> {
  const { request, policy } = buildBearerRequest(ctx, call);
  const send = (r: HttpRequest): Promise<HttpResponse> =>
    sendWithRetry(ctx.transport, r, { policy, clock: ctx.clock, signal: call.signal, budget: call.budget });
  let sent = request;
  let response = await send(request);
  if (call.source.name === "azureArc" && response.status === 401) {
    const secret = await readArcChallenge(
      response.headers["www-authenticate"],
      call.arcTokenFolder,
      call.correlationId,
    );
    sent = { ...request, headers: { ...request.headers, authorization: `Basic ${secret}` } };
    response = await send(sent);
  }
  const what = SOURCE_LABEL[call.source.name];
  return parseManagedIdentityResponse(response, {
    what: `the ${what} managed-identity endpoint`,
    now: ctx.clock.now(),
    correlationId: call.correlationId,
    hint: (errorCode, status) => hintFor(call, errorCode, status),
    // A hostile endpoint may echo the secret header it was sent: the error path redacts it.
    sent,
  });
}

function hintFor(call: BearerCall, _errorCode: string | undefined, status: number): string | undefined {
  if (status === 400 && call.identity.kind !== "system") {
    return `Check that the user-assigned identity is assigned to this ${SOURCE_LABEL[call.source.name]} resource.`;
  }
  if (status === 400 || status === 404) {
    return `Check that a managed identity is enabled on this ${SOURCE_LABEL[call.source.name]} resource.`;
  }
  if (status === 401 || status === 403) {
    return "The endpoint refused the request's secret header: the process environment may be stale; restart it.";
  }
  return undefined;
}
