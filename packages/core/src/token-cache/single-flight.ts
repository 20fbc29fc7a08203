import { raceAbort } from "../seams/abort";

/**
 * Coalesces concurrent work per key: while a call for a key is in flight, further calls for that
 * key share its promise. Keys never wait on each other. A caller's AbortSignal ends only its own
 * wait; the shared work goes on for the others. Failures are not remembered.
 *
 * @public
 * @example
 * ```ts
 * const flights = new SingleFlight<string, Token>();
 * const token = await flights.run(key, () => fetchToken(), signal);
 * ```
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  /** Number of keys with work in flight. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** Whether work for `key` is in flight. */
  has(key: K): boolean {
    return this.#inFlight.has(key);
  }

  run(key: K, work: () => Promise<V>, signal?: AbortSignal): Promise<V> {
    let flight = this.#inFlight.get(key);
    if (!flight) {
      flight = Promise.resolve()
        .then(work)
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, flight);
      // The shared promise may have no waiter left (all aborted, or a background refresh):
      // observe its rejection here so it is never reported as unhandled.
      flight.catch(() => {});
    }
    return raceAbort(flight, signal);
  }
}
