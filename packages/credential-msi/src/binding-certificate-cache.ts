import type { BindingCertificate, Clock } from "@certbound/core";
import { EXPIRY_BUFFER_MS, SingleFlight } from "@certbound/core/credential-kit";

/**
 * New tokens are minted with a cached certificate only while more than this much validity remains
 * (MSAL.NET ImdsV2ManagedIdentitySource / MtlsBindingCache); tokens it already bound are served
 * until it is about to expire.
 */
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
 * Binding certificates per identity and endpoint. Two horizons: a certificate is reused for new
 * tokens while more than 24 hours of validity remain ({@link BindingCertificateCache.get}), and is
 * named as the current one ({@link BindingCertificateCache.peek}, which the token cache key uses)
 * until it is about to expire, so tokens it bound are still served from the cache when less than
 * 24 hours remain. Minted one at a time per key (concurrent first callers share one mint), dropped
 * when the token endpoint rejects it. Lives in memory only, like the keys.
 *
 * @example
 * ```ts
 * const certificates = new BindingCertificateCache(clock);
 * const minted = await certificates.get(key, () => mintCertificate());
 * ```
 */
export class BindingCertificateCache {
  readonly #clock: Clock;
  // Both horizons are read from `notAfter` once, at insertion: a hit compares two numbers, and a
  // caller changing the `notAfter` Date of a returned binding certificate cannot extend its use.
  readonly #entries = new Map<
    string,
    { readonly minted: MintedCertificate; readonly reusableUntil: number; readonly servableUntil: number }
  >();
  readonly #mints = new SingleFlight<string, MintedCertificate>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * The current certificate for `key` at `now` (the clock's time unless the caller just read it),
   * without minting: the one cached tokens are bound to, even with less than 24 hours left. One
   * about to expire is dropped here.
   */
  peek(key: string, now: number = this.#clock.now()): MintedCertificate | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now < entry.servableUntil) return entry.minted;
    this.#entries.delete(key);
    return undefined;
  }

  /**
   * The certificate to bind a new token to: the cached one while more than 24 hours remain, else a
   * new one (one mint shared by concurrent callers), which then becomes the current one.
   */
  get(key: string, mint: () => Promise<MintedCertificate>, signal?: AbortSignal): Promise<MintedCertificate> {
    const entry = this.#entries.get(key);
    if (entry && this.#clock.now() < entry.reusableUntil) return Promise.resolve(entry.minted);
    return this.#mints.run(
      key,
      async () => {
        const minted = await mint();
        const notAfter = minted.binding.notAfter.getTime();
        this.#entries.set(key, {
          minted,
          reusableUntil: notAfter - MIN_CERTIFICATE_REMAINING_MS,
          // A token is served only while more than EXPIRY_BUFFER_MS of it remains; its certificate
          // gets the same margin, so no handshake starts with a certificate about to expire.
          servableUntil: notAfter - EXPIRY_BUFFER_MS,
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
