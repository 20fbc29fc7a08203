import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction, Socket } from "node:net";
import type { SecureContext } from "node:tls";

/**
 * How {@link openTunnel} reaches a proxy.
 *
 * @public
 * @example
 * ```ts
 * const options: TunnelOptions = { timeoutMs: 10_000, signal: cancel.signal };
 * ```
 */
export interface TunnelOptions {
  /** Trust for an `https://` proxy. */
  readonly secureContext?: SecureContext | undefined;
  readonly lookup?: LookupFunction | undefined;
  /** Budget for reaching the proxy and getting its answer. */
  readonly timeoutMs: number;
  /** Cancels the tunnel while it is being opened. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Error code of a CONNECT answered with anything but 2xx. {@link mapTransportError} turns it into a
 * `network_error` that tells the user to check the proxy.
 *
 * @public
 * @example
 * ```ts
 * if ((error as { code?: string }).code === PROXY_REFUSED) console.warn("the proxy said no");
 * ```
 */
export const PROXY_REFUSED = "ERR_CERTBOUND_PROXY_REFUSED";

/**
 * Opens a CONNECT tunnel to `authority` (`host:port`) through `proxy` and resolves with the raw
 * socket, ready for TLS (or plain HTTP) to the target. Credentials in the proxy URL become a
 * `Proxy-Authorization: Basic` header; they never appear in an error. Fails with code
 * {@link PROXY_REFUSED} on a non-2xx answer and `ETIMEDOUT` when the proxy stays silent.
 *
 * @public
 * @example
 * ```ts
 * const socket = await openTunnel(new URL("http://proxy.corp:3128"), "login.microsoftonline.com:443", {
 *   timeoutMs: 10_000,
 * });
 * const tls = connect({ socket, servername: "login.microsoftonline.com" });
 * ```
 */
export function openTunnel(proxy: URL, authority: string, options: TunnelOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: authority };
    if (proxy.username || proxy.password) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    const secure = proxy.protocol === "https:";
    const req = (secure ? httpsRequest : httpRequest)({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(proxy.port) || (secure ? 443 : 80),
      method: "CONNECT",
      path: authority,
      headers,
      // A tunnel is one connection for one pooled target connection: never share it.
      agent: false,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(secure && options.secureContext ? { secureContext: options.secureContext } : {}),
    });
    req.setTimeout(options.timeoutMs, () =>
      req.destroy(
        Object.assign(new Error("The proxy did not answer CONNECT in time"), { code: "ETIMEDOUT" }),
      ),
    );
    req.once("connect", (response, socket: Socket, head: Buffer) => {
      req.setTimeout(0);
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(
          Object.assign(new Error(`The proxy answered ${status} to CONNECT ${authority}`), {
            code: PROXY_REFUSED,
          }),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once("error", reject);
    req.end();
  });
}
