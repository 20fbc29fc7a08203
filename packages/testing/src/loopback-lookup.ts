import type { LookupAddress, LookupOptions } from "node:dns";

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup`-compatible function that records the names it was asked for.
 *
 * @public
 */
export interface LoopbackLookup {
  (hostname: string, options: LookupOptions, callback: LookupCallback): void;
  /** Every hostname looked up, in order. */
  readonly queries: readonly string[];
}

/**
 * A DNS lookup that answers 127.0.0.1 for every name, so tests can call public-looking hosts
 * (`api.example.test`) on local servers and check that name-based rules (proxy, SNI, hostname
 * verification) see the name, not the address. Pass it as a transport's `lookup` option. Handles
 * `{ all: true }`, which Node 20 asks for when it races address families.
 *
 * @public
 * @example
 * ```ts
 * const lookup = createLoopbackLookup();
 * const transport = createUndiciTransport({ lookup });
 * await transport.send({ method: "GET", url: `https://api.example.test:${port}/`, headers: {}, ca });
 * expect(lookup.queries).toContain("api.example.test");
 * ```
 */
export function createLoopbackLookup(): LoopbackLookup {
  const queries: string[] = [];
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    queries.push(hostname);
    // Answer asynchronously, as the real resolver does.
    process.nextTick(() => {
      if (options?.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
      else callback(null, "127.0.0.1", 4);
    });
  };
  return Object.assign(lookup, { queries });
}
