import { request } from "node:https";

/** Keys and discovery documents are a few KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 512 * 1024;

/**
 * GET over https only, never following a redirect (jose asks for `redirect: "manual"`; a JWKS
 * behind a redirect is refused), with extra trusted CAs, a body cap and the caller's signal.
 * Answers a WHATWG `Response` so jose can use it as its fetch.
 */
export function httpsGet(
  url: string,
  options: { ca: readonly string[] | undefined; signal: AbortSignal; headers?: Headers | undefined },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== "https:") {
      reject(new Error(`only https:// keys and discovery documents are fetched, not ${target.protocol}`));
      return;
    }
    const headers: Record<string, string> = { accept: "application/json" };
    options.headers?.forEach((value, name) => {
      headers[name] = value;
    });
    const req = request(
      target,
      {
        method: "GET",
        headers,
        signal: options.signal,
        ...(options.ca ? { ca: [...options.ca] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy(new Error(`the answer from ${target.origin} is larger than ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          const status = res.statusCode ?? 502;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, headers: { "content-type": "application/json" } }));
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
