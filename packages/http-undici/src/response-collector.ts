import { responseTooLarge } from "@certbound/core/transport-kit";
import type { Dispatcher } from "undici";

/** A whole response as undici delivered it: parsed headers (repeats as arrays) and the body's bytes. */
export interface CollectedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/**
 * An undici dispatch handler that collects one response within `maxBytes`, for `send()`.
 *
 * `dispatcher.request()` would wrap the body in a stream (a Readable, an async iterator to read it,
 * an AsyncResource, an AbortSignal listener per request): for a body that is read whole and capped
 * anyway, the handler's own callbacks do the same work with none of those. What it keeps:
 * - a `content-length` over the cap fails before the body is read, a body that grows past it fails
 *   as soon as it does; either aborts the request, so undici destroys the connection instead of
 *   reusing it mid-body;
 * - `cancel()` (the attempt's timeout or the caller's abort) settles at once, even while undici
 *   still holds the request in its queue or in a TLS handshake, and aborts the request as soon as
 *   undici starts it (it cannot be aborted sooner);
 * - informational (1xx) answers are skipped; `answered` says whether final headers arrived.
 */
export class ResponseCollector implements Dispatcher.DispatchHandler {
  /** Settles with the whole response, or with the first failure. */
  readonly response: Promise<CollectedResponse>;
  /** Final (non-1xx) response headers have arrived. */
  answered = false;
  readonly #maxBytes: number;
  readonly #endpoint: string;
  #resolve!: (response: CollectedResponse) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  // Why the exchange ended early, to abort a request that undici starts after that.
  #failure: Error | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #statusCode = 0;
  #headers: Record<string, string | string[] | undefined> = {};
  #chunks: Buffer[] = [];
  #total = 0;

  constructor(maxBytes: number, endpoint: string) {
    this.#maxBytes = maxBytes;
    this.#endpoint = endpoint;
    this.response = new Promise<CollectedResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Whether the exchange has ended (answered whole, failed or cancelled). */
  get settled(): boolean {
    return this.#settled;
  }

  /** Ends the exchange with `reason` now, and aborts undici's request now or when it starts. */
  cancel(reason: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failure = reason;
    this.#chunks = [];
    this.#reject(reason);
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Also called again when undici retries a request whose pipeline failed: keep the latest.
    this.#controller = controller;
    if (this.#failure) controller.abort(this.#failure);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.#settled || statusCode < 200) return;
    this.answered = true;
    this.#statusCode = statusCode;
    this.#headers = headers;
    // A body declared too large is never read.
    if (Number(headers["content-length"]) > this.#maxBytes) this.#tooLarge();
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#total += chunk.length;
    if (this.#total > this.#maxBytes) this.#tooLarge();
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    const chunks = this.#chunks;
    this.#chunks = [];
    // One chunk (the usual small answer) is handed over as it came, without a copy.
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#total);
    this.#resolve({ statusCode: this.#statusCode, headers: this.#headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#chunks = [];
    this.#reject(error);
  }

  #tooLarge(): void {
    this.cancel(responseTooLarge(this.#endpoint, this.#maxBytes));
  }
}
