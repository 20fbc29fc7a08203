import { performance } from "node:perf_hooks";
import type { TokenType } from "../seams/result";
import type { HttpResponse } from "../seams/transport";
import { describeUrl, diagnostics, diagnosticsError, type ResourceCallEvent } from "./diagnostics";

/**
 * Publishes the start of a resource request on `certbound:resource:call:start` and returns a
 * function that awaits the response and publishes its end (or error). `ResourceCaller` uses it;
 * so can any other code that sends a request with a certbound token (a fetch helper), so that
 * `@certbound/otel` and other subscribers see it. Call it only when
 * `diagnostics.resourceStart.hasSubscribers` (see {@link DIAGNOSTICS_CHANNELS}), or use
 * {@link traceResourceCall}, which checks.
 *
 * @internal
 * @example
 * ```ts
 * const traced = startResourceCall("GET", url, "mtls_pop", true);
 * const response = await traced(transport.send(request));
 * ```
 */
export function startResourceCall(
  method: string,
  url: string,
  tokenType: TokenType,
  mutualTls: boolean,
): <R extends Pick<HttpResponse, "status">>(sending: Promise<R>) => Promise<R> {
  // A resource URL is the app's own, not an identifier of its tenant or client: kept, minus query.
  const where = describeUrl(url, true);
  const event: ResourceCallEvent = {
    method,
    url: where.url,
    serverAddress: where.serverAddress,
    serverPort: where.serverPort,
    tokenType,
    mutualTls,
  };
  const started = performance.now();
  diagnostics.resourceStart.publish(event);
  return (sending) =>
    sending.then(
      (response) => {
        event.statusCode = response.status;
        event.durationMs = performance.now() - started;
        diagnostics.resourceEnd.publish(event);
        return response;
      },
      (error: unknown) => {
        event.durationMs = performance.now() - started;
        event.error = diagnosticsError(error);
        diagnostics.resourceError.publish(event);
        throw error;
      },
    );
}

/**
 * Sends a resource request through `send`, published on the `certbound:resource:call:*` channels
 * when they have subscribers (otherwise `send()` is simply returned). The hook for code that calls
 * a resource with a certbound token outside `ResourceCaller`, such as a fetch helper.
 *
 * @public
 * @example
 * ```ts
 * const response = await traceResourceCall(
 *   { method: "GET", url, tokenType: result.tokenType, mutualTls: true },
 *   () => fetch(url, { dispatcher, headers: { authorization } }),
 * );
 * ```
 */
export function traceResourceCall<R extends Pick<HttpResponse, "status">>(
  call: {
    readonly method: string;
    readonly url: string;
    readonly tokenType: TokenType;
    readonly mutualTls: boolean;
  },
  send: () => Promise<R>,
): Promise<R> {
  if (!diagnostics.resourceStart.hasSubscribers) return send();
  const traced = startResourceCall(call.method, call.url, call.tokenType, call.mutualTls);
  let sending: Promise<R>;
  try {
    sending = send();
  } catch (error) {
    sending = Promise.reject(error);
  }
  return traced(sending);
}
