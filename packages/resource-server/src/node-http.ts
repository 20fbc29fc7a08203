import type { IncomingMessage, ServerResponse } from "node:http";
import { TokenValidationError } from "./errors";
import type { TokenValidator, ValidatedToken } from "./token-validator";

/**
 * Answers a refused request: status 401/403/503, `WWW-Authenticate` (RFC 6750 section 3) and a
 * small JSON body with the same `error` and `error_description`. Never echoes the token.
 *
 * @public
 * @example
 * ```ts
 * catch (error) { if (error instanceof TokenValidationError) writeRejection(res, error); else throw error; }
 * ```
 */
export function writeRejection(res: ServerResponse, error: TokenValidationError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const challenge = error.wwwAuthenticate;
  const body = JSON.stringify({
    error: error.bearerError ?? error.code,
    error_description: error.description,
  });
  res.writeHead(error.status, {
    ...(challenge ? { "www-authenticate": challenge } : {}),
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * For plain `node:http`/`node:https` servers: resolves with the accepted token, or answers the
 * request with the rejection and resolves with `undefined` (the handler then just returns).
 * `onRejected` sees every {@link TokenValidationError} (log its `code`).
 *
 * @public
 * @example
 * ```ts
 * const authenticate = createNodeAuthenticator({ validator });
 * https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, async (req, res) => {
 *   const token = await authenticate(req, res);
 *   if (!token) return;
 *   res.end(`hello ${token.claims.oid}`);
 * });
 * ```
 */
export function createNodeAuthenticator(options: {
  validator: TokenValidator;
  onRejected?: ((error: TokenValidationError, request: IncomingMessage) => void) | undefined;
}): (request: IncomingMessage, response: ServerResponse) => Promise<ValidatedToken | undefined> {
  const { validator, onRejected } = options;
  return async (request, response) => {
    try {
      return await validator.validateRequest(request);
    } catch (error) {
      if (!(error instanceof TokenValidationError)) throw error;
      onRejected?.(error, request);
      writeRejection(response, error);
      return undefined;
    }
  };
}
