// packages/core/README.md, "Writing your own transport": a transport on another HTTP client (the
// prelude stands for that client). packages/testing/README.md runs the conformance suite against it.
import type { HttpResponse } from "@certbound/core";

declare function sendWithMyClient(url: URL, pin: unknown, signal: AbortSignal): Promise<HttpResponse>;

// #region readme-core-transport-kit
import type { HttpTransport } from "@certbound/core";
import {
  abortedError,
  Attempt,
  mapTransportError,
  parseRequestTarget,
  resolveTransportOptions,
  validateTransportOptions,
} from "@certbound/core/transport-kit";

const PACKAGE = "@my-scope/my-transport";

export function createMyTransport(options = {}): HttpTransport {
  validateTransportOptions(options, { packageName: PACKAGE, factoryName: "createMyTransport" });
  const settings = resolveTransportOptions(options, PACKAGE);
  return {
    async send(request) {
      if (request.signal?.aborted) throw abortedError(request.signal);
      const { endpoint, url, pin } = parseRequestTarget(request, PACKAGE);
      const attempt = new Attempt(settings.clock, request.timeoutMs, request.signal);
      try {
        return await sendWithMyClient(url, pin, attempt.signal);
      } catch (error) {
        const withCertificate = request.clientIdentity !== undefined;
        throw attempt.failure(endpoint) ?? mapTransportError(error, { endpoint, withCertificate });
      } finally {
        attempt.dispose();
      }
    },
  };
}
// #endregion readme-core-transport-kit
