import { responseTooLarge } from "./transport-errors";

/**
 * A response body stream: Node's `IncomingMessage`, undici's body, any `Readable`.
 *
 * @public
 * @example
 * ```ts
 * const body: ResponseBodyStream = incomingMessage;
 * ```
 */
export interface ResponseBodyStream extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
}

/**
 * Limits of {@link readCappedBody}.
 *
 * @public
 * @example
 * ```ts
 * const limits: ReadCappedBodyOptions = { maxBytes: 1024 * 1024, endpoint, contentLength: response.headers["content-length"] };
 * ```
 */
export interface ReadCappedBodyOptions {
  /** Largest body accepted. */
  readonly maxBytes: number;
  /** Named in the `response_too_large` message. */
  readonly endpoint: string;
  /** The `content-length` header, when the server sent one: a body declared too large is never read. */
  readonly contentLength?: string | readonly string[] | undefined;
}

/**
 * Reads a whole response body as UTF-8 text, failing with `response_too_large` (and destroying the
 * stream, so the connection is not reused mid-body) as soon as it exceeds `maxBytes`, or before
 * reading anything when `content-length` already says so.
 *
 * @public
 * @example
 * ```ts
 * const body = await readCappedBody(response, {
 *   maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
 *   endpoint,
 *   contentLength: response.headers["content-length"],
 * });
 * ```
 */
export async function readCappedBody(
  body: ResponseBodyStream,
  options: ReadCappedBodyOptions,
): Promise<string> {
  // Decoding once at the end keeps multi-byte characters split across chunks intact.
  return (await readCappedBytes(body, options)).toString("utf8");
}

/**
 * {@link readCappedBody} without the decoding: the body's bytes, for a transport that still has to
 * undo a `content-encoding` (see `decodeResponseBody`).
 *
 * @public
 * @example
 * ```ts
 * const raw = await readCappedBytes(response.body, { maxBytes, endpoint, contentLength: response.headers["content-length"] });
 * ```
 */
export async function readCappedBytes(
  body: ResponseBodyStream,
  options: ReadCappedBodyOptions,
): Promise<Buffer> {
  const { maxBytes, endpoint } = options;
  if (Number(options.contentLength) > maxBytes) {
    body.destroy();
    throw responseTooLarge(endpoint, maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw responseTooLarge(endpoint, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
