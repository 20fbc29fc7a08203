import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { isCertboundError } from "@certbound/core";
import { ENDPOINTS } from "../stats";
import type { EndpointName, Fault } from "../types";
import { INSPECTOR_SCRIPT, INSPECTOR_STYLE, inspectorPage } from "./assets";
import type { Inspector } from "./inspector";

/** Where the inspector lives on the authority host. */
export const INSPECTOR_PATH = "/_inspector";
/** The header that carries the per-run token on every API call. */
export const INSPECTOR_TOKEN_HEADER = "x-inspector-token";
// Control bodies are a fault or a certificate PEM: small.
const MAX_BODY_BYTES = 64 * 1024;

// The page is inert to framing, sniffing and referrers, and may load only its own script and style.
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-resource-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
};

/**
 * The authority server's interceptor for `/_inspector`: the page, its script and style, the event
 * stream and the controls. Served only to loopback peers on a loopback address under a loopback
 * Host name; every API call must carry the per-run token, and a browser's Origin, when sent, must
 * be this origin. Returns false for every other path (the authority routes serve those).
 */
export function inspectorInterceptor(
  inspector: Inspector,
  port: () => number,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    if (path !== INSPECTOR_PATH && !path.startsWith(`${INSPECTOR_PATH}/`)) return false;
    handle(
      inspector,
      port(),
      req,
      res,
      path,
      new URLSearchParams(queryAt === -1 ? "" : url.slice(queryAt + 1)),
    ).catch((error: unknown) => {
      // A certbound error here is the emulator refusing the input (a fault, a PEM): the caller's to fix.
      const status = isCertboundError(error) ? 400 : 500;
      reply(res, status, { error: (error as Error)?.message ?? String(error) });
    });
    return true;
  };
}

async function handle(
  inspector: Inspector,
  port: number,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  // Not found (rather than forbidden) for anyone off the loopback: the page does not exist there.
  if (!isLoopback(req.socket.remoteAddress) || !isLoopback(req.socket.localAddress)) {
    drain(req);
    return reply(res, 404, { error: "not found" });
  }
  // A DNS-rebound name reaches this socket too; only the loopback names of this port are served.
  if (!isLoopbackHost(req.headers.host, port)) {
    drain(req);
    return reply(res, 421, { error: "The inspector answers only to 127.0.0.1, localhost or [::1]." });
  }
  const method = req.method ?? "GET";
  if (path === INSPECTOR_PATH || path === `${INSPECTOR_PATH}/`) {
    drain(req);
    if (method !== "GET") return reply(res, 405, { error: "GET only" });
    return text(res, "text/html; charset=utf-8", inspectorPage(inspector.token));
  }
  if (path === `${INSPECTOR_PATH}/inspector.js`) {
    drain(req);
    return text(res, "text/javascript; charset=utf-8", INSPECTOR_SCRIPT);
  }
  if (path === `${INSPECTOR_PATH}/inspector.css`) {
    drain(req);
    return text(res, "text/css; charset=utf-8", INSPECTOR_STYLE);
  }

  // Everything below reads the log or changes the emulator: same origin and the per-run token only.
  const refused = refusal(req, inspector.token, query);
  if (refused) {
    drain(req);
    return reply(res, 403, { error: refused });
  }
  if (path === `${INSPECTOR_PATH}/events` && method === "GET") {
    drain(req);
    if (!inspector.subscribe(res)) reply(res, 503, { error: "Too many inspector pages are open." });
    return;
  }
  if (path === `${INSPECTOR_PATH}/api/state` && method === "GET") {
    drain(req);
    return reply(res, 200, inspector.state());
  }
  if (method !== "POST") {
    drain(req);
    return reply(res, 404, { error: "not found" });
  }
  if (!(req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
    drain(req);
    return reply(res, 415, { error: "Send application/json." });
  }
  const body = await readJson(req);
  if (body === undefined) return reply(res, 400, { error: "The body must be a JSON object under 64 KiB." });

  switch (path) {
    case `${INSPECTOR_PATH}/api/faults`: {
      const endpoint = body.endpoint;
      if (typeof endpoint !== "string" || !ENDPOINTS.includes(endpoint as EndpointName)) {
        return reply(res, 400, { error: `endpoint must be one of: ${ENDPOINTS.join(", ")}.` });
      }
      inspector.deps.faults.add(endpoint as EndpointName, faultFrom(body.fault));
      inspector.stateChanged();
      return reply(res, 200, inspector.state());
    }
    case `${INSPECTOR_PATH}/api/faults/clear`:
      inspector.deps.faults.clear();
      inspector.stateChanged();
      return reply(res, 200, inspector.state());
    case `${INSPECTOR_PATH}/api/clients`: {
      const { clientId, certificatePem, allowedScopes } = body;
      if (typeof clientId !== "string" || typeof certificatePem !== "string") {
        return reply(res, 400, { error: "Send clientId and certificatePem (a PEM certificate)." });
      }
      const scopes = Array.isArray(allowedScopes)
        ? allowedScopes.filter((s): s is string => typeof s === "string" && s.trim() !== "")
        : [];
      inspector.deps.registry.registerClient({
        clientId: clientId.trim(),
        certificatePem,
        ...(scopes.length ? { allowedScopes: scopes } : {}),
      });
      inspector.stateChanged();
      return reply(res, 200, inspector.state());
    }
    case `${INSPECTOR_PATH}/api/reveal`: {
      const token = typeof body.ref === "string" ? inspector.reveal(body.ref) : undefined;
      if (!token) return reply(res, 404, { error: "That token is no longer in the log." });
      return reply(res, 200, { token });
    }
    default:
      return reply(res, 404, { error: "not found" });
  }
}

/** Why a request may not use the API, or undefined when it may. */
function refusal(req: IncomingMessage, token: string, query: URLSearchParams): string | undefined {
  const origin = req.headers.origin;
  const host = req.headers.host ?? "";
  // Browsers send Origin on cross-site fetches and on every POST; a foreign one never passes.
  if (origin !== undefined && origin !== `https://${host}`) return "Cross-origin requests are refused.";
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none")
    return "Cross-site requests are refused.";
  // EventSource cannot send headers, so the stream takes the token in its query.
  const presented = req.headers[INSPECTOR_TOKEN_HEADER] ?? (req.method === "GET" ? query.get("token") : null);
  if (typeof presented !== "string" || !sameSecret(presented, token)) {
    return `Send the inspector's per-run token in ${INSPECTOR_TOKEN_HEADER} (the page does).`;
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function faultFrom(value: unknown): Fault {
  if (typeof value !== "object" || value === null) return {};
  const v = value as Record<string, unknown>;
  const fault: Fault = {};
  const number = (name: string): number | undefined => {
    const n = v[name];
    if (n === undefined || n === null || n === "") return undefined;
    return typeof n === "number" ? n : Number(n);
  };
  const status = number("status");
  if (status !== undefined) fault.status = status;
  const count = number("count");
  if (count !== undefined) fault.count = count;
  const delayMs = number("delayMs");
  if (delayMs !== undefined) fault.delayMs = delayMs;
  if (v.hang === true) fault.hang = true;
  if (v.reset === true) fault.reset = true;
  if (typeof v.body === "string" && v.body !== "") fault.body = v.body;
  return fault;
}

/** Loopback peers: 127.0.0.0/8, ::1, and IPv4-mapped 127.x. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return a === "::1";
}

function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(h);
}

function drain(req: IncomingMessage): void {
  req.resume();
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large, so the answer can still be written on this connection.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function text(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { ...PAGE_HEADERS, "content-type": type });
  res.end(body);
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(JSON.stringify(value));
}
