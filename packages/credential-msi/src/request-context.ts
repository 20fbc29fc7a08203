import type { Clock, HttpTransport } from "@certbound/core";
import { AcquisitionBudget, type Log } from "@certbound/core/credential-kit";

/** What every managed-identity request needs, resolved once from the client's options. */
export interface RequestContext {
  readonly transport: HttpTransport;
  readonly clock: Clock;
  /** Budget of one attempt at Entra's mTLS token endpoint, in milliseconds. */
  readonly timeoutMs: number;
  /** Budget of one attempt at IMDS or another managed-identity endpoint on this machine. */
  readonly localTimeoutMs: number;
  /** Budget of one whole acquisition (`acquisitionTimeoutMs`). */
  readonly acquisitionTimeoutMs: number;
  /** Extra trusted CAs for HTTPS endpoints (the mTLS token endpoint, App Service over HTTPS). */
  readonly ca: string | readonly string[] | undefined;
  readonly log: Log;
}

/**
 * The deadline of one acquisition, started now: pass it to every request the acquisition sends.
 *
 * @example
 * ```ts
 * const budget = startBudget(ctx, request.correlationId);
 * ```
 */
export function startBudget(ctx: RequestContext, correlationId: string): AcquisitionBudget {
  return new AcquisitionBudget({
    clock: ctx.clock,
    budgetMs: ctx.acquisitionTimeoutMs,
    optionName: "acquisitionTimeoutMs",
    correlationId,
  });
}

/** The header set of every IMDS call (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-1-imds-calls). */
export function imdsHeaders(correlationId: string): Record<string, string> {
  return { metadata: "true", "x-ms-client-request-id": correlationId };
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
