import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from "node:zlib";
import { CertboundError } from "../protocol/errors";
import { responseTooLarge } from "./transport-errors";

type Decoder = (input: Buffer, options: ZlibOptions) => Promise<Buffer>;

const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: promisify(gunzip) as Decoder,
  "x-gzip": promisify(gunzip) as Decoder,
  br: promisify(brotliDecompress) as Decoder,
  // HTTP's "deflate" is the zlib format, but some servers send raw deflate: the first byte tells.
  deflate: (input, options) =>
    (((input[0] ?? 0) & 0x0f) === 0x08 ? promisify(inflate) : promisify(inflateRaw))(input, options),
};

/**
 * What every certbound transport sends as `accept-encoding` when the request sets none: `identity`.
 * Token and managed-identity answers are small, and not advertising compression keeps what
 * reaches the wire the same on every HTTP client (axios would otherwise add its own list).
 *
 * @public
 * @example
 * ```ts
 * const headers = { "accept-encoding": DEFAULT_ACCEPT_ENCODING, ...request.headers };
 * ```
 */
export const DEFAULT_ACCEPT_ENCODING = "identity";

/**
 * Options of {@link decodeResponseBody}.
 *
 * @public
 * @example
 * ```ts
 * const limits: DecodeBodyOptions = { maxBytes: settings.maxResponseBytes, endpoint };
 * ```
 */
export interface DecodeBodyOptions {
  /** Largest decoded body accepted (the transport's `maxResponseBytes`). */
  readonly maxBytes: number;
  /** Named in error messages. */
  readonly endpoint: string;
}

/**
 * Decodes a response body by its `content-encoding` (gzip, deflate, br, or a list of them; none or
 * `identity` leaves it as it is), on libuv's thread pool and never past `maxBytes` of output: a
 * compression bomb fails with `response_too_large` after at most `maxBytes` were produced. An
 * unknown or corrupt encoding fails with `network_error`. Returns the headers without
 * `content-encoding` and `content-length` once decoded (they describe the bytes on the wire).
 * Every certbound transport handles compressed answers this way, whatever its HTTP client does.
 *
 * @public
 * @example
 * ```ts
 * const raw = await readCappedBytes(response.body, { maxBytes, endpoint });
 * const { body, headers } = await decodeResponseBody(raw, flattenHeaders(response.headers), { maxBytes, endpoint });
 * ```
 */
export async function decodeResponseBody(
  raw: Buffer,
  headers: Record<string, string>,
  options: DecodeBodyOptions,
): Promise<{ body: string; headers: Record<string, string> }> {
  const encoding = headers["content-encoding"];
  // The usual answer (no encoding, or the identity this library asks for): no list to take apart.
  if (encoding === undefined || encoding === "" || encoding === "identity") {
    return { body: raw.toString("utf8"), headers };
  }
  const codings = (encoding ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return { body: raw.toString("utf8"), headers };
  let bytes = raw;
  // Codings are listed in the order they were applied: undo them from the last.
  for (const coding of codings.reverse()) {
    if (bytes.length === 0) break;
    const decode = DECODERS[coding];
    if (!decode) {
      throw new CertboundError(
        "network_error",
        `The response from ${options.endpoint} uses the content-encoding "${coding.slice(0, 32).replace(/[^\x21-\x7e]/g, "?")}", which certbound does not decode (gzip, deflate and br are).`,
      );
    }
    try {
      bytes = await decode(bytes, { maxOutputLength: options.maxBytes });
    } catch (cause) {
      if ((cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw responseTooLarge(options.endpoint, options.maxBytes);
      }
      throw new CertboundError(
        "network_error",
        `The response from ${options.endpoint} says content-encoding ${coding} but could not be decoded (${(cause as Error).message}).`,
        { cause },
      );
    }
  }
  const { "content-encoding": _encoding, "content-length": _length, ...rest } = headers;
  return { body: bytes.toString("utf8"), headers: rest };
}
