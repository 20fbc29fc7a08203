import type { Clock, HttpTransport, Log } from "@certbound/core";

/** What every managed-identity request needs, resolved once from the client's options. */
export interface RequestContext {
  readonly transport: HttpTransport;
  readonly clock: Clock;
  /** Budget of one attempt, in milliseconds. */
  readonly timeoutMs: number;
  /** Extra trusted CAs for HTTPS endpoints (the mTLS token endpoint, App Service over HTTPS). */
  readonly ca: string | readonly string[] | undefined;
  readonly log: Log;
}

/** The header set of every IMDS call (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-1-imds-calls). */
export function imdsHeaders(correlationId: string): Record<string, string> {
  return { metadata: "true", "x-ms-client-request-id": correlationId };
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
