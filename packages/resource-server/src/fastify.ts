import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { TokenValidationError } from "./errors";
import type { TokenValidator, ValidatedToken } from "./token-validator";

declare module "fastify" {
  interface FastifyRequest {
    /** The accepted token, set by the `@certbound/resource-server/fastify` plugin. */
    accessToken: ValidatedToken | null;
  }
}

/**
 * Options of {@link accessTokenPlugin}.
 *
 * @public
 * @example
 * ```ts
 * const options: FastifyAuthOptions = { validator, onRejected: (error) => log.warn(error.code) };
 * ```
 */
export interface FastifyAuthOptions {
  readonly validator: TokenValidator;
  /** Sees every refusal: log `error.code`. */
  readonly onRejected?: ((error: TokenValidationError, request: FastifyRequest) => void) | undefined;
}

/**
 * Fastify 5 plugin (not encapsulated, like any `fastify-plugin`): decorates the request with
 * `accessToken` and checks every request of the instance it is registered on in an `onRequest`
 * hook; a refused request gets 401/403 with `WWW-Authenticate` (RFC 6750).
 *
 * @public
 * @example
 * ```ts
 * await app.register(accessTokenPlugin, { validator });
 * app.get("/data", async (request) => ({ caller: request.accessToken?.claims.azp }));
 * ```
 */
export const accessTokenPlugin = fp<FastifyAuthOptions>(
  async (fastify, options) => {
    const { validator, onRejected } = options;
    fastify.decorateRequest("accessToken", null);
    fastify.addHook("onRequest", async (request, reply) => {
      try {
        request.accessToken = await validator.validateRequest(request.raw);
      } catch (error) {
        if (!(error instanceof TokenValidationError)) throw error;
        onRejected?.(error, request);
        const challenge = error.wwwAuthenticate;
        if (challenge) reply.header("www-authenticate", challenge);
        reply.header("cache-control", "no-store");
        await reply
          .code(error.status)
          .send({ error: error.bearerError ?? error.code, error_description: error.description });
        return reply;
      }
    });
  },
  { fastify: "5.x", name: "@certbound/resource-server" },
);

export type { TokenValidationCode } from "./errors";
export { TokenValidationError } from "./errors";
export type { TokenValidator, ValidatedToken } from "./token-validator";
