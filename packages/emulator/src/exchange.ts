import type { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/** Largest request body the emulator reads; real endpoints refuse far smaller bodies. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** One parsed request, handed to a route. */
export interface Exchange {
  readonly method: string;
  /** The path as sent, without the query. */
  readonly path: string;
  /** Lower-cased path: Entra and IMDS paths are case-insensitive (msal-node lower-cases IMDS URLs). */
  readonly lowerPath: string;
  /** Query parameters with lower-cased names. */
  readonly query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Parsed body when `content-type` is `application/x-www-form-urlencoded`. */
  readonly form: URLSearchParams | undefined;
  /** The certificate presented in the TLS handshake, if any. */
  readonly clientCertificate: X509Certificate | undefined;
  readonly socket: IncomingMessage["socket"];
}

/** A response to write. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A JSON reply. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

/** Reads the request into an {@link Exchange}; `undefined` when the body exceeds {@link MAX_REQUEST_BYTES}. */
export async function readExchange(req: IncomingMessage): Promise<Exchange | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  if (tooLarge) return undefined;
  const raw = req.url ?? "/";
  const queryAt = raw.indexOf("?");
  const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const query = new URLSearchParams();
  for (const [name, value] of new URLSearchParams(queryAt === -1 ? "" : raw.slice(queryAt + 1))) {
    query.append(name.toLowerCase(), value);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  const body = Buffer.concat(chunks);
  const contentType = (headers["content-type"] ?? "").toLowerCase();
  const form = contentType.startsWith("application/x-www-form-urlencoded")
    ? new URLSearchParams(body.toString("utf8"))
    : undefined;
  const socket = req.socket as TLSSocket;
  const clientCertificate =
    typeof socket.getPeerX509Certificate === "function" ? socket.getPeerX509Certificate() : undefined;
  return {
    method: (req.method ?? "GET").toUpperCase(),
    path,
    lowerPath: path.toLowerCase(),
    query,
    headers,
    body,
    form,
    clientCertificate,
    socket: req.socket,
  };
}

/** The single value of a parameter; `undefined` when absent, `null` when repeated. */
export function single(params: URLSearchParams, name: string): string | undefined | null {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  return values.length === 1 ? (values[0] as string) : null;
}

/** Parameters as a plain object (first value of each). */
export function toRecord(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of params) if (!(name in out)) out[name] = value;
  return out;
}

/** Whether the `Metadata: true` header is present, as IMDS and several sources demand. */
export function hasMetadataHeader(exchange: Exchange): boolean {
  return (exchange.headers.metadata ?? "").trim().toLowerCase() === "true";
}
