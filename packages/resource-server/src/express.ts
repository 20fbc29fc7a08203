import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TokenValidationError } from "./errors";
import { writeRejection } from "./node-http";
import type { TokenValidator, ValidatedToken } from "./token-validator";

declare global {
  namespace Express {
    interface Request {
      /** The accepted token, set by `requireAccessToken` from `@certbound/resource-server/express`. */
      accessToken?: ValidatedToken | undefined;
    }
  }
}

/**
 * Options of {@link requireAccessToken}.
 *
 * @public
 * @example
 * ```ts
 * const options: ExpressAuthOptions = { validator, onRejected: (error) => log.warn(error.code) };
 * ```
 */
export interface ExpressAuthOptions {
  readonly validator: TokenValidator;
  /** Sees every refusal: log `error.code`. */
  readonly onRejected?: ((error: TokenValidationError, request: Request) => void) | undefined;
}

/**
 * Express 5 middleware: accepts the request when its token validates (claims on
 * `req.accessToken`), else answers 401/403 with `WWW-Authenticate` (RFC 6750). Other failures go
 * to `next(error)`.
 *
 * @public
 * @example
 * ```ts
 * app.get("/data", requireAccessToken({ validator }), (req, res) => {
 *   res.json({ caller: req.accessToken?.claims.azp });
 * });
 * ```
 */
export function requireAccessToken(options: ExpressAuthOptions): RequestHandler {
  const { validator, onRejected } = options;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      req.accessToken = await validator.validateRequest(req);
    } catch (error) {
      if (!(error instanceof TokenValidationError)) {
        next(error);
        return;
      }
      onRejected?.(error, req);
      writeRejection(res, error);
      return;
    }
    next();
  };
}

export type { TokenValidationCode } from "./errors";
export { TokenValidationError } from "./errors";
export type { TokenValidator, ValidatedToken } from "./token-validator";
