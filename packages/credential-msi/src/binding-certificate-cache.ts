import { type BindingCertificate, type Clock, SingleFlight } from "@certbound/core";

/** Certificates are used only while more than this much validity remains (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-8-binding-certificate-cache). */
export const MIN_CERTIFICATE_REMAINING_MS = 24 * 3600_000;

/** A binding certificate issued by IMDS v2, with what its token requests need. */
export interface MintedCertificate {
  readonly binding: BindingCertificate;
  /** `client_id` from issuecredential: the client id of the token request. */
  readonly clientId: string;
  readonly tenantId: string;
  /** `{mtls_authentication_endpoint}/{tenant_id}/oauth2/v2.0/token`. */
  readonly tokenEndpoint: string;
}

/**
 * Binding certificates per identity and endpoint: reused while more than 24 hours of validity
 * remain, minted one at a time per key (concurrent first callers share one mint), dropped on
 * expiry or when the token endpoint rejects them. Lives in memory only, like the keys.
 *
 * @example
 * ```ts
 * const certificates = new BindingCertificateCache(clock);
 * const minted = await certificates.get(key, () => mintCertificate());
 * ```
 */
export class BindingCertificateCache {
  readonly #clock: Clock;
  // `usableUntil` is read from `notAfter` once, at insertion: a hit compares two numbers, and a
  // caller changing the `notAfter` Date of a returned binding certificate cannot extend its use.
  readonly #entries = new Map<string, { readonly minted: MintedCertificate; readonly usableUntil: number }>();
  readonly #mints = new SingleFlight<string, MintedCertificate>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * The usable certificate for `key` at `now` (the clock's time unless the caller just read it),
   * without minting. An aging one is dropped here.
   */
  peek(key: string, now: number = this.#clock.now()): MintedCertificate | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now < entry.usableUntil) return entry.minted;
    this.#entries.delete(key);
    return undefined;
  }

  /** The usable certificate for `key`, minting one (shared by concurrent callers) when there is none. */
  get(key: string, mint: () => Promise<MintedCertificate>, signal?: AbortSignal): Promise<MintedCertificate> {
    const current = this.peek(key);
    if (current) return Promise.resolve(current);
    return this.#mints.run(
      key,
      async () => {
        const minted = await mint();
        this.#entries.set(key, {
          minted,
          usableUntil: minted.binding.notAfter.getTime() - MIN_CERTIFICATE_REMAINING_MS,
        });
        return minted;
      },
      signal,
    );
  }

  /**
   * Forgets the certificate `x5tS256` of `key`. A certificate minted meanwhile by another caller
   * (a different thumbprint) is kept, so concurrent rejections cause one re-mint, not several.
   */
  drop(key: string, x5tS256: string): void {
    if (this.#entries.get(key)?.minted.binding.x5tS256 === x5tS256) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
