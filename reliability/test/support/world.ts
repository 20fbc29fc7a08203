// One emulator, one transport and one set of keys per test file: starting an emulator and making
// RSA keys is the slow part, so every test of a file shares them and only builds cheap clients.
import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { type CacheStore, CertboundError, type HttpTransport, type Logger } from "@certbound/core";
import {
  type ConfidentialClient,
  type ConfidentialClientOptions,
  createConfidentialClient,
} from "@certbound/credential-cert";
import {
  createManagedIdentityClient,
  type KeyProvider,
  type ManagedIdentityClient,
  type ManagedIdentityClientOptions,
} from "@certbound/credential-msi";
import { type Emulator, type ManagedIdentitySourceName, startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  createTestClock,
  type IssuedCertificate,
  type TestClock,
} from "@certbound/testing";

/** A managed-identity source as the emulator names it. */
export type SourceName = ManagedIdentitySourceName;

/** What a test file shares. */
export interface World {
  readonly emu: Emulator;
  /**
   * The real undici transport. Its per-attempt timeouts run on {@link World.transportClock}, which
   * never moves by itself: a timeout fires only when a test advances it (see `hang-driver.ts`).
   */
  readonly transport: HttpTransport;
  readonly transportClock: TestClock;
  /** The clock of the current test: the clients' clock and the emulator's `now`. */
  readonly clock: TestClock;
  /** Starts a new test clock (auto-advancing, at a whole second close to the real time). */
  freshClock(offsetMs?: number): TestClock;
  /** Issues application certificates; not trusted by anything but the emulator's registry. */
  readonly appCa: CertificateAuthority;
  /** A CA nobody trusts: certificates it signs fail every TLS verification. */
  readonly foreignCa: CertificateAuthority;
  /** The registered app (RSA, so it can sign Bearer client assertions too). */
  readonly app: { readonly clientId: string; readonly certificate: IssuedCertificate };
  /** The RSA pair every managed-identity client of the file uses (via {@link World.keyProvider}). */
  readonly msiKey: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
  readonly keyProvider: KeyProvider;
  certClient(options?: Partial<ConfidentialClientOptions>): ConfidentialClient;
  msiClient(source: SourceName, options?: Partial<ManagedIdentityClientOptions>): ManagedIdentityClient;
  close(): Promise<void>;
}

/** A clock starting on a whole second, so HTTP-date Retry-After values convert to exact delays. */
export function alignedClock(offsetMs = 0): TestClock {
  return createTestClock({ now: Math.ceil(Date.now() / 1000) * 1000 + offsetMs });
}

/** Options of {@link startWorld}. */
export interface WorldOptions {
  /** The transport to build clients on; receives the transport clock. @default undici */
  makeTransport?: (transportClock: TestClock) => HttpTransport;
}

/** Starts the emulator and the shared keys; call in `beforeAll`, close in `afterAll`. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  let clock = alignedClock();
  const signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
  // A temporary Arc folder of its own: the tests plant hostile files in it.
  const emu = await startEmulator({
    now: () => clock.now(),
    signingKey: signing.privateKey,
    arcTokenFolder: "temporary",
  });
  const transportClock = createTestClock({ now: Date.now(), autoAdvance: false });
  const transport = (options.makeTransport ?? ((c) => createUndiciTransport({ clock: c })))(transportClock);
  const appCa = createCertificateAuthority({ commonName: "reliability app CA" });
  const foreignCa = createCertificateAuthority({ commonName: "reliability untrusted CA" });
  const msiKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const appCertificate = appCa.issue({ commonName: "reliability-app", keyType: "rsa" });
  const app = { clientId: randomUUID(), certificate: appCertificate };
  emu.registerConfidentialClient({ clientId: app.clientId, certificatePem: appCertificate.certificatePem });
  const keyProvider: KeyProvider = { getKey: async () => msiKey };

  return {
    emu,
    transport,
    transportClock,
    get clock() {
      return clock;
    },
    freshClock(offsetMs = 0) {
      clock = alignedClock(offsetMs);
      return clock;
    },
    appCa,
    foreignCa,
    app,
    msiKey,
    keyProvider,
    certClient(overrides = {}) {
      return createConfidentialClient({
        clientId: app.clientId,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        authorityHost: emu.authorityHost,
        mtlsAuthorityHost: emu.mtlsAuthorityHost,
        certificate: { certificatePem: appCertificate.certificatePem, privateKey: appCertificate.privateKey },
        transport,
        ca: emu.caCertificatePem,
        env: {},
        clock,
        ...overrides,
      });
    },
    msiClient(source, overrides = {}) {
      return createManagedIdentityClient({
        transport,
        env: emu.managedIdentityEnvironment(source),
        ca: emu.caCertificatePem,
        // The emulator's mTLS host is 127.0.0.1, not an Entra ID host: the app names it itself.
        mtlsAuthorityHost: emu.mtlsAuthorityHost,
        clock,
        keyProvider,
        fileExists: () => false,
        arcTokenFolder: emu.arcTokenFolder,
        ...overrides,
      });
    },
    async close() {
      await transport.close?.();
      await emu.close();
    },
  };
}

/** A logger that keeps every line at the most verbose level (PII logging off). */
export function capturingLogger(): Logger & { readonly lines: unknown[] } {
  const lines: unknown[] = [];
  return {
    level: "verbose",
    piiLoggingEnabled: false,
    lines,
    log: (level, message, fields) => {
      lines.push({ level, message, fields });
    },
  };
}

/** A plain Map-backed cache store that several clients can share. */
export function sharedCacheStore(): CacheStore & { readonly map: Map<string, unknown> } {
  const map = new Map<string, never>();
  return {
    map,
    get: (key) => map.get(key),
    set: (key, entry) => {
      map.set(key, entry as never);
    },
    delete: (key) => {
      map.delete(key);
    },
  };
}

/**
 * Refuses (with a typed `network_error`) any request that would leave 127.0.0.1: fuzzed answers
 * may name any host, and tests never touch the network.
 */
export function loopbackOnly(inner: HttpTransport): HttpTransport {
  return {
    send(request) {
      let host = "";
      try {
        host = new URL(request.url).hostname;
      } catch {
        // Let the transport report an invalid URL itself.
        return inner.send(request);
      }
      if (host !== "127.0.0.1" && host !== "localhost") {
        return Promise.reject(
          new CertboundError(
            "network_error",
            `reliability: refused a request to ${host}: tests stay on loopback.`,
          ),
        );
      }
      return inner.send(request);
    },
  };
}
