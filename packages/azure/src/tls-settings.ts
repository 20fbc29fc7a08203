import type { TlsSettings } from "@azure/core-rest-pipeline";
import type { BindingCertificate } from "@certbound/core";
import { LruMap } from "@certbound/core/credential-kit";

// Binding certificates live for hours to days; a handful per base covers rotation overlap.
const CERTIFICATES_PER_BASE = 8;

/**
 * One `tlsSettings` object per (client-level TLS settings, binding certificate).
 *
 * The SDK's Node HTTP client keys its keep-alive https agents by the identity of
 * `request.tlsSettings`: handing it the same object for the same certificate reuses the agent and
 * its connections (one TLS handshake per certificate and host), and a new certificate gets a new
 * object, so a connection opened with one certificate never serves another. The client's own
 * settings (`tlsOptions`, e.g. a `ca`) are kept: the certificate is layered on top of them.
 *
 * @internal
 * @example
 * ```ts
 * const cache = new TlsSettingsCache();
 * request.tlsSettings = cache.withCertificate(cache.baseOf(request.tlsSettings), binding);
 * ```
 */
export class TlsSettingsCache {
  readonly #byBase = new WeakMap<TlsSettings, LruMap<string, TlsSettings>>();
  readonly #withoutBase = new LruMap<string, TlsSettings>(CERTIFICATES_PER_BASE);
  /** Settings made here -> the client's settings they were made from, and the certificate's x5t#S256. */
  readonly #made = new WeakMap<TlsSettings, { base: TlsSettings | undefined; x5tS256: string }>();

  /** The client's own settings behind `settings` (itself when this cache did not make it). */
  baseOf(settings: TlsSettings | undefined): TlsSettings | undefined {
    if (settings === undefined) return undefined;
    const made = this.#made.get(settings);
    return made ? made.base : settings;
  }

  /** The x5t#S256 of the certificate in `settings`, when this cache made them. */
  certificateOf(settings: TlsSettings | undefined): string | undefined {
    return settings === undefined ? undefined : this.#made.get(settings)?.x5tS256;
  }

  withCertificate(base: TlsSettings | undefined, binding: BindingCertificate): TlsSettings {
    let perBase = base === undefined ? this.#withoutBase : this.#byBase.get(base);
    if (perBase === undefined) {
      perBase = new LruMap(CERTIFICATES_PER_BASE);
      this.#byBase.set(base as TlsSettings, perBase);
    }
    const cached = perBase.get(binding.x5tS256);
    if (cached) return cached;
    // A pfx in the client's settings would compete with the binding certificate: drop it.
    const { pfx: _pfx, passphrase: _passphrase, ...kept } = base ?? {};
    const settings: TlsSettings = {
      ...kept,
      cert: binding.certificatePem,
      key: binding.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    };
    perBase.set(binding.x5tS256, settings);
    this.#made.set(settings, { base, x5tS256: binding.x5tS256 });
    return settings;
  }
}
