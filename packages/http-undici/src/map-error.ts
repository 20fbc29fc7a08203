import type { CertboundError } from "@certbound/core";
import { mapTransportError } from "@certbound/core/transport-kit";

// undici's own timeouts; Node's ETIMEDOUT is the kit's.
const TIMEOUT_CODES = ["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"];
const CLOSED_CODE = /^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/;

/** Where the request was when it failed. */
export interface FailureContext {
  readonly endpoint: string;
  /** A client certificate was presented. */
  readonly withCertificate: boolean;
  /** Response headers had arrived. */
  readonly answered: boolean;
}

/**
 * Turns whatever undici or Node threw into a {@link CertboundError} with one of the transport
 * codes. The original error stays as `cause` (undici and Node errors carry addresses and codes,
 * never request headers or bodies).
 */
export function mapError(error: unknown, context: FailureContext): CertboundError {
  return mapTransportError(error, {
    endpoint: context.endpoint,
    withCertificate: context.withCertificate,
    timeoutCodes: TIMEOUT_CODES,
    // undici reports a connection closed under it as UND_ERR_SOCKET ("other side closed"), before
    // or after the headers alike: only `answered` tells the two apart.
    closedBeforeAnswer: ({ code }) => !context.answered && CLOSED_CODE.test(code),
  });
}
