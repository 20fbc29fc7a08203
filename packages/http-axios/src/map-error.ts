import type { CertboundError } from "@certbound/core";
import { describeTransportFailure, mapTransportError, responseTooLarge } from "@certbound/core/transport-kit";
import { isAxiosError } from "axios";

// ECONNABORTED is axios' own code for its `timeout`; Node's ETIMEDOUT is the kit's.
const TIMEOUT_CODES = ["ECONNABORTED"];

/** Where the request was when it failed. */
export interface FailureContext {
  readonly endpoint: string;
  /** A client certificate was presented. */
  readonly withCertificate: boolean;
  readonly maxResponseBytes: number;
}

/**
 * Turns what axios (or Node under it) threw into a {@link CertboundError} with one of the transport
 * codes. An AxiosError is never attached: it carries the request config, headers included
 * (`Authorization`), and the request object. Only the Node error underneath, or a bare copy of the
 * message and code, becomes the `cause`.
 */
export function mapError(error: unknown, context: FailureContext): CertboundError {
  const { endpoint } = context;
  const { code, message } = describeTransportFailure(error);
  // axios enforces maxContentLength itself and reports it as a bad response.
  if (code === "ERR_BAD_RESPONSE" && message.startsWith("maxContentLength")) {
    return responseTooLarge(endpoint, context.maxResponseBytes, redact(error));
  }
  // The kit's default reading of a hang-up (ECONNRESET "socket hang up") fits Node's http stack.
  return mapTransportError(error, {
    endpoint,
    withCertificate: context.withCertificate,
    timeoutCodes: TIMEOUT_CODES,
    redact,
  });
}

/** The Node error under an AxiosError, or a copy of its message and code: never its config or request. */
function redact(error: unknown): unknown {
  if (!isAxiosError(error)) return error;
  if (error.cause instanceof Error && !isAxiosError(error.cause)) return error.cause;
  return Object.assign(new Error(error.message), { code: error.code });
}
