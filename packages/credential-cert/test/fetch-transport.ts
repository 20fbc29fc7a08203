// A plain-HTTP transport on Node's fetch, for unit tests that talk to a local http server (the
// real transports are exercised by the end-to-end tests).
import { CertboundError, type HttpTransport } from "@certbound/core";

export function fetchTransport(): HttpTransport & { readonly sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async send(request) {
      sent.push(`${request.method} ${request.url}`);
      try {
        const response = await fetch(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
          signal: request.signal ?? null,
          redirect: "manual",
        });
        return {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: await response.text(),
        };
      } catch (cause) {
        throw new CertboundError("network_error", `fetch failed: ${(cause as Error).message}`, { cause });
      }
    },
  };
}
