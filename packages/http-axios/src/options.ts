import type { AgentOptions } from "node:https";
import { assertKnownKeys, invalidOptions } from "@certbound/core/credential-kit";
import {
  assertDurationOption,
  COMMON_TRANSPORT_OPTION_KEYS,
  type CommonTransportOptions,
  validateTransportOptions,
} from "@certbound/core/transport-kit";
import type { AxiosInstance, CreateAxiosDefaults } from "axios";
import { PACKAGE } from "./package-name";

/**
 * Options of {@link createAxiosTransport}. Every field is optional; `ca`, `connectTimeoutMs`,
 * `maxResponseBytes`, `proxy`, `maxIdentities` (one `https.Agent` per client identity; a retired
 * agent closes idle sockets now and busy ones after their request), `clock` and `lookup` are the
 * ones every certbound transport takes.
 *
 * @public
 * @example
 * ```ts
 * const options: AxiosTransportOptions = { axios: axios.create({ headers: { "user-agent": "my-app" } }), proxy: true };
 * ```
 */
export interface AxiosTransportOptions extends CommonTransportOptions {
  /**
   * A ready axios instance (its interceptors run on every request) or the config to create one
   * with. Either way the transport sets, per request, what the contract needs: no redirects
   * (`maxRedirects: 0`), 4xx/5xx as responses (`validateStatus`), its own agents and proxying
   * (`proxy: false`), the raw body as text and the size cap (`maxContentLength`). Its adapter puts
   * these back after your request interceptors ran, so an interceptor or default setting an
   * `httpsAgent` with `rejectUnauthorized: false` or `maxRedirects` cannot weaken them (an
   * interceptor that replaces `config.adapter` itself replaces the transport: don't).
   * @default axios.create()
   */
  axios?: AxiosInstance | CreateAxiosDefaults | undefined;
  /**
   * Options for every agent this transport creates (one `https.Agent` per client identity), e.g.
   * `keepAliveMsecs`, `maxSockets`. TLS settings (`ca`, `cert`, `key`, `rejectUnauthorized`,
   * `checkServerIdentity`, `servername`) are the transport's: given here, they are ignored.
   */
  agentOptions?:
    | Omit<AgentOptions, "ca" | "cert" | "key" | "pfx" | "rejectUnauthorized" | "secureContext">
    | undefined;
  /** axios `timeout`: a request fails when its connection stays idle this long. 0 turns it off. @default 300000 */
  idleTimeoutMs?: number | undefined;
}

// Every key of AxiosTransportOptions: the common ones plus this transport's (`satisfies`: none missing, none extra).
const KNOWN_KEYS = [
  ...COMMON_TRANSPORT_OPTION_KEYS,
  ...Object.keys({
    axios: true,
    agentOptions: true,
    idleTimeoutMs: true,
  } satisfies Record<Exclude<keyof AxiosTransportOptions, keyof CommonTransportOptions>, true>),
];

/** Checks options eagerly so mistakes fail at construction with a message naming the option. */
export function validateOptions(options: AxiosTransportOptions): void {
  validateTransportOptions(options, { packageName: PACKAGE, factoryName: "createAxiosTransport" });
  assertKnownKeys(PACKAGE, options, KNOWN_KEYS, "createAxiosTransport options");
  assertDurationOption(PACKAGE, "idleTimeoutMs", options.idleTimeoutMs, 0);
  // Socket timers overflow like every Node timer.
  for (const name of ["timeout", "keepAliveMsecs"] as const) {
    const value = options.agentOptions?.[name];
    if (typeof value === "number") assertDurationOption(PACKAGE, `agentOptions.${name}`, value, 0);
  }
  const instance = options.axios;
  if (
    instance !== undefined &&
    typeof instance !== "function" &&
    (typeof instance !== "object" || instance === null)
  ) {
    throw invalidOptions(
      PACKAGE,
      "`axios` must be an axios instance (axios.create()) or an axios config object.",
    );
  }
}
