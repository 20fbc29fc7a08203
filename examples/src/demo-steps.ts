// For the demo: a transport wrapper that records each HTTP exchange the clients make (what, how
// long, with which client certificate), so the demo can show the steps of a token acquisition
// (IMDS getplatformmetadata, issuecredential, the mTLS token request) with their timings, and the
// in-process work between them (key and CSR). It records no header, body or key.
import { type HttpRequest, type HttpTransport, isCertboundError } from "@certbound/core";

/** One HTTP exchange as the transport saw it. */
export interface Exchange {
  readonly method: string;
  /** Origin and path, without the query string. */
  readonly url: string;
  /** The HTTP status, or the error code when the exchange failed. */
  readonly outcome: string;
  readonly startedMs: number;
  readonly endedMs: number;
  /** x5t#S256 of the client certificate presented, for mutual TLS. */
  readonly clientCertificate?: string | undefined;
}

/** Wraps `inner`; `take()` returns the exchanges since the last `take()`, oldest first. */
export function recordExchanges(
  inner: HttpTransport,
  now: () => number = () => performance.now(),
): { transport: HttpTransport & { close(): Promise<void> }; take(): Exchange[] } {
  const exchanges: Exchange[] = [];
  const transport = {
    async send(request: HttpRequest) {
      const startedMs = now();
      const url = new URL(request.url);
      const record = (outcome: string) =>
        exchanges.push({
          method: request.method,
          url: `${url.origin}${url.pathname}`,
          outcome,
          startedMs,
          endedMs: now(),
          clientCertificate: request.clientIdentity?.x5tS256,
        });
      try {
        const response = await inner.send(request);
        record(String(response.status));
        return response;
      } catch (error) {
        record(isCertboundError(error) ? error.code : "error");
        throw error;
      }
    },
    close: async () => {
      await inner.close?.();
    },
  };
  return { transport, take: () => exchanges.splice(0) };
}

/** What the demo calls each endpoint it meets. */
export function stepName(
  exchange: Exchange,
  hosts: { imds: string; mtls: string; authority: string },
): string {
  const { pathname, origin } = new URL(exchange.url);
  if (origin === hosts.imds) {
    if (pathname.endsWith("/getplatformmetadata")) return "IMDS getplatformmetadata";
    if (pathname.endsWith("/issuecredential")) return "IMDS issuecredential (CSR in, certificate out)";
    if (pathname.endsWith("/oauth2/token")) return "IMDS token (v1, Bearer)";
    return `IMDS ${pathname}`;
  }
  if (origin === hosts.mtls) return "token request over mutual TLS (Entra mTLS host)";
  if (origin === hosts.authority) return `Entra ${pathname}`;
  return `${origin}${pathname}`;
}
