import { assertKnownKeys, invalidOptions } from "@certbound/core/credential-kit";
import {
  assertDurationOption,
  COMMON_TRANSPORT_OPTION_KEYS,
  type CommonTransportOptions,
  validateTransportOptions,
} from "@certbound/core/transport-kit";
import type { Agent, Dispatcher } from "undici";
import { PACKAGE } from "./package-name";

/**
 * Options of {@link createUndiciTransport}. Every field is optional; `ca`, `connectTimeoutMs`,
 * `maxResponseBytes`, `proxy`, `maxIdentities` (one undici Agent per client identity), `clock` and
 * `lookup` are the ones every certbound transport takes.
 *
 * @public
 * @example
 * ```ts
 * const options: UndiciTransportOptions = { ca: readFileSync("corp-root.pem", "utf8"), proxy: true, maxIdentities: 8 };
 * ```
 */
export interface UndiciTransportOptions extends CommonTransportOptions {
  /**
   * A ready undici Dispatcher of yours, used for requests that present no client certificate, carry
   * no per-request `ca` or pin, allow a proxy (`proxy: "environment"`), do not go to a loopback or
   * link-local address, and carry no secret (no `Authorization`, client assertion or secret
   * header). Every other request uses this transport's own pools, which always verify the server
   * and never follow a redirect, whatever your dispatcher's TLS settings or interceptors are: so
   * IMDS and other local endpoints never reach a proxy your dispatcher might use, and no secret
   * reaches a server your dispatcher did not verify. Requests through it carry
   * `maxRedirections: 0`. For a proxy on secret-carrying requests, use the `proxy` option. You keep
   * ownership: `close()` does not close it.
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * Options for every undici Agent this transport creates (one per client identity), e.g.
   * `keepAliveTimeout`, `connections`, `pipelining`. `connect` and `factory` are the transport's.
   */
  agentOptions?: Omit<Agent.Options, "connect" | "factory"> | undefined;
  /** Wall-clock limit for the response headers, enforced by undici. @default 300000 */
  headersTimeoutMs?: number | undefined;
  /** Wall-clock limit between two body chunks, enforced by undici. @default 300000 */
  bodyTimeoutMs?: number | undefined;
}

const UNDICI_DURATIONS = [
  "keepAliveTimeout",
  "keepAliveMaxTimeout",
  "keepAliveTimeoutThreshold",
  "headersTimeout",
  "bodyTimeout",
  "connectTimeout",
] as const;

// Every key of UndiciTransportOptions: the common ones plus this transport's (`satisfies`: none missing, none extra).
const KNOWN_KEYS = [
  ...COMMON_TRANSPORT_OPTION_KEYS,
  ...Object.keys({
    dispatcher: true,
    agentOptions: true,
    headersTimeoutMs: true,
    bodyTimeoutMs: true,
  } satisfies Record<Exclude<keyof UndiciTransportOptions, keyof CommonTransportOptions>, true>),
];

/** Checks options eagerly so mistakes fail at construction with a message naming the option. */
export function validateOptions(options: UndiciTransportOptions): void {
  validateTransportOptions(options, { packageName: PACKAGE, factoryName: "createUndiciTransport" });
  assertKnownKeys(PACKAGE, options, KNOWN_KEYS, "createUndiciTransport options");
  assertDurationOption(PACKAGE, "headersTimeoutMs", options.headersTimeoutMs, 0);
  assertDurationOption(PACKAGE, "bodyTimeoutMs", options.bodyTimeoutMs, 0);
  // undici's own timers overflow like Node's: its durations passed through are checked the same way.
  for (const name of UNDICI_DURATIONS) {
    const value = (options.agentOptions as Record<string, unknown> | undefined)?.[name];
    if (typeof value === "number") assertDurationOption(PACKAGE, `agentOptions.${name}`, value, 0);
  }
  if (options.dispatcher !== undefined && typeof options.dispatcher?.dispatch !== "function") {
    throw invalidOptions(
      PACKAGE,
      "`dispatcher` must be an undici Dispatcher (an Agent, Pool, ProxyAgent, ...).",
    );
  }
}
