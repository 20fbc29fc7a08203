import { randomUUID } from "node:crypto";
import type { ClientTlsIdentity, HttpRequest } from "../seams/transport";
import { CLIENT_SKU, CLIENT_VERSION } from "./version";

/**
 * `application/x-www-form-urlencoded` encoding; fields whose value is `undefined` are left out.
 *
 * @public
 * @example
 * ```ts
 * encodeForm({ grant_type: "client_credentials", claims: undefined }); // "grant_type=client_credentials"
 * ```
 */
export function encodeForm(fields: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) params.append(name, value);
  return params.toString();
}

/**
 * Options of {@link buildTokenRequest}.
 *
 * @public
 */
export interface TokenRequestOptions {
  /** The full token endpoint URL. */
  url: string;
  /** Form fields of the body, e.g. `client_id`, `grant_type`, `scope`, `token_type`. */
  form: Readonly<Record<string, string | undefined>>;
  /** @default a new UUID */
  correlationId?: string | undefined;
  /** The TLS client certificate (mTLS PoP). */
  clientIdentity?: ClientTlsIdentity | undefined;
  /** Extra trusted CAs (PEM), e.g. the emulator's. */
  ca?: string | readonly string[] | undefined;
  timeoutMs?: number | undefined;
}

/**
 * A POST to an Entra token endpoint with the headers MSAL sends (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-3-pop-request):
 * `client-request-id`, `return-client-request-id`, `x-client-SKU`/`Ver`/`OS`, `x-ms-lib-capability`.
 *
 * @public
 * @example
 * ```ts
 * const request = buildTokenRequest({ url, form: { client_id, grant_type: "client_credentials", scope, token_type: "mtls_pop" }, clientIdentity });
 * ```
 */
export function buildTokenRequest(options: TokenRequestOptions): HttpRequest {
  return {
    method: "POST",
    url: options.url,
    headers: {
      "content-type": "application/x-www-form-urlencoded;charset=utf-8",
      accept: "application/json",
      "client-request-id": options.correlationId ?? randomUUID(),
      "return-client-request-id": "true",
      "x-client-sku": CLIENT_SKU,
      "x-client-ver": CLIENT_VERSION,
      "x-client-os": process.platform,
      "x-ms-lib-capability": "retry-after, h429",
    },
    body: encodeForm(options.form),
    clientIdentity: options.clientIdentity,
    ca: options.ca,
    timeoutMs: options.timeoutMs,
    proxy: "environment",
  };
}
